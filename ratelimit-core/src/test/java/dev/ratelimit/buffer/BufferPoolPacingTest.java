package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.Decision;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flushes take one permit per item from the limiter before each attempt, waiting for them on the
 * limiter's scheduler rather than in a loop, and never ask for more than its capacity.
 */
class BufferPoolPacingTest {

	private static final long SECOND = Duration.ofSeconds(1).toNanos();

	private final ManualClock clock = new ManualClock();

	private final long start = this.clock.read();

	private final RecordingHandler<Integer> handler = new RecordingHandler<>(this.clock);

	private final RateLimiter tokenBucket = RateLimiter
		.builder("downstream", RateLimit.tokenBucket(Rate.perSecond(10)).build())
		.ticker(this.clock)
		.scheduler(this.clock)
		.build();

	private BufferPool.Builder<Integer> builder(RateLimiter limiter) {
		return BufferPool.builder(this.handler)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.limiter(limiter);
	}

	@Test
	void itemsFlushedInAnySimulatedSecondNeverExceedRatePlusBurst() {
		BufferPool<Integer> pool = builder(this.tokenBucket).maxItems(1000)
			.maxBatchSize(5)
			.maxAge(Duration.ZERO)
			.build();
		for (int i = 0; i < 200; i++) {
			assertThat(pool.offer(i)).isTrue();
		}
		for (int step = 0; step < 300 && pool.size() > 0; step++) {
			this.clock.advance(Duration.ofMillis(100));
		}
		assertThat(this.handler.delivered()).hasSize(200).isSorted();
		List<Long> itemTimes = new ArrayList<>();
		for (RecordingHandler.Call<Integer> call : this.handler.calls()) {
			for (int i = 0; i < call.batch().size(); i++) {
				itemTimes.add(call.at());
			}
		}
		// over any window of one second: at most the burst (capacity 10) plus one second of refill (10)
		for (int first = 0; first < itemTimes.size(); first++) {
			int inWindow = 0;
			for (int next = first; next < itemTimes.size() && itemTimes.get(next) - itemTimes.get(first) < SECOND;
					next++) {
				inWindow++;
			}
			assertThat(inWindow).as("items flushed within 1 s of item %d", first).isLessThanOrEqualTo(20);
		}
		// and the limiter is used fully: 200 items at 10/s after a burst of 10 take 19 s
		assertThat(itemTimes.get(itemTimes.size() - 1) - this.start).isEqualTo(19 * SECOND);
	}

	@Test
	void waitingForPermitsTakesOneAcquisitionPerBatchAndNoSpinning() {
		CountingLimiter counting = new CountingLimiter(this.tokenBucket);
		BufferPool<Integer> pool = builder(counting).maxItems(1000).maxBatchSize(10).maxAge(Duration.ZERO).build();
		for (int i = 0; i < 100; i++) {
			pool.offer(i);
		}
		this.clock.advance(Duration.ofSeconds(20));
		assertThat(this.handler.delivered()).hasSize(100).isSorted();
		assertThat(counting.acquisitions.get()).isEqualTo(this.handler.calls().size());
		assertThat(this.clock.pendingTasks()).isZero();
	}

	@Test
	void retriesTakePermitsAgain() {
		CountingLimiter counting = new CountingLimiter(this.tokenBucket);
		BufferPool<Integer> pool = builder(counting).maxBatchSize(4).build();
		this.handler.failNext(2);
		for (int i = 0; i < 4; i++) {
			pool.offer(i);
		}
		this.clock.advance(Duration.ofSeconds(5));
		assertThat(this.handler.calls()).hasSize(3);
		assertThat(counting.permits.get()).isEqualTo(12);
	}

	@Test
	void batchesShrinkToALimiterCapacityLoweredAfterBuild() {
		ConcurrencyLimiter bulkhead = ConcurrencyLimiter.of("bulkhead", 5);
		BufferPool<Integer> pool = builder(bulkhead).maxBatchSize(5).maxAge(Duration.ofHours(1)).build();
		bulkhead.updateMaxConcurrent(2);
		for (int i = 0; i < 5; i++) {
			pool.offer(i);
		}
		pool.flush();
		assertThat(this.handler.batches()).containsExactly(List.of(0, 1), List.of(2, 3), List.of(4));
	}

	@Test
	void aRetriedBatchLargerThanTheCapacityNowIsSplitInOrder() {
		ConcurrencyLimiter bulkhead = ConcurrencyLimiter.of("bulkhead", 4);
		BufferPool<Integer> pool = builder(bulkhead).maxBatchSize(4).maxAge(Duration.ofHours(1)).build();
		this.handler.failNext(1);
		for (int i = 0; i < 6; i++) {
			pool.offer(i); // [0..3] fails; 4, 5 wait behind it
		}
		bulkhead.updateMaxConcurrent(3);
		this.clock.advance(Duration.ofMillis(100));
		pool.flush();
		assertThat(this.handler.calls()).extracting(RecordingHandler.Call::batch)
			.containsExactly(List.of(0, 1, 2, 3), List.of(0, 1, 2), List.of(3, 4, 5));
		assertThat(pool.size()).isZero();
		assertThat(bulkhead.inFlight()).isZero();
	}

