package dev.ratelimit.kafka;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.internals.KafkaFutureImpl;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaBroker;

import dev.ratelimit.kafka.internal.TopicSetup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Topic creation and validation at start-up, on a real in-process broker: what the backend
 * creates, and the exact error for each topic it cannot work with.
 */
class TopicSetupIT {

	private static EmbeddedKafkaBroker broker;

	private static Admin admin;

	private final List<KafkaRateLimiterBackend> backends = new ArrayList<>();

	@BeforeAll
	static void startBroker() {
		broker = KafkaTestSupport.startBroker();
		admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()));
	}

	@AfterAll
	static void stopBroker() {
		admin.close(Duration.ofSeconds(5));
		broker.destroy();
	}

	@AfterEach
	void closeBackends() {
		this.backends.forEach(KafkaRateLimiterBackend::close);
	}

	@Test
	void missingTopicsAreCreatedWithTheConfiguredPartitionsAndRetention() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "created", "instance-0")
			.requestPartitions(4)
			.grantPartitions(2)
			.build();
		this.backends.add(KafkaRateLimiterBackend.start(config));
		KafkaTestSupport.awaitAuthorities(this.backends);

		assertThat(partitions(config.requestTopic())).isEqualTo(4);
		assertThat(partitions(config.grantTopic())).isEqualTo(2);
		for (String topic : List.of(config.requestTopic(), config.grantTopic())) {
			Config topicConfig = config(topic);
			assertThat(topicConfig.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo("3600000");
			assertThat(topicConfig.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("delete");
		}
		// the broker stamps requests: the authority's one clock
		assertThat(config(config.requestTopic()).get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value())
			.isEqualTo("LogAppendTime");
		// the state topic is the authority's changelog, made by Kafka Streams: compacted, one
		// partition per request partition
		await().atMost(Duration.ofSeconds(30))
			.until(() -> admin.listTopics().names().get().contains(config.changelogTopic()));
		assertThat(config(config.changelogTopic()).get(TopicConfig.CLEANUP_POLICY_CONFIG).value())
			.isEqualTo("compact");
		assertThat(partitions(config.changelogTopic())).isEqualTo(4);
	}

	@Test
	void aMissingTopicWithCreationOffStopsStartUpNamingTheTopicAndTheFix() {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "not-created", "instance-0")
			.createTopics(false)
			.build();

		assertThatExceptionOfType(KafkaTopicConfigurationException.class)
			.isThrownBy(() -> this.backends.add(KafkaRateLimiterBackend.start(config)))
			.satisfies((ex) -> assertThat(ex.getTopic()).isIn(config.requestTopic(), config.grantTopic()))
			.withMessageMatching("topic 'ratelimit-not-created-(requests|grants)' does not exist and topic creation "
					+ "is off: create it \\(3 partitions\\) or allow creation \\(ratelimit.kafka.create-topics=true\\)");
	}

	@Test
	void aStateTopicThatIsNotCompactedStopsStartUp() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "deleting", "instance-0")
			.build();
		create(config.changelogTopic(), 3, TopicConfig.CLEANUP_POLICY_DELETE);

		assertThatExceptionOfType(KafkaTopicConfigurationException.class)
			.isThrownBy(() -> this.backends.add(KafkaRateLimiterBackend.start(config)))
			.withMessage("topic 'ratelimit-deleting-authority-buckets-changelog' holds the shared limiter state but "
					+ "has cleanup.policy=delete, so deleted segments would lose buckets: set cleanup.policy=compact "
					+ "on it (kafka-configs.sh --alter --entity-type topics --entity-name "
					+ "ratelimit-deleting-authority-buckets-changelog --add-config cleanup.policy=compact)")
			.satisfies((ex) -> assertThat(ex.getTopic()).isEqualTo(config.changelogTopic()));
	}

	@Test
	void aRequestTopicStampedByItsSendersStopsStartUp() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "create-time", "instance-0")
			.build();
		create(config.requestTopic(), 3, TopicConfig.CLEANUP_POLICY_DELETE);

		assertThatExceptionOfType(KafkaTopicConfigurationException.class)
			.isThrownBy(() -> this.backends.add(KafkaRateLimiterBackend.start(config)))
			.withMessage("topic 'ratelimit-create-time-requests' has message.timestamp.type=CreateTime, so its records "
					+ "carry the clocks of the instances that sent them, and buckets would refill by whichever clock "
					+ "runs fastest: set message.timestamp.type=LogAppendTime on it (kafka-configs.sh --alter "
					+ "--entity-type topics --entity-name ratelimit-create-time-requests --add-config "
					+ "message.timestamp.type=LogAppendTime)");
	}

	@Test
	void aStateTopicWithMorePartitionsThanTheRequestTopicStopsStartUp() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "grown", "instance-0")
			.build();
		create(config.requestTopic(), 2, TopicConfig.CLEANUP_POLICY_DELETE);
		create(config.changelogTopic(), 3, TopicConfig.CLEANUP_POLICY_COMPACT);

		assertThatExceptionOfType(KafkaTopicConfigurationException.class)
			.isThrownBy(() -> this.backends.add(KafkaRateLimiterBackend.start(config)))
			.withMessage("topic 'ratelimit-grown-authority-buckets-changelog' has 3 partitions but "
					+ "'ratelimit-grown-requests' has 2, and the authority keeps each request partition's state in "
					+ "the changelog partition of the same number: add partitions to 'ratelimit-grown-requests' up "
					+ "to 3 (kafka-topics.sh --alter --topic ratelimit-grown-requests --partitions 3; keys that "
					+ "move to another partition start with a full bucket once)");
	}

	@Test
	void aStateTopicWithFewerPartitionsThanTheRequestTopicStopsStartUp() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "shrunk", "instance-0")
			.build();
		create(config.requestTopic(), 3, TopicConfig.CLEANUP_POLICY_DELETE);
		create(config.changelogTopic(), 1, TopicConfig.CLEANUP_POLICY_COMPACT);

		assertThatExceptionOfType(KafkaTopicConfigurationException.class)
			.isThrownBy(() -> this.backends.add(KafkaRateLimiterBackend.start(config)))
			.withMessageEndingWith(": Kafka cannot take partitions away from 'ratelimit-shrunk-requests': delete "
					+ "'ratelimit-shrunk-authority-buckets-changelog' (the limiter state starts afresh) or use "
					+ "another ratelimit.kafka.cluster-id");
	}

	/**
	 * Topics created a moment ago may not be in the metadata of the broker asked yet (seen on CI
	 * when instances start together): the describe call fails with a retriable error, and set-up
	 * asks again instead of failing start-up.
	 */
	@Test
	void topicsNotYetVisibleAreDescribedAgain() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "propagating", "instance-0")
			.build();
		AtomicInteger failures = new AtomicInteger(2);
		Admin notYetVisible = describeFailing(failures);

		TopicSetup.apply(notYetVisible, config, 10_000);

		assertThat(failures).hasValue(0);
		assertThat(partitions(config.requestTopic())).isEqualTo(3);
	}

	/**
	 * Topics created at start-up take a producer's first request to each partition at once: a
	 * broker that has not applied a new topic yet refuses it (not yet the leader), and an idempotent
	 * producer whose next request got in first then retries it until its delivery timeout
	 * (KAFKA-15591), which would stall a partition's lease requests for seconds. The producer here
	 * does not retry, so a refusal fails the send; fresh topics each round, sent to the moment
	 * start-up returns.
	 */
	@Test
	void createdTopicsTakeTheFirstRequestToEveryPartitionAtOnce() throws Exception {
		try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
				ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString(), ProducerConfig.RETRIES_CONFIG, 0,
				ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.ACKS_CONFIG, "all",
				ProducerConfig.LINGER_MS_CONFIG, 0), new ByteArraySerializer(), new ByteArraySerializer())) {
			for (int round = 0; round < 10; round++) {
				KafkaBackendConfig config = KafkaTestSupport
					.config(broker.getBrokersAsString(), "first-request-" + round, "instance-0")
					.requestPartitions(8)
					.grantPartitions(4)
					.build();
				TopicSetup.apply(admin, config, 30_000);
				List<Future<RecordMetadata>> sent = new ArrayList<>();
				for (int partition = 0; partition < 8; partition++) {
					sent.add(producer.send(new ProducerRecord<>(config.requestTopic(), partition, null, new byte[1])));
				}
				for (int partition = 0; partition < 4; partition++) {
					sent.add(producer.send(new ProducerRecord<>(config.grantTopic(), partition, null, new byte[1])));
				}
				for (Future<RecordMetadata> record : sent) {
					assertThat(record.get(30, TimeUnit.SECONDS).hasOffset()).as("round %d", round).isTrue();
				}
			}
		}
	}

	@Test
	void aFailureThatIsNotRetriableIsNotRetried() {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "refused", "instance-0")
			.build();
		AtomicInteger failures = new AtomicInteger(Integer.MAX_VALUE);
		Admin refusing = describeFailing(failures, new org.apache.kafka.common.errors.TopicAuthorizationException(
				"Not authorized to access topics: [ratelimit-refused-requests]"));

		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> TopicSetup.apply(refusing, config, 10_000))
			.withMessage("could not set up rate limit topics on " + broker.getBrokersAsString()
					+ ": Not authorized to access topics: [ratelimit-refused-requests]; check "
					+ "ratelimit.kafka.bootstrap-servers (or spring.kafka.bootstrap-servers) and the client's "
					+ "permissions to describe and create topics");
		assertThat(failures).hasValue(Integer.MAX_VALUE - 1);
	}

	private static Admin describeFailing(AtomicInteger failures) {
		return describeFailing(failures, new UnknownTopicOrPartitionException(
				"This server does not host this topic-partition."));
	}

	/** The real admin client, except that describeTopics fails while {@code failures} lasts. */
	private static Admin describeFailing(AtomicInteger failures, RuntimeException failure) {
		return (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[] { Admin.class },
				(proxy, method, args) -> {
					if (method.getName().equals("describeTopics") && failures.getAndUpdate((n) -> Math.max(n - 1, 0)) > 0) {
						Map<String, KafkaFuture<TopicDescription>> futures = new HashMap<>();
						for (Object name : (Collection<?>) args[0]) {
							KafkaFutureImpl<TopicDescription> future = new KafkaFutureImpl<>();
							future.completeExceptionally(failure);
							futures.put((String) name, future);
						}
						return new DescribeTopicsResult(null, futures) {
						};
					}
					try {
						return method.invoke(admin, args);
					}
					catch (InvocationTargetException ex) {
						throw ex.getCause();
					}
				});
	}

	private static void create(String topic, int partitions, String cleanupPolicy) throws Exception {
		admin.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty())
			.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, cleanupPolicy))))
			.all()
			.get();
	}

	private static int partitions(String topic) throws Exception {
		return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
	}

	private static Config config(String topic) throws Exception {
		ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
		return admin.describeConfigs(List.of(resource)).all().get().get(resource);
	}

}
