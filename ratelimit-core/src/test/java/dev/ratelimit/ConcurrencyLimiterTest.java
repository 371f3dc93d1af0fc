package dev.ratelimit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

class ConcurrencyLimiterTest {

	private final ConcurrencyLimiter limiter = ConcurrencyLimiter.of("db", 2);

	@Test
	void boundsPermitsInFlight() {
		assertThat(this.limiter.tryAcquire()).isTrue();
		assertThat(this.limiter.tryAcquire()).isTrue();
		assertThat(this.limiter.tryAcquire()).isFalse();
		assertThat(this.limiter.inFlight()).isEqualTo(2);
		this.limiter.release();
		assertThat(this.limiter.tryAcquire()).isTrue();
	}

	@Test
	void releaseWithoutAcquireIsAnError() {
		assertThatIllegalStateException().isThrownBy(this.limiter::release)
			.withMessage("release of 1 permit(s) on concurrency limiter 'db' exceeds the 0 in flight: "
					+ "release only permits that an acquire granted");
		assertThat(this.limiter.tryAcquire()).isTrue();
		assertThatIllegalStateException().isThrownBy(() -> this.limiter.release(2))
			.withMessage("release of 2 permit(s) on concurrency limiter 'db' exceeds the 1 in flight: "
					+ "release only permits that an acquire granted");
		assertThat(this.limiter.inFlight()).as("a failed release changes nothing").isEqualTo(1);
		assertThatIllegalArgumentException().isThrownBy(() -> this.limiter.release(0))
			.withMessage("permits must be positive, but was 0 (limiter 'db')");
	}

	@Test
	void hasNoRateToUpdate() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.limiter.updateRate(Rate.perSecond(5)))
			.withMessage("limiter 'db' is a concurrency limiter and has no rate: use "
					+ "ConcurrencyLimiter.updateMaxConcurrent instead");
		this.limiter.updateMaxConcurrent(3);
		assertThat(RateLimiterContractTest.drain(this.limiter)).isEqualTo(3);
	}

	@Test
	void blockedAcquireIsWokenByARelease() throws Exception {
		this.limiter.tryAcquire(2);
		ExecutorService executor = Executors.newSingleThreadExecutor();
		try {
			Future<Boolean> waiting = executor.submit(() -> this.limiter.acquire(1, Duration.ofMinutes(1)));
			await().atMost(Duration.ofSeconds(10)).until(() -> this.limiter.snapshot().details().get("waiting")
				.equals(1));
			this.limiter.release();
			assertThat(waiting.get(10, TimeUnit.SECONDS)).isTrue();
			assertThat(this.limiter.inFlight()).isEqualTo(2);
		}
		finally {
			executor.shutdownNow();
		}
	}

	@Test
	void blockedAcquireGivesUpAfterItsTimeout() throws InterruptedException {
		this.limiter.tryAcquire(2);
		assertThat(this.limiter.acquire(1, Duration.ofMillis(20))).isFalse();
		assertThat(this.limiter.snapshot().details()).containsEntry("waiting", 0);
	}

	@Test
	void asyncWaitersAreServedInOrder() {
		this.limiter.tryAcquire(2);
		CompletableFuture<Boolean> first = this.limiter.acquireAsync(2, Duration.ofMinutes(1));
		CompletableFuture<Boolean> second = this.limiter.acquireAsync(1, Duration.ofMinutes(1));
		this.limiter.release();
		assertThat(first).as("needs two").isNotDone();
		assertThat(second).as("may not overtake the first").isNotDone();
		this.limiter.release();
		assertThat(first).isCompletedWithValue(true);
		this.limiter.release();
		assertThat(second).isCompletedWithValue(true);
	}

	@Test
	void neverMoreInFlightThanTheBoundUnderContention() throws InterruptedException {
		ConcurrencyLimiter bulkhead = ConcurrencyLimiter.of("bulkhead", 3);
		AtomicInteger inside = new AtomicInteger();
		AtomicInteger maxInside = new AtomicInteger();
		int threads = 8;
		CountDownLatch done = new CountDownLatch(threads);
		for (int t = 0; t < threads; t++) {
			new Thread(() -> {
				try {
					for (int i = 0; i < 2000; i++) {
						if (bulkhead.acquire(1, Duration.ofSeconds(30))) {
							maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
							inside.decrementAndGet();
							bulkhead.release();
						}
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
				finally {
					done.countDown();
				}
			}).start();
		}
		assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
		assertThat(maxInside.get()).isBetween(1, 3);
		assertThat(bulkhead.inFlight()).isZero();
	}

}
