package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backpressure and flush events, each with the utilization after it: full once until drained
 * below the low-water mark, every refusal, every delivery and every failure.
 */
class BufferPoolListenerTest {

	private final ManualClock clock = new ManualClock();

	private final RecordingHandler<String> handler = new RecordingHandler<>(this.clock);

	private final RecordingListener<String> listener = new RecordingListener<>();

	private BufferPool.Builder<String> builder() {
		return BufferPool.builder(this.handler)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.listener(this.listener)
			.maxAge(Duration.ofSeconds(1));
	}

	@Test
	void fullRefusedFlushedAndDrainedCarryTheUtilization() {
		BufferPool<String> pool = builder().maxItems(4).maxBatchSize(4).lowWaterMark(0.5).build();
		this.handler.failNext(1);
		pool.offer("a");
		pool.offer("b");
		pool.offer("c");
		assertThat(this.listener.events()).isEmpty();
		pool.offer("d"); // fills the bound; the batch fails
		pool.offer("e");
		pool.offer("f");
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.listener.events()).containsExactly("full 1.00",
				"failed 4 attempt=1 IOException backoff=100ms 1.00", "refused e 1.00", "refused f 1.00",
				"flushed 4 latency=0ms wait=100ms 0.00", "drained 0.00");
	}

	@Test
	void drainedOnlyBelowTheLowWaterMarkAndFullAgainAfterwards() {
		BufferPool<String> pool = builder().maxItems(10).maxBatchSize(3).lowWaterMark(0.3).build();
		this.handler.failNext(1);
		for (int i = 0; i < 10; i++) {
			pool.offer("i" + i);
		}
		assertThat(pool.offer("x")).isFalse();
		this.clock.advance(Duration.ofMillis(100)); // [0..2], [3..5], [6..8] go: 7, 4, 1 left
		assertThat(this.listener.events()).containsExactly("failed 3 attempt=1 IOException backoff=100ms 0.30",
				"full 1.00", "refused x 1.00", "flushed 3 latency=0ms wait=100ms 0.70",
				"flushed 3 latency=0ms wait=100ms 0.40", "flushed 3 latency=0ms wait=100ms 0.10", "drained 0.10");
		this.listener.events().clear();
		this.handler.failNext(1);
		for (int i = 10; i < 20; i++) {
			pool.offer("i" + i);
		}
		assertThat(this.listener.events()).contains("full 1.00");
	}

	@Test
	void theByteBoundCountsTowardsUtilization() {
		BufferPool<String> pool = builder().maxBytes(100)
			.maxBatchBytes(50)
			.sizeInBytes(String::length)
			.lowWaterMark(0.2)
			.build();
		this.handler.failNext(1);
		pool.offer("x".repeat(50)); // a batch by bytes, which fails
		pool.offer("y".repeat(50)); // fills the byte bound
		pool.offer("z");
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.listener.events()).containsExactly("failed 1 attempt=1 IOException backoff=100ms 0.50",
				"full 1.00", "refused z 1.00", "flushed 1 latency=0ms wait=100ms 0.50",
				"flushed 1 latency=0ms wait=100ms 0.00", "drained 0.00");
	}

	@Test
	void latencyIsTheHandlerCallAndWaitIsFromTheOldestOffer() {
		FlushHandler<String> slow = (batch) -> this.clock.advance(Duration.ofMillis(30));
		BufferPool<String> pool = BufferPool.builder(slow)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.listener(this.listener)
			.maxAge(Duration.ofMillis(200))
			.build();
		pool.offer("a");
		this.clock.advance(Duration.ofMillis(150));
		pool.offer("b");
		this.clock.advance(Duration.ofMillis(50));
		assertThat(this.listener.events()).containsExactly("flushed 2 latency=30ms wait=230ms 0.00");
	}

	@Test
	void aTimedOfferThatHasToWaitReportsFull() throws InterruptedException {
		BufferPool<String> pool = builder().maxItems(1).build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer("a");
		assertThat(pool.offer("b", Duration.ZERO)).isFalse();
		assertThat(this.listener.events()).containsSubsequence("full 1.00", "refused b 1.00");
	}

	@Test
	void aListenerOfASupertypeReceivesTheItems() {
		RecordingListener<Object> general = new RecordingListener<>();
		BufferPool<String> pool = BufferPool.builder(this.handler)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.listener(general)
			.maxItems(1)
			.maxAge(Duration.ofHours(1))
			.build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer("a");
		pool.offer("b");
		assertThat(pool.close(Duration.ZERO)).containsExactly("a");
		assertThat(general.events()).contains("refused b 1.00", "abandoned [a]");
	}

	@Test
	void statsCountEverything() {
		BufferPool<String> pool = builder().maxItems(2).maxBatchSize(2).build();
		this.handler.failNext(2);
		pool.offer("a");
		pool.offer("b");
		pool.offer("c");
		this.clock.advance(Duration.ofSeconds(1));
		pool.offer("c");
		pool.flush();
		assertThat(pool.stats()).isEqualTo(new BufferStats(3, 1, 3, 2, 2));
		assertThat(this.handler.batches()).containsExactly(List.of("a", "b"), List.of("c"));
	}

}
