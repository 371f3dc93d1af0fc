package dev.ratelimit.adaptive;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The controller applied to real limiters of this library.
 */
class RateLimiterTargetTest {

	private final ManualClock clock = new ManualClock();

	private RateLimiter tokenBucket(double permitsPerSecond) {
		return tokenBucket(RateLimit.tokenBucket(Rate.perSecond(permitsPerSecond)).build());
	}

	private RateLimiter tokenBucket(RateLimit limit) {
		return RateLimiter.builder("x", limit)
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
	}

	@Test
	void changesTheLimitersRate() {
		RateLimiter limiter = tokenBucket(1000);
		long capacity = limiter.limit().capacity();
		AdaptiveController controller = AdaptiveController.builder(limiter).ticker(this.clock).build();
		assertThat(controller.name()).isEqualTo("x");
		assertThat(controller.state().ceiling()).isEqualTo(Rate.perSecond(1000));
		controller.reduce("429");
		assertThat(limiter.limit().rate().perSecond()).isEqualTo(500.0);
		controller.onLag(25_000);
		assertThat(limiter.limit().rate().perSecond()).isEqualTo(10.0);
		controller.onLag(0);
		this.clock.advance(Duration.ofSeconds(5));
		controller.evaluate();
		assertThat(limiter.limit().rate().perSecond()).isEqualTo(110.0);
		controller.reset();
		assertThat(limiter.limit().rate()).isEqualTo(Rate.perSecond(1000));
		// only the rate changes, never the burst
		assertThat(limiter.limit().capacity()).isEqualTo(capacity);
	}

	@Test
	void theLimiterGrantsPermitsAtTheReducedRate() {
		RateLimiter limiter = tokenBucket(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(1000).build());
		AdaptiveController controller = AdaptiveController.builder(limiter).ticker(this.clock).build();
		while (limiter.tryAcquire()) {
			// drain the initial burst
		}
		controller.reduce("429");
		this.clock.advance(Duration.ofMillis(100));
		assertThat(limiter.tryAcquire(50)).isTrue();
		assertThat(limiter.tryAcquire()).isFalse();
	}

	@Test
	void theLimitersListenerSeesEveryChange() {
		StringBuilder changes = new StringBuilder();
		RateLimiter limiter = RateLimiter.builder("x", RateLimit.tokenBucket(Rate.perSecond(1000)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.listener(new RateLimiterListener() {
				@Override
				public void onLimitChanged(RateLimit previous, RateLimit current) {
					changes.append(previous.rate().perSecond())
						.append("->")
						.append(current.rate().perSecond())
						.append(' ');
				}
			})
			.build();
		AdaptiveController controller = AdaptiveController.builder(limiter).ticker(this.clock).build();
		controller.reduce("429");
		controller.onLag(12_000);
		assertThat(changes.toString()).isEqualTo("1000.0->500.0 500.0->100.0 ");
	}

	@Test
	void aWindowKeepsItsLength() {
		RateLimiter limiter = RateLimiter.builder("w", RateLimit.fixedWindow(600, Duration.ofMinutes(1)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
		AdaptiveController controller = AdaptiveController.builder(limiter).ticker(this.clock).build();
		controller.reduce("429");
		assertThat(limiter.limit().algorithm()).isEqualTo(Algorithm.FIXED_WINDOW);
		assertThat(limiter.limit().rate()).isEqualTo(Rate.perMinute(300));
		assertThat(limiter.limit().capacity()).isEqualTo(300);
	}

	@Test
	void anExplicitCeilingIsAppliedToTheLimiterAtBuild() {
		RateLimiter limiter = tokenBucket(1000);
		AdaptiveController controller = AdaptiveController.builder(limiter)
			.ceiling(Rate.perSecond(400))
			.ticker(this.clock)
			.build();
		assertThat(limiter.limit().rate()).isEqualTo(Rate.perSecond(400));
		controller.reduce("429");
		assertThat(limiter.limit().rate().perSecond()).isEqualTo(200.0);
	}

	@Test
	void aCeilingChangeReachesTheLimiter() {
		RateLimiter limiter = tokenBucket(1000);
		AdaptiveController controller = AdaptiveController.builder(limiter).ticker(this.clock).build();
		controller.ceiling(Rate.perSecond(2000));
		assertThat(limiter.limit().rate()).isEqualTo(Rate.perSecond(2000));
	}

	@Test
	void rejectsAConcurrencyLimiter() {
		RateLimiter limiter = RateLimiter.of("pool", RateLimit.concurrency(10));
		assertThatIllegalArgumentException().isThrownBy(() -> AdaptiveController.builder(limiter))
			.withMessage("limiter 'pool' is a concurrency limiter and has no rate to adapt: control a rate-based "
					+ "limiter, or give AdaptiveController.builder a RateTarget that changes maxConcurrent");
	}

}
