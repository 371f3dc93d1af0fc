package dev.ratelimit.kafka.internal;

import java.util.ArrayList;
import java.util.HashMap;
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
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaTopicConfigurationException;

/**
 * Creates the backend's topics when allowed and validates them when they exist, failing start-up
 * with a message that names the topic, the problem and the fix.
 */
public final class TopicSetup {

	private static final System.Logger logger = System.getLogger(TopicSetup.class.getName());

	/** Requests and grants are consumed within seconds; an hour is plenty and bounds the disk. */
	static final String TRANSIENT_RETENTION_MS = String.valueOf(TimeUnit.HOURS.toMillis(1));

	static final String LOG_APPEND_TIME = "LogAppendTime";

	private TopicSetup() {
	}

	public static void apply(Admin admin, KafkaBackendConfig config, long timeoutMillis) {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
		try {
			Set<String> existing = admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
			List<NewTopic> missing = new ArrayList<>();
			Map<String, Integer> wanted = Map.of(config.requestTopic(), config.requestPartitions(), config.grantTopic(),
					config.grantPartitions());
			for (Map.Entry<String, Integer> topic : wanted.entrySet()) {
				if (!existing.contains(topic.getKey())) {
					if (!config.createTopics()) {
						throw new KafkaTopicConfigurationException(topic.getKey(),
								"does not exist and topic creation is off",
								"create it (" + topic.getValue() + " partitions) or allow creation "
										+ "(ratelimit.kafka.create-topics=true)");
					}
					Map<String, String> configs = new HashMap<>(Map.of(TopicConfig.RETENTION_MS_CONFIG,
							TRANSIENT_RETENTION_MS, TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE));
					if (topic.getKey().equals(config.requestTopic())) {
						// the authority's clock: the broker stamps each request as it appends it
						configs.put(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, LOG_APPEND_TIME);
					}
					missing.add(new NewTopic(topic.getKey(), Optional.of(topic.getValue()), config.replicationFactor())
						.configs(configs));
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
			validateOnceVisible(admin, config, existing, timeoutMillis);
			long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
			if (!missing.isEmpty() && left > 0) {
				// within what is left of the time allowed: start-up takes no longer than it did
				awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), left);
			}
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

	private static void validateOnceVisible(Admin admin, KafkaBackendConfig config, Set<String> existing,
			long timeoutMillis) throws InterruptedException, ExecutionException, TimeoutException {
		retryWhileNotVisible(timeoutMillis, (left) -> {
			validate(admin, config, existing, left);
			return null;
		});
	}

	/**
	 * Waits, within the time allowed, until the leader of every partition of topics created a
	 * moment ago answers for it. A broker that has not applied a new topic yet refuses a first
	 * produce request to it (not yet the leader) while its metadata already names the partition, and
	 * may take the producer's next request: an idempotent producer then retries the first until its
	 * delivery timeout and fails it (KAFKA-15591, fixed in later brokers), so that a lease request
	 * sent at once after start-up would go unanswered for that long. Best effort: a partition
	 * without a leader when the time is up leaves start-up to go on as before, and its requests to
	 * be retried as any others.
	 */
	static void awaitLeaders(Admin admin, List<String> topics, long timeoutMillis) throws InterruptedException {
		try {
			retryWhileNotVisible(timeoutMillis, (left) -> {
				int leftMs = (int) Math.min(left, Integer.MAX_VALUE);
				Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
				for (TopicDescription description : admin
					.describeTopics(topics, new DescribeTopicsOptions().timeoutMs(leftMs))
					.allTopicNames()
					.get(left, TimeUnit.MILLISECONDS)
					.values()) {
					for (TopicPartitionInfo partition : description.partitions()) {
						latest.put(new TopicPartition(description.name(), partition.partition()), OffsetSpec.latest());
					}
				}
				return admin.listOffsets(latest, new ListOffsetsOptions().timeoutMs(leftMs))
					.all()
					.get(left, TimeUnit.MILLISECONDS);
			});
		}
		catch (ExecutionException | TimeoutException ex) {
			Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
			logger.log((cause instanceof RetriableException || cause instanceof TimeoutException)
					? System.Logger.Level.INFO : System.Logger.Level.WARNING,
					"Not every leader of the new topics {0} answered yet ({1}); going on", topics, cause);
		}
	}

	/** An admin call, given the milliseconds left of the time it may take. */
	@FunctionalInterface
	public interface Attempt<T> {

		T run(long millisLeft) throws InterruptedException, ExecutionException, TimeoutException;

	}

	/**
	 * Runs an admin call about topics that may have been created a moment ago (here or by another
	 * instance) and so may not be in every broker's metadata yet: a call that fails with a
	 * retriable error is retried with a short backoff until the time allowed has passed. Each
	 * attempt gets what is left of the time, so retries never stretch past it.
	 * @param timeoutMillis the time allowed for every attempt together
	 * @param attempt the call
	 * @return what the call returned
	 */
	public static <T> T retryWhileNotVisible(long timeoutMillis, Attempt<T> attempt)
			throws InterruptedException, ExecutionException, TimeoutException {
		long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
		long backoffMillis = 50;
		while (true) {
			try {
				return attempt.run(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
			}
			catch (ExecutionException ex) {
				if (!(ex.getCause() instanceof RetriableException)
						|| System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis) - deadline > 0) {
					throw ex;
				}
				TimeUnit.MILLISECONDS.sleep(backoffMillis);
				backoffMillis = Math.min(backoffMillis * 2, 1000);
			}
		}
	}

	private static void validate(Admin admin, KafkaBackendConfig config, Set<String> existing, long timeoutMillis)
			throws InterruptedException, ExecutionException, TimeoutException {
		String changelog = config.changelogTopic();
		List<String> described = new ArrayList<>(List.of(config.requestTopic(), config.grantTopic()));
		ConfigResource requests = new ConfigResource(ConfigResource.Type.TOPIC, config.requestTopic());
		ConfigResource state = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
		List<ConfigResource> resources = existing.contains(changelog) ? List.of(requests, state) : List.of(requests);
		Map<ConfigResource, Config> configs = admin.describeConfigs(resources)
			.all()
			.get(timeoutMillis, TimeUnit.MILLISECONDS);
		if (existing.contains(changelog)) {
			described.add(changelog);
			Config topicConfig = configs.get(state);
			ConfigEntry policy = topicConfig.get(TopicConfig.CLEANUP_POLICY_CONFIG);
			if (policy == null || !policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
				throw new KafkaTopicConfigurationException(changelog,
						"holds the shared limiter state but has cleanup.policy="
								+ ((policy != null) ? policy.value() : "?")
								+ ", so deleted segments would lose buckets",
						"set cleanup.policy=compact on it (kafka-configs.sh --alter --entity-type topics "
								+ "--entity-name " + changelog + " --add-config cleanup.policy=compact)");
			}
		}
		Map<String, TopicDescription> descriptions = admin.describeTopics(described)
			.allTopicNames()
			.get(timeoutMillis, TimeUnit.MILLISECONDS);
		for (TopicDescription description : descriptions.values()) {
			if (description.partitions().isEmpty()) {
				throw new KafkaTopicConfigurationException(description.name(), "has no partitions",
						"delete it and let the backend create it, or create it with partitions");
			}
		}
		TopicDescription stateTopic = descriptions.get(changelog);
		int requestPartitions = descriptions.get(config.requestTopic()).partitions().size();
		if (stateTopic != null && stateTopic.partitions().size() != requestPartitions) {
			// Kafka Streams keeps a key's state in the changelog partition with the number of the
			// request partition it came from; with other counts the authority could not start
			int statePartitions = stateTopic.partitions().size();
			String fix = (statePartitions > requestPartitions)
					? "add partitions to '" + config.requestTopic() + "' up to " + statePartitions
							+ " (kafka-topics.sh --alter --topic " + config.requestTopic() + " --partitions "
							+ statePartitions + "; keys that move to another partition start with a full bucket once)"
					: "Kafka cannot take partitions away from '" + config.requestTopic() + "': delete '" + changelog
							+ "' (the limiter state starts afresh) or use another ratelimit.kafka.cluster-id";
			throw new KafkaTopicConfigurationException(changelog,
					"has " + statePartitions + " partitions but '" + config.requestTopic() + "' has "
							+ requestPartitions + ", and the authority keeps each request partition's state in the "
							+ "changelog partition of the same number",
					fix);
		}
		ConfigEntry timestampType = configs.get(requests).get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG);
		if (timestampType == null || !LOG_APPEND_TIME.equals(timestampType.value())) {
			throw new KafkaTopicConfigurationException(config.requestTopic(),
					"has message.timestamp.type=" + ((timestampType != null) ? timestampType.value() : "?")
							+ ", so its records carry the clocks of the instances that sent them, and buckets would "
							+ "refill by whichever clock runs fastest",
					"set message.timestamp.type=LogAppendTime on it (kafka-configs.sh --alter --entity-type topics "
							+ "--entity-name " + config.requestTopic()
							+ " --add-config message.timestamp.type=LogAppendTime)");
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
