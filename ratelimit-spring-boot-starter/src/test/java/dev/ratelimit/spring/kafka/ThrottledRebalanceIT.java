package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.MessageListenerContainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Rebalances while a throttled listener holds records for permits: a second instance of the
 * application joins the group in the middle of a throttled drain and leaves again, each time
 * moving partitions while consumers keep the rest of a poll in memory. Spring Kafka stops a
 * container whose poll returns records while it keeps others (its "emergency stop"); a hold that
 * ended in the middle of a rebalance could bring that about. The first instance must keep running,
 * and every record must be processed.
 */
class ThrottledRebalanceIT extends BrokerPerClass {

	static final int RECORDS = 1200;

	/** Produced once the second instance has its partitions, so that some are surely its own. */
	static final int LATER_RECORDS = 800;

	@Test
	void instancesJoiningAndLeavingDuringHoldsStopNoContainerAndLoseNoRecord() throws Exception {
		String topic = "rebalance";
		KafkaTestSupport.createTopic(broker, topic, 4);
		KafkaTestSupport.produce(broker, topic, 4, RECORDS);
		AtomicReference<KafkaTestSupport.Processed> second = new AtomicReference<>();
		AtomicInteger joinedAt = new AtomicInteger();
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(ThrottledDrainIT.OrdersListener.class)
			.withPropertyValues("test.topic=" + topic)
			.run((first) -> {
				assertThat(first).hasNotFailed();
				KafkaTestSupport.Processed processedByFirst = first.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(30)).until(() -> processedByFirst.count() >= 300);
				KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
					.withUserConfiguration(ThrottledDrainIT.OrdersListener.class)
					.withPropertyValues("test.topic=" + topic)
					.run((context) -> {
						assertThat(context).hasNotFailed();
						KafkaTestSupport.Processed processedBySecond = context
							.getBean(KafkaTestSupport.Processed.class);
						second.set(processedBySecond);
						// the group rebalances while the first holds records for permits. The partitions
						// the second is given may be ones the first has read to their end meanwhile (it
						// reads some partitions before others, and a slow start gives it the time): records
						// produced now, a quarter on each partition, are the second's to process too.
						await().atMost(Duration.ofSeconds(60))
							.untilAsserted(() -> assertThat(container(context).getAssignedPartitions())
								.as("second: %s", state(context, processedBySecond))
								.isNotEmpty());
						// how far the first had got when the group had rebalanced (below RECORDS: the
						// second joined while the first held records; printed, as start-up speed decides it)
						joinedAt.set(processedByFirst.count());
						KafkaTestSupport.produce(broker, topic, 4, LATER_RECORDS);
						// both hold records for permits; the second leaves while it holds some
						await().atMost(Duration.ofSeconds(60))
							.untilAsserted(() -> assertThat(
									processedBySecond.count() >= 100 && processedByFirst.count() >= 600)
								.as("first: %s%nsecond: %s", state(first, processedByFirst),
										state(context, processedBySecond))
								.isTrue());
						assertThat(container(context).isRunning()).isTrue();
					});
				// the second instance has left (it processed records until its container stopped):
				// the first takes its partitions back and finishes
				System.out.printf("rebalance: %d by the first instance when the second had its partitions, %d by the "
						+ "first so far, %d by the second in all%n", joinedAt.get(), processedByFirst.count(),
						second.get().count());
				await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
					Set<String> all = offsets(second.get());
					all.addAll(offsets(processedByFirst));
					assertThat(all).hasSize(RECORDS + LATER_RECORDS);
				});
				assertThat(container(first).isRunning()).isTrue();
			});
	}

	/** What an instance processed and where its container stands, for a failure's message. */
	private static String state(org.springframework.context.ApplicationContext context,
			KafkaTestSupport.Processed processed) {
		StringBuilder state = new StringBuilder("processed " + processed.count());
		MessageListenerContainer container = container(context);
		List<? extends MessageListenerContainer> consumers = List.of(container);
		if (container instanceof ConcurrentMessageListenerContainer<?, ?> concurrent) {
			consumers = concurrent.getContainers();
		}
		for (MessageListenerContainer consumer : consumers) {
			state.append("; consumer running ").append(consumer.isRunning()).append(", pause requested ")
				.append(consumer.isPauseRequested()).append(", paused ").append(consumer.isContainerPaused())
				.append(", assigned ").append(consumer.getAssignedPartitions());
		}
		return state.toString();
	}

	private static MessageListenerContainer container(org.springframework.context.ApplicationContext context) {
		return context.getBean(KafkaListenerEndpointRegistry.class).getListenerContainer("orders");
	}

	private static Set<String> offsets(KafkaTestSupport.Processed processed) {
		Set<String> offsets = new HashSet<>();
		processed.list().forEach((entry) -> offsets.add(entry.partition() + "@" + entry.offset()));
		return offsets;
	}

}
