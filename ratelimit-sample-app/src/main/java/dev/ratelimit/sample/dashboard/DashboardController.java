package dev.ratelimit.sample.dashboard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.adaptive.AdaptiveState;
import dev.ratelimit.sample.orders.OrderProcessor;
import dev.ratelimit.sample.orders.Topics;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.kafka.ConsumerLagMonitor;
import dev.ratelimit.sample.orders.OrderStats;
import dev.ratelimit.sample.partner.FakePartnerApi;

/**
 * {@code GET /dashboard/data}: one JSON document with what the dashboard page ({@code /}) charts,
 * read from the limiter registry, the {@code ratelimit.calls} counters, the adaptive controllers,
 * the consumer lag and the sample's own counts. Counts are totals since start; the page turns them
 * into rates per second.
 */
@RestController
public class DashboardController {

	private final RateLimiterRegistry registry;

	private final MeterRegistry meters;

	private final AdaptiveRateLimiters adaptive;

	private final ConsumerLagMonitor lag;

	private final OrderStats stats;

	private final FakePartnerApi partner;

	public DashboardController(RateLimiterRegistry registry, MeterRegistry meters,
			AdaptiveRateLimiters adaptive, ConsumerLagMonitor lag, OrderStats stats, FakePartnerApi partner) {
		this.registry = registry;
		this.meters = meters;
		this.adaptive = adaptive;
		this.lag = lag;
		this.stats = stats;
		this.partner = partner;
	}

	/**
	 * Returns the dashboard's data at this moment.
	 * @return limiters, adaptive controllers, lag and counts
	 */
	@GetMapping("/dashboard/data")
	public Map<String, Object> data() {
		Map<String, Object> data = new LinkedHashMap<>();
		data.put("time", System.currentTimeMillis());
		data.put("limiters", limiters());
		data.put("adaptive", this.adaptive.states().values().stream().map(DashboardController::adaptive).toList());
		data.put("lag", Map.of("orders", this.lag.lag(OrderProcessor.LISTENER_ID).orElse(0), "warehouse",
				this.lag.lag(Topics.WAREHOUSE_GROUP).orElse(0)));
		data.put("orders", Map.of("accepted", this.stats.accepted(), "processed", this.stats.processed(), "shipped",
				this.stats.shipped()));
		data.put("partner", Map.of("calls", this.partner.calls(), "refused", this.partner.refused(), "brownout",
				this.partner.isBrownout()));
		return data;
	}

	private List<Map<String, Object>> limiters() {
		List<Map<String, Object>> limiters = new ArrayList<>();
		for (String name : new TreeSet<>(this.registry.definedNames())) {
			Map<String, Object> limiter = new LinkedHashMap<>();
			limiter.put("name", name);
			Optional<RateLimiterSnapshot> snapshot = this.registry.find(name).map(RateLimiter::snapshot);
			Optional<RateLimit> limit = snapshot.isPresent() ? Optional.empty() : this.registry.definedLimit(name);
			limiter.put("rate", snapshot.map((s) -> s.rate().perSecond())
				.or(() -> limit.map((l) -> l.rate().perSecond()))
				.orElse(null));
			limiter.put("utilization", snapshot.map(RateLimiterSnapshot::utilization).orElse(null));
			limiter.put("available", snapshot.map(RateLimiterSnapshot::available).orElse(null));
			limiter.put("backend", snapshot.map(RateLimiterSnapshot::backend).orElse(null));
			limiter.put("keys", this.registry.keyCount(name));
			limiter.put("permitted", calls(name, "permitted"));
			limiter.put("rejected", calls(name, "rejected"));
			limiters.add(limiter);
		}
		return limiters;
	}

	private double calls(String name, String result) {
		return this.meters.find("ratelimit.calls")
			.tag("name", name)
			.tag("result", result)
			.counters()
			.stream()
			.mapToDouble(Counter::count)
			.sum();
	}

	private static Map<String, Object> adaptive(AdaptiveState state) {
		Map<String, Object> adaptive = new LinkedHashMap<>();
		adaptive.put("name", state.name());
		adaptive.put("rate", state.rate().perSecond());
		adaptive.put("ceiling", state.ceiling().perSecond());
		adaptive.put("severity", state.severity().name());
		adaptive.put("level", state.severity().ordinal());
		adaptive.put("lag", state.lag());
		Map<String, Object> loads = new LinkedHashMap<>();
		state.loads().forEach((signal, load) -> loads.put(signal,
				Map.of("reading", load.reading(), "severity", load.severity().name())));
		adaptive.put("loads", loads);
		adaptive.put("reason", (state.lastReason() != null) ? state.lastReason().name() : null);
		adaptive.put("detail", state.lastDetail());
		return adaptive;
	}

}
