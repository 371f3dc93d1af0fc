package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * Close stops accepting items, flushes what is left within its timeout, retries included, and
 * hands back, never drops, what it could not deliver.
 */
class BufferPoolCloseTest {

	private static final String CLOSED = "buffer 'orders' is closed and accepts no more items: offer only before "
			+ "close()";

	private static final String FROM_CALLBACK = "close() of buffer 'orders' was called from its flush handler or "
			+ "listener, where it would wait for the buffer it is holding up: close the buffer from another thread";

	private final ManualClock clock = new ManualClock();

	private final RecordingHandler<Integer> handler = new RecordingHandler<>(this.clock);

	private final RecordingListener<Integer> listener = new RecordingListener<>();

	private Thread closer;

	private BufferPool.Builder<Integer> builder() {
		return BufferPool.builder(this.handler)
			.name("orders")
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.listener(this.listener)
			.maxAge(Duration.ofHours(1));
	}

	@AfterEach
	void stopCloser() throws InterruptedException {
		if (this.closer != null) {
			this.closer.interrupt();
			this.closer.join(TimeUnit.SECONDS.toMillis(30));
		}
	}

	/** Closes on another thread, since close blocks while the test moves the manual clock. */
	private CompletableFuture<List<Integer>> closeInBackground(BufferPool<Integer> pool, Duration timeout) {
		CompletableFuture<List<Integer>> result = new CompletableFuture<>();
		this.closer = new Thread(() -> {
			try {
				result.complete((timeout != null) ? pool.close(timeout) : closeAndReturnNothing(pool));
			}
			catch (Throwable ex) {
				result.completeExceptionally(ex);
			}
		}, "closer");
		this.closer.start();
		await().atMost(Duration.ofSeconds(30)).until(() -> this.closer.getState() == Thread.State.TIMED_WAITING);
		return result;
	}

	private static List<Integer> closeAndReturnNothing(BufferPool<Integer> pool) {
		pool.close();
		return List.of();
	}

	@Test
	void closeFlushesWhatIsLeftInOrder() {
		BufferPool<Integer> pool = builder().maxBatchSize(4).build();
		for (int i = 0; i < 10; i++) {
			pool.offer(i);
		}
		assertThat(pool.close(Duration.ofSeconds(1))).isEmpty();
		assertThat(this.handler.batches()).containsExactly(List.of(0, 1, 2, 3), List.of(4, 5, 6, 7), List.of(8, 9));
		assertThat(pool.isClosed()).isTrue();
		assertThat(pool.size()).isZero();
		assertThat(pool.unflushed()).isEmpty();
	}

	@Test
	void offersAfterCloseAreAnError() {
		BufferPool<Integer> pool = builder().build();
		pool.close();
		assertThatIllegalStateException().isThrownBy(() -> pool.offer(1)).withMessage(CLOSED);
		assertThatIllegalStateException().isThrownBy(() -> pool.offer(1, Duration.ofSeconds(1))).withMessage(CLOSED);
		assertThat(pool.stats()).isEqualTo(new BufferStats(0, 0, 0, 0, 0));
	}

	@Test
	void closeIsIdempotent() {
		BufferPool<Integer> pool = builder().build();
		pool.offer(1);
		pool.close();
		pool.close();
		assertThat(pool.close(Duration.ZERO)).isEmpty();
		assertThat(this.handler.calls()).hasSize(1);
	}

	@Test
	void closeWaitsForRetriesWithinItsTimeout() throws Exception {
		BufferPool<Integer> pool = builder().maxBatchSize(2).build();
		this.handler.failNext(2);
		pool.offer(1);
		pool.offer(2); // fails at 0 ms; retried at 100 ms and 300 ms
		pool.offer(3);
		CompletableFuture<List<Integer>> closed = closeInBackground(pool, Duration.ofSeconds(10));
		this.clock.advance(Duration.ofMillis(100));
		assertThat(closed).isNotDone();
		this.clock.advance(Duration.ofMillis(200));
		assertThat(closed.get(30, TimeUnit.SECONDS)).isEmpty();
		assertThat(this.handler.batches()).containsExactly(List.of(1, 2), List.of(3));
	}

