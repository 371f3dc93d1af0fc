package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;

/**
 * One instance in its own JVM, for tests that kill it with SIGKILL. Arguments: bootstrap servers,
 * cluster id, instance id, limiter name, permits per second. It prints the request partitions its
 * authority owns ({@code OWNS 0,2}) and how many permits it took ({@code ADMITTED n}), twice a
 * second, and tries the limiter 100 times a second until killed.
 */
public final class KafkaInstanceMain {

	private KafkaInstanceMain() {
	}

	public static void main(String[] args) {
		KafkaRateLimiterBackend backend = KafkaRateLimiterBackend.start(KafkaTestSupport.config(args[0], args[1], args[2])
			.build());
		RateLimiter limiter = backend.create(args[3], null,
				RateLimit.tokenBucket(Rate.perSecond(Long.parseLong(args[4]))).build(), RateLimiterListener.NONE);
		long admitted = 0;
		long nextReport = System.nanoTime();
		for (;;) {
			if (limiter.tryAcquire()) {
				admitted++;
			}
			if (System.nanoTime() >= nextReport) {
				System.out.println("OWNS " + backend.runtime().ownedPartitions().toString().replaceAll("[\\[\\] ]", ""));
				System.out.println("ADMITTED " + admitted);
				System.out.flush();
				nextReport += Duration.ofMillis(500).toNanos();
			}
			LockSupport.parkNanos(Duration.ofMillis(10).toNanos()); // pacing, 100 tries a second
		}
	}

}
