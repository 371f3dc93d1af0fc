package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.test.ManualClock;
import dev.ratelimit.test.PropertyCheck;
import dev.ratelimit.test.PropertyCheck.Gen;
import dev.ratelimit.test.PropertyCheck.Weighted;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * For any bounds and any sequence of offers, clock moves, forced flushes and handler failures:
 * what is delivered is always a prefix of what was accepted, in order and without duplicates;
 * every batch keeps to the batch bounds and a failed batch is retried unchanged; the buffer keeps
 * to its bounds; and once the handler recovers, everything is delivered. Seeded generators
 * ({@link PropertyCheck}); a failure prints the seed that replays it.
 */
class BufferPoolPropertyTest {

	record Item(int id, int bytes) {
	}

	sealed interface Step permits Offer, Advance, Flush, Fail {
	}

	record Offer(int bytes) implements Step {
	}

	record Advance(long millis) implements Step {
	}

	record Flush() implements Step {
	}

	record Fail(int times) implements Step {
	}

	/** 1 to 200 steps: offers most often, then clock moves (short or long), forced flushes, failures. */
	static List<Step> steps(Gen gen) {
		return gen.lists(1, 200, (g) -> g.oneOf(Weighted.of(10, (x) -> new Offer(x.ints(0, 40))),
				Weighted.of(4, (x) -> new Advance(x.oneOf(Weighted.of(1, (y) -> y.longs(0, 50)),
						Weighted.of(1, (y) -> y.longs(51, 3_000))))),
				Weighted.of(1, (x) -> new Flush()), Weighted.of(1, (x) -> new Fail(x.ints(1, 4)))));
	}

	@Test
	void nothingIsLostDuplicatedOrReordered() {
		PropertyCheck.forAll(300, (gen) -> nothingIsLostDuplicatedOrReordered(gen.ints(1, 20), gen.ints(1, 20),
				gen.ints(40, 200), gen.ints(1, 200), gen.ints(0, 2_000), gen.bools(), steps(gen)));
	}

	private static void nothingIsLostDuplicatedOrReordered(int maxItems, int batchSeed, int maxBytes,
			int batchBytesSeed, int maxAgeMillis, boolean paced, List<Step> steps) {
		ManualClock clock = new ManualClock();
		RecordingHandler<Item> handler = new RecordingHandler<>(clock);
		int maxBatchSize = 1 + (batchSeed - 1) % maxItems;
		long maxBatchBytes = 1 + (batchBytesSeed - 1) % maxBytes;
		BufferPool.Builder<Item> builder = BufferPool.builder(handler)
			.ticker(clock)
			.scheduler(clock)
			.executor(Runnable::run)
			.maxItems(maxItems)
			.maxBatchSize(maxBatchSize)
			.maxBytes(maxBytes)
			.maxBatchBytes(maxBatchBytes)
			.sizeInBytes(Item::bytes)
			.maxAge(Duration.ofMillis(maxAgeMillis))
			.initialBackoff(Duration.ofMillis(100))
			.maxBackoff(Duration.ofSeconds(2));
		if (paced) {
			builder.limiter(RateLimiter.builder("paced", RateLimit.tokenBucket(Rate.perSecond(20)).build())
				.ticker(clock)
				.scheduler(clock)
				.build());
		}
		BufferPool<Item> pool = builder.build();
		List<Item> accepted = new ArrayList<>();
		List<CompletableFuture<Void>> flushes = new ArrayList<>();
		int refused = 0;
		int next = 0;
		for (Step step : steps) {
			if (step instanceof Offer offer) {
				Item item = new Item(next++, offer.bytes());
				if (pool.offer(item)) {
					accepted.add(item);
				}
				else {
					refused++;
				}
			}
			else if (step instanceof Advance advance) {
				clock.advance(Duration.ofMillis(advance.millis()));
			}
			else if (step instanceof Flush) {
				flushes.add(pool.flush());
			}
			else if (step instanceof Fail fail) {
				handler.failNext(fail.times());
			}
			checkInvariants(pool, handler, accepted, refused, maxItems, maxBytes, maxBatchSize, maxBatchBytes);
		}
		handler.failNext(0);
		clock.advance(Duration.ofHours(1));
		checkInvariants(pool, handler, accepted, refused, maxItems, maxBytes, maxBatchSize, maxBatchBytes);
		assertThat(handler.delivered()).isEqualTo(accepted);
		assertThat(flushes).allSatisfy((flush) -> assertThat(flush).isCompleted());
		assertThat(pool.close(Duration.ZERO)).isEmpty();
	}

	private static void checkInvariants(BufferPool<Item> pool, RecordingHandler<Item> handler, List<Item> accepted,
			int refused, int maxItems, int maxBytes, int maxBatchSize, long maxBatchBytes) {
		List<Item> delivered = handler.delivered();
		assertThat(delivered.size()).isLessThanOrEqualTo(accepted.size());
		assertThat(delivered).as("a prefix of what was accepted").isEqualTo(accepted.subList(0, delivered.size()));
		List<Item> held = accepted.subList(delivered.size(), accepted.size());
		assertThat(pool.size()).isEqualTo(held.size()).isLessThanOrEqualTo(maxItems);
		assertThat(pool.bytes()).isEqualTo(held.stream().mapToLong(Item::bytes).sum()).isLessThanOrEqualTo(maxBytes);
		assertThat(pool.stats().offered()).isEqualTo(accepted.size());
		assertThat(pool.stats().refused()).isEqualTo(refused);
		assertThat(pool.stats().flushed()).isEqualTo(delivered.size());
		List<RecordingHandler.Call<Item>> calls = handler.calls();
		for (int i = 0; i < calls.size(); i++) {
			List<Item> batch = calls.get(i).batch();
			assertThat(batch).isNotEmpty().hasSizeLessThanOrEqualTo(maxBatchSize);
			if (batch.size() > 1) {
				assertThat(batch.stream().mapToLong(Item::bytes).sum()).isLessThanOrEqualTo(maxBatchBytes);
			}
			if (calls.get(i).failed() && i + 1 < calls.size()) {
				assertThat(calls.get(i + 1).batch()).as("a failed batch is retried unchanged").isSameAs(batch);
			}
		}
	}

}
