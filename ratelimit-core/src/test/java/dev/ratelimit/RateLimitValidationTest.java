package dev.ratelimit;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/** Every bad value is refused when the limit is built, with a message that names it. */
class RateLimitValidationTest {

	@Test
	void tokenBucket() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10)).capacity(0))
			.withMessage("capacity must be positive, but was 0");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10)).capacity(-5))
			.withMessage("capacity must be positive, but was -5");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10)).initialPermits(-1))
			.withMessage("initialPermits must be zero or more, but was -1");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10)).initialPermits(11).build())
			.withMessage("initialPermits must be between 0 and 10 (inclusive), but was 11");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10)).warmup(Duration.ZERO))
			.withMessage("warmup must be a positive duration, but was PT0S");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.perSecond(10)).bandwidth(0, Rate.perDay(10)))
			.withMessage("capacity must be positive, but was 0");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.tokenBucket(Rate.of(100, Duration.ofNanos(1))).build())
			.withMessage("rate must be at most 7305775469 permits per second, but was 100000000000 permits per second "
					+ "(so that a limiter's counter cannot overflow in ten years)");
	}

	@Test
	void largestRateIsAccepted() {
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(1_000_000_000)).capacity(1_000_000_000).build();
		assertThat(limit.capacity()).isEqualTo(1_000_000_000);
	}

	@Test
	void windows() {
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimit.fixedWindow(0, Duration.ofSeconds(1)))
			.withMessage("limit must be positive, but was 0");
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimit.fixedWindow(5, Duration.ofSeconds(-1)))
			.withMessage("window must be a positive duration, but was PT-1S");
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimit.slidingWindow(-2, Duration.ofSeconds(1)))
			.withMessage("limit must be positive, but was -2");
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimit.slidingWindow(5, Duration.ZERO))
			.withMessage("window must be a positive duration, but was PT0S");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.slidingWindow(5, Duration.ofSeconds(1)).slices(0))
			.withMessage("slices must be between 1 and 1000 (inclusive), but was 0");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.slidingWindow(5, Duration.ofSeconds(1)).slices(1001))
			.withMessage("slices must be between 1 and 1000 (inclusive), but was 1001");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.slidingWindow(5, Duration.ofNanos(10)).slices(3).build())
			.withMessage("window of PT0.00000001S cannot be divided into 3 equal slices: choose a slice count that "
					+ "divides the window in nanoseconds");
	}

	@Test
	void pacerAndConcurrency() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.leakyBucket(Rate.perSecond(5)).maxPermits(0))
			.withMessage("maxPermits must be positive, but was 0");
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimit.concurrency(0))
			.withMessage("maxConcurrent must be positive, but was 0");
	}

	@Test
	void describesItself() {
		assertThat(RateLimit.tokenBucket(Rate.perSecond(100)).capacity(200).bandwidth(10_000, Rate.perDay(10_000)).build())
			.hasToString("token-bucket[100/s capacity=200, 10000/d capacity=10000]");
		assertThat(RateLimit.slidingWindow(50, Duration.ofMinutes(1)).slices(6).build())
			.hasToString("sliding-window[50/m capacity=50 slices=6]");
	}

}
