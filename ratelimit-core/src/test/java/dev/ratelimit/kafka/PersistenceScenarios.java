package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shared bucket lives in Kafka: drained by one set of instances, it is still drained for the
 * next set, and has refilled only by the time that passed. Run on the in-process broker
 * ({@link PersistenceIT}) and on Testcontainers Kafka when Docker is present
 * ({@link PersistenceContainerIT}).
 */
abstract class PersistenceScenarios {

	abstract String bootstrap();

	private List<KafkaRateLimiterBackend> start(int count, String generation) {
		List<KafkaRateLimiterBackend> backends = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			backends.add(KafkaRateLimiterBackend.start(KafkaTestSupport
				.config(bootstrap(), "persistence", generation + "-" + i)
				.build()));
		}
		KafkaTestSupport.awaitAuthorities(backends);
		return backends;
	}

	/** Takes permits until the shared bucket has none left for this instance for a while. */
	private static long drain(RateLimiter limiter, Duration quiet) {
		long admitted = 0;
		long quietSince = System.nanoTime();
		while (System.nanoTime() - quietSince < quiet.toNanos()) {
			if (limiter.tryAcquire()) {
				admitted++;
				quietSince = System.nanoTime();
			}
			else {
				Thread.onSpinWait();
			}
		}
		return admitted;
	}

	@Test
	void aDrainedBucketStaysDrainedAcrossAFullRestart() {
		// one permit every 5 s, a burst of 100: full, it would admit 100 at once
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(0.2)).capacity(100).build();
		List<KafkaRateLimiterBackend> first = start(2, "first");
		RateLimiter a = first.get(0).create("persistent", null, limit, RateLimiterListener.NONE);
		RateLimiter b = first.get(1).create("persistent", null, limit, RateLimiterListener.NONE);
		long drained = drain(a, Duration.ofSeconds(2)) + drain(b, Duration.ofSeconds(2));
		long drainedAt = System.nanoTime();
		System.out.printf("persistence: first generation took %d permits%n", drained);
		assertThat(drained).isGreaterThanOrEqualTo(100);
		KafkaTestSupport.closeAll(first);

		List<KafkaRateLimiterBackend> second = start(2, "second");
		try {
			RateLimiter c = second.get(0).create("persistent", null, limit, RateLimiterListener.NONE);
			// the new instances' authority restored the bucket from its changelog topic: a burst gets
			// only what refilled since the drain, nowhere near the capacity
			long startedAt = System.nanoTime();
			await().atMost(Duration.ofSeconds(60)).until(c::tryAcquire);
			long burst = 1 + drain(c, Duration.ofSeconds(2));
			double elapsed = (System.nanoTime() - drainedAt) / 1e9;
			System.out.printf("persistence: after %.1f s and a restart, a burst got %d permits (refill %.1f)%n",
					elapsed, burst, 0.2 * elapsed);
			assertThat(burst).isLessThanOrEqualTo((long) Math.ceil(0.2 * elapsed) + 2);
			assertThat(burst).isLessThan(100);
			assertThat((System.nanoTime() - startedAt) / 1e9).isLessThan(60.0);
		}
		finally {
			KafkaTestSupport.closeAll(second);
		}
	}

}
