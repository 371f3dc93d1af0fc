package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

/**
 * Bounds in items and bytes, and flushing by size, bytes, age and on demand, on a manual clock
 * with the handler run on the calling thread.
 */
class BufferPoolTest {

	private static final Duration LONG = Duration.ofHours(1);

	private final ManualClock clock = new ManualClock();

	private final long start = this.clock.read();

	private final RecordingHandler<String> handler = new RecordingHandler<>(this.clock);

	private BufferPool.Builder<String> builder() {
		return BufferPool.builder(this.handler).ticker(this.clock).scheduler(this.clock).executor(Runnable::run);
	}

	// ---- bounds --------------------------------------------------------------------------------

	@Test
	void refusesAtOnceWhenTheItemBoundIsReached() {
		BufferPool<String> pool = builder().maxItems(3).maxBatchSize(3).build();
		this.handler.failNext(1); // the first batch stays, in flight
		assertThat(pool.offer("a")).isTrue();
		assertThat(pool.offer("b")).isTrue();
		assertThat(pool.offer("c")).isTrue();
		assertThat(pool.offer("d")).isFalse();
		assertThat(pool.size()).isEqualTo(3);
		assertThat(pool.utilization()).isEqualTo(1.0);
		assertThat(pool.stats()).isEqualTo(new BufferStats(3, 1, 0, 0, 1));
		this.clock.advance(Duration.ofMillis(100)); // the retry delivers and makes room
		assertThat(pool.offer("d")).isTrue();
		assertThat(pool.size()).isEqualTo(1);
		assertThat(pool.stats()).isEqualTo(new BufferStats(4, 1, 3, 1, 1));
	}

	@Test
	void refusesAtOnceWhenTheByteBoundIsReached() {
		BufferPool<String> pool = builder().maxBytes(10).sizeInBytes(String::length).maxAge(LONG).build();
		this.handler.failNext(Integer.MAX_VALUE); // a byte-full buffer flushes: keep what it holds
		assertThat(pool.offer("aaaa")).isTrue();
		assertThat(pool.offer("bbbbb")).isTrue();
		assertThat(pool.bytes()).isEqualTo(9);
		assertThat(pool.offer("cc")).isFalse(); // 11 bytes would not fit
		assertThat(pool.offer("d")).isTrue(); // 10 fit exactly
		assertThat(pool.offer("")).isTrue(); // zero bytes fit while items do
		assertThat(pool.offer("e")).isFalse();
		assertThat(pool.bytes()).isEqualTo(10);
		assertThat(pool.size()).isEqualTo(4);
		assertThat(pool.utilization()).isEqualTo(1.0);
		assertThat(pool.stats()).isEqualTo(new BufferStats(4, 2, 0, 0, 1));
		assertThat(this.handler.delivered()).isEmpty();
	}

	@Test
	void byDefaultAByteFullBufferFlushes() {
		BufferPool<String> pool = builder().maxBytes(10).sizeInBytes(String::length).maxAge(LONG).build();
		pool.offer("aaaaa");
		assertThat(this.handler.calls()).isEmpty();
		pool.offer("bbbbb");
		assertThat(this.handler.batches()).containsExactly(List.of("aaaaa", "bbbbb"));
		assertThat(pool.bytes()).isZero();
	}

	@Test
	void utilizationIsTheLargerFillRatio() {
		BufferPool<String> pool = builder().maxItems(10).maxBytes(100).sizeInBytes(String::length).maxAge(LONG).build();
		pool.offer("x".repeat(30));
		assertThat(pool.utilization()).isEqualTo(0.3); // bytes: 30/100 > items: 1/10
		pool.offer("");
		pool.offer("");
		pool.offer("");
		assertThat(pool.utilization()).isEqualTo(0.4); // items: 4/10 > bytes
	}

