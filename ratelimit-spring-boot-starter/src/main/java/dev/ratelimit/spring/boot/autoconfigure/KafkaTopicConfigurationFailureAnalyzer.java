package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.ratelimit.kafka.KafkaTopicConfigurationException;

/**
 * Turns a {@link KafkaTopicConfigurationException} from the Kafka backend's start-up into a report
 * that names the topic, what is wrong with it and the fix.
 */
class KafkaTopicConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<KafkaTopicConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, KafkaTopicConfigurationException cause) {
		String setting = cause.getTopic().endsWith("-rules") ? "ratelimit.rules.enabled=true" : "ratelimit.backend=kafka";
		String description = "A rate limit topic on Kafka cannot be used (" + setting + "):\n\n"
				+ "    Topic: " + cause.getTopic() + "\n"
				+ "    Reason: the topic " + cause.getProblem() + "\n";
		String action = Character.toUpperCase(cause.getAction().charAt(0)) + cause.getAction().substring(1) + ".";
		return new FailureAnalysis(description, action, cause);
	}

}
