package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failed batch stays at the head and is retried, the same batch, after an exponential backoff:
 * nothing is lost, duplicated or reordered, and items offered meanwhile wait behind it.
 */
class BufferPoolRetryTest {

	private final ManualClock clock = new ManualClock();

	private final long start = this.clock.read();

	private final RecordingHandler<Integer> handler = new RecordingHandler<>(this.clock);

	private final RecordingListener<Integer> listener = new RecordingListener<>();

	private BufferPool.Builder<Integer> builder() {
		return BufferPool.builder(this.handler)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.listener(this.listener);
	}

	@ParameterizedTest
	@ValueSource(ints = { 1, 2, 5 })
	void aBatchThatFailsNTimesIsDeliveredOnceInOrderAfterTheBackoffs(int failures) {
		BufferPool<Integer> pool = builder().maxBatchSize(3)
			.maxAge(Duration.ofHours(1))
			.initialBackoff(Duration.ofMillis(100))
			.backoffMultiplier(2.0)
			.maxBackoff(Duration.ofSeconds(10))
			.build();
		this.handler.failNext(failures);
		for (int i = 1; i <= 9; i++) {
			pool.offer(i);
		}
		// one attempt at 0 ms, then retries after 100, 200, 400, 800, 1600 ms
		long[] expected = new long[failures + 1];
		for (int attempt = 1; attempt <= failures; attempt++) {
			long backoff = 100L << (attempt - 1);
			expected[attempt] = expected[attempt - 1] + backoff;
			this.clock.advance(Duration.ofMillis(backoff - 1));
			assertThat(this.handler.calls()).as("no retry before its backoff").hasSize(attempt);
			this.clock.advance(Duration.ofMillis(1));
		}
		assertThat(this.handler.calls()).hasSize(failures + 3);
		assertThat(this.handler.callMillis(this.start).subList(0, failures + 1)).containsExactly(
				java.util.Arrays.stream(expected).boxed().toArray(Long[]::new));
		// every attempt got the very same batch, and the newer items followed it
		assertThat(this.handler.calls().subList(0, failures + 1))
			.allSatisfy((call) -> assertThat(call.batch()).containsExactly(1, 2, 3));
		assertThat(this.handler.batches()).containsExactly(List.of(1, 2, 3), List.of(4, 5, 6), List.of(7, 8, 9));
		assertThat(pool.stats()).isEqualTo(new BufferStats(9, 0, 9, 3, failures));
		assertThat(pool.size()).isZero();
	}

	@Test
	void theListenerHearsOfEveryFailureWithTheNextBackoff() {
		BufferPool<Integer> pool = builder().maxItems(10)
			.maxBatchSize(2)
			.initialBackoff(Duration.ofMillis(50))
			.backoffMultiplier(3.0)
			.maxBackoff(Duration.ofMillis(1000))
			.build();
		this.handler.failNext(4);
		pool.offer(1);
		pool.offer(2);
		this.clock.advance(Duration.ofSeconds(5));
		assertThat(this.listener.events()).containsExactly("failed 2 attempt=1 IOException backoff=50ms 0.20",
				"failed 2 attempt=2 IOException backoff=150ms 0.20",
				"failed 2 attempt=3 IOException backoff=450ms 0.20",
				"failed 2 attempt=4 IOException backoff=1000ms 0.20", "flushed 2 latency=0ms wait=1650ms 0.00");
	}

	@Test
	void aConstantBackoffWithAMultiplierOfOne() {
		BufferPool<Integer> pool = builder().maxBatchSize(1)
			.initialBackoff(Duration.ofMillis(250))
			.backoffMultiplier(1.0)
			.build();
		this.handler.failNext(4);
		pool.offer(1);
		this.clock.advance(Duration.ofSeconds(2));
		assertThat(this.handler.callMillis(this.start)).containsExactly(0L, 250L, 500L, 750L, 1000L);
	}