	@Test
	void anItemLargerThanTheByteBoundIsAnError() {
		BufferPool<String> pool = builder().name("events").maxBytes(8).sizeInBytes(String::length).build();
		assertThatIllegalArgumentException().isThrownBy(() -> pool.offer("123456789"))
			.withMessage("item of 9 bytes exceeds maxBytes (8) of buffer 'events': it could never be buffered; "
					+ "raise maxBytes or split the item");
		assertThatIllegalArgumentException().isThrownBy(() -> pool.offer("123456789", Duration.ofSeconds(1)))
			.withMessage("item of 9 bytes exceeds maxBytes (8) of buffer 'events': it could never be buffered; "
					+ "raise maxBytes or split the item");
		assertThat(pool.stats()).isEqualTo(new BufferStats(0, 0, 0, 0, 0));
	}

	@Test
	void aNegativeSizeIsAnError() {
		BufferPool<String> pool = builder().name("events").sizeInBytes((item) -> -5).build();
		assertThatIllegalArgumentException().isThrownBy(() -> pool.offer("x"))
			.withMessage("sizeInBytes returned -5 for an item offered to buffer 'events', but sizes must be zero or "
					+ "more: fix the size function");
	}

	@Test
	void nullItemsAreRejected() {
		BufferPool<String> pool = builder().build();
		assertThatNullPointerException().isThrownBy(() -> pool.offer(null)).withMessage("item");
		assertThatNullPointerException().isThrownBy(() -> pool.offer(null, Duration.ZERO)).withMessage("item");
	}

	// ---- flushing ------------------------------------------------------------------------------

	@Test
	void flushesAsSoonAsABatchIsFull() {
		BufferPool<String> pool = builder().maxBatchSize(3).maxAge(LONG).build();
		pool.offer("a");
		pool.offer("b");
		assertThat(this.handler.calls()).isEmpty();
		pool.offer("c");
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b", "c"));
		assertThat(pool.size()).isZero();
		assertThat(pool.stats()).isEqualTo(new BufferStats(3, 0, 3, 1, 0));
	}

	@Test
	void flushesAsSoonAsTheBatchBytesAreBuffered() {
		BufferPool<String> pool = builder().sizeInBytes(String::length).maxBatchBytes(10).maxAge(LONG).build();
		pool.offer("aaaa");
		pool.offer("bbbb");
		assertThat(this.handler.calls()).isEmpty();
		pool.offer("cc"); // 10 bytes buffered
		assertThat(this.handler.batches()).containsExactly(List.of("aaaa", "bbbb", "cc"));
	}

