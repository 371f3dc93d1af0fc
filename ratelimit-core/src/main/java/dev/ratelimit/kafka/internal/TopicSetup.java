package dev.ratelimit.kafka.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import dev.ratelimit.kafka.KafkaBackendConfig;

/**
 * Creates the backend's topics when allowed and validates them when they exist, failing start-up
 * with a message that names the topic, the problem and the fix.
 */
public final class TopicSetup {

	/** Requests and grants are consumed within seconds; an hour is plenty and bounds the disk. */
	static final String TRANSIENT_RETENTION_MS = String.valueOf(TimeUnit.HOURS.toMillis(1));

	private TopicSetup() {
	}

	/** A topic that cannot work, named with the fix. */
	public static class TopicConfigurationException extends IllegalStateException {

		private static final long serialVersionUID = 1L;

		public TopicConfigurationException(String message) {
			super(message);
		}

	}

	public static void apply(Admin admin, KafkaBackendConfig config, long timeoutMillis) {
		try {
			Set<String> existing = admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
			List<NewTopic> missing = new ArrayList<>();
			Map<String, Integer> wanted = Map.of(config.requestTopic(), config.requestPartitions(), config.grantTopic(),
					config.grantPartitions());
			for (Map.Entry<String, Integer> topic : wanted.entrySet()) {
				if (!existing.contains(topic.getKey())) {
					if (!config.createTopics()) {
						throw new TopicConfigurationException("topic '" + topic.getKey() + "' does not exist and "
								+ "topic creation is off: create it (" + topic.getValue() + " partitions) or allow "
								+ "creation (ratelimit.kafka.create-topics=true)");
					}
					missing.add(new NewTopic(topic.getKey(), Optional.of(topic.getValue()), config.replicationFactor())
						.configs(Map.of(TopicConfig.RETENTION_MS_CONFIG, TRANSIENT_RETENTION_MS,
								TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE)));
				}
			}
			if (!missing.isEmpty()) {
				try {
					admin.createTopics(missing).all().get(timeoutMillis, TimeUnit.MILLISECONDS);
				}
				catch (ExecutionException ex) {
					if (!(ex.getCause() instanceof TopicExistsException)) {
						throw ex; // another instance may have created them meanwhile: fine
					}
				}
			}
			validate(admin, config, existing, timeoutMillis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while setting up rate limit topics", ex);
		}
		catch (ExecutionException | TimeoutException ex) {
			throw new IllegalStateException("could not set up rate limit topics on " + config.bootstrapServers() + ": "
					+ ((ex.getCause() != null) ? ex.getCause().getMessage() : ex.getMessage())
					+ "; check ratelimit.kafka.bootstrap-servers (or spring.kafka.bootstrap-servers) and the client's "
					+ "permissions to describe and create topics", ex);
		}
	}

	private static void validate(Admin admin, KafkaBackendConfig config, Set<String> existing, long timeoutMillis)
			throws InterruptedException, ExecutionException, TimeoutException {
		String changelog = config.changelogTopic();
		if (existing.contains(changelog)) {
			ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
			Config topicConfig = admin.describeConfigs(List.of(resource))
				.all()
				.get(timeoutMillis, TimeUnit.MILLISECONDS)
				.get(resource);
			ConfigEntry policy = topicConfig.get(TopicConfig.CLEANUP_POLICY_CONFIG);
			if (policy == null || !policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
				throw new TopicConfigurationException("topic '" + changelog + "' holds the shared limiter state but has "
						+ "cleanup.policy=" + ((policy != null) ? policy.value() : "?") + ": deleted segments would lose "
						+ "buckets; set cleanup.policy=compact on it");
			}
		}
		Collection<String> ours = List.of(config.requestTopic(), config.grantTopic());
		Map<String, TopicDescription> descriptions = admin.describeTopics(ours)
			.allTopicNames()
			.get(timeoutMillis, TimeUnit.MILLISECONDS);
		for (TopicDescription description : descriptions.values()) {
			if (description.partitions().isEmpty()) {
				throw new TopicConfigurationException("topic '" + description.name() + "' has no partitions");
			}
		}
	}

	public static int partitions(Admin admin, String topic, long timeoutMillis) {
		try {
			return admin.describeTopics(List.of(topic))
				.allTopicNames()
				.get(timeoutMillis, TimeUnit.MILLISECONDS)
				.get(topic)
				.partitions()
				.size();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
		catch (ExecutionException | TimeoutException ex) {
			throw new IllegalStateException("could not describe topic '" + topic + "': " + ex.getMessage(), ex);
		}
	}

}
