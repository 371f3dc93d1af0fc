package dev.ratelimit.spring.kafka.producer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.ClassPathResource;

import dev.ratelimit.kafka.StandaloneBroker;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitBufferAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A broker outage in the middle of a stream (issue 5, test 6): the broker process is killed
 * (SIGKILL) while records are offered, so sends fail and the buffer fills until {@code offer}
 * refuses; the broker is started again on the same port and data, and then every record arrives,
 * each key in order, while the buffer never held more than its bounds. Duplicates, if any, are
 * counted, explained by the sender's counters, and reported.
 */
class BufferedKafkaSenderOutageIT {

	private static final String EXAMPLE = "docs/kafka-buffered-producing.yml";

	private static final String TOPIC = "orders-outage";

	private static final int RECORDS = 20_000;

	private static final int KEYS = 8;

	private static final int MAX_RECORDS = 2_000;

	private static final long MAX_BYTES = 64 * 1024;

	/** Pads values to about 100 bytes, so the byte bound binds before the record bound. */
	private static final String PADDING = "x".repeat(85);

	private static LoggingSystem logging;

	@BeforeAll
	static void quietKafkaClients() {
		// every failed send is logged with its stack trace by the template's producer listener, and
		// the clients log each reconnect: thousands of lines that hide the outcome
		logging = LoggingSystem.get(BufferedKafkaSenderOutageIT.class.getClassLoader());
		logging.setLogLevel("org.apache.kafka", LogLevel.WARN);
		logging.setLogLevel("kafka", LogLevel.WARN);
		logging.setLogLevel("org.springframework.kafka.support.LoggingProducerListener", LogLevel.OFF);
	}

	@AfterAll
	static void restoreLogging() {
		logging.setLogLevel("org.apache.kafka", null);
		logging.setLogLevel("kafka", null);
		logging.setLogLevel("org.springframework.kafka.support.LoggingProducerListener", null);
	}

	@Test
	@SuppressWarnings("try") // close() may be interrupted: the test fails then, which is right
	void everyRecordArrivesOnceTheBrokerReturnsInOrderPerKeyAndWithinTheBounds() throws Exception {
		try (StandaloneBroker broker = new StandaloneBroker()) {
			broker.start();
			createTopic(broker.bootstrap());
			new ApplicationContextRunner()
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
				.withPropertyValues("spring.kafka.bootstrap-servers=" + broker.bootstrap(),
						// fail sends within seconds of the kill rather than after Kafka's 2 minutes
						"spring.kafka.producer.properties.request.timeout.ms=2000",
						"spring.kafka.producer.properties.delivery.timeout.ms=5000",
						"spring.kafka.producer.properties.linger.ms=5",
						"spring.kafka.producer.properties.max.block.ms=3000",
						"spring.kafka.producer.properties.reconnect.backoff.max.ms=500",
						"ratelimit.limiters.orders-out.rate=20000/1s", "ratelimit.buffers.orders.topic=" + TOPIC,
						"ratelimit.buffers.orders.max-items=" + MAX_RECORDS,
						"ratelimit.buffers.orders.max-bytes=" + MAX_BYTES + "B",
						"ratelimit.buffers.orders.max-batch-size=200",
						"ratelimit.buffers.orders.max-age=20ms", "ratelimit.buffers.orders.max-backoff=1s",
						"ratelimit.buffers.orders.send-timeout=3s")
				.run((context) -> {
					assertThat(context).hasNotFailed();
					@SuppressWarnings("unchecked")
					BufferedKafkaSender<String, String> sender = context.getBean(BufferedKafkaSender.class);
					Outage outage = new Outage(sender);

					// the broker is killed in mid-stream, with a batch in flight, by another thread
					CompletableFuture<Long> killed = CompletableFuture.supplyAsync(() -> {
						await().atMost(Duration.ofSeconds(60)).until(() -> sender.stats().sent() >= RECORDS / 5);
						try {
							broker.kill();
						}
						catch (InterruptedException ex) {
							throw new IllegalStateException(ex);
						}
						return System.nanoTime();
					});
					while (!killed.isDone()) {
						outage.offerWaiting(Duration.ofMillis(100));
					}
					long killedAt = killed.get();
					// offers go on until the buffer is full, then refuse
					while (outage.offerAtOnce()) {
						assertThat(outage.next).as("records accepted with the broker down").isLessThan(RECORDS);
					}
					assertThat(sender.utilization()).isGreaterThan(0.99);
					// until sends have failed outright, not only gone unanswered: the resend path runs
					await().atMost(Duration.ofSeconds(60)).until(() -> sender.stats().failedSends() > 0);
					assertThat(outage.offerAtOnce()).as("an offer while the broker is down and the buffer full")
						.isFalse();
					SenderStats atRestart = sender.stats();

					broker.start();
					long restartedAt = System.nanoTime();
					await().atMost(Duration.ofMinutes(2)).until(() -> sender.stats().sent() >= atRestart.offered());
					long drainedAt = System.nanoTime();
					while (outage.next < RECORDS) {
						assertThat(outage.offerWaiting(Duration.ofSeconds(60))).isTrue();
					}
					sender.flush().get(2, TimeUnit.MINUTES);
					SenderStats stats = sender.stats();

					Map<String, List<Integer>> log = consume(broker.bootstrap(), stats.offered());
					int consumed = log.values().stream().mapToInt(List::size).sum();
					int duplicates = consumed - RECORDS;
					int outOfTurn = 0;
					for (Map.Entry<String, List<Integer>> key : log.entrySet()) {
						List<Integer> sequence = key.getValue();
						assertThat(new HashSet<>(sequence)).as("records of %s", key.getKey())
							.hasSize(outage.perKey.get(key.getKey()));
						// at least once: keeping the last copy of each record gives the offer order
						assertThat(lastCopies(sequence)).as("order of %s", key.getKey()).isSorted();
						outOfTurn += outOfTurn(sequence);
					}
					assertThat(consumed).isEqualTo(RECORDS + duplicates);
					assertThat((long) duplicates).as("duplicates, each explained by a counted resend")
						.isLessThanOrEqualTo(stats.retried() + stats.duplicated());
					assertThat(outage.maxSize).isLessThanOrEqualTo(MAX_RECORDS);
					assertThat(outage.maxBytes).isLessThanOrEqualTo(MAX_BYTES);
					assertThat(stats.refused()).isPositive();
					assertThat(stats.sent()).isEqualTo(RECORDS);

					System.out.printf("Broker outage: %,d records over %d keys; broker down %.1f s (restart included); "
							+ "backlog of %,d records drained %.1f s after the broker accepted connections again; "
							+ "%,d offers refused; buffer peak %,d records / %,d bytes (bounds %,d / %,d); "
							+ "%,d failed attempts, %,d failed sends, %,d records retried, %,d resent for order; "
							+ "%,d records consumed, %,d duplicates, %,d first copies out of turn%n", RECORDS, KEYS,
							seconds(restartedAt - killedAt), atRestart.offered() - atRestart.sent(),
							seconds(drainedAt - restartedAt), stats.refused(), outage.maxSize, outage.maxBytes,
							MAX_RECORDS, MAX_BYTES, stats.failedAttempts(), stats.failedSends(), stats.retried(),
							stats.duplicated(), consumed, duplicates, outOfTurn);
				});
		}
	}

