package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;

import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The other ways a listener is throttled: {@code @RateLimited} on the listener method, whose
 * denials the container's default error handler would retry ten times and then skip, and batch
 * listeners, whose batches take a permit per record. In each case every record is processed once,
 * in order, and the limit holds: with capacity C and rate R, at most C + R records in any second,
 * and C / 100 more from the pooled token bucket once C reaches 100.
 */
class RateLimitedListenerIT extends BrokerPerClass {

	@Test
	void rateLimitedListenerMethodIsThrottledNotFailed() throws Exception {
		String topic = "annotated";
		KafkaTestSupport.createTopic(broker, topic, 2);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 2, 150);
		KafkaTestSupport.contextRunner(broker)
			.withConfiguration(AutoConfigurations.of(RateLimitedAnnotationAutoConfiguration.class))
			.withUserConfiguration(AnnotatedListener.class)
			.withPropertyValues("test.topic=" + topic, "ratelimit.limiters.orders-drain.rate=50/1s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(30)).until(() -> processed.count() >= 150);
				System.out.printf("@RateLimited listener: 150 records in %d ms (expected 2000 ms)%n",
						processed.span().toMillis());
				assertOnceInOrder(processed, produced);
				assertThat(processed.maxInWindow(Duration.ofSeconds(1))).isLessThanOrEqualTo(100);
			});
	}

	@Test
	void batchListenerTakesAPermitPerRecord() throws Exception {
		String topic = "batches";
		KafkaTestSupport.createTopic(broker, topic, 2);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 2, 400);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(BatchListener.class)
			.withPropertyValues("test.topic=" + topic, "ratelimit.limiters.orders-drain.rate=100/1s",
					"spring.kafka.consumer.max-poll-records=20")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(30)).until(() -> processed.count() >= 400);
				System.out.printf("Batch listener: 400 records in batches of up to 20 in %d ms (expected 3000 ms)%n",
						processed.span().toMillis());
				assertOnceInOrder(processed, produced);
				assertThat(processed.maxInWindow(Duration.ofSeconds(1))).isLessThanOrEqualTo(200 + 1);
			});
	}

	@Test
	void batchLargerThanTheCapacityGathersItsPermits() throws Exception {
		String topic = "large-batches";
		KafkaTestSupport.createTopic(broker, topic, 1);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 1, 300);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(BatchListener.class)
			.withPropertyValues("test.topic=" + topic, "ratelimit.limiters.orders-drain.rate=100/1s",
					"ratelimit.limiters.orders-drain.capacity=20", "spring.kafka.consumer.max-poll-records=150")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(30)).until(() -> processed.count() >= 300);
				assertOnceInOrder(processed, produced);
			});
	}

	@Test
	void errorHandlerThatDoesNotSeekKeepsTheRefusedRecordsInMemory() throws Exception {
		String topic = "in-memory";
		KafkaTestSupport.createTopic(broker, topic, 2);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 2, 150);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(RecordListener.class)
			.withBean(CommonErrorHandler.class, () -> {
				DefaultErrorHandler handler = new DefaultErrorHandler();
				handler.setSeekAfterError(false);
				return handler;
			})
			.withPropertyValues("test.topic=" + topic, "ratelimit.limiters.orders-drain.rate=50/1s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(30)).until(() -> processed.count() >= 150);
				System.out.printf("Without seeks: 150 records in %d ms (expected 2000 ms)%n",
						processed.span().toMillis());
				assertOnceInOrder(processed, produced);
				assertThat(processed.maxInWindow(Duration.ofSeconds(1))).isLessThanOrEqualTo(100);
			});
	}

	@Test
	void batchErrorHandlerThatDoesNotSeekKeepsTheRefusedBatchInMemory() throws Exception {
		String topic = "in-memory-batches";
		KafkaTestSupport.createTopic(broker, topic, 2);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 2, 200);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(BatchListener.class)
			.withBean(CommonErrorHandler.class, () -> {
				DefaultErrorHandler handler = new DefaultErrorHandler();
				handler.setSeekAfterError(false);
				return handler;
			})
			.withPropertyValues("test.topic=" + topic, "ratelimit.limiters.orders-drain.rate=100/1s",
					"spring.kafka.consumer.max-poll-records=20")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				await().atMost(Duration.ofSeconds(30)).until(() -> processed.count() >= 200);
				assertOnceInOrder(processed, produced);
				assertThat(processed.maxInWindow(Duration.ofSeconds(1))).isLessThanOrEqualTo(200 + 1);
			});
	}

	private static void assertOnceInOrder(KafkaTestSupport.Processed processed, Map<Integer, Integer> produced) {
		Map<Integer, List<Long>> offsets = processed.offsets();
		produced.forEach((partition, count) -> assertThat(offsets.get(partition)).as("partition %d", partition)
			.containsExactlyElementsOf(LongStream.range(0, count).boxed().toList()));
	}

	@Configuration(proxyBeanMethods = false)
	static class AnnotatedListener {

		@Bean
		KafkaTestSupport.Processed processed() {
			return new KafkaTestSupport.Processed();
		}

		@Bean
		Annotated annotated(KafkaTestSupport.Processed processed) {
			return new Annotated(processed);
		}

	}

	static class Annotated {

		private final KafkaTestSupport.Processed processed;

		Annotated(KafkaTestSupport.Processed processed) {
			this.processed = processed;
		}

		@RateLimited("orders-drain")
		@KafkaListener(id = "annotated", topics = "${test.topic}", groupId = "${test.topic}")
		public void onOrder(ConsumerRecord<String, String> record) {
			this.processed.add(record);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class RecordListener {

		@Bean
		KafkaTestSupport.Processed processed() {
			return new KafkaTestSupport.Processed();
		}

		@Bean
		Records records(KafkaTestSupport.Processed processed) {
			return new Records(processed);
		}

	}

	static class Records {

		private final KafkaTestSupport.Processed processed;

		Records(KafkaTestSupport.Processed processed) {
			this.processed = processed;
		}

		@KafkaListener(id = "orders", topics = "${test.topic}", groupId = "${test.topic}")
		void onOrder(ConsumerRecord<String, String> record) {
			this.processed.add(record);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BatchListener {

		@Bean
		KafkaTestSupport.Processed processed() {
			return new KafkaTestSupport.Processed();
		}

		@Bean
		Batches batches(KafkaTestSupport.Processed processed) {
			return new Batches(processed);
		}

	}

	static class Batches {

		private final KafkaTestSupport.Processed processed;

		Batches(KafkaTestSupport.Processed processed) {
			this.processed = processed;
		}

		@KafkaListener(id = "orders", topics = "${test.topic}", groupId = "${test.topic}", batch = "true")
		void onOrders(List<ConsumerRecord<String, String>> records) {
			records.forEach(this.processed::add);
		}

	}

}
