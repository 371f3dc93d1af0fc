package dev.ratelimit.sample.partner;

import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /partner/brownout} starts a brownout of the fake partner API now, to watch the
 * {@code partner} limiter back off and recover; {@code GET /partner} shows the partner's counts.
 */
@RestController
public class PartnerController {

	private final FakePartnerApi api;

	public PartnerController(FakePartnerApi api) {
		this.api = api;
	}

	/**
	 * Starts a brownout.
	 * @return the partner's state
	 */
	@PostMapping("/partner/brownout")
	public Map<String, Object> brownout() {
		this.api.startBrownout();
		return show();
	}

	/**
	 * Shows the partner's state.
	 * @return whether it is in a brownout, the calls it had and those it refused
	 */
	@GetMapping("/partner")
	public Map<String, Object> show() {
		return Map.of("brownout", this.api.isBrownout(), "calls", this.api.calls(), "refused", this.api.refused());
	}

}
