package dev.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * One specification that every algorithm passes: validation, the meaning of tryAcquire, decide,
 * acquire with a timeout, acquireAsync, snapshot and reset.
 */
class RateLimiterContractTest {

	static Stream<Arguments> limits() {
		return Stream.of(
				Arguments.of("token-bucket", RateLimit.tokenBucket(Rate.perSecond(10)).build()),
				Arguments.of("token-bucket-2-bandwidths",
						RateLimit.tokenBucket(Rate.perSecond(10)).bandwidth(100, Rate.perHour(100)).build()),
				Arguments.of("token-bucket-warmup",
						RateLimit.tokenBucket(Rate.perSecond(10)).warmup(Duration.ofSeconds(2)).build()),
				Arguments.of("fixed-window", RateLimit.fixedWindow(10, Duration.ofSeconds(1)).build()),
				Arguments.of("sliding-window", RateLimit.slidingWindow(10, Duration.ofSeconds(1)).slices(5).build()),
				Arguments.of("leaky-bucket", RateLimit.leakyBucket(Rate.perSecond(10)).build()),
				Arguments.of("concurrency", RateLimit.concurrency(10)));
	}

	private static RateLimiter limiter(RateLimit limit, ManualClock clock) {
		return RateLimiter.builder("spec", limit).ticker(clock).scheduler(clock).build();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void zeroOrNegativePermitsFailAtOnce(String algorithm, RateLimit limit) {
		RateLimiter limiter = limiter(limit, new ManualClock());
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.tryAcquire(0))
			.withMessage("permits must be positive, but was 0 (limiter 'spec')");
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.tryAcquire(-3))
			.withMessage("permits must be positive, but was -3 (limiter 'spec')");
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.acquire(0, Duration.ofSeconds(1)))
			.withMessage("permits must be positive, but was 0 (limiter 'spec')");
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.acquireAsync(-1, Duration.ZERO))
			.withMessage("permits must be positive, but was -1 (limiter 'spec')");
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.decide(0))
			.withMessage("permits must be positive, but was 0 (limiter 'spec')");
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void moreThanTheCapacityFailsAtOnce(String algorithm, RateLimit limit) {
		RateLimiter limiter = limiter(limit, new ManualClock());
		long capacity = limit.capacity();
		String message = "permits (" + (capacity + 1) + ") exceed the capacity (" + capacity
				+ ") of limiter 'spec': such a request could never be permitted; ask for at most " + capacity
				+ " permits or raise the capacity";
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.tryAcquire(capacity + 1)).withMessage(message);
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.acquire(capacity + 1, Duration.ofDays(1)))
			.withMessage(message);
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.acquireAsync(capacity + 1, Duration.ofDays(1)))
			.withMessage(message);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void negativeTimeoutFailsAtOnce(String algorithm, RateLimit limit) {
		RateLimiter limiter = limiter(limit, new ManualClock());
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.acquire(1, Duration.ofMillis(-1)))
			.withMessage("timeout must be zero or a positive duration, but was PT-0.001S");
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void admitsUntilExhaustedThenDeniesWithRetryAfter(String algorithm, RateLimit limit) {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		int admitted = 0;
		while (limiter.tryAcquire() && admitted < 1000) {
			admitted++;
		}
		assertThat(admitted).isPositive().isLessThanOrEqualTo(10);
		Decision denied = limiter.decide(1);
		assertThat(denied.permitted()).isFalse();
		assertThat(denied.remaining()).isZero();
		assertThat(denied.retryAfterNanos()).isPositive();
		assertThat(limiter.snapshot().utilization()).isEqualTo(1.0);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void timeRestoresPermitsExceptForConcurrency(String algorithm, RateLimit limit) {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		while (limiter.tryAcquire()) {
			// drain
		}
		Decision denied = limiter.decide(1);
		if (limit.algorithm() == Algorithm.CONCURRENCY) {
			assertThat(denied.retryAfterNanos()).isEqualTo(Long.MAX_VALUE);
			((ConcurrencyLimiter) limiter).release();
			assertThat(limiter.tryAcquire()).isTrue();
			return;
		}
		clock.advanceNanos(denied.retryAfterNanos() - 1);
		assertThat(limiter.tryAcquire()).as("one nanosecond before retry-after").isFalse();
		clock.advanceNanos(1);
		assertThat(limiter.tryAcquire()).as("at retry-after").isTrue();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void decisionReportsRemaining(String algorithm, RateLimit limit) {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		Decision first = limiter.decide(1);
		assertThat(first.permitted()).isTrue();
		assertThat(first.retryAfterNanos()).isZero();
		assertThat(first.remaining()).isLessThan(limit.capacity() + limit.capacity() / 100 + 1);
		assertThat(limiter.snapshot().available()).isEqualTo(first.remaining());
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void acquireWithZeroTimeoutIsTryAcquire(String algorithm, RateLimit limit) throws InterruptedException {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		while (limiter.tryAcquire()) {
			// drain
		}
		assertThat(limiter.acquire(1, Duration.ZERO)).isFalse();
		assertThat(clock.sleptNanos()).isZero();
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void acquireWaitsForTheRetryTimeWithinTheTimeout(String algorithm, RateLimit limit) throws InterruptedException {
		if (limit.algorithm() == Algorithm.CONCURRENCY) {
			return; // waits for releases, covered in ConcurrencyLimiterTest
		}
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		while (limiter.tryAcquire()) {
			// drain
		}
		long retryAfter = limiter.decide(1).retryAfterNanos();
		assertThat(limiter.acquire(1, Duration.ofNanos(retryAfter - 1))).as("timeout shorter than the wait").isFalse();
		assertThat(clock.sleptNanos()).as("gave up without waiting in vain").isZero();
		assertThat(limiter.acquire(1, Duration.ofSeconds(10))).isTrue();
		assertThat(clock.sleptNanos()).isGreaterThanOrEqualTo(retryAfter);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void acquireAsyncCompletesWithoutParkingAThread(String algorithm, RateLimit limit) {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		while (limiter.tryAcquire()) {
			// drain
		}
		CompletableFuture<Boolean> late = limiter.acquireAsync(1, Duration.ofSeconds(10));
		CompletableFuture<Boolean> impossible = limiter.acquireAsync(1, Duration.ZERO);
		assertThat(impossible).isCompletedWithValue(false);
		assertThat(late).isNotDone();
		if (limiter instanceof ConcurrencyLimiter concurrency) {
			concurrency.release();
		}
		else {
			clock.advance(Duration.ofSeconds(10));
		}
		assertThat(late).isCompletedWithValue(true);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void acquireAsyncTimesOut(String algorithm, RateLimit limit) {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = limiter(limit, clock);
		while (limiter.tryAcquire()) {
			// drain
		}
		long retryAfter = limiter.decide(1).retryAfterNanos();
		long shorter = (retryAfter == Long.MAX_VALUE) ? 1_000_000 : retryAfter / 2;
		CompletableFuture<Boolean> future = limiter.acquireAsync(1, Duration.ofNanos(shorter));
		clock.advanceNanos(shorter);
		assertThat(future).isCompletedWithValue(false);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void snapshotDescribesTheLimiter(String algorithm, RateLimit limit) {
		RateLimiter limiter = limiter(limit, new ManualClock());
		RateLimiterSnapshot snapshot = limiter.snapshot();
		assertThat(snapshot.name()).isEqualTo("spec");
		assertThat(snapshot.algorithm()).isEqualTo(limit.algorithm());
		assertThat(snapshot.capacity()).isEqualTo(limit.capacity());
		assertThat(snapshot.rate()).isEqualTo(limit.rate());
		assertThat(snapshot.backend()).isEqualTo("in-memory");
		assertThat(snapshot.distributed()).isFalse();
		assertThat(snapshot.persistent()).isFalse();
		assertThat(snapshot.utilization()).isBetween(0.0, 1.0);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void resetRestoresTheInitialState(String algorithm, RateLimit limit) {
		RateLimiter limiter = limiter(limit, new ManualClock());
		int first = drain(limiter);
		if (limit.algorithm() == Algorithm.CONCURRENCY) {
			((ConcurrencyLimiter) limiter).release(first);
		}
		limiter.reset();
		assertThat(drain(limiter)).isEqualTo(first);
	}

	@ParameterizedTest(name = "{0}")
	@MethodSource("limits")
	void listenerHearsEveryDecision(String algorithm, RateLimit limit) {
		ManualClock clock = new ManualClock();
		CountingListener listener = new CountingListener();
		RateLimiter limiter = RateLimiter.builder("spec", limit).ticker(clock).scheduler(clock).listener(listener)
			.build();
		int admitted = drain(limiter);
		assertThat(listener.permitted).isEqualTo(admitted);
		assertThat(listener.rejected).isEqualTo(1);
	}

	static int drain(RateLimiter limiter) {
		int admitted = 0;
		while (limiter.tryAcquire()) {
			admitted++;
		}
		return admitted;
	}

	static final class CountingListener implements RateLimiterListener {

		long permitted;

		long rejected;

		List<Long> waits = new java.util.ArrayList<>();

		@Override
		public void onPermitted(long permits) {
			this.permitted += permits;
		}

		@Override
		public void onRejected(long permits) {
			this.rejected++;
		}

		@Override
		public void onWaited(long nanos) {
			this.waits.add(nanos);
		}

	}

}
