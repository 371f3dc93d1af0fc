package dev.ratelimit.benchmarks;

import java.io.OutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.streams.KafkaStreams;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.ratelimit.kafka.KafkaRateLimiterBackend;

/**
 * The in-process KRaft broker of the Kafka benchmarks, with the settings ratelimit-core's Kafka
 * integration tests use, and a wait for the backends' authorities.
 */
final class EmbeddedBroker {

	private EmbeddedBroker() {
	}

	/**
	 * Starts a one-node broker on a free loopback port.
	 * @return the running broker; {@link EmbeddedKafkaBroker#destroy()} stops it
	 */
	static EmbeddedKafkaBroker start() {
		EmbeddedKafkaBroker broker = new EmbeddedKafkaKraftBroker(1, 1).brokerProperties(Map.of(
				// one node: transactions (exactly_once_v2) wait forever for __transaction_state otherwise
				"transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
				// backends join one after another: rebalance at once rather than after 3 s
				"group.initial.rebalance.delay.ms", "0"));
		// Kafka's storage formatter prints its bootstrap records to System.out, into the report
		PrintStream out = System.out;
		System.setOut(new PrintStream(OutputStream.nullOutputStream()));
		try {
			broker.afterPropertiesSet();
		}
		finally {
			System.setOut(out);
		}
		return broker;
	}

	/**
	 * Waits until the authority of every backend that runs one is {@code RUNNING}.
	 * @param backends the backends
	 * @param timeout how long to wait
	 * @throws IllegalStateException if they are not running in time
	 */
	static void awaitAuthorities(List<KafkaRateLimiterBackend> backends, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!backends.stream().allMatch(EmbeddedBroker::authorityRunning)) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("authorities not running after " + timeout + ": "
						+ backends.stream().map((backend) -> backend.runtime().authorityState()).toList());
			}
			try {
				TimeUnit.MILLISECONDS.sleep(50);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("interrupted while waiting for the authorities", ex);
			}
		}
	}

	static void awaitAuthority(KafkaRateLimiterBackend backend, Duration timeout) {
		awaitAuthorities(List.of(backend), timeout);
	}

	private static boolean authorityRunning(KafkaRateLimiterBackend backend) {
		KafkaStreams.State state = backend.runtime().authorityState();
		return state == null || state == KafkaStreams.State.RUNNING;
	}

}
