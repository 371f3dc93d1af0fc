package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class KafkaSmokeIT {

	@Test
	void leasesFlow() throws Exception {
		EmbeddedKafkaBroker broker = new EmbeddedKafkaKraftBroker(1, 1)
			.brokerProperties(Map.of("transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1"));
		broker.afterPropertiesSet();
		try (KafkaRateLimiterBackend one = KafkaRateLimiterBackend.start(config(broker, "a"));
				KafkaRateLimiterBackend two = KafkaRateLimiterBackend.start(config(broker, "b"))) {
			RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(50)).capacity(50).build();
			RateLimiter a = one.create("payments", null, limit, RateLimiterListener.NONE);
			RateLimiter b = two.create("payments", null, limit, RateLimiterListener.NONE);
			long start = System.nanoTime();
			long admitted = 0;
			long deadline = start + Duration.ofSeconds(20).toNanos();
			long firstGrant = -1;
			while (System.nanoTime() < deadline) {
				if (a.tryAcquire()) {
					admitted++;
					if (firstGrant < 0) {
						firstGrant = System.nanoTime();
					}
				}
				if (b.tryAcquire()) {
					admitted++;
				}
				Thread.onSpinWait();
			}
			System.out.println("first grant after ms " + (firstGrant - start) / 1e6 + ", admitted " + admitted
					+ " in 20 s; expected about " + (50 + 50 * 20));
			System.out.println("one: " + one.health());
			System.out.println("two: " + two.health());
			System.out.println(a.snapshot());
			assertThat(admitted).isPositive();
		}
		finally {
			broker.destroy();
		}
	}

	private static KafkaBackendConfig config(EmbeddedKafkaBroker broker, String instance) {
		return KafkaBackendConfig.builder(broker.getBrokersAsString())
			.clusterId("smoke")
			.instanceId(instance)
			.requestPartitions(3)
			.grantPartitions(3)
			.replicationFactor((short) 1)
			.build();
	}

}
