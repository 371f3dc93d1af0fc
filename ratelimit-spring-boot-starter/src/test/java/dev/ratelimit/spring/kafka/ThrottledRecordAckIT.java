package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A throttled record listener that commits each record ({@code ack-mode: record}) processes every
 * record once, however often its records are held and released. A limiter of capacity 1 holds
 * the consumer before every record; each release resumes the container. Resumed from the
 * scheduler's thread, a resume could wake the consumer just after a poll had returned, and the
 * commit of the record it delivered next then failed with a {@code WakeupException}: that
 * record, processed already, was delivered a second time. Releases now resume the container on
 * the consumer's own thread.
 */
class ThrottledRecordAckIT extends BrokerPerClass {

	static final int RECORDS = 1000;

	@Test
	void everyRecordIsProcessedOnceThroughAHoldBeforeEachRecord() throws Exception {
		String topic = "drain-record-ack";
		KafkaTestSupport.createTopic(broker, topic, 2);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 2, RECORDS);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(ThrottledDrainIT.OrdersListener.class)
			.withPropertyValues("test.topic=" + topic, "spring.kafka.listener.ack-mode=record",
					"ratelimit.limiters.orders-drain.rate=400/1s", "ratelimit.limiters.orders-drain.capacity=1")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(60)).until(() -> processed.count() >= RECORDS);
				System.out.printf("%s: %d records, each held and released, drained in %d ms (%d ms at the "
						+ "limiter's rate)%n", topic, processed.count(), processed.span().toMillis(),
						(RECORDS - 1) * 1000 / 400);
				// every record once, in order per partition, and each one committed
				Map<Integer, List<Long>> offsets = processed.offsets();
				produced.forEach((partition, count) -> assertThat(offsets.get(partition))
					.as("offsets processed on partition %d", partition)
					.containsExactlyElementsOf(LongStream.range(0, count).boxed().toList()));
				await().atMost(Duration.ofSeconds(30))
					.untilAsserted(() -> assertThat(KafkaTestSupport.committed(broker, topic).values().stream()
						.mapToLong(Long::longValue).sum()).isEqualTo(RECORDS));
				assertThat(processed.count()).isEqualTo(RECORDS);
			});
	}

}
