package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

/**
 * Every value is checked when the pool is built, with a message naming the field, the value, the
 * range and the fix; the defaults are the documented ones.
 */
class BufferPoolConfigTest {

	private final ManualClock clock = new ManualClock();

	private final RecordingHandler<Integer> handler = new RecordingHandler<>(this.clock);

	private BufferPool.Builder<Integer> builder() {
		return BufferPool.builder(this.handler).ticker(this.clock).scheduler(this.clock).executor(Runnable::run);
	}

	private void assertRejected(UnaryOperator<BufferPool.Builder<Integer>> config, String message) {
		assertThatIllegalArgumentException().isThrownBy(() -> config.apply(builder()).build()).withMessage(message);
	}

	@Test
	void maxItemsMustBePositive() {
		assertRejected((b) -> b.maxItems(0), "maxItems must be positive, but was 0: it is the most items the buffer "
				+ "holds before offers are refused");
		assertRejected((b) -> b.maxItems(-3),
				"maxItems must be positive, but was -3: it is the most items the buffer holds before offers are "
						+ "refused");
	}

	@Test
	void maxBytesMustBePositive() {
		assertRejected((b) -> b.maxBytes(0), "maxBytes must be positive, but was 0: it is the most bytes the buffer "
				+ "holds, as measured by sizeInBytes; leave it unset for no byte bound");
	}

	@Test
	void maxBatchSizeMustBePositive() {
		assertRejected((b) -> b.maxBatchSize(0),
				"maxBatchSize must be positive, but was 0: it is the most items handed to the handler at once");
	}

	@Test
	void maxBatchSizeMustFitMaxItems() {
		assertRejected((b) -> b.maxItems(100).maxBatchSize(200),
				"maxBatchSize (200) must be at most maxItems (100): a batch is taken from what the buffer holds, so "
						+ "a larger one could never fill up; lower maxBatchSize or raise maxItems");
	}

	@Test
	void maxBatchSizeMustFitTheLimitersCapacity() {
		RateLimiter limiter = RateLimiter.builder("downstream", RateLimit.tokenBucket(Rate.perSecond(10)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
		assertRejected((b) -> b.limiter(limiter).maxBatchSize(50),
				"maxBatchSize (50) exceeds the capacity (10) of limiter 'downstream': a flush takes one permit per "
						+ "item, so such a batch could never be permitted; set maxBatchSize to at most 10 or raise "
						+ "the limiter's capacity");
		assertThat(builder().limiter(limiter).maxBatchSize(10).build()).isNotNull();
	}

	@Test
	void maxBatchBytesMustBePositiveAndFitMaxBytes() {
		assertRejected((b) -> b.maxBatchBytes(0),
				"maxBatchBytes must be positive, but was 0: it is the most bytes handed to the handler at once");
		assertRejected((b) -> b.maxBytes(1024).maxBatchBytes(4096),
				"maxBatchBytes (4096) must be at most maxBytes (1024): a batch is taken from what the buffer holds, "
						+ "so a larger one could never fill up; lower maxBatchBytes or raise maxBytes");
	}

	@Test
	void maxAgeMustNotBeNegative() {
		assertRejected((b) -> b.maxAge(Duration.ofMillis(-1)),
				"maxAge must be zero or a positive duration, but was PT-0.001S: it is how long the oldest item may "
						+ "wait for a batch to fill; zero flushes whenever the handler is free");
		assertThat(builder().maxAge(Duration.ZERO).build()).isNotNull();
	}

	@Test
	void initialBackoffMustBePositive() {
		assertRejected((b) -> b.initialBackoff(Duration.ZERO), "initialBackoff must be a positive duration, but was "
				+ "PT0S: it is the wait before the first retry of a failed batch");
		assertRejected((b) -> b.initialBackoff(Duration.ofSeconds(-1)), "initialBackoff must be a positive duration, "
				+ "but was PT-1S: it is the wait before the first retry of a failed batch");
	}

	@Test
	void maxBackoffMustNotBeBelowInitialBackoff() {
		assertRejected((b) -> b.initialBackoff(Duration.ofSeconds(1)).maxBackoff(Duration.ofMillis(500)),
				"maxBackoff (PT0.5S) must be at least initialBackoff (PT1S): retries wait from initialBackoff up to "
						+ "maxBackoff; raise maxBackoff or lower initialBackoff");
		assertThat(builder().initialBackoff(Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(1)).build())
			.isNotNull();
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0.99, 0.0, -2.0, Double.NaN, Double.POSITIVE_INFINITY })
	void backoffMultiplierMustBeFiniteAndAtLeastOne(double multiplier) {
		assertRejected((b) -> b.backoffMultiplier(multiplier),
				"backoffMultiplier must be a finite number of at least 1.0, but was " + multiplier
						+ ": each retry waits this many times longer than the last, for example 2.0 to double the "
						+ "wait or 1.0 to keep it constant");
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0.0, -0.1, 1.01, Double.NaN })
	void lowWaterMarkMustBeAFractionAboveZero(double mark) {
		assertRejected((b) -> b.lowWaterMark(mark), "lowWaterMark must be greater than 0 and at most 1, but was "
				+ mark + ": it is the utilization below which a full buffer counts as drained, for example 0.5 for "
				+ "half empty");
	}

