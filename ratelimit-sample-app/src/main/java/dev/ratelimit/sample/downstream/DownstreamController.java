package dev.ratelimit.sample.downstream;

import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.sample.SampleProperties;

/**
 * Makes the simulated downstream fall behind or catch up: {@code POST /downstream/slow} and
 * {@code POST /downstream/fast} set the rate of the {@code warehouse} limiter, which is global, so
 * the change holds for every instance.
 */
@RestController
public class DownstreamController {

	private final RateLimiterRegistry registry;

	private final SampleProperties.Downstream settings;

	public DownstreamController(RateLimiterRegistry registry, SampleProperties properties) {
		this.registry = registry;
		this.settings = properties.downstream();
	}

	/**
	 * Slows the downstream down to {@code sample.downstream.slow}.
	 * @return the downstream's new rate
	 */
	@PostMapping("/downstream/slow")
	public Map<String, String> slow() {
		return set(this.settings.slow());
	}

	/**
	 * Speeds the downstream up to {@code sample.downstream.fast}.
	 * @return the downstream's new rate
	 */
	@PostMapping("/downstream/fast")
	public Map<String, String> fast() {
		return set(this.settings.fast());
	}

	/**
	 * Shows the downstream's rate.
	 * @return the rate
	 */
	@GetMapping("/downstream")
	public Map<String, String> show() {
		return Map.of("rate", this.registry.limiter(WarehouseListener.LIMITER).limit().rate().toString());
	}

	private Map<String, String> set(Rate rate) {
		this.registry.limiter(WarehouseListener.LIMITER).updateRate(rate);
		return Map.of("rate", rate.toString());
	}

}
