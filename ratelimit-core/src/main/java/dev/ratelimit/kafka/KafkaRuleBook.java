package dev.ratelimit.kafka;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import dev.ratelimit.kafka.internal.ClientSettings;
import dev.ratelimit.kafka.internal.MalformedRecordException;
import dev.ratelimit.kafka.internal.RuleRecords;
import dev.ratelimit.kafka.internal.TopicSetup;
import dev.ratelimit.rules.LimitRule;
import dev.ratelimit.rules.RuleBook;
import dev.ratelimit.rules.RuleListener;

/**
 * A {@link RuleBook} kept in a compacted Kafka topic, {@link KafkaBackendConfig#rulesTopic()}: one
 * record per change, keyed by limiter name, so compaction keeps the last rule of each limiter for
 * as long as the topic lives. Every instance reads the whole topic from its start, with no
 * consumer group, and then follows it: a rule published on one instance reaches the others as
 * soon as their next fetch returns (tens of milliseconds on a healthy cluster), and an instance
 * started later reads every rule in force before {@link #start} returns (up to its load timeout).
 *
 * <p>A rule's version is its record's offset plus one: higher is newer for the same limiter, and
 * every instance sees the same last rule. Two instances publishing for the same limiter at once
 * both succeed; the one Kafka appends last is in force everywhere.
 *
 * <p>The topic is input like any other: a record that cannot be read (not a rule, too long, a
 * field out of its bounds, a key that is not its limiter's name) is skipped, logged and counted in
 * {@link #malformed()}, and the rule in force before it stays. A tombstone (a record without
 * value, as an operator may write to delete a key) clears the limiter's rule. At most
 * {@value #MAX_RULES} limiters may have a rule; records for more are skipped. Anyone allowed to
 * write the topic can change the limits: restrict it with ACLs.
 */
public final class KafkaRuleBook implements RuleBook {

	/** Most limiters the book keeps a rule for: records for others are skipped. */
	public static final int MAX_RULES = 10_000;

	private static final System.Logger logger = System.getLogger(KafkaRuleBook.class.getName());

	private static final long POLL_MILLIS = 100;

	private final KafkaBackendConfig config;

	private final Clock clock;

	private final String topic;

	private final KafkaProducer<String, byte[]> producer;

	private final KafkaConsumer<String, byte[]> consumer;

	private final Thread reader;

	private final Map<String, LimitRule> rules = new ConcurrentHashMap<>();

	private final List<RuleListener> listeners = new CopyOnWriteArrayList<>();

	/** Held while telling listeners, so a listener added meanwhile hears every rule once, in order. */
	private final ReentrantLock telling = new ReentrantLock();

	/** Publications waiting for their record to be read back, by partition and offset. */
	private final Map<TopicPartition, Map<Long, CompletableFuture<LimitRule>>> pending = new ConcurrentHashMap<>();

	/** The next offset to read of each partition, for publications read back before they wait. */
	private final Map<TopicPartition, AtomicLong> readUpTo = new ConcurrentHashMap<>();

	private final CountDownLatch loaded = new CountDownLatch(1);

	private final AtomicLong malformed = new AtomicLong();

	private volatile boolean closed;

	/** Whether the topic was set up (and checked); the reader sets it up otherwise. */
	private volatile boolean topicReady;

	/** Set when the reader stopped for good: publications fail at once. */
	private volatile String stopped;

	/** What became of recently read records, by partition and offset, for publications not yet waiting. */
	private final Map<String, Optional<LimitRule>> outcomes = new ConcurrentHashMap<>();

	private final java.util.Queue<String> outcomeOrder = new java.util.concurrent.ConcurrentLinkedQueue<>();

	/** Outcomes kept for publications whose callback comes after the record was read. */
	private static final int KEPT_OUTCOMES = 1000;

