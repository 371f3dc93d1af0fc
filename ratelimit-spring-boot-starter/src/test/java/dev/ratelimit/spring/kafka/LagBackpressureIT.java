package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.Severity;
import dev.ratelimit.spring.adaptive.RateLimitAdjustedEvent;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A slow downstream consumer group builds lag: the producer's limiter steps down through the
 * severities as the lag crosses the thresholds, and recovers step by step once the lag clears.
 * The thresholds are scaled down (warning above 50, critical above 100, emergency above 200,
 * recovery below 10) so the test needs hundreds of records rather than tens of thousands.
 */
class LagBackpressureIT extends BrokerPerClass {

	static final String EVENTS = "events"; // as in docs/kafka-adaptive.yml

	@BeforeAll
	static void createTopics() throws Exception {
		KafkaTestSupport.createTopic(broker, EVENTS, 1);
	}

	@Test
	void theProducerStepsDownThroughTheSeveritiesAndRecovers() throws Exception {
		TopicPartition partition = new TopicPartition(EVENTS, 0);
		try (Admin admin = KafkaTestSupport.admin(broker)) {
			admin.alterConsumerGroupOffsets("downstream", Map.of(partition, new OffsetAndMetadata(0))).all().get();
		}
		// the snippet of docs/kafka.md, with the thresholds scaled down
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.ADAPTIVE_YAML)
			.withConfiguration(AutoConfigurations.of(RateLimitAdaptiveAutoConfiguration.class))
			.withUserConfiguration(Events.class)
			.withPropertyValues("ratelimit.limiters.producer.adaptive.warning-lag=50",
					"ratelimit.limiters.producer.adaptive.critical-lag=100",
					"ratelimit.limiters.producer.adaptive.emergency-lag=200",
					"ratelimit.limiters.producer.adaptive.recovery-lag=10",
					"ratelimit.limiters.producer.adaptive.recovery-interval=500ms",
					"ratelimit.limiters.producer.adaptive.recovery-step=0.5",
					"ratelimit.kafka.backpressure.lag-interval=200ms")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				List<RateLimitAdjustedEvent> events = context.getBean(Events.class).received;

				KafkaTestSupport.produce(broker, EVENTS, 1, 60); // lag 60: warning
				awaitRate(registry, 800);
				KafkaTestSupport.produce(broker, EVENTS, 1, 60); // lag 120: critical
				awaitRate(registry, 100);
				KafkaTestSupport.produce(broker, EVENTS, 1, 100); // lag 220: emergency, the floor
				awaitRate(registry, 10);

				// the downstream group catches up
				try (Admin admin = KafkaTestSupport.admin(broker)) {
					admin.alterConsumerGroupOffsets("downstream", Map.of(partition, new OffsetAndMetadata(220)))
						.all()
						.get();
				}
				awaitRate(registry, 1000);
				// the controller publishes each change's event once the limiter has the new rate:
				// the last one may come just after the rate is seen
				await().atMost(Duration.ofSeconds(30)).until(() -> events.size() >= 5);

				List<Double> rates = events.stream().map((event) -> event.getCurrent().perSecond()).toList();
				List<Severity> severities = events.stream().map(RateLimitAdjustedEvent::getSeverity).toList();
				System.out.println("lag backpressure: rates " + rates + ", severities " + severities);
				assertThat(rates).containsExactly(800.0, 100.0, 10.0, 510.0, 1000.0);
				assertThat(severities).containsExactly(Severity.WARNING, Severity.CRITICAL, Severity.EMERGENCY,
						Severity.NORMAL, Severity.NORMAL);
			});
	}

	private static void awaitRate(RateLimiterRegistry registry, double perSecond) {
		await().atMost(Duration.ofSeconds(30))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> registry.limiter("producer").limit().rate().perSecond() == perSecond);
	}

	@Configuration(proxyBeanMethods = false)
	static class Events implements ApplicationListener<RateLimitAdjustedEvent> {

		final List<RateLimitAdjustedEvent> received = new CopyOnWriteArrayList<>();

		@Override
		public void onApplicationEvent(RateLimitAdjustedEvent event) {
			this.received.add(event);
		}

		@Bean
		String lagBackpressureMarker() {
			return "marker";
		}

	}

}