	@Test
	void closeHandsBackWhatItCouldNotDeliverWhenItsTimeoutPasses() throws Exception {
		BufferPool<Integer> pool = builder().maxBatchSize(2).build();
		this.handler.failNext(Integer.MAX_VALUE);
		for (int i = 1; i <= 5; i++) {
			pool.offer(i);
		}
		CompletableFuture<Void> flushed = pool.flush();
		CompletableFuture<List<Integer>> closed = closeInBackground(pool, Duration.ofMinutes(10));
		this.clock.advance(Duration.ofMinutes(10).minusMillis(1));
		assertThat(closed).isNotDone();
		this.clock.advance(Duration.ofMillis(1));
		// the batch in flight first, then the rest, in offer order
		assertThat(closed.get(30, TimeUnit.SECONDS)).containsExactly(1, 2, 3, 4, 5);
		assertThat(pool.unflushed()).containsExactly(1, 2, 3, 4, 5);
		assertThat(this.listener.events()).last().isEqualTo("abandoned [1, 2, 3, 4, 5]");
		assertThat(pool.size()).isZero();
		assertThatExceptionOfType(ExecutionException.class).isThrownBy(() -> flushed.get(30, TimeUnit.SECONDS))
			.withCauseInstanceOf(IllegalStateException.class);
		// no retry after the pool gave up
		int calls = this.handler.calls().size();
		this.clock.advance(Duration.ofHours(1));
		assertThat(this.handler.calls()).hasSize(calls);
		// later calls report the same items
		assertThat(pool.close(Duration.ofSeconds(1))).containsExactly(1, 2, 3, 4, 5);
		assertThatIllegalStateException().isThrownBy(pool::close)
			.withMessage("buffer 'orders' closed with 5 item(s) not flushed within PT10M: get them from unflushed() "
					+ "(or use close(Duration), which returns them), or raise closeTimeout");
		assertThat(pool.flush()).isCompletedExceptionally();
	}

	@Test
	void closeWithoutArgumentsWaitsTheDefaultThirtySecondsAndThenThrows() {
		BufferPool<Integer> pool = builder().build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer(1);
		pool.offer(2);
		CompletableFuture<List<Integer>> closed = closeInBackground(pool, null);
		this.clock.advance(Duration.ofSeconds(30).minusNanos(1));
		assertThat(closed).isNotDone();
		this.clock.advance(Duration.ofNanos(1));
		assertThat(closed).failsWithin(Duration.ofSeconds(30))
			.withThrowableOfType(ExecutionException.class)
			.withCauseInstanceOf(IllegalStateException.class)
			.withMessageContaining("buffer 'orders' closed with 2 item(s) not flushed within PT30S");
		assertThat(pool.unflushed()).containsExactly(1, 2);
	}

	@Test
	void aZeroTimeoutDeliversOnlyWhatGoesAtOnce() {
		BufferPool<Integer> pool = builder().maxBatchSize(2).build();
		pool.offer(1);
		this.handler.failNext(1);
		assertThat(pool.close(Duration.ZERO)).containsExactly(1);
		BufferPool<Integer> healthy = builder().maxBatchSize(2).build();
		healthy.offer(1);
		assertThat(healthy.close(Duration.ZERO)).isEmpty();
	}

