package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.ratelimit.kafka.KafkaUnreachableException;

/**
 * Turns a {@link KafkaUnreachableException} from the Kafka backend's start-up into a report that
 * names the servers tried, what failed, and the two ways on: reach Kafka, or start without it.
 */
class KafkaUnreachableFailureAnalyzer extends AbstractFailureAnalyzer<KafkaUnreachableException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, KafkaUnreachableException cause) {
		String description = "The rate limit backend could not reach Kafka at start-up (ratelimit.backend=kafka), and "
				+ "start-up may not go on without it:\n\n"
				+ "    Bootstrap servers: " + cause.getBootstrapServers() + "\n"
				+ "    Reason: " + ((cause.getCause() != null) ? cause.getCause().getMessage() : cause.getMessage()) + "\n"
				+ "    Why it fails: ratelimit.kafka.fail-fast is true, or unset with "
				+ "ratelimit.kafka.degraded-policy=fail-closed (which would deny every call until Kafka is reached)\n";
		String action = "Check ratelimit.kafka.bootstrap-servers (or spring.kafka.bootstrap-servers) and that the "
				+ "brokers are up, or set ratelimit.kafka.fail-fast=false to start without Kafka: limiters then decide "
				+ "under the degraded policy and the backend connects in the background.";
		return new FailureAnalysis(description, action, cause);
	}

}
