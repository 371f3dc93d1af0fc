package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admission invariant with real threads on the real clock. Bounds are computed from clock
 * readings taken around the run, so they hold however the threads are scheduled: no assertion
 * depends on how fast the machine is.
 *
 * <p>For the no-loss check the bucket starts empty and its capacity is one second of refill, so no
 * pause of the run can fill it and lose refill to the cap; then, after a final drain, the permits
 * admitted must be exactly the refill up to the drain (no capacity lost), within the bounds of
 * the clock readings before and after.
 */
class ConcurrentAdmissionStressTest {

	private static final int THREADS = 4;

	private static final Duration RUN = Duration.ofMillis(400);

	@Test
	void tokenBucketAdmitsCapacityPlusRefillExactlyUnderContention() throws InterruptedException {
		Rate rate = Rate.perSecond(200_000);
		long capacity = 200_000;
		long before = System.nanoTime();
		// the bounds are taken on the system clock, so the limiter reads it too (what a clock read late
		// changes, the coarse one's lag, is CoarseClockTest's)
		RateLimiter limiter = RateLimiter
			.builder("stress", RateLimit.tokenBucket(rate).capacity(capacity).initialPermits(0).build())
			.ticker(Ticker.system())
			.build();
		long created = System.nanoTime();
		long admitted = hammer(limiter, 1);
		long drainStart = System.nanoTime();
		admitted += RateLimiterContractTest.drain(limiter);
		long after = System.nanoTime();

		assertThat(admitted).as("at most prefetch + refill over the whole run")
			.isLessThanOrEqualTo(capacity / 100 + rate.permitsIn(after - before) + 1);
		assertThat(admitted).as("no capacity lost: at least the refill until the final drain")
			.isGreaterThanOrEqualTo(rate.permitsIn(drainStart - created));
	}

	@Test
	void multiPermitRequestsKeepTheInvariant() throws InterruptedException {
		Rate rate = Rate.perSecond(100_000);
		long capacity = 100_000;
		long before = System.nanoTime();
		RateLimiter limiter = RateLimiter.of("stress", RateLimit.tokenBucket(rate).capacity(capacity).build());
		long admitted = hammer(limiter, 7);
		admitted += RateLimiterContractTest.drain(limiter);
		long after = System.nanoTime();
		assertThat(admitted).isLessThanOrEqualTo(capacity + capacity / 100 + rate.permitsIn(after - before) + 1);
	}

	@Test
	void fixedWindowNeverExceedsTheLimitPerWindowPlusPrefetch() throws InterruptedException {
		long limit = 50_000;
		Duration window = Duration.ofMillis(100);
		long before = System.nanoTime();
		RateLimiter limiter = RateLimiter.of("stress", RateLimit.fixedWindow(limit, window).build());
		long admitted = hammer(limiter, 1);
		long after = System.nanoTime();
		long windows = (after - before) / window.toNanos() + 2;
		assertThat(admitted).isLessThanOrEqualTo(limit * windows + limit / 100);
	}

	@Test
	void compositeTakesAllOrNothingUnderContention() throws InterruptedException {
		RateLimiter wide = RateLimiter.of("wide", RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(1_000_000).build());
		RateLimiter narrow = RateLimiter.of("narrow", RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(5_000).build());
		long before = System.nanoTime();
		RateLimiter composite = RateLimiter.composite("both", List.of(wide, narrow));
		long admitted = hammer(composite, 1);
		long after = System.nanoTime();
		long narrowBound = 5_000 + 50 + Rate.perSecond(1000).permitsIn(after - before) + 1;
		assertThat(admitted).isLessThanOrEqualTo(narrowBound);
		// every permit the composite refused was returned to the wide tier: it lost exactly what the
		// composite admitted, less what it refilled meanwhile
		long wideTaken = 1_000_000 - RateLimiterContractTest.drain(wide);
		long wideRefill = Rate.perSecond(1000).permitsIn(System.nanoTime() - before) + 1;
		assertThat(wideTaken).isBetween(admitted - wideRefill, admitted);
	}

	private static long hammer(RateLimiter limiter, long permits) throws InterruptedException {
		LongAdder admitted = new LongAdder();
		CountDownLatch start = new CountDownLatch(1);
		List<Thread> threads = new ArrayList<>();
		for (int t = 0; t < THREADS; t++) {
			Thread thread = new Thread(() -> {
				try {
					start.await();
				}
				catch (InterruptedException ex) {
					return;
				}
				long deadline = System.nanoTime() + RUN.toNanos();
				long mine = 0;
				while (System.nanoTime() < deadline) {
					for (int i = 0; i < 100; i++) {
						if (limiter.tryAcquire(permits)) {
							mine += permits;
						}
					}
				}
				admitted.add(mine);
			});
			thread.start();
			threads.add(thread);
		}
		start.countDown();
		for (Thread thread : threads) {
			thread.join();
		}
		return admitted.sum();
	}

}