	@Test
	void closeCancelsAWaitForPermitsAndTheLimiterGetsThemBack() {
		RateLimiter slow = RateLimiter.builder("slow", RateLimit.tokenBucket(Rate.perMinute(2)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
		BufferPool<Integer> pool = builder().maxBatchSize(1).limiter(slow).maxAge(Duration.ZERO).build();
		pool.offer(1);
		pool.offer(2);
		pool.offer(3); // the bucket had 2: item 3 waits 30 s for a permit
		assertThat(pool.close(Duration.ZERO)).containsExactly(3);
		this.clock.advance(Duration.ofMinutes(1));
		assertThat(this.handler.delivered()).containsExactly(1, 2);
		assertThat(slow.tryAcquire(2)).as("the cancelled reservation was returned").isTrue();
	}

	@Test
	void anOfferWaitingForRoomFailsWhenThePoolCloses() throws Exception {
		BufferPool<Integer> pool = builder().maxItems(1).build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer(1);
		pool.flush();
		AtomicReference<Throwable> failure = new AtomicReference<>();
		Thread producer = new Thread(() -> {
			try {
				pool.offer(2, Duration.ofHours(1));
			}
			catch (Throwable ex) {
				failure.set(ex);
			}
		});
		producer.start();
		await().atMost(Duration.ofSeconds(30)).until(() -> producer.getState() == Thread.State.TIMED_WAITING);
		assertThat(pool.close(Duration.ZERO)).containsExactly(1);
		producer.join(TimeUnit.SECONDS.toMillis(30));
		assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessage(CLOSED);
	}

	@Test
	void closeFromTheHandlerIsRefused() {
		AtomicReference<BufferPool<Integer>> self = new AtomicReference<>();
		AtomicReference<Throwable> failure = new AtomicReference<>();
		BufferPool<Integer> pool = BufferPool.builder((List<Integer> batch) -> {
			try {
				self.get().close();
			}
			catch (IllegalStateException ex) {
				failure.set(ex);
			}
		}).name("orders").executor(Runnable::run).maxBatchSize(1).build();
		self.set(pool);
		pool.offer(1);
		assertThat(failure.get()).hasMessage(FROM_CALLBACK);
		assertThat(pool.isClosed()).isFalse();
	}

	@Test
	void closeFromAListenerIsRefused() {
		AtomicReference<BufferPool<Integer>> self = new AtomicReference<>();
		AtomicReference<Throwable> failure = new AtomicReference<>();
		BufferPool<Integer> pool = builder().maxItems(1).listener(new BufferPoolListener<Integer>() {
			@Override
			public void onFull(double utilization) {
				try {
					self.get().close();
				}
				catch (IllegalStateException ex) {
					failure.set(ex);
				}
			}
		}).build();
		self.set(pool);
		this.handler.failNext(1);
		pool.offer(1);
		assertThat(failure.get()).hasMessage(FROM_CALLBACK);
		assertThat(pool.isClosed()).isFalse();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.delivered()).containsExactly(1);
	}

	@Test
	void aNegativeTimeoutIsAnError() {
		BufferPool<Integer> pool = builder().build();
		assertThatIllegalArgumentException().isThrownBy(() -> pool.close(Duration.ofSeconds(-1)))
			.withMessage("timeout must be zero or a positive duration, but was PT-1S: it is the longest wait, zero "
					+ "for none");
		assertThat(pool.isClosed()).isFalse();
	}

	@Test
	void anInterruptedCloseHandsBackWhatIsLeftAndKeepsTheInterrupt() throws Exception {
		BufferPool<Integer> pool = builder().build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer(1);
		AtomicReference<List<Integer>> left = new AtomicReference<>();
		AtomicReference<Boolean> interrupted = new AtomicReference<>();
		Thread thread = new Thread(() -> {
			left.set(pool.close(Duration.ofHours(1)));
			interrupted.set(Thread.currentThread().isInterrupted());
		});
		thread.start();
		await().atMost(Duration.ofSeconds(30)).until(() -> thread.getState() == Thread.State.TIMED_WAITING);
		thread.interrupt();
		thread.join(TimeUnit.SECONDS.toMillis(30));
		assertThat(left.get()).containsExactly(1);
		assertThat(interrupted.get()).isTrue();
	}

	@Test
	void concurrentClosesAllReturnWhenTheFirstSettles() throws Exception {
		BufferPool<Integer> pool = builder().build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer(1);
		pool.offer(2);
		AtomicReference<List<Integer>> first = new AtomicReference<>();
		Thread interrupted = new Thread(() -> first.set(pool.close(Duration.ofHours(1))));
		interrupted.start();
		await().atMost(Duration.ofSeconds(30)).until(() -> interrupted.getState() == Thread.State.TIMED_WAITING);
		CompletableFuture<List<Integer>> second = closeInBackground(pool, Duration.ofHours(1));
		interrupted.interrupt();
		interrupted.join(TimeUnit.SECONDS.toMillis(30));
		assertThat(first.get()).containsExactly(1, 2);
		assertThat(second.get(30, TimeUnit.SECONDS)).containsExactly(1, 2);
	}

	@Test
	void theDefaultExecutorRunsTheHandlerOnItsOwnThreadUntilClose() throws Exception {
		CountDownLatch delivered = new CountDownLatch(1);
		AtomicReference<String> thread = new AtomicReference<>();
		BufferPool<Integer> pool = BufferPool.builder((List<Integer> batch) -> {
			thread.set(Thread.currentThread().getName());
			delivered.countDown();
		}).name("audit").maxBatchSize(1).build();
		pool.offer(1);
		assertThat(delivered.await(30, TimeUnit.SECONDS)).isTrue();
		assertThat(thread.get()).isEqualTo("ratelimit-buffer-audit");
		assertThat(pool.close(Duration.ofSeconds(30))).isEmpty();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> Thread.getAllStackTraces()
				.keySet()
				.stream()
				.noneMatch((t) -> t.getName().equals("ratelimit-buffer-audit")));
	}

}
