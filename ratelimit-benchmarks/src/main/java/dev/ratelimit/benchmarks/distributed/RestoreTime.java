package dev.ratelimit.benchmarks.distributed;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import dev.ratelimit.kafka.BackendHealth;
import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;
import dev.ratelimit.kafka.StandaloneBroker;
import dev.ratelimit.kafka.internal.AuthorityLogic;
import dev.ratelimit.kafka.internal.Messages;

/**
 * How long an instance takes to restore the authority's state when its partitions come to it (an
 * owner moved, or the fleet restarted): a broker process, the backend's topics, {@code keys}
 * stored key states written to the changelog as the authority writes them (a per-key limit in
 * debt, about the size of a leasing key's state), then a backend started in this JVM, timed from
 * its start until its authority is running with every key restored. Without standby replicas (the
 * default) this is what the new owner of a partition does before it answers that partition again.
 *
 * <p>{@code java -cp ratelimit-benchmarks/target/benchmarks.jar
 * dev.ratelimit.benchmarks.distributed.RestoreTime [keys ...]}
 */
public final class RestoreTime {

	private RestoreTime() {
	}

	public static void main(String[] args) throws Exception {
		int[] sizes = (args.length == 0) ? new int[] { 10_000, 100_000 }
				: java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
		StandaloneBroker broker = new StandaloneBroker();
		try {
			broker.start();
			System.out.println("| stored keys | changelog bytes | restore (start to running, every key back) | keys/s |");
			System.out.println("|---|---|---|---|");
			for (int keys : sizes) {
				measure(broker.bootstrap(), keys);
			}
		}
		finally {
			broker.close();
		}
	}

	private static void measure(String bootstrap, int keys) throws Exception {
		String cluster = "restore-" + Long.toHexString(System.nanoTime());
		KafkaBackendConfig first = config(bootstrap, cluster, "first");
		// the topics, the changelog included, as the backend creates them
		try (KafkaRateLimiterBackend backend = KafkaRateLimiterBackend.start(first)) {
			awaitUp(backend);
		}
		long bytes = 0;
		Messages.Spec spec = new Messages.Spec(100, 1, 1_000_000_000L);
		long now = System.currentTimeMillis();
		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
				ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.LINGER_MS_CONFIG, 20,
				ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024), new StringSerializer(), new ByteArraySerializer())) {
			for (int i = 0; i < keys; i++) {
				String key = "api[tenant-" + i + "]";
				// far in debt (100,000 permits at 1/s): never at rest while measured, so never swept
				byte[] state = AuthorityLogic
					.report(null, new Messages.Report.Entry(key, 1, 100_000, 0, spec), now, 5_000)
					.encode();
				bytes += key.length() + state.length;
				// the default partitioner puts a key where the request producer puts it, as the authority needs
				producer.send(new ProducerRecord<>(first.changelogTopic(), key, state));
			}
			producer.flush();
		}
		long start = System.nanoTime();
		try (KafkaRateLimiterBackend backend = KafkaRateLimiterBackend.start(config(bootstrap, cluster, "owner"))) {
			awaitUp(backend);
			while (backend.runtime().authorityKeys() < keys) {
				LockSupport.parkNanos(Duration.ofMillis(5).toNanos()); // polling the restore, not pacing work
			}
			double seconds = (System.nanoTime() - start) / 1e9;
			System.out.printf(Locale.ROOT, "| %,d | %,d | %.1f s | %,.0f |%n", keys, bytes, seconds, keys / seconds);
		}
	}

	private static KafkaBackendConfig config(String bootstrap, String cluster, String instance) {
		return KafkaBackendConfig.builder(bootstrap).clusterId(cluster).instanceId(instance).replicationFactor((short) 1)
			.build();
	}

	private static void awaitUp(KafkaRateLimiterBackend backend) {
		long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
		while (backend.health().status() != BackendHealth.Status.UP) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("the backend did not come up: " + backend.health().details());
			}
			LockSupport.parkNanos(Duration.ofMillis(5).toNanos()); // polling the health, not pacing work
		}
	}

}
