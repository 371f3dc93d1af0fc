package dev.ratelimit.spring.actuate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth.Report;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth.State;

/**
 * The {@code ratelimit} health indicator: the worst state of the limiter backends, with the
 * number of limiters.
 *
 * <p>States: {@link Status#UP} when every backend is up (always, in memory);
 * {@link #DEGRADED} when a backend cannot reach its shared state and limiters decide under the
 * configured policy; {@link Status#DOWN} when a backend cannot decide (fail-closed, or failed).
 *
 * <p>{@code DEGRADED} is a custom status, as Spring Boot recommends for states between up and
 * down. Boot maps it to HTTP 200, which keeps an instance in service while its limits are only
 * approximate (taking every instance out because the shared backend is unreachable would turn a
 * degraded limit into an outage). Boot's default status order does not know it, so the overall
 * status ignores it until it is added:
 * {@code management.endpoint.health.status.order=down,out-of-service,degraded,up,unknown}.
 * Thread-safe.
 */
public class RateLimitHealthIndicator extends AbstractHealthIndicator {

	/** A backend cannot reach its shared state; limiters decide under the configured policy. */
	public static final Status DEGRADED = new Status("DEGRADED",
			"A rate limiter backend cannot reach its shared state; limits are enforced under the configured policy");

	private final RateLimiterRegistry registry;

	private final List<RateLimitBackendHealth> backends;

	/**
	 * Creates the indicator.
	 * @param registry the registry whose limiters are counted
	 * @param backends the backends that report their health; none when every limiter is in
	 * memory
	 */
	public RateLimitHealthIndicator(RateLimiterRegistry registry, List<RateLimitBackendHealth> backends) {
		super("Rate limit health check failed");
		this.registry = Objects.requireNonNull(registry, "registry");
		this.backends = List.copyOf(backends);
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		State worst = State.UP;
		Map<String, Object> backends = new LinkedHashMap<>();
		if (this.backends.isEmpty()) {
			backends.put("in-memory", Map.of("status", State.UP.name()));
		}
		for (RateLimitBackendHealth backend : this.backends) {
			Report report = report(backend);
			Map<String, Object> details = new LinkedHashMap<>();
			details.put("status", report.state().name());
			details.putAll(report.details());
			backends.put(backend.backend(), details);
			if (report.state().compareTo(worst) > 0) {
				worst = report.state();
			}
		}
		int keys = 0;
		for (String name : this.registry.keyedNames()) {
			keys += this.registry.keyCount(name);
		}
		builder.status(status(worst))
			.withDetail("declared", this.registry.definedNames().size())
			.withDetail("limiters", this.registry.limiters().size())
			.withDetail("keys", keys)
			.withDetail("backends", backends);
	}

	private static Report report(RateLimitBackendHealth backend) {
		try {
			return Objects.requireNonNull(backend.report(), "report");
		}
		catch (RuntimeException ex) {
			// one failing backend must not hide the others' reports
			return Report.down(Map.of("error", ex.getClass().getName() + ": " + ex.getMessage()));
		}
	}

	private static Status status(State state) {
		return switch (state) {
			case UP -> Status.UP;
			case DEGRADED -> DEGRADED;
			case DOWN -> Status.DOWN;
		};
	}

}
