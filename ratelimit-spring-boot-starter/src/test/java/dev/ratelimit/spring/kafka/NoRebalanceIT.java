package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.ConsumerAwareRebalanceListener;
import org.springframework.kafka.listener.MessageListenerContainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A listener whose {@code max.poll.interval.ms} is 5 s, throttled to one record a second for 30
 * seconds: a consumer that waited for permits on its thread would be thrown out of the group
 * within seconds. Throttling pauses the partition instead, so the consumer keeps polling: the group
 * is joined once and never rebalances, and every record is processed, once, in order.
 */
class NoRebalanceIT extends BrokerPerClass {

	static final String TOPIC = "slow-orders";

	static final int RECORDS = 30;

	@BeforeAll
	static void createTopics() throws Exception {
		KafkaTestSupport.createTopic(broker, TOPIC, 2);
	}

	@Test
	void throttlingPastTheMaxPollIntervalNeverRebalances() throws Exception {
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, TOPIC, 2, RECORDS);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(SlowListener.class)
			.withPropertyValues("ratelimit.limiters.orders-drain.rate=1/1s",
					"spring.kafka.consumer.properties.max.poll.interval.ms=5000")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				Rebalances rebalances = context.getBean(Rebalances.class);
				await().atMost(Duration.ofSeconds(90)).until(() -> processed.count() >= RECORDS);
				MessageListenerContainer container = context.getBean(KafkaListenerEndpointRegistry.class)
					.getListenerContainer("orders");
				double rebalanceTotal = metric(container, "consumer-coordinator-metrics", "rebalance-total");
				System.out.printf("%d records at 1/s in %d ms with max.poll.interval.ms=5000: %d assignment(s), "
						+ "%d revocation(s), %d loss(es), rebalance-total %.0f%n", processed.count(),
						processed.span().toMillis(), rebalances.assigned.get(), rebalances.revoked.get(),
						rebalances.lost.get(), rebalanceTotal);
				assertThat(processed.span()).isGreaterThanOrEqualTo(Duration.ofSeconds(RECORDS - 2));
				assertThat(rebalances.assigned).hasValue(1);
				assertThat(rebalances.revoked).hasValue(0);
				assertThat(rebalances.lost).hasValue(0);
				assertThat(rebalanceTotal).isEqualTo(1.0);
				Map<Integer, List<Long>> offsets = processed.offsets();
				produced.forEach((partition, count) -> assertThat(offsets.get(partition))
					.containsExactlyElementsOf(LongStream.range(0, count).boxed().toList()));
			});
	}

	private static double metric(MessageListenerContainer container, String group, String name) {
		for (Map<MetricName, ? extends Metric> metrics : container.metrics().values()) {
			for (Map.Entry<MetricName, ? extends Metric> metric : metrics.entrySet()) {
				if (metric.getKey().group().equals(group) && metric.getKey().name().equals(name)) {
					return ((Number) metric.getValue().metricValue()).doubleValue();
				}
			}
		}
		throw new IllegalStateException("No metric " + group + " " + name);
	}

	@Configuration(proxyBeanMethods = false)
	static class SlowListener {

		@Bean
		KafkaTestSupport.Processed processed() {
			return new KafkaTestSupport.Processed();
		}

		@Bean
		Rebalances rebalances() {
			return new Rebalances();
		}

		@Bean
		Orders orders(KafkaTestSupport.Processed processed) {
			return new Orders(processed);
		}

	}

	/** Counts the group's rebalances as this consumer sees them; Boot installs it on its factory. */
	static class Rebalances implements ConsumerAwareRebalanceListener {

		final AtomicInteger assigned = new AtomicInteger();

		final AtomicInteger revoked = new AtomicInteger();

		final AtomicInteger lost = new AtomicInteger();

		@Override
		public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
			if (!partitions.isEmpty()) {
				this.assigned.incrementAndGet();
			}
		}

		@Override
		public void onPartitionsRevokedBeforeCommit(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
			if (!partitions.isEmpty()) {
				this.revoked.incrementAndGet();
			}
		}

		@Override
		public void onPartitionsLost(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
			if (!partitions.isEmpty()) {
				this.lost.incrementAndGet();
			}
		}

	}

	static class Orders {

		private final KafkaTestSupport.Processed processed;

		Orders(KafkaTestSupport.Processed processed) {
			this.processed = processed;
		}

		@KafkaListener(id = "orders", topics = TOPIC, groupId = TOPIC)
		void onOrder(ConsumerRecord<String, String> record) {
			this.processed.add(record);
		}

	}

}