	@Test
	void aWindowWhoseRateIsLoweredSplitsTheBatchInFlight() {
		RateLimiter window = RateLimiter.builder("window", RateLimit.fixedWindow(10, Duration.ofSeconds(1)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
		BufferPool<Integer> pool = builder(window).maxBatchSize(10).maxAge(Duration.ofHours(1)).build();
		this.handler.failNext(1);
		for (int i = 0; i < 10; i++) {
			pool.offer(i);
		}
		window.updateRate(Rate.perSecond(4)); // the window's limit, its capacity, is now 4
		this.clock.advance(Duration.ofSeconds(5));
		pool.flush();
		this.clock.advance(Duration.ofSeconds(5));
		assertThat(this.handler.delivered()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
		assertThat(this.handler.batches()).allSatisfy((batch) -> assertThat(batch).hasSizeLessThanOrEqualTo(4));
	}

	@Test
	void aConcurrencyLimitersPermitsAreGivenBackAfterEachAttempt() {
		ConcurrencyLimiter bulkhead = ConcurrencyLimiter.of("bulkhead", 3);
		long[] inFlightDuringCall = { -1 };
		FlushHandler<Integer> observing = (batch) -> inFlightDuringCall[0] = bulkhead.inFlight();
		RecordingHandler<Integer> failing = new RecordingHandler<Integer>(this.clock).failNext(1);
		BufferPool<Integer> pool = BufferPool.builder((List<Integer> batch) -> {
			observing.flush(batch);
			failing.flush(batch);
		}).ticker(this.clock).scheduler(this.clock).executor(Runnable::run).limiter(bulkhead).build();
		for (int i = 0; i < 3; i++) {
			pool.offer(i); // a batch of 3: fails, then is retried
		}
		assertThat(inFlightDuringCall[0]).isEqualTo(3);
		assertThat(bulkhead.inFlight()).isZero();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(failing.delivered()).containsExactly(0, 1, 2);
		assertThat(bulkhead.inFlight()).isZero();
	}

	@Test
	void aLimiterThatCannotSayWhenLooksAgainAfterTheInitialBackoff() {
		AtomicInteger denials = new AtomicInteger(2);
		RateLimiter undecided = new CountingLimiter(this.tokenBucket) {
			@Override
			public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
				super.acquireAsync(0, timeout);
				return CompletableFuture.completedFuture(denials.getAndDecrement() <= 0);
			}
		};
		RecordingListener<Integer> listener = new RecordingListener<>();
		BufferPool<Integer> pool = builder(undecided).maxBatchSize(1).listener(listener).build();
		pool.offer(1);
		this.clock.advance(Duration.ofMillis(199));
		assertThat(this.handler.calls()).isEmpty();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(this.handler.delivered()).containsExactly(1);
		assertThat(pool.stats().failedAttempts()).as("a denial is not a failure").isZero();
		assertThat(listener.events()).containsExactly("flushed 1 latency=0ms wait=200ms 0.00");
	}

	@Test
	void aLimiterThatThrowsFailsTheAttempt() {
		AtomicInteger failures = new AtomicInteger(1);
		RateLimiter broken = new CountingLimiter(this.tokenBucket) {
			@Override
			public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
				if (failures.getAndDecrement() > 0) {
					throw new IllegalStateException("backend down");
				}
				return super.acquireAsync(permits, timeout);
			}
		};
		RecordingListener<Integer> listener = new RecordingListener<>();
		BufferPool<Integer> pool = builder(broken).maxBatchSize(1).listener(listener).build();
		pool.offer(1);
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.delivered()).containsExactly(1);
		assertThat(listener.events()).startsWith("failed 1 attempt=1 IllegalStateException backoff=100ms 0.00");
	}

	@Test
	void aPermitWaitThatFailsIsRetried() {
		AtomicInteger failures = new AtomicInteger(1);
		RateLimiter failing = new CountingLimiter(this.tokenBucket) {
			@Override
			public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
				if (failures.getAndDecrement() > 0) {
					return CompletableFuture.failedFuture(new java.io.UncheckedIOException(new java.io.IOException()));
				}
				return super.acquireAsync(permits, timeout);
			}
		};
		RecordingListener<Integer> listener = new RecordingListener<>();
		BufferPool<Integer> pool = builder(failing).maxBatchSize(1).listener(listener).build();
		pool.offer(1);
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.delivered()).containsExactly(1);
		assertThat(listener.events()).startsWith("failed 1 attempt=1 UncheckedIOException backoff=100ms 0.00");
	}

	/** Counts acquisitions and permits asked for, and otherwise delegates. */
	static class CountingLimiter implements RateLimiter {

		final AtomicInteger acquisitions = new AtomicInteger();

		final AtomicInteger permits = new AtomicInteger();

		private final RateLimiter delegate;

		CountingLimiter(RateLimiter delegate) {
			this.delegate = delegate;
		}

		@Override
		public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
			this.acquisitions.incrementAndGet();
			this.permits.addAndGet((int) permits);
			return (permits > 0) ? this.delegate.acquireAsync(permits, timeout)
					: CompletableFuture.completedFuture(true);
		}

		@Override
		public String name() {
			return this.delegate.name();
		}

		@Override
		public RateLimit limit() {
			return this.delegate.limit();
		}

		@Override
		public boolean tryAcquire(long permits) {
			return this.delegate.tryAcquire(permits);
		}

		@Override
		public boolean acquire(long permits, Duration timeout) throws InterruptedException {
			return this.delegate.acquire(permits, timeout);
		}

		@Override
		public Decision decide(long permits) {
			return this.delegate.decide(permits);
		}

		@Override
		public RateLimiterSnapshot snapshot() {
			return this.delegate.snapshot();
		}

		@Override
		public void updateRate(Rate rate) {
			this.delegate.updateRate(rate);
		}

		@Override
		public void reset() {
			this.delegate.reset();
		}

	}

}
