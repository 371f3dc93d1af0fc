package dev.ratelimit.buffer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.RepeatedTest;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several real threads offer while the handler fails at random, on the system clock and the
 * default executor: every item is delivered exactly once, each producer's items in order, one
 * batch at a time, and the bounds hold throughout. No assertion depends on speed; the timeouts
 * only keep a broken build from hanging.
 */
class BufferPoolStressTest {

	private static final int PRODUCERS = 4;

	private static final int ITEMS = 2_500;

	private static final int MAX_ITEMS = 64;

	private static final int MAX_BATCH = 16;

	record Item(int producer, int sequence) {
	}

	@RepeatedTest(3)
	void manyProducersAndAFailingHandlerLoseNothingAndKeepEachProducersOrder() throws Exception {
		run(null);
	}

	@RepeatedTest(2)
	void theSameThroughALimiter() throws Exception {
		run(RateLimiter.of("stress", RateLimit.perSecond(100_000)));
	}

	private void run(RateLimiter limiter) throws Exception {
		ConcurrentLinkedQueue<Item> delivered = new ConcurrentLinkedQueue<>();
		AtomicInteger inFlight = new AtomicInteger();
		AtomicInteger overlaps = new AtomicInteger();
		AtomicInteger failures = new AtomicInteger();
		AtomicInteger oversized = new AtomicInteger();
		AtomicReference<BufferPool<Item>> self = new AtomicReference<>();
		FlushHandler<Item> handler = (batch) -> {
			if (inFlight.incrementAndGet() != 1) {
				overlaps.incrementAndGet();
			}
			try {
				if (batch.size() > MAX_BATCH || self.get().size() > MAX_ITEMS) {
					oversized.incrementAndGet();
				}
				if (ThreadLocalRandom.current().nextInt(100) < 30) {
					failures.incrementAndGet();
					throw new IOException("random failure");
				}
				delivered.addAll(batch);
			}
			finally {
				inFlight.decrementAndGet();
			}
		};
		BufferPool.Builder<Item> builder = BufferPool.builder(handler)
			.name("stress")
			.maxItems(MAX_ITEMS)
			.maxBatchSize(MAX_BATCH)
			.maxAge(Duration.ofMillis(1))
			.initialBackoff(Duration.ofNanos(100_000))
			.maxBackoff(Duration.ofMillis(2));
		if (limiter != null) {
			builder.limiter(limiter);
		}
		BufferPool<Item> pool = builder.build();
		self.set(pool);
		ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<Integer>> refusals = new ArrayList<>();
			for (int p = 0; p < PRODUCERS; p++) {
				int producer = p;
				refusals.add(producers.submit(() -> {
					start.await();
					int refused = 0;
					for (int i = 0; i < ITEMS; i++) {
						Item item = new Item(producer, i);
						// alternate untimed and timed offers; a refused item is offered again, so order holds
						boolean accepted = ((i & 1) == 0) ? pool.offer(item) : pool.offer(item, Duration.ofSeconds(30));
						while (!accepted) {
							refused++;
							accepted = pool.offer(item, Duration.ofSeconds(30));
						}
					}
					return refused;
				}));
			}
			start.countDown();
			int refused = 0;
			for (Future<Integer> future : refusals) {
				refused += future.get(2, TimeUnit.MINUTES);
			}
			assertThat(pool.close(Duration.ofMinutes(2))).isEmpty();
			assertThat(pool.stats().refused()).isEqualTo(refused);
		}
		finally {
			producers.shutdownNow();
		}
		List<Item> items = new ArrayList<>(delivered);
		assertThat(items).hasSize(PRODUCERS * ITEMS);
		Set<Item> unique = new HashSet<>(items);
		assertThat(unique).as("no duplicates").hasSize(PRODUCERS * ITEMS);
		int[] next = new int[PRODUCERS];
		for (Item item : items) {
			assertThat(item.sequence()).as("order of producer %d", item.producer()).isEqualTo(next[item.producer()]);
			next[item.producer()]++;
		}
		assertThat(overlaps.get()).as("one batch in flight at a time").isZero();
		assertThat(oversized.get()).as("bounds held").isZero();
		BufferStats stats = pool.stats();
		assertThat(stats.offered()).isEqualTo(PRODUCERS * ITEMS);
		assertThat(stats.flushed()).isEqualTo(PRODUCERS * ITEMS);
		assertThat(stats.failedAttempts()).isEqualTo(failures.get());
		assertThat(pool.size()).isZero();
		assertThat(pool.bytes()).isZero();
	}

}
