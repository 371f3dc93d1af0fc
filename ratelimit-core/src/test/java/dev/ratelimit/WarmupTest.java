package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Warm-up follows Guava's SmoothWarmingUp: with 10 permits/s and a 2 s warm-up, the stable interval
 * is 100 ms, the cold interval 300 ms, the threshold 10 stored permits and the maximum 20. Starting
 * cold, the intervals fall linearly from 290 ms (the mean of 300 and 280 over the first permit) by
 * 20 ms per permit, and the ten warming permits take the warm-up period, 2 s, in all.
 */
class WarmupTest {

	private final ManualClock clock = new ManualClock();

	private final RateLimiter limiter = RateLimiter
		.builder("warm", RateLimit.tokenBucket(Rate.perSecond(10)).warmup(Duration.ofSeconds(2)).build())
		.ticker(this.clock)
		.scheduler(this.clock)
		.build();

	private List<Long> intervalsMillis(int permits) throws InterruptedException {
		List<Long> intervals = new ArrayList<>();
		long previous = this.clock.read();
		for (int i = 0; i < permits; i++) {
			assertThat(this.limiter.acquire(1, Duration.ofSeconds(1))).isTrue();
			long now = this.clock.read();
			if (i > 0) {
				intervals.add(Duration.ofNanos(now - previous).toMillis());
			}
			previous = now;
		}
		return intervals;
	}

	@Test
	void startsColdAndReachesTheStableRateAfterTheWarmupPeriod() throws InterruptedException {
		List<Long> intervals = intervalsMillis(14);
		assertThat(intervals).containsExactly(290L, 270L, 250L, 230L, 210L, 190L, 170L, 150L, 130L, 110L, 100L, 100L,
				100L);
		assertThat(intervals.subList(0, 10).stream().mapToLong(Long::longValue).sum()).isEqualTo(2000);
	}

	@Test
	void coolsDownWhenIdle() throws InterruptedException {
		intervalsMillis(14);
		this.clock.advance(Duration.ofSeconds(5));
		assertThat(intervalsMillis(3)).containsExactly(290L, 270L);
	}

	@Test
	void tryAcquireIsAdmittedOncePreviousCostHasElapsed() {
		assertThat(this.limiter.tryAcquire()).isTrue();
		assertThat(this.limiter.tryAcquire()).isFalse();
		assertThat(this.limiter.decide(1).retryAfter()).isEqualTo(Duration.ofMillis(290));
		this.clock.advance(Duration.ofMillis(290));
		assertThat(this.limiter.tryAcquire()).isTrue();
	}

	@Test
	void warmupAllowsOneBandwidthOnly() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10))
				.warmup(Duration.ofSeconds(1))
				.bandwidth(100, Rate.perHour(100))
				.build())
			.withMessage("warmup applies to a token bucket with one bandwidth, but 2 were given: "
					+ "use a composite limiter to combine a warming-up limit with others");
	}

}
