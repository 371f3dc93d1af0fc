package dev.ratelimit.spring.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitKafkaAutoConfiguration;

/**
 * What the listener integration tests share: a real in-process KRaft broker, topics, a producer,
 * an application context with the documented configuration, and a record of what listeners
 * processed.
 */
final class KafkaTestSupport {

	/** The documented throttling configuration, loaded as docs/kafka.md shows it. */
	static final String THROTTLING_YAML = "docs/kafka-throttling.yml";

	/** The documented lag configuration. */
	static final String LAG_YAML = "docs/kafka-lag.yml";

	/** The shared-limit snippet of docs/kafka.md. */
	static final String GLOBAL_YAML = "docs/kafka-global.yml";

	/** The adaptive-control snippet of docs/kafka.md. */
	static final String ADAPTIVE_YAML = "docs/kafka-adaptive.yml";

	/** The first-calls snippet of docs/kafka.md: a per-key global limiter with a short wait. */
	static final String FIRST_CALL_YAML = "docs/kafka-first-call.yml";

	private KafkaTestSupport() {
	}

	static EmbeddedKafkaBroker startBroker() {
		EmbeddedKafkaBroker broker = new EmbeddedKafkaKraftBroker(1, 1).brokerProperties(Map.of(
				"transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
				"group.initial.rebalance.delay.ms", "0"));
		broker.afterPropertiesSet();
		return broker;
	}

	static Admin admin(EmbeddedKafkaBroker broker) {
		return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()));
	}

	static void createTopic(EmbeddedKafkaBroker broker, String topic, int partitions) throws Exception {
		try (Admin admin = admin(broker)) {
			admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
		}
	}

	/**
	 * Sends {@code count} records round-robin over the partitions, values "0", "1", ..., and waits
	 * until every one is written: a record that could not be fails the test here.
	 *
	 * <p>One request in flight at a time: a broker that has just created the topic can refuse the
	 * first request (not yet the partition's leader) and take the next ones, and an idempotent
	 * producer then retries the first ({@code OUT_OF_ORDER_SEQUENCE_NUMBER}) until its delivery
	 * timeout, two minutes, and fails it (KAFKA-15591).
	 */
	static Map<Integer, Integer> produce(EmbeddedKafkaBroker broker, String topic, int partitions, int count)
			throws Exception {
		Map<Integer, Integer> perPartition = new HashMap<>();
		List<Future<RecordMetadata>> sent = new ArrayList<>(count);
		try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
				ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString(), ProducerConfig.ACKS_CONFIG,
				"all", ProducerConfig.LINGER_MS_CONFIG, "5",
				ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1"), new StringSerializer(),
				new StringSerializer())) {
			for (int i = 0; i < count; i++) {
				int partition = i % partitions;
				sent.add(producer.send(new ProducerRecord<>(topic, partition, null, Integer.toString(i))));
				perPartition.merge(partition, 1, Integer::sum);
			}
			producer.flush();
		}
		for (Future<RecordMetadata> record : sent) {
			record.get();
		}
		return perPartition;
	}

	static Map<TopicPartition, Long> committed(EmbeddedKafkaBroker broker, String group)
			throws InterruptedException, ExecutionException {
		try (Admin admin = admin(broker)) {
			Map<TopicPartition, Long> offsets = new HashMap<>();
			Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
				.partitionsToOffsetAndMetadata()
				.get();
			committed.forEach((partition, offset) -> {
				if (offset != null) {
					offsets.put(partition, offset.offset());
				}
			});
			return offsets;
		}
	}

	/** A context with Boot's Kafka auto-configuration, ours, and the given YAML files. */
	static ApplicationContextRunner contextRunner(EmbeddedKafkaBroker broker, String... yaml) {
		ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, RateLimitAutoConfiguration.class,
					RateLimitKafkaAutoConfiguration.class))
			.withPropertyValues("spring.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
					"spring.kafka.consumer.auto-offset-reset=earliest");
		for (String file : yaml) {
			runner = runner.withInitializer(yaml(file));
		}
		return runner;
	}

	/** Loads a YAML file as Boot would load application.yml (below the test's own properties). */
	static ApplicationContextInitializer<ConfigurableApplicationContext> yaml(String file) {
		return (context) -> {
			try {
				List<PropertySource<?>> sources = new YamlPropertySourceLoader().load(file,
						new ClassPathResource(file));
				sources.forEach(context.getEnvironment().getPropertySources()::addLast);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		};
	}

	/** What a listener processed, in order, with the time it was processed. */
	static final class Processed {

		final ConcurrentLinkedQueue<Entry> entries = new ConcurrentLinkedQueue<>();

		void add(ConsumerRecord<?, ?> record) {
			this.entries.add(new Entry(record.partition(), record.offset(), System.nanoTime()));
		}

		int count() {
			return this.entries.size();
		}

		List<Entry> list() {
			return new ArrayList<>(this.entries);
		}

		/** Offsets processed per partition, in processing order, duplicates included. */
		Map<Integer, List<Long>> offsets() {
			Map<Integer, List<Long>> offsets = new HashMap<>();
			for (Entry entry : this.entries) {
				offsets.computeIfAbsent(entry.partition(), (partition) -> new ArrayList<>()).add(entry.offset());
			}
			return offsets;
		}

		Set<Long> distinct(int partition) {
			return Set.copyOf(offsets().getOrDefault(partition, List.of()));
		}

		/** Most records processed in any window of the given length. */
		int maxInWindow(Duration window) {
			long[] times = this.entries.stream().mapToLong(Entry::nanos).sorted().toArray();
			int max = 0;
			int start = 0;
			for (int end = 0; end < times.length; end++) {
				while (times[end] - times[start] >= window.toNanos()) {
					start++;
				}
				max = Math.max(max, end - start + 1);
			}
			return max;
		}

		Duration span() {
			long[] times = this.entries.stream().mapToLong(Entry::nanos).sorted().toArray();
			return (times.length < 2) ? Duration.ZERO : Duration.ofNanos(times[times.length - 1] - times[0]);
		}

		record Entry(int partition, long offset, long nanos) {
		}

	}

}