	@Test
	void closeTimeoutMustNotBeNegative() {
		assertRejected((b) -> b.closeTimeout(Duration.ofSeconds(-5)),
				"closeTimeout must be zero or a positive duration, but was PT-5S: it is how long close() waits for "
						+ "what is left to be delivered");
		assertThat(builder().closeTimeout(Duration.ZERO).build()).isNotNull();
	}

	@Test
	void acceptsTheEdgesOfEveryRange() {
		BufferPool<Integer> pool = builder().maxItems(1)
			.maxBytes(1)
			.maxBatchSize(1)
			.maxBatchBytes(1)
			.maxAge(Duration.ZERO)
			.initialBackoff(Duration.ofNanos(1))
			.maxBackoff(Duration.ofNanos(1))
			.backoffMultiplier(1.0)
			.lowWaterMark(1.0)
			.closeTimeout(Duration.ZERO)
			.build();
		assertThat(pool.offer(7)).isTrue();
		assertThat(this.handler.delivered()).containsExactly(7);
	}

	@Test
	void nullsAreRejectedWhereTheyAreGiven() {
		assertThatNullPointerException().isThrownBy(() -> BufferPool.builder(null)).withMessage("handler");
		BufferPool.Builder<Integer> builder = builder();
		assertThatNullPointerException().isThrownBy(() -> builder.name(null)).withMessage("name");
		assertThatNullPointerException().isThrownBy(() -> builder.sizeInBytes(null)).withMessage("sizeInBytes");
		assertThatNullPointerException().isThrownBy(() -> builder.maxAge(null)).withMessage("maxAge");
		assertThatNullPointerException().isThrownBy(() -> builder.limiter(null)).withMessage("limiter");
		assertThatNullPointerException().isThrownBy(() -> builder.initialBackoff(null)).withMessage("initialBackoff");
		assertThatNullPointerException().isThrownBy(() -> builder.maxBackoff(null)).withMessage("maxBackoff");
		assertThatNullPointerException().isThrownBy(() -> builder.closeTimeout(null)).withMessage("closeTimeout");
		assertThatNullPointerException().isThrownBy(() -> builder.listener(null)).withMessage("listener");
		assertThatNullPointerException().isThrownBy(() -> builder.ticker(null)).withMessage("ticker");
		assertThatNullPointerException().isThrownBy(() -> builder.scheduler(null)).withMessage("scheduler");
		assertThatNullPointerException().isThrownBy(() -> builder.executor(null)).withMessage("executor");
	}

	@Test
	void defaultBoundIsTenThousandItemsAndNoBytes() {
		BufferPool<Integer> pool = builder().sizeInBytes((item) -> Long.MAX_VALUE / 20_000).build();
		this.handler.failNext(Integer.MAX_VALUE);
		for (int i = 0; i < 10_000; i++) {
			assertThat(pool.offer(i)).isTrue();
		}
		assertThat(pool.offer(10_000)).isFalse();
		assertThat(pool.size()).isEqualTo(10_000);
		assertThat(pool.utilization()).isEqualTo(1.0);
	}

