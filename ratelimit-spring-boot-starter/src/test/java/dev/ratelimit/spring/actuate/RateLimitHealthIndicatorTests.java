package dev.ratelimit.spring.actuate;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth.Report;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitHealthIndicatorTests {

	private final RateLimiterRegistry registry = RateLimiterRegistry.builder()
		.ticker(new ManualClock())
		.build()
		.define("orders", RateLimit.perSecond(10))
		.define("tenant", RateLimit.perSecond(1))
		.define("search", RateLimit.perSecond(5));

	@Test
	void inMemoryIsUpWithTheLimiterCounts() {
		this.registry.limiter("orders");
		this.registry.limiter("tenant", "a");
		this.registry.limiter("tenant", "b");
		Health health = new RateLimitHealthIndicator(this.registry, List.of()).health();
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).containsExactly(Map.entry("declared", 3), Map.entry("limiters", 1),
				Map.entry("keys", 2), Map.entry("backends", Map.of("in-memory", Map.of("status", "UP"))));
	}

	@Test
	void aDegradedBackendMakesItDegradedWithTheBackendsFacts() {
		Health health = new RateLimitHealthIndicator(this.registry,
				List.of(backend("kafka", Report.degraded(Map.of("policy", "local-share"))),
						backend("other", Report.up(Map.of()))))
			.health();
		assertThat(health.getStatus()).isEqualTo(RateLimitHealthIndicator.DEGRADED);
		assertThat(health.getStatus().getCode()).isEqualTo("DEGRADED");
		assertThat(health.getDetails()).containsEntry("backends",
				Map.of("kafka", Map.of("status", "DEGRADED", "policy", "local-share"), "other", Map.of("status", "UP")));
	}

	@Test
	void aDownBackendMakesItDownWhateverTheOthersSay() {
		Health health = new RateLimitHealthIndicator(this.registry,
				List.of(backend("a", Report.degraded(Map.of())), backend("b", Report.down(Map.of("policy", "fail-closed"))),
						backend("c", Report.up(Map.of()))))
			.health();
		assertThat(health.getStatus()).isEqualTo(Status.DOWN);
	}

	@Test
	void aBackendThatFailsToReportIsDownAndTheOthersAreStillShown() {
		RateLimitBackendHealth broken = new RateLimitBackendHealth() {

			@Override
			public String backend() {
				return "broken";
			}

			@Override
			public Report report() {
				throw new IllegalStateException("no state yet");
			}

		};
		Health health = new RateLimitHealthIndicator(this.registry,
				List.of(broken, backend("kafka", Report.up(Map.of("leases", 3)))))
			.health();
		assertThat(health.getStatus()).isEqualTo(Status.DOWN);
		assertThat(health.getDetails()).containsEntry("backends",
				Map.of("broken", Map.of("status", "DOWN", "error", "java.lang.IllegalStateException: no state yet"),
						"kafka", Map.of("status", "UP", "leases", 3)));
	}

	private static RateLimitBackendHealth backend(String id, Report report) {
		return new RateLimitBackendHealth() {

			@Override
			public String backend() {
				return id;
			}

			@Override
			public Report report() {
				return report;
			}

		};
	}

}