	private static double seconds(long nanos) {
		return nanos / 1e9;
	}

	/** The sequence numbers of a key with only the last copy of each kept. */
	private static List<Integer> lastCopies(List<Integer> sequence) {
		Set<Integer> seen = new HashSet<>();
		List<Integer> reversed = new ArrayList<>();
		for (int i = sequence.size() - 1; i >= 0; i--) {
			if (seen.add(sequence.get(i))) {
				reversed.add(sequence.get(i));
			}
		}
		Collections.reverse(reversed);
		return reversed;
	}

	/** How many first copies come after a later record of their key (zero when none overtook). */
	private static int outOfTurn(List<Integer> sequence) {
		Set<Integer> seen = new HashSet<>();
		int highest = -1;
		int count = 0;
		for (int value : sequence) {
			if (seen.add(value)) {
				if (value < highest) {
					count++;
				}
				highest = Math.max(highest, value);
			}
		}
		return count;
	}

	private static void createTopic(String bootstrap) throws Exception {
		try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
			admin.createTopics(List.of(new NewTopic(TOPIC, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
		}
	}

	/** Reads the topic from the start until every record is there; returns each key's sequence. */
	private static Map<String, List<Integer>> consume(String bootstrap, long expected) {
		Properties properties = new Properties();
		properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
		properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		properties.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
		Map<String, List<Integer>> log = new LinkedHashMap<>();
		Set<String> distinct = new HashSet<>();
		try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties)) {
			List<TopicPartition> partitions = consumer.partitionsFor(TOPIC, Duration.ofSeconds(30))
				.stream()
				.map((info) -> new TopicPartition(TOPIC, info.partition()))
				.toList();
			consumer.assign(partitions);
			consumer.seekToBeginning(partitions);
			await().atMost(Duration.ofMinutes(2)).until(() -> {
				for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
					String[] parts = record.value().split(":");
					assertThat(parts[0]).isEqualTo(record.key());
					log.computeIfAbsent(record.key(), (k) -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
					distinct.add(record.key() + ":" + parts[1]);
				}
				return distinct.size() >= expected;
			});
		}
		return log;
	}

	/** The producing side: one thread offers the stream in order and watches the bounds. */
	private static final class Outage {

		private final BufferedKafkaSender<String, String> sender;

		private final Map<String, Integer> perKey = new HashMap<>();

		private int next;

		private int maxSize;

		private long maxBytes;

		Outage(BufferedKafkaSender<String, String> sender) {
			this.sender = sender;
		}

		/** Offers the next record if there is room now; true when it was accepted. */
		boolean offerAtOnce() {
			return accepted(this.sender.offer(nextRecord()));
		}

		/** Offers the next record, waiting for room; true when it was accepted. */
		boolean offerWaiting(Duration timeout) throws InterruptedException {
			return accepted(this.sender.offer(nextRecord(), timeout));
		}

		private ProducerRecord<String, String> nextRecord() {
			String key = "key-" + (this.next % KEYS);
			int sequence = this.perKey.getOrDefault(key, 0);
			return new ProducerRecord<>(TOPIC, key, key + ":" + sequence + ":" + PADDING);
		}

		private boolean accepted(boolean accepted) {
			if (accepted) {
				String key = "key-" + (this.next % KEYS);
				this.perKey.merge(key, 1, Integer::sum);
				this.next++;
			}
			this.maxSize = Math.max(this.maxSize, this.sender.size());
			this.maxBytes = Math.max(this.maxBytes, this.sender.bytes());
			return accepted;
		}

	}

}