	@Test
	void aBatchNeverHoldsMoreThanTheBatchBytesUnlessOneItemIsLarger() {
		BufferPool<String> pool = builder().sizeInBytes(String::length).maxBatchBytes(10).maxAge(LONG).build();
		this.handler.failNext(1);
		pool.offer("x".repeat(12)); // alone over the batch bytes: a batch of its own, which fails
		pool.offer("aaaa");
		pool.offer("bbbb");
		pool.offer("ccc"); // 11 bytes queued behind the failed batch
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.batches()).containsExactly(List.of("x".repeat(12)), List.of("aaaa", "bbbb"));
		assertThat(pool.size()).isEqualTo(1); // "ccc" waits for more bytes or for its age
	}

	@Test
	void flushesWhenTheOldestItemReachesMaxAge() {
		BufferPool<String> pool = builder().maxAge(Duration.ofMillis(500)).build();
		pool.offer("a");
		this.clock.advance(Duration.ofMillis(300));
		pool.offer("b");
		this.clock.advance(Duration.ofMillis(199));
		assertThat(this.handler.calls()).isEmpty();
		this.clock.advance(Duration.ofMillis(1)); // "a" is 500 ms old; "b" goes with it
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b"));
		assertThat(this.handler.callMillis(this.start)).containsExactly(500L);
	}

	@Test
	void theAgeCountsFromTheOldestItemStillBuffered() {
		BufferPool<String> pool = builder().maxBatchSize(2).maxAge(Duration.ofMillis(500)).build();
		pool.offer("a");
		this.clock.advance(Duration.ofMillis(400));
		pool.offer("b"); // batch full: a, b go at 400 ms
		pool.offer("c");
		this.clock.advance(Duration.ofMillis(499));
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b"));
		this.clock.advance(Duration.ofMillis(1)); // "c" was offered at 400 ms: due at 900 ms
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b"), List.of("c"));
		assertThat(this.handler.callMillis(this.start)).containsExactly(400L, 900L);
	}

	@Test
	void zeroMaxAgeFlushesWhateverIsBufferedWhenTheHandlerIsFree() {
		BufferPool<String> pool = builder().maxAge(Duration.ZERO).build();
		this.handler.failNext(1);
		pool.offer("a"); // delivered at once, and fails
		pool.offer("b");
		pool.offer("c");
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.batches()).containsExactly(List.of("a"), List.of("b", "c"));
	}

	@Test
	void largeBacklogsGoOutInFullBatchesInOrder() {
		BufferPool<String> pool = builder().maxItems(1000).maxBatchSize(7).maxAge(Duration.ofMillis(50)).build();
		this.handler.failNext(1);
		for (int i = 0; i < 100; i++) {
			assertThat(pool.offer("item-" + i)).isTrue();
		}
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.batches()).hasSize(15).allSatisfy((batch) -> assertThat(batch).hasSizeBetween(1, 7));
		assertThat(this.handler.batches().subList(0, 14)).allSatisfy((batch) -> assertThat(batch).hasSize(7));
		assertThat(this.handler.delivered()).hasSize(100).isSortedAccordingTo((a, b) -> Integer
			.compare(Integer.parseInt(a.substring(5)), Integer.parseInt(b.substring(5))));
	}

	@Test
	void flushForcesOutWhatIsBufferedNow() {
		BufferPool<String> pool = builder().maxAge(LONG).build();
		pool.offer("a");
		pool.offer("b");
		CompletableFuture<Void> flushed = pool.flush();
		assertThat(flushed).isCompleted();
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b"));
		pool.offer("c"); // after the flush: back to size and age
		assertThat(this.handler.batches()).hasSize(1);
	}

	@Test
	void flushOfAnEmptyBufferCompletesAtOnce() {
		BufferPool<String> pool = builder().build();
		assertThat(pool.flush()).isCompleted();
		assertThat(this.handler.calls()).isEmpty();
	}

	@Test
	void flushCompletesOnlyOnceItsItemsAreDeliveredThroughRetries() {
		BufferPool<String> pool = builder().maxBatchSize(2).maxAge(LONG).build();
		this.handler.failNext(2);
		pool.offer("a");
		pool.offer("b"); // fails at 0 ms, retried at 100 ms and 300 ms
		pool.offer("c");
		CompletableFuture<Void> flushed = pool.flush();
		pool.offer("d");
		this.clock.advance(Duration.ofMillis(299));
		assertThat(flushed).isNotDone();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(flushed).isCompleted();
		// "c" went as soon as the head was delivered, and took "d" along: it fitted in the batch
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b"), List.of("c", "d"));
	}

	@Test
	void flushFuturesCompleteInTurn() {
		BufferPool<String> pool = builder().maxBatchSize(1).maxAge(LONG).build();
		this.handler.failNext(1);
		pool.offer("a");
		CompletableFuture<Void> first = pool.flush();
		pool.offer("b");
		pool.offer("c");
		CompletableFuture<Void> second = pool.flush();
		assertThat(first).isNotDone();
		assertThat(second).isNotDone();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(first).isCompleted();
		assertThat(second).isCompleted();
		assertThat(this.handler.delivered()).containsExactly("a", "b", "c");
	}

	@Test
	void theHandlerReceivesAnUnmodifiableBatch() {
		FlushHandler<String> mutating = (batch) -> batch.clear();
		RecordingListener<String> listener = new RecordingListener<>();
		BufferPool<String> pool = BufferPool.builder(mutating)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.maxBatchSize(1)
			.listener(listener)
			.build();
		pool.offer("a");
		assertThat(listener.events()).first()
			.isEqualTo("failed 1 attempt=1 UnsupportedOperationException backoff=100ms 0.00");
	}

}
