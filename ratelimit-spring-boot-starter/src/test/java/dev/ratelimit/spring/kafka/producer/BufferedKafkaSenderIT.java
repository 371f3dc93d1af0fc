package dev.ratelimit.spring.kafka.producer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.ClassPathResource;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitBufferAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sender declared by the documented example, on a real broker and Boot's own Kafka
 * auto-configuration: records arrive once each, in order per key, and closing the application
 * sends what is still buffered before the producer factory closes its producers.
 */
class BufferedKafkaSenderIT {

	private static final String EXAMPLE = "docs/kafka-buffered-producing.yml";

	private static EmbeddedKafkaBroker broker;

	@BeforeAll
	static void startBroker() throws Exception {
		broker = new EmbeddedKafkaKraftBroker(1, 1);
		broker.afterPropertiesSet();
		try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.getBrokersAsString()))) {
			admin.createTopics(List.of(new NewTopic("orders", 3, (short) 1), new NewTopic("shutdown", 1, (short) 1)))
				.all()
				.get(30, TimeUnit.SECONDS);
		}
	}

	@AfterAll
	static void stopBroker() {
		broker.destroy();
	}

	private ApplicationContextRunner application() {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, RateLimitAutoConfiguration.class,
					RateLimitBufferAutoConfiguration.class))
			.withInitializer((context) -> {
				try {
					new YamlPropertySourceLoader()
						.load(EXAMPLE, new ClassPathResource(EXAMPLE))
						.forEach(context.getEnvironment().getPropertySources()::addLast);
				}
				catch (IOException ex) {
					throw new UncheckedIOException(ex);
				}
			})
			.withPropertyValues("spring.kafka.bootstrap-servers=" + broker.getBrokersAsString());
	}

	@Test
	void recordsArriveOnceEachAndInOrderPerKey() {
		application().run((context) -> {
			@SuppressWarnings("unchecked")
			BufferedKafkaSender<String, String> orders = context.getBean(BufferedKafkaSender.class);
			for (int i = 0; i < 3_000; i++) {
				String key = "customer-" + (i % 7);
				assertThat(orders.offerDefault(key, key + ":" + (i / 7), Duration.ofSeconds(30))).isTrue();
			}
			orders.flush().get(1, TimeUnit.MINUTES);
			Map<String, List<Integer>> log = consume("orders", 3_000);
			assertThat(log).hasSize(7);
			log.forEach((key, sequence) -> assertThat(sequence).as(key).isSorted().doesNotHaveDuplicates());
			SenderStats stats = orders.stats();
			assertThat(stats.sent()).isEqualTo(3_000);
			assertThat(stats.retried() + stats.duplicated()).isZero();
		});
	}

	@Test
	void closingTheApplicationSendsWhatIsBufferedBeforeTheProducerFactoryCloses() {
		ProducerFactory<?, ?>[] factory = new ProducerFactory<?, ?>[1];
		application()
			.withPropertyValues("ratelimit.buffers.orders.topic=shutdown", "ratelimit.buffers.orders.max-age=1h")
			.run((context) -> {
				factory[0] = context.getBean(ProducerFactory.class);
				@SuppressWarnings("unchecked")
				BufferedKafkaSender<String, String> orders = context.getBean(BufferedKafkaSender.class);
				for (int i = 0; i < 400; i++) {
					assertThat(orders.offerDefault("k", "k:" + i)).isTrue();
				}
				assertThat(orders.stats().sent()).isZero();
			});
		assertThat(((DefaultKafkaProducerFactory<?, ?>) factory[0]).isRunning()).isFalse();
		assertThat(consume("shutdown", 400).get("k")).hasSize(400).isSorted();
	}

	private static Map<String, List<Integer>> consume(String topic, int expected) {
		Properties properties = new Properties();
		properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString());
		properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		Map<String, List<Integer>> log = new LinkedHashMap<>();
		int[] count = new int[1];
		try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties)) {
			List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30))
				.stream()
				.map((info) -> new TopicPartition(topic, info.partition()))
				.toList();
			consumer.assign(partitions);
			consumer.seekToBeginning(partitions);
			await().atMost(Duration.ofMinutes(1)).until(() -> {
				for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
					String[] parts = record.value().split(":");
					log.computeIfAbsent(record.key(), (k) -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
					count[0]++;
				}
				return count[0] >= expected;
			});
			// anything beyond the expected count would be a duplicate: read what is left
			consumer.poll(Duration.ofMillis(500)).forEach((record) -> count[0]++);
		}
		assertThat(count[0]).isEqualTo(expected);
		return log;
	}

}
