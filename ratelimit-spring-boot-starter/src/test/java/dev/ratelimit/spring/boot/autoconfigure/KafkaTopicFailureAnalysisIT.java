package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Kafka topic the backend cannot work with stops the application with a report that names the
 * topic, the reason and the fix, read as a user sees it, against a real in-process broker.
 */
@ExtendWith(OutputCaptureExtension.class)
class KafkaTopicFailureAnalysisIT {

	private static EmbeddedKafkaBroker broker;

	@BeforeAll
	static void startBroker() {
		broker = new EmbeddedKafkaKraftBroker(1, 1);
		broker.afterPropertiesSet();
	}

	@AfterAll
	static void stopBroker() {
		broker.destroy();
	}

	private static String report(CapturedOutput output, String... properties) {
		String[] all = java.util.stream.Stream
			.concat(java.util.stream.Stream.of(properties),
					java.util.stream.Stream.of("ratelimit.backend=kafka",
							"spring.kafka.bootstrap-servers=" + broker.getBrokersAsString()))
			.toArray(String[]::new);
		return FailureAnalysisTests.report(output, FailureAnalysisTests.App.class, all);
	}

	@Test
	void missingTopicWithCreationOff(CapturedOutput output) {
		assertThat(report(output, "ratelimit.kafka.cluster-id=closed", "ratelimit.kafka.create-topics=false"))
			.contains("A rate limit topic on Kafka cannot be used (ratelimit.backend=kafka):")
			.containsPattern("Topic: ratelimit-closed-(requests|grants)")
			.contains("Reason: the topic does not exist and topic creation is off")
			.containsPattern("Create it \\(\\d+ partitions\\) or allow creation \\(ratelimit.kafka.create-topics=true\\)\\.");
	}

	@Test
	void stateTopicNotCompacted(CapturedOutput output) throws Exception {
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()))) {
			admin.createTopics(List.of(new NewTopic("ratelimit-pruned-authority-buckets-changelog", Optional.of(12),
					Optional.empty())
				.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE))))
				.all()
				.get();
		}
		assertThat(report(output, "ratelimit.kafka.cluster-id=pruned"))
			.contains("Topic: ratelimit-pruned-authority-buckets-changelog")
			.contains("Reason: the topic holds the shared limiter state but has cleanup.policy=delete, so deleted "
					+ "segments would lose buckets")
			.contains("Set cleanup.policy=compact on it (kafka-configs.sh --alter --entity-type topics --entity-name "
					+ "ratelimit-pruned-authority-buckets-changelog --add-config cleanup.policy=compact).");
	}

	@Test
	void rulesTopicNotCompacted(CapturedOutput output) throws Exception {
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()))) {
			admin.createTopics(List.of(new NewTopic("ratelimit-ruled-rules", Optional.of(1), Optional.empty())
				.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE))))
				.all()
				.get();
		}
		String report = FailureAnalysisTests.report(output, FailureAnalysisTests.App.class, "ratelimit.rules.enabled=true",
				"ratelimit.kafka.cluster-id=ruled", "spring.kafka.bootstrap-servers=" + broker.getBrokersAsString());
		assertThat(report).contains("A rate limit topic on Kafka cannot be used (ratelimit.rules.enabled=true):")
			.contains("Topic: ratelimit-ruled-rules")
			.contains("Reason: the topic holds the runtime rules of limiters but has cleanup.policy=delete")
			.contains("--add-config cleanup.policy=compact");
	}

}
