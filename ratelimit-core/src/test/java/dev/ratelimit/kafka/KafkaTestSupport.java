package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.streams.KafkaStreams;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.ratelimit.RateLimiter;

import static org.awaitility.Awaitility.await;

/**
 * What the Kafka integration tests share: a real in-process KRaft broker, backend settings for a
 * one-broker cluster, and an open-loop load generator.
 */
final class KafkaTestSupport {

	private KafkaTestSupport() {
	}

	static EmbeddedKafkaBroker startBroker() {
		EmbeddedKafkaBroker broker = new EmbeddedKafkaKraftBroker(1, 1).brokerProperties(Map.of(
				"transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
				// lets tests use a short session timeout, so a failed owner is replaced quickly
				"group.min.session.timeout.ms", "2000", "group.initial.rebalance.delay.ms", "0"));
		broker.afterPropertiesSet();
		return broker;
	}

	static KafkaBackendConfig.Builder config(String bootstrap, String cluster, String instance) {
		return KafkaBackendConfig.builder(bootstrap)
			.clusterId(cluster)
			.instanceId(instance)
			.requestPartitions(3)
			.grantPartitions(3)
			.replicationFactor((short) 1)
			.sessionTimeout(Duration.ofSeconds(6));
	}

	/** How many records a topic holds now, over all its partitions (nothing is compacted away in a test's time). */
	static long records(String bootstrap, String topic) {
		Map<String, Object> properties = Map.of(org.apache.kafka.clients.consumer.ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
				bootstrap);
		try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
				properties, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
				new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
			List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(topic)
				.stream()
				.map((info) -> new org.apache.kafka.common.TopicPartition(topic, info.partition()))
				.toList();
			Map<org.apache.kafka.common.TopicPartition, Long> ends = consumer.endOffsets(partitions);
			Map<org.apache.kafka.common.TopicPartition, Long> starts = consumer.beginningOffsets(partitions);
			return partitions.stream().mapToLong((partition) -> ends.get(partition) - starts.get(partition)).sum();
		}
	}

	/**
	 * Waits until the instances' authorities run and their group has formed: every instance with
	 * an authority owns a request partition, where there are partitions for each. An instance that
	 * joins after the others runs at first beside a group that has not taken it in yet, and the
	 * rebalance that follows would stop the grants of all of them for a moment inside the
	 * measurement.
	 */
	static void awaitAuthorities(List<KafkaRateLimiterBackend> backends) {
		List<KafkaRateLimiterBackend> authorities = backends.stream()
			.filter((backend) -> backend.runtime().authorityState() != null)
			.toList();
		boolean partitionEach = !authorities.isEmpty()
				&& authorities.size() <= authorities.get(0).config().requestPartitions();
		await().atMost(Duration.ofSeconds(60)).until(() -> backends.stream()
			.allMatch((backend) -> backend.runtime().authorityState() == null
					|| (backend.runtime().authorityState() == KafkaStreams.State.RUNNING
							&& (!partitionEach || !backend.runtime().ownedPartitions().isEmpty()))));
	}

	/** A client that tries a limiter at a fixed rate, whatever the answers (open loop). */
	static final class Load {

		final RateLimiter limiter;

		final double perSecond;

		final AtomicLong admitted = new AtomicLong();

		final AtomicLong attempts = new AtomicLong();

		volatile boolean stop;

		Load(RateLimiter limiter, double perSecond) {
			this.limiter = limiter;
			this.perSecond = perSecond;
		}

		long run(long untilNanos) {
			long interval = (long) (1e9 / this.perSecond);
			long next = System.nanoTime();
			while (!this.stop && next < untilNanos) {
				long wait = next - System.nanoTime();
				if (wait > 0) {
					LockSupport.parkNanos(wait); // pacing the load generator, not waiting for a result
				}
				this.attempts.incrementAndGet();
				if (this.limiter.tryAcquire()) {
					this.admitted.incrementAndGet();
				}
				next += interval;
			}
			return this.admitted.get();
		}

	}

	/** Runs loads in parallel until the deadline and returns each one's admitted count. */
	static long[] runAll(List<Load> loads, Duration duration) throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(loads.size());
		try {
			long until = System.nanoTime() + duration.toNanos();
			List<Future<Long>> futures = new ArrayList<>();
			for (Load load : loads) {
				futures.add(executor.submit((Callable<Long>) () -> load.run(until)));
			}
			long[] admitted = new long[loads.size()];
			for (int i = 0; i < admitted.length; i++) {
				admitted[i] = futures.get(i).get();
			}
			return admitted;
		}
		finally {
			executor.shutdownNow();
		}
	}

	static void closeAll(List<KafkaRateLimiterBackend> backends) {
		for (KafkaRateLimiterBackend backend : backends) {
			try {
				backend.close();
			}
			catch (RuntimeException ex) {
				// closing the rest matters more
			}
		}
	}

}