	@Test
	void theBackoffStopsGrowingAtItsMaximum() {
		BufferPool<Integer> pool = builder().maxBatchSize(1)
			.initialBackoff(Duration.ofSeconds(1))
			.backoffMultiplier(10)
			.maxBackoff(Duration.ofSeconds(30))
			.build();
		assertThat(pool.backoffNanos(1)).isEqualTo(Duration.ofSeconds(1).toNanos());
		assertThat(pool.backoffNanos(2)).isEqualTo(Duration.ofSeconds(10).toNanos());
		assertThat(pool.backoffNanos(3)).isEqualTo(Duration.ofSeconds(30).toNanos());
		assertThat(pool.backoffNanos(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(30).toNanos());
	}

	@Test
	void itemsOfferedDuringRetriesQueueBehindAndPushBack() {
		BufferPool<Integer> pool = builder().maxItems(5).maxBatchSize(2).maxAge(Duration.ofMillis(10)).build();
		this.handler.failNext(3);
		pool.offer(1);
		pool.offer(2); // batch [1, 2] fails: retried at 100, 300, 700 ms
		this.clock.advance(Duration.ofMillis(50));
		pool.offer(3);
		pool.offer(4);
		pool.offer(5);
		assertThat(pool.offer(6)).as("full: the failed batch still counts").isFalse();
		this.clock.advance(Duration.ofMillis(500)); // two more failures; 3, 4, 5 are old but wait their turn
		assertThat(this.handler.batches()).isEmpty();
		assertThat(pool.offer(6)).isFalse();
		this.clock.advance(Duration.ofMillis(150));
		assertThat(this.handler.batches()).containsExactly(List.of(1, 2), List.of(3, 4), List.of(5));
		assertThat(pool.offer(6)).isTrue();
		assertThat(pool.stats()).isEqualTo(new BufferStats(6, 2, 5, 3, 3));
	}

	@Test
	void onlyTheFailedBatchIsRetriedNotTheOnesBefore() {
		BufferPool<Integer> pool = builder().maxBatchSize(2).build();
		pool.offer(1);
		pool.offer(2); // delivered
		this.handler.failNext(1);
		pool.offer(3);
		pool.offer(4); // fails once
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.delivered()).containsExactly(1, 2, 3, 4);
		assertThat(this.handler.calls()).hasSize(3);
	}

	@Test
	void errorsThrownByTheHandlerAreRetriedLikeExceptions() {
		int[] calls = { 0 };
		FlushHandler<Integer> erratic = (batch) -> {
			if (calls[0]++ == 0) {
				throw new AssertionError("not yet");
			}
		};
		BufferPool<Integer> pool = BufferPool.builder(erratic)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.listener(this.listener)
			.maxBatchSize(1)
			.build();
		pool.offer(1);
		this.clock.advance(Duration.ofMillis(100));
		assertThat(calls[0]).isEqualTo(2);
		assertThat(this.listener.events()).startsWith("failed 1 attempt=1 AssertionError backoff=100ms 0.00");
		assertThat(pool.stats().flushed()).isEqualTo(1);
	}

	@Test
	void aRejectingExecutorFailsTheAttemptWhichIsRetried() {
		boolean[] reject = { true };
		BufferPool<Integer> pool = builder().maxBatchSize(1).executor((task) -> {
			if (reject[0]) {
				reject[0] = false;
				throw new java.util.concurrent.RejectedExecutionException("saturated");
			}
			task.run();
		}).build();
		pool.offer(1);
		assertThat(this.handler.calls()).isEmpty();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.delivered()).containsExactly(1);
		assertThat(this.listener.events())
			.startsWith("failed 1 attempt=1 RejectedExecutionException backoff=100ms 0.00");
	}

	@Test
	void aFailingListenerDoesNotDisturbThePoolAndIsLogged() {
		Logger logger = Logger.getLogger(BufferPool.class.getName());
		List<LogRecord> records = new CopyOnWriteArrayList<>();
		Handler capture = new Handler() {
			@Override
			public void publish(LogRecord record) {
				records.add(record);
			}

			@Override
			public void flush() {
			}

			@Override
			public void close() {
			}
		};
		boolean useParentHandlers = logger.getUseParentHandlers();
		logger.setUseParentHandlers(false);
		logger.addHandler(capture);
		try {
			BufferPool<Integer> pool = BufferPool.builder(this.handler)
				.name("audit")
				.ticker(this.clock)
				.scheduler(this.clock)
				.executor(Runnable::run)
				.maxBatchSize(1)
				.listener(new BufferPoolListener<Integer>() {
					@Override
					public void onFlushFailed(int batchSize, int attempt, Throwable error, long nextBackoffNanos,
							double utilization) {
						throw new IllegalStateException("listener bug");
					}
				})
				.build();
			this.handler.failNext(1);
			pool.offer(1);
			this.clock.advance(Duration.ofMillis(100));
			assertThat(this.handler.delivered()).containsExactly(1);
		}
		finally {
			logger.removeHandler(capture);
			logger.setUseParentHandlers(useParentHandlers);
		}
		assertThat(records).singleElement().satisfies((record) -> {
			assertThat(record.getLevel()).isEqualTo(Level.WARNING);
			assertThat(record.getMessage()).isEqualTo("Listener of buffer 'audit' failed");
			assertThat(record.getThrown()).hasMessage("listener bug");
		});
	}

}
