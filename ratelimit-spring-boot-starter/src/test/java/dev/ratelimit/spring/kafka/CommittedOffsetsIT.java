package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Offsets of a throttled listener: while it runs, no committed offset ever passes a record it has
 * not processed; stopped mid-way, what it committed is exactly what it processed; restarted, it
 * goes on from there and every record ends up processed, none skipped.
 */
class CommittedOffsetsIT extends BrokerPerClass {

	static final String TOPIC = "offsets-orders";

	static final int RECORDS = 200;

	@BeforeAll
	static void createTopics() throws Exception {
		KafkaTestSupport.createTopic(broker, TOPIC, 2);
	}

	@Test
	void committedOffsetsFollowProcessedRecordsAcrossAStop() throws Exception {
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, TOPIC, 2, RECORDS);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(OrdersListener.class)
			.withPropertyValues("ratelimit.limiters.orders-drain.rate=40/1s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				AtomicReference<String> violation = new AtomicReference<>();
				// while it runs: committed first, processed after, so a commit ahead of processing shows
				await().atMost(Duration.ofSeconds(30)).until(() -> {
					Map<TopicPartition, Long> committed = KafkaTestSupport.committed(broker, TOPIC);
					committed.forEach((partition, offset) -> {
						Set<Long> done = processed.distinct(partition.partition());
						if (!done.containsAll(LongStream.range(0, offset).boxed().toList())) {
							violation.compareAndSet(null, partition + " committed at " + offset + " with only "
									+ done.size() + " records processed");
						}
					});
					return processed.count() >= RECORDS / 2;
				});
				assertThat(violation).hasNullValue();

				MessageListenerContainer container = context.getBean(KafkaListenerEndpointRegistry.class)
					.getListenerContainer("orders");
				container.stop();
				await().atMost(Duration.ofSeconds(30)).until(() -> !container.isRunning());
				Map<Integer, Long> committed = committedByPartition();
				Map<Integer, List<Long>> beforeRestart = processed.offsets();
				System.out.printf("Stopped after %d records; committed %s%n", processed.count(), committed);
				// a partition may not have been reached yet (a poll can return one partition's
				// records only): then nothing of it is processed and nothing committed
				assertThat(produced.keySet()).containsAll(committed.keySet());
				for (Integer partition : produced.keySet()) {
					long offset = committed.getOrDefault(partition, 0L);
					assertThat(beforeRestart.getOrDefault(partition, List.of())).as("partition %d", partition)
						.containsExactlyElementsOf(LongStream.range(0, offset).boxed().toList());
				}

				container.start();
				await().atMost(Duration.ofSeconds(30))
					.until(() -> produced.entrySet()
						.stream()
						.allMatch((entry) -> processed.distinct(entry.getKey()).size() == entry.getValue()));
				int duplicates = processed.count() - RECORDS;
				System.out.printf("After the restart: %d records processed, %d duplicate(s)%n", processed.count(),
						duplicates);
				assertThat(duplicates).isZero();
				assertThat(committedByPartition()).isEqualTo(produced.entrySet()
					.stream()
					.collect(Collectors.toMap(Map.Entry::getKey, (entry) -> (long) entry.getValue())));
			});
	}

	private static Map<Integer, Long> committedByPartition() throws Exception {
		Map<Integer, Long> committed = new HashMap<>();
		KafkaTestSupport.committed(broker, TOPIC)
			.forEach((partition, offset) -> committed.put(partition.partition(), offset));
		return committed;
	}

	@Configuration(proxyBeanMethods = false)
	static class OrdersListener {

		@Bean
		KafkaTestSupport.Processed processed() {
			return new KafkaTestSupport.Processed();
		}

		@Bean
		Orders orders(KafkaTestSupport.Processed processed) {
			return new Orders(processed);
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
