package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Lag gauges against a known backlog: records produced while nothing consumes them. The listener
 * {@code orders} is throttled by a limiter that never grants a permit, so it fetches but processes
 * nothing; the watched group {@code billing} (docs/kafka-lag.yml) committed five records of one
 * partition and none of the other.
 */
class ConsumerLagIT extends BrokerPerClass {

	static final String ORDERS = "lag-orders";

	static final String INVOICES = "invoices";

	@BeforeAll
	static void createTopics() throws Exception {
		KafkaTestSupport.createTopic(broker, ORDERS, 2);
		KafkaTestSupport.createTopic(broker, INVOICES, 2);
	}

	@Test
	void gaugesShowTheBacklogOfListenersAndWatchedGroups() throws Exception {
		Map<Integer, Integer> orders = KafkaTestSupport.produce(broker, ORDERS, 2, 60);
		Map<Integer, Integer> invoices = KafkaTestSupport.produce(broker, INVOICES, 2, 25);
		try (Admin admin = KafkaTestSupport.admin(broker)) {
			Map<TopicPartition, OffsetAndMetadata> fiveDone = Map.of(new TopicPartition(INVOICES, 0),
					new OffsetAndMetadata(5));
			admin.alterConsumerGroupOffsets("billing", fiveDone).all().get();
		}
		long billingLag = invoices.get(0) - 5 + invoices.get(1);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML, KafkaTestSupport.LAG_YAML)
			.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
					SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
			.withUserConfiguration(OrdersListener.class)
			.withPropertyValues("ratelimit.limiters.orders-drain.rate=1/1h",
					"ratelimit.limiters.orders-drain.initial-permits=0", "ratelimit.kafka.backpressure.lag-interval=1s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				ConsumerLagMonitor monitor = context.getBean(ConsumerLagMonitor.class);
				Map<String, Long> reported = new ConcurrentHashMap<>();
				monitor.addListener(reported::put);
				await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
					assertThat(lag(meters, "billing", INVOICES, 0)).isEqualTo(invoices.get(0) - 5.0);
					assertThat(lag(meters, "billing", INVOICES, 1)).isEqualTo(invoices.get(1).doubleValue());
					assertThat(reported).containsEntry(ORDERS, 60L).containsEntry("billing", billingLag);
				});
				// the throttled listener's own lag is Kafka's consumer metric, not published again
				assertThat(meters.find(ConsumerLagMetrics.LAG).tag("group", ORDERS).gauges()).isEmpty();
				assertThat(meters.find(ConsumerLagMetrics.LAG).tagKeys("listener").gauges()).isEmpty();
				assertThat(monitor.lag(ORDERS)).hasValue(60);
				assertThat(monitor.lag("billing")).hasValue(billingLag);
				assertThat(context.getBean(KafkaTestSupport.Processed.class).count()).isZero();
			});
	}

	private static double lag(MeterRegistry meters, String group, String topic, int partition) {
		Gauge gauge = meters.find(ConsumerLagMetrics.LAG)
			.tags("group", group, "topic", topic, "partition", Integer.toString(partition))
			.gauge();
		return (gauge != null) ? gauge.value() : Double.NaN;
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

		@KafkaListener(id = "orders", topics = ORDERS, groupId = ORDERS)
		void onOrder(ConsumerRecord<String, String> record) {
			this.processed.add(record);
		}

	}

}