	@Test
	void defaultBatchIsOneHundredItems() {
		BufferPool<Integer> pool = builder().build();
		for (int i = 0; i < 250; i++) {
			pool.offer(i);
		}
		assertThat(this.handler.batches()).hasSize(2).allSatisfy((batch) -> assertThat(batch).hasSize(100));
	}

	@Test
	void defaultBatchIsLoweredToMaxItemsAndToTheLimitersCapacity() {
		BufferPool<Integer> small = builder().maxItems(30).maxAge(Duration.ofHours(1)).build();
		for (int i = 0; i < 30; i++) {
			small.offer(i);
		}
		assertThat(this.handler.batches()).hasSize(1).first().satisfies((batch) -> assertThat(batch).hasSize(30));

		RecordingHandler<Integer> paced = new RecordingHandler<>(this.clock);
		BufferPool<Integer> limited = BufferPool.builder(paced)
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run)
			.maxAge(Duration.ofHours(1))
			.limiter(ConcurrencyLimiter.of("bulkhead", 8))
			.build();
		for (int i = 0; i < 8; i++) {
			limited.offer(i);
		}
		assertThat(paced.batches()).hasSize(1).first().satisfies((batch) -> assertThat(batch).hasSize(8));
	}

	@Test
	void defaultMaxAgeIsOneSecond() {
		BufferPool<Integer> pool = builder().build();
		pool.offer(1);
		this.clock.advance(Duration.ofMillis(999));
		assertThat(this.handler.calls()).isEmpty();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(this.handler.delivered()).containsExactly(1);
		assertThat(pool.size()).isZero();
	}

	@Test
	void defaultBackoffDoublesFromOneHundredMillisecondsUpToThirtySeconds() {
		RecordingListener<Integer> listener = new RecordingListener<>();
		BufferPool<Integer> pool = builder().maxBatchSize(1).listener(listener).build();
		this.handler.failNext(Integer.MAX_VALUE);
		pool.offer(1);
		this.clock.advance(Duration.ofMinutes(10));
		List<String> backoffs = new ArrayList<>();
		for (String event : listener.events().subList(0, 12)) {
			backoffs.add(event.replaceAll(".*backoff=(\\d+ms).*", "$1"));
		}
		assertThat(backoffs).containsExactly("100ms", "200ms", "400ms", "800ms", "1600ms", "3200ms", "6400ms",
				"12800ms", "25600ms", "30000ms", "30000ms", "30000ms");
	}

	@Test
	void defaultLowWaterMarkIsHalf() {
		RecordingListener<Integer> listener = new RecordingListener<>();
		BufferPool<Integer> pool = builder().maxItems(10).maxBatchSize(4).listener(listener).build();
		this.handler.failNext(1);
		for (int i = 0; i < 10; i++) {
			pool.offer(i); // the first batch of 4 fails, so the rest stays
		}
		this.clock.advance(Duration.ofMillis(100)); // batch [0..3] and then [4..7] go: 6 then 2 items left
		assertThat(listener.events()).containsSubsequence("full 1.00", "flushed 4 latency=0ms wait=100ms 0.60",
				"flushed 4 latency=0ms wait=100ms 0.20", "drained 0.20");
		assertThat(listener.events()).doesNotContain("drained 0.60");
	}

	@Test
	void describesItselfWithItsBounds() {
		assertThat(builder().build().toString()).isEqualTo("BufferPool[buffer, size=0/10000, bytes=0, OPEN]");
		BufferPool<Integer> pool = builder().name("orders").maxBytes(100).sizeInBytes((item) -> item).build();
		pool.offer(40);
		assertThat(pool.toString()).isEqualTo("BufferPool[orders, size=1/10000, bytes=40/100, OPEN]");
		assertThat(pool.name()).isEqualTo("orders");
	}

}
