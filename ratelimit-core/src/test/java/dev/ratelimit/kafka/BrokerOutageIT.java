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
 * The broker goes down and comes back: decisions continue under the local-share policy (never
 * an exception, never a wait), health reports degraded, and everything recovers on its own.
 */
class BrokerOutageIT {

	@Test
	void decisionsContinueWhileTheBrokerIsDownAndRecoverAfter() throws Exception {
		try (StandaloneBroker broker = new StandaloneBroker()) {
			broker.start();
			List<KafkaRateLimiterBackend> backends = new ArrayList<>();
			try {
				for (int i = 0; i < 2; i++) {
					backends.add(KafkaRateLimiterBackend
						.start(KafkaTestSupport.config(broker.bootstrap(), "outage", "instance-" + i).build()));
				}
				KafkaTestSupport.awaitAuthorities(backends);
				RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(50)).capacity(50).build();
				RateLimiter a = backends.get(0).create("api", null, limit, RateLimiterListener.NONE);
				RateLimiter b = backends.get(1).create("api", null, limit, RateLimiterListener.NONE);
				// both instances have heard from the authority since both joined: each knows its share is half
				await().atMost(Duration.ofSeconds(30)).until(() -> {
					a.tryAcquire();
					b.tryAcquire();
					return Integer.valueOf(2).equals(a.snapshot().details().get("instances"))
							&& Integer.valueOf(2).equals(b.snapshot().details().get("instances"));
				});
				long leasedAtKill = (long) a.snapshot().details().get("leased") + (long) b.snapshot().details().get("leased");

				broker.kill();
				long admittedDuringOutage = 0;
				long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
				while (System.nanoTime() < end) {
					// hammering must never throw or block, whatever Kafka does
					admittedDuringOutage += (a.tryAcquire() ? 1 : 0) + (b.tryAcquire() ? 1 : 0);
					Thread.onSpinWait();
				}
				BackendHealth degraded = backends.get(0).health();
				System.out.printf("outage: admitted %d in 10 s with the broker down (local share, 2 x 25/s, %d leased "
						+ "at the kill); health %s%n", admittedDuringOutage, leasedAtKill, degraded);
				assertThat(degraded.status()).isEqualTo(BackendHealth.Status.DEGRADED);
				assertThat(a.snapshot().details()).containsEntry("degraded", true);
				// each instance keeps its share (25/s) locally, after spending the leases it held
				assertThat(admittedDuringOutage).isBetween(250L, leasedAtKill + 2 * 25 * 11L);

				broker.start();
				long restartedAt = System.nanoTime();
				await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
					.conditionEvaluationListener((condition) -> {
						if (condition.getElapsedTimeInMS() % 10_000 < 200) {
							System.out.println("outage: waiting " + backends.get(0).health() + " " + a.snapshot().details());
						}
					})
					.until(() -> {
						a.tryAcquire();
						b.tryAcquire();
						return backends.stream().allMatch((backend) -> backend.health().status() == BackendHealth.Status.UP);
					});
				System.out.printf("outage: healthy again %.1f s after the broker came back%n",
						(System.nanoTime() - restartedAt) / 1e9);
				assertThat(a.snapshot().details()).containsEntry("degraded", false);
			}
			finally {
				KafkaTestSupport.closeAll(backends);
			}
		}
	}

}