	private KafkaRuleBook(KafkaBackendConfig config, Clock clock) {
		this.config = config;
		this.clock = clock;
		this.topic = config.rulesTopic();
		this.producer = new KafkaProducer<>(producerProperties(), new StringSerializer(), new ByteArraySerializer());
		this.consumer = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(),
				new ByteArrayDeserializer());
		this.reader = new Thread(this::read, "ratelimit-kafka-rules-" + config.clusterId());
		this.reader.setDaemon(true);
	}

	/**
	 * Sets up the rules topic (created compacted if missing and creation is allowed, refused if it
	 * exists but is not compacted), starts reading it, and waits until every rule it held has been
	 * read or the load timeout has passed. After a timeout (Kafka unreachable, or slow) the book goes
	 * on trying and reading: rules take effect when they arrive, and {@link #isLoaded()} says when.
	 * @param config the backend's configuration: its servers, client settings, cluster id and
	 * instance id
	 * @param loadTimeout how long to wait for the rules in force
	 * @return the started book
	 * @throws KafkaTopicConfigurationException if the topic cannot be used as it is
	 */
	public static KafkaRuleBook start(KafkaBackendConfig config, Duration loadTimeout) {
		return start(config, loadTimeout, Clock.systemUTC());
	}

	/**
	 * As {@link #start(KafkaBackendConfig, Duration)}, with the clock that stamps published rules.
	 * @param config the backend's configuration
	 * @param loadTimeout how long to wait for the rules in force
	 * @param clock the clock of the rules' times
	 * @return the started book
	 */
	public static KafkaRuleBook start(KafkaBackendConfig config, Duration loadTimeout, Clock clock) {
		Objects.requireNonNull(config, "config");
		Objects.requireNonNull(loadTimeout, "loadTimeout");
		Objects.requireNonNull(clock, "clock");
		KafkaRuleBook book = new KafkaRuleBook(config, clock);
		try {
			// start-up waits for Kafka no longer than for the rules themselves
			setUpTopic(config, Math.max(1000, Math.min(book.setupTimeoutMillis(), loadTimeout.toMillis())));
			book.topicReady = true;
		}
		catch (KafkaTopicConfigurationException ex) {
			book.closeClients();
			throw ex;
		}
		catch (IllegalStateException ex) {
			// Kafka not there yet: limiters start from their configured limits, the reader keeps trying
			logger.log(System.Logger.Level.WARNING, "The rules of limiters cannot be read yet ({0}); limiters "
					+ "start from their configured limits and take rules on once Kafka is reached", ex.getMessage());
		}
		book.reader.start();
		try {
			if (!book.loaded.await(loadTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
				logger.log(System.Logger.Level.WARNING, "The rules of limiters in ''{0}'' were not all read within "
						+ "{1}: limiters start from their configured limits and take rules on as they are read",
						book.topic, loadTimeout);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			book.close();
			throw new IllegalStateException("interrupted while reading the rules of limiters", ex);
		}
		return book;
	}

	/**
	 * The topic's name.
	 * @return {@link KafkaBackendConfig#rulesTopic()}
	 */
	public String topic() {
		return this.topic;
	}

	/**
	 * Records of the topic skipped because they could not be read.
	 * @return the count since start
	 */
	public long malformed() {
		return this.malformed.get();
	}

	@Override
	public CompletableFuture<LimitRule> publish(LimitRule draft, String configured) {
		Objects.requireNonNull(draft, "draft");
		if (this.closed) {
			return CompletableFuture.failedFuture(new IllegalStateException("the rule book is closed"));
		}
		if (this.stopped != null) {
			return CompletableFuture.failedFuture(new IllegalStateException(this.stopped));
		}
		if (!draft.isCleared() && !this.rules.containsKey(draft.limiter()) && this.rules.size() >= MAX_RULES) {
			return CompletableFuture.failedFuture(new IllegalArgumentException("the rule book keeps rules for at "
					+ "most " + MAX_RULES + " limiters: clear some before setting one for limiter '" + draft.limiter()
					+ "'"));
		}
		LimitRule stamped = draft.published(0, this.clock.instant(), this.config.instanceId(),
				(configured.length() > LimitRule.MAX_TEXT_LENGTH) ? configured.substring(0, LimitRule.MAX_TEXT_LENGTH)
						: configured);
		CompletableFuture<LimitRule> done = new CompletableFuture<>();
		try {
			this.producer.send(new ProducerRecord<>(this.topic, stamped.limiter(), RuleRecords.encode(stamped)),
					(metadata, failure) -> {
						if (failure != null) {
							done.completeExceptionally(new IllegalStateException("the rule for limiter '"
									+ stamped.limiter() + "' could not be written to '" + this.topic + "': "
									+ failure.getMessage(), failure));
						}
						else {
							awaitReadBack(new TopicPartition(metadata.topic(), metadata.partition()), metadata.offset(),
									done, stamped.published(metadata.offset() + 1, stamped.at(), stamped.origin(),
											stamped.configured()));
						}
					});
		}
		catch (RuntimeException ex) {
			done.completeExceptionally(new IllegalStateException("the rule for limiter '" + stamped.limiter()
					+ "' could not be written to '" + this.topic + "': " + ex.getMessage(), ex));
		}
		return done;
	}

	private void awaitReadBack(TopicPartition partition, long offset, CompletableFuture<LimitRule> done,
			LimitRule published) {
		Map<Long, CompletableFuture<LimitRule>> waiting = this.pending.computeIfAbsent(partition,
				(p) -> new ConcurrentHashMap<>());
		waiting.put(offset, done);
		AtomicLong read = this.readUpTo.get(partition);
		// read before it was waited for: whichever of the reader and this removes it completes it
		if (read != null && read.get() > offset && waiting.remove(offset) != null) {
			Optional<LimitRule> outcome = this.outcomes.get(partition + "@" + offset);
			if (outcome == null) {
				done.complete(published); // read long ago (more than a thousand records since): it was valid
			}
			else if (outcome.isPresent()) {
				done.complete(outcome.get());
			}
			else {
				done.completeExceptionally(new IllegalStateException("the rule was written at offset " + offset
						+ " of '" + this.topic + "' but was not taken on (see the log)"));
			}
		}
	}

	/** Completes the publication waiting for a record just read, if any. */
	private void settle(TopicPartition partition, long offset, LimitRule rule) {
		Map<Long, CompletableFuture<LimitRule>> waiting = this.pending.get(partition);
		CompletableFuture<LimitRule> done = (waiting != null) ? waiting.remove(offset) : null;
		if (done == null) {
			return;
		}
		if (rule != null) {
			done.complete(rule);
		}
		else {
			done.completeExceptionally(new IllegalStateException("the rule was written at offset " + offset
					+ " of '" + this.topic + "' but could not be read back"));
		}
	}

	@Override
	public Optional<LimitRule> rule(String limiter) {
		return Optional.ofNullable(this.rules.get(limiter));
	}

	@Override
	public Map<String, LimitRule> rules() {
		return Map.copyOf(this.rules);
	}

	@Override
	public void addListener(RuleListener listener) {
		Objects.requireNonNull(listener, "listener");
		this.telling.lock();
		try {
			for (LimitRule rule : this.rules.values()) {
				tell(listener, rule, null);
			}
			this.listeners.add(listener);
		}
		finally {
			this.telling.unlock();
		}
	}

	@Override
	public boolean isLoaded() {
		return this.loaded.getCount() == 0;
	}

	@Override
	public void close() {
		if (this.closed) {
			return;
		}
		this.closed = true;
		this.consumer.wakeup();
		try {
			this.reader.join(TimeUnit.SECONDS.toMillis(10));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.producer.close(Duration.ofSeconds(5));
		stop("the rule book is closed");
	}

	/** Closes the clients of a book whose reader never started. */
	private void closeClients() {
		this.closed = true;
		this.producer.close(Duration.ZERO);
		this.consumer.close(Duration.ZERO);
	}

	private void read() {
		List<TopicPartition> partitions = null;
		Map<TopicPartition, Long> end = null;
		String lastProblem = null;
		try {
			while (!this.closed) {
				try {
					if (!this.topicReady) {
						setUpTopic(this.config, setupTimeoutMillis());
						this.topicReady = true;
					}
					if (partitions == null) {
						List<TopicPartition> found = partitions();
						Duration timeout = Duration.ofMillis(setupTimeoutMillis());
						this.consumer.assign(found);
						this.consumer.seekToBeginning(found);
						end = this.consumer.endOffsets(found, timeout);
						found.forEach((partition) -> this.readUpTo.put(partition, new AtomicLong()));
						partitions = found;
						checkLoaded(end);
					}
					for (ConsumerRecord<String, byte[]> record : this.consumer.poll(Duration.ofMillis(POLL_MILLIS))) {
						take(record);
					}
					for (TopicPartition partition : partitions) {
						this.readUpTo.get(partition).set(this.consumer.position(partition));
					}
					checkLoaded(end);
					lastProblem = null;
				}
				catch (WakeupException ex) {
					return;
				}
				catch (KafkaTopicConfigurationException ex) {
					logger.log(System.Logger.Level.ERROR, "The rules of limiters cannot be read: " + ex.getMessage());
					stop(ex.getMessage());
					return;
				}
				catch (KafkaException | IllegalStateException ex) {
					if (this.closed) {
						return;
					}
					if (!String.valueOf(ex.getMessage()).equals(lastProblem)) {
						logger.log(System.Logger.Level.WARNING, "Reading the rules of limiters from ''{0}'' failed "
								+ "({1}); trying again every second", this.topic, ex.getMessage());
						lastProblem = String.valueOf(ex.getMessage());
					}
					TimeUnit.SECONDS.sleep(1);
				}
			}
		}
		catch (WakeupException ex) {
			// closed
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (RuntimeException ex) {
			if (!this.closed) {
				logger.log(System.Logger.Level.ERROR, "The rules of limiters in ''" + this.topic
						+ "'' are no longer read: runtime rule changes will not reach this instance", ex);
			}
			stop("the rules of limiters are no longer read (" + ex + "): see the log");
		}
		finally {
			stop("the rule book is closed");
			this.consumer.close(Duration.ofSeconds(5));
		}
	}

	/** The reader stopped: every publication waiting, and every later one, fails. */
	private void stop(String why) {
		if (this.stopped == null) {
			this.stopped = why;
		}
		this.pending.values().forEach((waiting) -> waiting.keySet().forEach((offset) -> {
			CompletableFuture<LimitRule> done = waiting.remove(offset);
			if (done != null) {
				done.completeExceptionally(new IllegalStateException(why));
			}
		}));
	}

	private long setupTimeoutMillis() {
		return ClientSettings.setupTimeoutMillis(this.config);
	}

	/** The topic's partitions; none yet (metadata not spread after creation) is a problem to retry. */
	private List<TopicPartition> partitions() {
		List<TopicPartition> partitions = new ArrayList<>();
		List<PartitionInfo> infos = this.consumer.partitionsFor(this.topic, Duration.ofMillis(setupTimeoutMillis()));
		for (PartitionInfo info : infos) {
			partitions.add(new TopicPartition(this.topic, info.partition()));
		}
		if (partitions.isEmpty()) {
			throw new IllegalStateException("topic '" + this.topic + "' has no partitions yet");
		}
		return partitions;
	}

	private void checkLoaded(Map<TopicPartition, Long> end) {
		if (this.loaded.getCount() == 0) {
			return;
		}
		for (Map.Entry<TopicPartition, Long> partition : end.entrySet()) {
			if (this.consumer.position(partition.getKey()) < partition.getValue()) {
				return;
			}
		}
		this.loaded.countDown();
	}

	private void take(ConsumerRecord<String, byte[]> record) {
		TopicPartition partition = new TopicPartition(record.topic(), record.partition());
		LimitRule rule = null;
		try {
			rule = decode(record);
			apply(rule);
		}
		catch (MalformedRecordException ex) {
			rule = null;
			this.malformed.incrementAndGet();
			logger.log(System.Logger.Level.WARNING, "Skipped record {0} of ''{1}'' partition {2}: {3}; the rule in "
					+ "force before it stays", record.offset(), this.topic, record.partition(), ex.getMessage());
		}
		String at = partition + "@" + record.offset();
		this.outcomes.put(at, Optional.ofNullable(rule));
		this.outcomeOrder.add(at);
		while (this.outcomeOrder.size() > KEPT_OUTCOMES) {
			String oldest = this.outcomeOrder.poll();
			if (oldest != null) {
				this.outcomes.remove(oldest);
			}
		}
		this.readUpTo.get(partition).set(record.offset() + 1);
		settle(partition, record.offset(), rule);
	}

	private LimitRule decode(ConsumerRecord<String, byte[]> record) {
		if (record.key() == null) {
			throw new MalformedRecordException("rule record without key");
		}
		long version = record.offset() + 1;
		if (record.value() == null) {
			// a tombstone: whoever wrote it meant the rule to go
			try {
				return new LimitRule(record.key(), version, null, null, null, null, "(tombstone)", "the record was deleted",
						Instant.ofEpochMilli(Math.max(0, record.timestamp())), "(unknown)", "");
			}
			catch (IllegalArgumentException ex) {
				throw new MalformedRecordException("tombstone with a key that is no limiter name: " + ex.getMessage());
			}
		}
		return RuleRecords.decode(record.key(), record.value(), version);
	}

	/** Puts a rule in force and tells the listeners. */
	private void apply(LimitRule rule) {
		LimitRule previous = this.rules.get(rule.limiter());
		if (previous == null && !rule.isCleared() && this.rules.size() >= MAX_RULES) {
			throw new MalformedRecordException("rule for limiter '" + rule.limiter() + "' beyond the " + MAX_RULES
					+ " limiters a rule book keeps");
		}
		this.telling.lock();
		try {
			if (rule.isCleared()) {
				this.rules.remove(rule.limiter());
			}
			else {
				this.rules.put(rule.limiter(), rule);
			}
			for (RuleListener listener : this.listeners) {
				tell(listener, rule, previous);
			}
		}
		finally {
			this.telling.unlock();
		}
	}

	private void tell(RuleListener listener, LimitRule rule, LimitRule previous) {
		try {
			listener.onRule(rule, previous);
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.WARNING, "A listener of the rules of limiters failed on the rule for ''"
					+ rule.limiter() + "'' (version " + rule.version() + ")", ex);
		}
	}

	private String clientId(String role) {
		return ClientSettings.clientId(this.config, role);
	}

	private Properties clientProperties(Map<String, Object> own) {
		return ClientSettings.properties(this.config, own);
	}

	private Properties producerProperties() {
		int requestTimeout = (int) this.config.requestTimeout().toMillis();
		Map<String, Object> own = new HashMap<>();
		own.put(ProducerConfig.CLIENT_ID_CONFIG, clientId("rules-out"));
		own.put(ProducerConfig.LINGER_MS_CONFIG, 0);
		own.put(ProducerConfig.ACKS_CONFIG, "all");
		own.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
		own.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.max(1000, requestTimeout));
		own.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(1000, requestTimeout));
		own.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(10_000, 5 * requestTimeout));
		return clientProperties(own);
	}

	private Properties consumerProperties() {
		Map<String, Object> own = new HashMap<>();
		own.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId("rules-in"));
		own.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		own.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500);
		// rules are written without transactions: an open transaction of another writer must not hold them up
		own.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
		own.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		// the topic is created compacted by the book, never by a broker's default
		own.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
		own.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024);
		return clientProperties(own);
	}

	/** Creates the topic if it is missing (compacted), and refuses one that is not compacted. */
	private static void setUpTopic(KafkaBackendConfig config, long timeoutMillis) {
		String topic = config.rulesTopic();
		Admin admin = Admin.create(ClientSettings.properties(config,
				Map.of(AdminClientConfig.CLIENT_ID_CONFIG, ClientSettings.clientId(config, "rules-admin"),
						AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeoutMillis,
						AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeoutMillis, 30_000))));
		try {
			Set<String> existing = admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
			if (!existing.contains(topic)) {
				if (!config.createTopics()) {
					throw new KafkaTopicConfigurationException(topic, "does not exist and topic creation is off",
							"create it (1 partition, cleanup.policy=compact) or allow creation "
									+ "(ratelimit.kafka.create-topics=true)");
				}
				try {
					admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), config.replicationFactor())
						.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
						.all()
						.get(timeoutMillis, TimeUnit.MILLISECONDS);
				}
				catch (ExecutionException ex) {
					if (!(ex.getCause() instanceof TopicExistsException)) {
						throw ex; // another instance may have created it meanwhile: fine
					}
				}
			}
			ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
			Config described = describe(admin, resource, timeoutMillis);
			ConfigEntry policy = described.get(TopicConfig.CLEANUP_POLICY_CONFIG);
			if (policy == null || !policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)
					|| policy.value().contains(TopicConfig.CLEANUP_POLICY_DELETE)) {
				throw new KafkaTopicConfigurationException(topic,
						"holds the runtime rules of limiters but has cleanup.policy="
								+ ((policy != null) ? policy.value() : "?")
								+ ", so old segments would be deleted and rules in force lost",
						"set cleanup.policy=compact on it (kafka-configs.sh --alter --entity-type topics "
								+ "--entity-name " + topic + " --add-config cleanup.policy=compact)");
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while setting up the rules topic", ex);
		}
		catch (ExecutionException | TimeoutException ex) {
			throw new IllegalStateException("could not set up the rules topic '" + topic + "' on "
					+ config.bootstrapServers() + ": "
					+ ((ex.getCause() != null) ? ex.getCause().getMessage() : ex.getMessage())
					+ "; check ratelimit.kafka.bootstrap-servers (or spring.kafka.bootstrap-servers) and the client's "
					+ "permissions to describe and create topics", ex);
		}
		finally {
			admin.close(Duration.ofSeconds(1)); // calls still pending are given up, not waited for
		}
	}

	/** Describes a topic's configuration, again while a topic created a moment ago is not yet known. */
	private static Config describe(Admin admin, ConfigResource resource, long timeoutMillis)
			throws InterruptedException, ExecutionException, TimeoutException {
		return TopicSetup.retryWhileNotVisible(timeoutMillis,
				(left) -> admin.describeConfigs(List.of(resource)).all().get(left, TimeUnit.MILLISECONDS).get(resource));
	}

}
