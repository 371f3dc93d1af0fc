package dev.ratelimit.kafka.internal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;
import dev.ratelimit.kafka.BackendHealth;
import dev.ratelimit.kafka.DegradedPolicy;
import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaTopicConfigurationException;
import dev.ratelimit.kafka.KafkaUnreachableException;

/**
 * What one instance runs for the Kafka backend: a producer of requests, a consumer of the grant
 * partition its instance id hashes to, the keeper thread that leases ahead of need, and (unless
 * opted out) the authority's Kafka Streams instance.
 */
public final class KafkaBackendRuntime implements KafkaRateLimiter.Link, AutoCloseable {

	private static final System.Logger logger = System.getLogger(KafkaBackendRuntime.class.getName());

	private static final int ROUND_TRIPS_KEPT = 4096;

	private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

	/**
	 * How long the grant consumer and the authority's consumer wait for records before asking again
	 * (the brokers answer a fetch as soon as there is one): what an idle instance's Kafka loops cost,
	 * not how late a record is read.
	 */
	private static final int IDLE_FETCH_MILLIS = 500;

	/**
	 * How long the authority's stream thread blocks in a poll with nothing to process: a poll returns
	 * as soon as a request arrives, so this sets what an idle authority's loop costs (each pass about
	 * a millisecond of CPU) and, under exactly-once, how late a commit that makes grants visible may
	 * come when no other request follows (there it is at most the commit interval).
	 */
	private static final int IDLE_POLL_MILLIS = 500;

	private static final int IDLE_POLL_MILLIS_EXACTLY_ONCE = 100;

	private static final Messages.Spec PROBE_SPEC = new Messages.Spec(1, 1, TimeUnit.SECONDS.toNanos(1));

	private final KafkaBackendConfig config;

	private final long incarnation = new SecureRandom().nextLong() & Long.MAX_VALUE;

	private final Map<String, KafkaRateLimiter> limiters = new ConcurrentHashMap<>();

	/**
	 * The limiters the keeper walks every pass: named ones always, per-key ones while they lease and
	 * need it (a cold key needs no keeping, only reports), so the keeper's work follows the keys in
	 * use, not the keys known. Owned by the keeper thread; other threads hand it limiters through
	 * {@link #toKeep}.
	 */
	private final KeptLimiters everyPass = new KeptLimiters();

	/**
	 * Per-key limiters that lease and need walking only when this instance reports (see
	 * {@link KafkaRateLimiter#walkedAtReportsOnly()}): kept apart, so thousands of tenants over their
	 * limit cost the keeper nothing between two reports. Owned by the keeper thread.
	 */
	private final KeptLimiters atReports = new KeptLimiters();

	/** Limiters nudged, created or released since the keeper's last pass. */
	private final java.util.Queue<KafkaRateLimiter> toKeep = new java.util.concurrent.ConcurrentLinkedQueue<>();

	/** How many limiters the keeper walks, as of its last pass (for the metrics). */
	private volatile int kept;

	/** Cold limiters with permits to report. */
	private final java.util.Queue<KafkaRateLimiter> toReport = new java.util.concurrent.ConcurrentLinkedQueue<>();

	private final AtomicLong limiterSerial = new AtomicLong();

	/** The instances sharing the limits, as far as this one knows: the authority group, or grants. */
	private volatile int fleet = 1;

	private volatile int fleetFromGrants = 1;

	private final LongAdder reportsSent = new LongAdder();

	private final LongAdder batchesSent = new LongAdder();

	/** What the keeper's current pass sends, flushed per partition at its end (keeper thread only). */
	private final List<Outgoing> pass = new java.util.ArrayList<>();

	/** When the keeper sends the next reports (local nanos). */
	private volatile long nextReportNanos;

	private final java.util.concurrent.ConcurrentHashMap<String, Integer> coldKeysByTask = new java.util.concurrent.ConcurrentHashMap<>();

	private final LongAdder malformed = new LongAdder();

	private final LongAdder requestsSent = new LongAdder();

	private final LongAdder grantsReceived = new LongAdder();

	private final LongAdder sendFailures = new LongAdder();

	/** Times a limiter moved to its degraded policy. */
	private final LongAdder degradedTransitions = new LongAdder();

	private final AtomicLongArray roundTrips = new AtomicLongArray(ROUND_TRIPS_KEPT);

	private final List<java.util.function.LongConsumer> roundTripRecorders = new java.util.concurrent.CopyOnWriteArrayList<>();

	private final AtomicLong roundTripCount = new AtomicLong();

	private final Admin admin;

	private final KafkaProducer<String, byte[]> producer;

	private final KafkaConsumer<String, byte[]> consumer;

	/** The authority, once started: null before Kafka was reached, and when it runs elsewhere. */
	private volatile KafkaStreams streams;

	/** Set once Kafka was reached and the topics, the grant consumer and the authority are set up. */
	private volatile boolean connected;

	/** Why the last try to set up on Kafka failed, while not connected. */
	private volatile String connectError;

	/** Retries the set-up in the background when Kafka could not be reached at start-up (else null). */
	private final Thread connector;

	private final Thread receiver;

	private final Thread keeper;

	private static final int OUTBOX_SIZE = 65_536;

	private final java.util.concurrent.BlockingQueue<Outgoing> outbox = new java.util.concurrent.ArrayBlockingQueue<>(
			OUTBOX_SIZE);

	private final Thread sender;

	/** The grant partition this instance reads, and the request topic's partitions: 0 until connected. */
	private volatile int grantPartition;

	private volatile int requestPartitions;

	private volatile boolean running = true;

	private volatile String lastError;

	/** The authority's state directory, when this runtime created it (deleted on close). */
	private volatile java.nio.file.Path temporaryStateDir;

	/** Causes of skipped grant records logged so far: each once. */
	private final Causes loggedCauses = new Causes();

	/** The key of this instance's health probes: its partition's authority answers them. */
	private final String probeKey;

	private final AtomicLong probeSeq = new AtomicLong();

	/** The probe in flight (0: none), when it was sent, and when the last answer came (local nanos). */
	private volatile long probeInFlight;

	private volatile long probeSentNanos;

	private volatile long probeAnsweredNanos;

	private volatile long probeRoundTripNanos = -1;

	public KafkaBackendRuntime(KafkaBackendConfig config) {
		this.config = config;
		this.probeKey = "(probe)" + config.instanceId();
		this.fleet = config.expectedInstances();
		this.admin = Admin.create(clientProperties(Map.of(AdminClientConfig.CLIENT_ID_CONFIG, clientId("admin"))));
		// neither client connects before it is used
		this.producer = new KafkaProducer<>(producerProperties(), new StringSerializer(), new ByteArraySerializer());
		this.consumer = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(), new ByteArrayDeserializer());
		tell((listener) -> listener.adminCreated(clientId("admin"), this.admin));
		tell((listener) -> listener.producerCreated(clientId("requests"), this.producer));
		tell((listener) -> listener.consumerCreated(clientId("grants"), this.consumer));
		long setupTimeout = ClientSettings.setupTimeoutMillis(config);
		boolean connectLater = false;
		try {
			// failing fast, set-up may take its full time; otherwise start-up waits a request timeout or
			// two for Kafka and goes on degraded
			connect(config.failFast() ? setupTimeout : Math.min(setupTimeout, config.requestTimeout().toMillis() * 2));
		}
		catch (KafkaTopicConfigurationException ex) {
			closeClients();
			throw ex; // Kafka answered: a misconfigured topic will not fix itself
		}
		catch (RuntimeException ex) {
			if (config.failFast()) {
				closeClients();
				throw new KafkaUnreachableException(config.bootstrapServers(), ex);
			}
			this.connectError = ex.getMessage();
			logger.log(System.Logger.Level.WARNING, "Kafka at {0} could not be reached ({1}); rate limiters of "
					+ "cluster ''{2}'' decide under the {3} policy until it is, and the backend keeps trying",
					config.bootstrapServers(), ex.getMessage(), config.clusterId(), config.degradedPolicy());
			connectLater = true;
		}
		this.receiver = new Thread(this::receive, "ratelimit-kafka-grants-" + config.clusterId());
		this.receiver.setDaemon(true);
		this.receiver.start();
		this.keeper = new Thread(this::keep, "ratelimit-kafka-keeper-" + config.clusterId());
		this.keeper.setDaemon(true);
		this.keeper.start();
		this.sender = new Thread(this::sendOutbox, "ratelimit-kafka-requests-" + config.clusterId());
		this.sender.setDaemon(true);
		this.sender.start();
		if (connectLater) {
			this.connector = new Thread(() -> connectInBackground(setupTimeout),
					"ratelimit-kafka-connect-" + config.clusterId());
			this.connector.setDaemon(true);
			this.connector.start();
		}
		else {
			this.connector = null;
		}
	}

	/**
	 * Creates or checks the topics, points the grant consumer at this instance's partition and
	 * starts the authority; sets {@link #connected} last. Throws what failed; a later call starts
	 * again (the steps before the authority are idempotent).
	 */
	private void connect(long timeoutMillis) {
		TopicSetup.apply(this.admin, this.config, timeoutMillis);
		int partitions = TopicSetup.partitions(this.admin, this.config.grantTopic(), timeoutMillis);
		int requests = TopicSetup.partitions(this.admin, this.config.requestTopic(), timeoutMillis);
		// the partition a producer's default partitioner picks for our id, so grants keyed by it land here
		int grants = Utils.toPositive(Utils.murmur2(this.config.instanceId().getBytes(StandardCharsets.UTF_8)))
				% partitions;
		TopicPartition partition = new TopicPartition(this.config.grantTopic(), grants);
		this.consumer.assign(List.of(partition));
		this.consumer.seekToEnd(List.of(partition));
		this.consumer.position(partition, Duration.ofMillis(timeoutMillis)); // grants sent from here on are ours
		this.grantPartition = grants;
		this.requestPartitions = requests;
		this.streams = this.config.authority() ? startAuthority() : null;
		this.connected = true;
	}

	/**
	 * Tries the set-up again until it succeeds or the backend closes, waiting a second after the
	 * first failure and doubling up to 30 s. A topic found misconfigured is logged as an error and
	 * kept in the health details; the tries go on, so fixing the topic is enough.
	 */
	private void connectInBackground(long timeoutMillis) {
		long backoff = TimeUnit.SECONDS.toNanos(1);
		while (this.running) {
			LockSupport.parkNanos(this, backoff);
			if (!this.running) {
				return;
			}
			try {
				connect(timeoutMillis);
				this.connectError = null;
				logger.log(System.Logger.Level.INFO, "Kafka at {0} reached: rate limiters of cluster ''{1}'' lease "
						+ "from the shared buckets from now on", this.config.bootstrapServers(), this.config.clusterId());
				LockSupport.unpark(this.keeper);
				return;
			}
			catch (KafkaTopicConfigurationException ex) {
				if (!ex.getMessage().equals(this.connectError)) {
					logger.log(System.Logger.Level.ERROR, "Rate limit backend cannot start on Kafka: " + ex.getMessage());
				}
				this.connectError = ex.getMessage();
			}
			catch (RuntimeException ex) {
				if (!this.running) {
					return; // closed while connecting: the failure is the close's interrupt
				}
				this.connectError = ex.getMessage();
			}
			backoff = Math.min(backoff * 2, TimeUnit.SECONDS.toNanos(30));
		}
	}

	/** Whether Kafka was reached and the backend set up (before, every limiter is degraded). */
	public boolean connected() {
		return this.connected;
	}

	private void closeClients() {
		tellClosing(clientId("requests"));
		this.producer.close(Duration.ZERO);
		tellClosing(clientId("grants"));
		this.consumer.close(Duration.ZERO);
		tellClosing(clientId("admin"));
		this.admin.close(Duration.ofSeconds(1));
	}

	/** Tells the client listener of a client; a listener that fails is logged and otherwise ignored. */
	private void tell(java.util.function.Consumer<dev.ratelimit.kafka.KafkaClientListener> event) {
		try {
			event.accept(this.config.clientListener());
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.WARNING, "The Kafka client listener of the rate limit backend failed", ex);
		}
	}

	private void tellClosing(String id) {
		tell((listener) -> listener.closing(id));
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
		own.put(ProducerConfig.CLIENT_ID_CONFIG, clientId("requests"));
		own.put(ProducerConfig.LINGER_MS_CONFIG, 0);
		own.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.min(1000, requestTimeout));
		own.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, requestTimeout);
		own.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 2 * requestTimeout);
		return clientProperties(own);
	}

	private Properties consumerProperties() {
		Map<String, Object> own = new HashMap<>();
		own.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId("grants"));
		own.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		// a fetch returns as soon as a grant is there: the wait bounds only how often an idle consumer asks
		own.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, IDLE_FETCH_MILLIS);
		own.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
		own.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
		return clientProperties(own);
	}

	private KafkaStreams startAuthority() {
		Map<String, Object> own = new HashMap<>();
		own.put(StreamsConfig.APPLICATION_ID_CONFIG, this.config.applicationId());
		own.put(StreamsConfig.CLIENT_ID_CONFIG, clientId("authority"));
		own.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, this.config.processingGuarantee());
		own.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, this.config.commitInterval().toMillis());
		own.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, this.config.standbyReplicas());
		own.put(StreamsConfig.POLL_MS_CONFIG, StreamsConfig.AT_LEAST_ONCE.equals(this.config.processingGuarantee())
				? IDLE_POLL_MILLIS : Math.max(1, Math.min(IDLE_POLL_MILLIS_EXACTLY_ONCE, this.config.commitInterval().toMillis())));
		// Not an endpoint (nothing listens): without an application server, Kafka Streams tells an
		// instance about no other member, and the group's size is what divides a new key's bucket
		// into local allowances. Unique per process, in the characters a host name may have.
		own.put(StreamsConfig.APPLICATION_SERVER_CONFIG,
				this.config.instanceId().replaceAll("[^0-9a-zA-Z._-]", "-") + "." + Long.toHexString(this.incarnation) + ":1");
		own.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, OversizedRecordHandler.class);
		own.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), IDLE_FETCH_MILLIS);
		own.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 0);
		this.config.replicationFactor()
			.ifPresent((factor) -> own.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) factor));
		this.config.sessionTimeout().ifPresent((timeout) -> {
			own.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), (int) timeout.toMillis());
			own.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG),
					(int) Math.max(100, timeout.toMillis() / 3));
		});
		own.put(StreamsConfig.STATE_DIR_CONFIG, this.config.stateDir().orElseGet(this::temporaryStateDir));
		KafkaStreams streams = new KafkaStreams(AuthorityTopology.build(this.config.requestTopic(),
				this.config.grantTopic(), this.config.leaseTtl().toMillis(), this.malformed, this.coldKeysByTask),
				clientProperties(own));
		// the group's size the moment a rebalance ends, not up to a second later: a new key's local
		// allowance is its bucket divided by it, and instances starting together call at once
		streams.setStateListener((next, previous) -> {
			if (next == KafkaStreams.State.RUNNING) {
				updateFleet(streams);
			}
		});
		streams.setUncaughtExceptionHandler((failure) -> {
			this.lastError = "authority: " + failure;
			logger.log(System.Logger.Level.ERROR, "Rate limit authority failed; replacing its stream thread", failure);
			return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
		});
		tell((listener) -> listener.streamsCreated(this.config.applicationId(), streams));
		try {
			streams.start();
		}
		catch (RuntimeException ex) {
			// a later attempt creates another: this one, never started, goes with what heard of it
			tellClosing(this.config.applicationId());
			streams.close(Duration.ZERO);
			throw ex;
		}
		return streams;
	}

	private String temporaryStateDir() {
		try {
			// in-memory stores keep nothing here but locks and checkpoints; one directory per process
			this.temporaryStateDir = Files.createTempDirectory("ratelimit-authority-");
			return this.temporaryStateDir.toString();
		}
		catch (java.io.IOException ex) {
			throw new IllegalStateException("cannot create a state directory for the authority", ex);
		}
	}

	// ---- limiters --------------------------------------------------------------------------------

	/** Returns the named limiter of a name, created if needed; the keeper keeps it from now on. */
	public KafkaRateLimiter create(String name, RateLimit limit, RateLimiterListener listener) {
		return create(name, null, limit, listener);
	}

	/**
	 * Returns the limiter of a name, created if needed: with a {@code limiter}, the per-key limiter
	 * {@code limiter[key]}, counted in the metrics under {@code limiter}, which starts in the cold
	 * regime and is kept by the keeper only while it leases; without, a named one.
	 */
	public KafkaRateLimiter create(String name, String limiter, RateLimit limit, RateLimiterListener listener) {
		KafkaRateLimiter.checkShareable(name, limit);
		boolean keyed = limiter != null;
		KafkaRateLimiter created = this.limiters.computeIfAbsent(name, (key) -> new KafkaRateLimiter(key, keyed, limit,
				Ticker.system(), Scheduler.system(), listener, this));
		if (keyed) {
			created.group = limiter;
		}
		else {
			nudge(created);
		}
		return created;
	}

	/**
	 * Per-key limiters by limiter name: keys this instance keeps, in each regime (cold, leased) and
	 * degraded, and the permits admitted cold not yet reported.
	 */
	public Map<String, Map<String, Long>> keysByLimiter() {
		Map<String, Map<String, Long>> byLimiter = new java.util.TreeMap<>();
		for (KafkaRateLimiter limiter : this.limiters.values()) {
			if (!limiter.keyed) {
				continue;
			}
			Map<String, Long> counts = byLimiter.computeIfAbsent(String.valueOf(limiter.group),
					(name) -> zeroCounts());
			count(counts, limiter);
		}
		return byLimiter;
	}

	/**
	 * What this instance knows of the per-key limiters of one name: the counts of
	 * {@link #keysByLimiter()}, the debt their buckets reported, and the requests and report entries
	 * sent for them since start (many travel in one record).
	 */
	public Map<String, Object> keyedDetails(String name) {
		Map<String, Long> counts = zeroCounts();
		for (KafkaRateLimiter limiter : this.limiters.values()) {
			if (limiter.keyed && name.equals(limiter.group)) {
				count(counts, limiter);
			}
		}
		Map<String, Object> details = new LinkedHashMap<>(counts);
		LongAdder[] sent = this.sentByLimiter.get(name);
		details.put("requestsSent", (sent != null) ? sent[0].sum() : 0L);
		details.put("reportEntriesSent", (sent != null) ? sent[1].sum() : 0L);
		return details;
	}

	private static Map<String, Long> zeroCounts() {
		Map<String, Long> zero = new LinkedHashMap<>();
		for (String field : List.of("keys", "cold", "leased", "degraded", "debt", "unreportedColdPermits")) {
			zero.put(field, 0L);
		}
		return zero;
	}

	private static void count(Map<String, Long> counts, KafkaRateLimiter limiter) {
		counts.merge("keys", 1L, Long::sum);
		counts.merge(limiter.isCold() ? "cold" : "leased", 1L, Long::sum);
		if (limiter.isDegraded()) {
			counts.merge("degraded", 1L, Long::sum);
		}
		counts.merge("debt", limiter.debt(), Long::sum);
		counts.merge("unreportedColdPermits", limiter.unreportedColdPermits(), Long::sum);
	}

	/** Requests ([0]) and report entries ([1]) sent for the keys of each per-key limiter name. */
	private final Map<String, LongAdder[]> sentByLimiter = new ConcurrentHashMap<>();

	private void countSent(KafkaRateLimiter limiter, int index) {
		if (limiter.keyed && limiter.group != null) {
			this.sentByLimiter
				.computeIfAbsent(limiter.group, (name) -> new LongAdder[] { new LongAdder(), new LongAdder() })[index]
				.increment();
		}
	}

	/**
	 * Forgets a per-key limiter its registry forgot (its key at rest): the runtime keeps no limiter
	 * for a key at rest, so memory follows the keys in use. A leasing one leaves the key's bucket.
	 */
	public void release(KafkaRateLimiter limiter) {
		if (this.limiters.remove(limiter.key, limiter)) {
			limiter.released = true;
			this.toKeep.add(limiter); // the keeper drops it
			if (!limiter.isCold()) {
				limiter.leave();
			}
		}
	}

	@Override
	public void send(KafkaRateLimiter limiter, Messages.Request request, long spentSinceNanos) {
		if (!this.running) {
			return;
		}
		countSent(limiter, 0);
		Outgoing outgoing = new Outgoing(limiter.key, null, limiter, request, spentSinceNanos, null, null, null);
		if (Thread.currentThread() == this.keeper) {
			this.pass.add(outgoing); // sent with the rest of this keeper pass, per partition
			return;
		}
		queue(outgoing);
	}

	/**
	 * A request on its way to the producer: to a key's partition, or to a given one (probes, whose
	 * {@code limiter} is null); or a report ({@code report} and its {@code reporters}); or a batch of
	 * requests ({@code batch}) for one partition, with that partition's report if any.
	 */
	private record Outgoing(String key, Integer partition, KafkaRateLimiter limiter, Messages.Request request,
			long spentSinceNanos, Messages.Report report, List<KafkaRateLimiter> reporters, List<Outgoing> batch) {

		/**
		 * The request as it leaves: permits spent locally are reported with the time they span up to
		 * now, so the authority, reading the broker's append time, debits them as of when they began
		 * however long the request waited here (an outage queues requests for seconds).
		 */
		Messages.Request sent(long nowNanos) {
			return (this.request.spentTotal() > this.request.spentAcked())
					? this.request.withSpentOver((nowNanos - this.spentSinceNanos) / 1_000_000L) : this.request;
		}

	}

	/**
	 * Hands requests to the producer. The producer's {@code send} blocks while it has no metadata
	 * (a broker down for a while: up to {@code max.block.ms}); it does so here, never in the keeper,
	 * which meanwhile times requests out and bridges on the local share.
	 */
	private void sendOutbox() {
		while (this.running || !this.outbox.isEmpty()) {
			Outgoing outgoing;
			try {
				outgoing = this.outbox.poll(100, TimeUnit.MILLISECONDS);
			}
			catch (InterruptedException ex) {
				break;
			}
			if (outgoing == null) {
				continue;
			}
			if (outgoing.batch() != null) {
				sendBatch(outgoing);
				continue;
			}
			if (outgoing.report() != null) {
				sendReport(outgoing);
				continue;
			}
			Messages.Request request = outgoing.sent(System.nanoTime());
			try {
				this.producer.send(new ProducerRecord<>(this.config.requestTopic(), outgoing.partition(), outgoing.key(),
						request.encode()), (metadata, failure) -> {
							if (failure != null) {
								failed(outgoing, request, failure);
							}
						});
				this.requestsSent.increment();
			}
			catch (RuntimeException ex) {
				failed(outgoing, request, ex);
			}
		}
	}

	/** Sends a report of cold permits; if it fails, its permits go with the next report. */
	private void sendReport(Outgoing outgoing) {
		Messages.Report report = reportAsSent(outgoing, System.nanoTime());
		try {
			this.producer.send(new ProducerRecord<>(this.config.requestTopic(), outgoing.partition(), outgoing.key(),
					report.encode()), (metadata, failure) -> {
						if (failure != null) {
							reportFailed(outgoing, failure);
						}
					});
			this.reportsSent.increment();
		}
		catch (RuntimeException ex) {
			reportFailed(outgoing, ex);
		}
	}

	/** A report as it leaves: the time its permits span grows while it waited here (an outage queues it). */
	private static Messages.Report reportAsSent(Outgoing outgoing, long nowNanos) {
		long waited = Math.max(0, (nowNanos - outgoing.spentSinceNanos()) / 1_000_000L);
		List<Messages.Report.Entry> entries = new java.util.ArrayList<>(outgoing.report().entries().size());
		for (Messages.Report.Entry entry : outgoing.report().entries()) {
			entries.add(new Messages.Report.Entry(entry.key(), entry.limiterIncarnation(), entry.spent(),
					entry.spentOverMillis() + waited, entry.spec()));
		}
		return new Messages.Report(outgoing.report().instance(), outgoing.report().incarnation(), entries);
	}

	/**
	 * Sends requests for one partition (and its report) in one record; if it fails, each request
	 * fails as a single one would, and the report's permits go with the next report.
	 */
	private void sendBatch(Outgoing outgoing) {
		long now = System.nanoTime();
		List<Outgoing> entries = outgoing.batch();
		List<String> keys = new java.util.ArrayList<>(entries.size());
		List<Messages.Request> requests = new java.util.ArrayList<>(entries.size());
		for (Outgoing entry : entries) {
			keys.add(entry.key());
			requests.add(entry.sent(now));
		}
		Messages.Report report = (outgoing.report() != null) ? reportAsSent(outgoing, now) : null;
		java.util.function.Consumer<Exception> failed = (failure) -> {
			for (int i = 0; i < entries.size(); i++) {
				failed(entries.get(i), requests.get(i), failure);
			}
			if (report != null) {
				reportFailed(outgoing, failure);
			}
		};
		try {
			this.producer.send(new ProducerRecord<>(this.config.requestTopic(), outgoing.partition(), outgoing.key(),
					new Messages.Batch(this.config.instanceId(), report, keys, requests).encode()), (metadata, failure) -> {
						if (failure != null) {
							failed.accept(failure);
						}
					});
			this.batchesSent.increment();
			this.requestsSent.add(entries.size());
			if (report != null) {
				this.reportsSent.increment();
			}
		}
		catch (RuntimeException ex) {
			failed.accept(ex);
		}
	}

	private void reportFailed(Outgoing outgoing, Exception failure) {
		this.sendFailures.increment();
		this.lastError = "send: " + failure.getMessage();
		List<Messages.Report.Entry> entries = outgoing.report().entries();
		for (int i = 0; i < entries.size(); i++) {
			outgoing.reporters().get(i).reportFailed(entries.get(i).spent());
		}
	}

	/**
	 * Takes the cold permits admitted since the last report: one report per request partition
	 * (split at {@link Messages#MAX_REPORT_ENTRIES} keys or {@link Messages#MAX_BATCH_BYTES} bytes).
	 */
	private Map<Integer, List<Outgoing>> report(long now) {
		Map<Integer, List<KafkaRateLimiter>> byPartition = new HashMap<>();
		Map<Integer, List<Messages.Report.Entry>> entries = new HashMap<>();
		Map<Integer, Integer> sizes = new HashMap<>();
		Map<Integer, List<Outgoing>> reports = new HashMap<>();
		for (KafkaRateLimiter limiter = this.toReport.poll(); limiter != null; limiter = this.toReport.poll()) {
			long[] taken = limiter.takeColdReport(now);
			if (taken[0] <= 0) {
				continue;
			}
			int partition = partitionOf(limiter.key);
			List<Messages.Report.Entry> list = entries.computeIfAbsent(partition, (p) -> new java.util.ArrayList<>());
			List<KafkaRateLimiter> sources = byPartition.computeIfAbsent(partition, (p) -> new java.util.ArrayList<>());
			list.add(new Messages.Report.Entry(limiter.key, limiter.incarnation, taken[0], taken[1],
					KafkaRateLimiter.spec(limiter.limit())));
			sources.add(limiter);
			countSent(limiter, 1);
			int size = sizes.merge(partition, 64 + 3 * limiter.key.length(), Integer::sum);
			if (list.size() == Messages.MAX_REPORT_ENTRIES || size >= Messages.MAX_BATCH_BYTES) {
				reports.computeIfAbsent(partition, (p) -> new java.util.ArrayList<>())
					.add(reportOf(partition, entries.remove(partition), byPartition.remove(partition), now));
				sizes.remove(partition);
			}
		}
		entries.forEach((partition, list) -> reports.computeIfAbsent(partition, (p) -> new java.util.ArrayList<>())
			.add(reportOf(partition, list, byPartition.get(partition), now)));
		return reports;
	}

	private Outgoing reportOf(int partition, List<Messages.Report.Entry> entries, List<KafkaRateLimiter> sources,
			long now) {
		Messages.Report report = new Messages.Report(this.config.instanceId(), this.incarnation, entries);
		return new Outgoing("(report)" + this.config.instanceId(), partition, null, null, now, report, sources, null);
	}

	/**
	 * Hands what one keeper pass produced to the sender, one record per request partition where it
	 * can: the pass's requests for a partition go in one batch with the partition's report (a key
	 * over its limit asks at the report's cadence, so the keys of a partition travel together); a
	 * lone request goes as it is.
	 */
	private void flushPass(Map<Integer, List<Outgoing>> reports, long now) {
		Map<Integer, List<Outgoing>> requests = new java.util.TreeMap<>();
		for (Outgoing outgoing : this.pass) {
			requests.computeIfAbsent(partitionOf(outgoing.key()), (p) -> new java.util.ArrayList<>()).add(outgoing);
		}
		this.pass.clear();
		java.util.Set<Integer> partitions = new java.util.TreeSet<>(requests.keySet());
		partitions.addAll(reports.keySet());
		for (int partition : partitions) {
			List<Outgoing> pending = requests.getOrDefault(partition, List.of());
			java.util.Deque<Outgoing> toReport = new java.util.ArrayDeque<>(reports.getOrDefault(partition, List.of()));
			if (pending.size() == 1 && toReport.isEmpty()) {
				queue(pending.get(0));
				continue;
			}
			List<Outgoing> chunk = new java.util.ArrayList<>();
			int bytes = 0;
			for (Outgoing outgoing : pending) {
				int size = 160 + 3 * (outgoing.key().length() + this.config.instanceId().length());
				if (!chunk.isEmpty() && (chunk.size() == Messages.MAX_BATCH_REQUESTS || bytes + size > Messages.MAX_BATCH_BYTES)) {
					queue(batchOf(partition, chunk, toReport.poll(), now));
					chunk = new java.util.ArrayList<>();
					bytes = 0;
				}
				chunk.add(outgoing);
				bytes += size;
			}
			if (!chunk.isEmpty()) {
				queue(batchOf(partition, chunk, toReport.poll(), now));
			}
			toReport.forEach(this::queue);
		}
	}

	private Outgoing batchOf(int partition, List<Outgoing> requests, Outgoing report, long now) {
		return new Outgoing("(batch)" + this.config.instanceId(), partition, null, null,
				(report != null) ? report.spentSinceNanos() : now, (report != null) ? report.report() : null,
				(report != null) ? report.reporters() : null, List.copyOf(requests));
	}

	private void queue(Outgoing outgoing) {
		if (this.running && this.connected && this.outbox.offer(outgoing)) {
			return;
		}
		IllegalStateException full = new IllegalStateException(
				this.connected ? OUTBOX_SIZE + " requests wait to be sent" : "Kafka not reached yet");
		if (outgoing.batch() != null) {
			outgoing.batch().forEach((entry) -> failed(entry, entry.request(), full));
		}
		else if (outgoing.request() != null) {
			failed(outgoing, outgoing.request(), full);
		}
		if (outgoing.report() != null) {
			reportFailed(outgoing, full);
		}
	}

	private void failed(Outgoing outgoing, Messages.Request request, Exception failure) {
		this.sendFailures.increment();
		this.lastError = "send: " + failure.getMessage();
		if (outgoing.limiter() != null) {
			outgoing.limiter().sendFailed(request, failure);
		}
	}

	@Override
	public void enteredDegraded() {
		this.degradedTransitions.increment();
	}

	@Override
	public void nudge(KafkaRateLimiter limiter) {
		this.toKeep.add(limiter);
		if (!limiter.walkedAtReportsOnly()) {
			LockSupport.unpark(this.keeper); // one walked at reports only waits for the next report anyway
		}
	}

	@Override
	public void reportLater(KafkaRateLimiter limiter) {
		this.toReport.add(limiter);
	}

	@Override
	public long nextIncarnation() {
		return (this.incarnation + this.limiterSerial.incrementAndGet()) & Long.MAX_VALUE;
	}

	@Override
	public long nextReportNanos() {
		return this.nextReportNanos;
	}

	@Override
	public Duration reportInterval() {
		return this.config.reportInterval();
	}

	@Override
	public long restAfterNanos() {
		return Math.max(this.config.idleReturn().toNanos(), this.config.leaseTtl().toNanos());
	}

	@Override
	public int fleetSize() {
		return Math.max(this.fleet, this.fleetFromGrants);
	}

	@Override
	public boolean unreachable() {
		long answered = this.probeAnsweredNanos;
		return answered == 0 || (this.probeInFlight != 0
				&& System.nanoTime() - this.probeSentNanos > this.config.requestTimeout().toNanos());
	}

	@Override
	public String instanceId() {
		return this.config.instanceId();
	}

	@Override
	public DegradedPolicy policy() {
		return this.config.degradedPolicy();
	}

	@Override
	public Duration leaseHorizon() {
		return this.config.leaseHorizon();
	}

	// ---- threads ---------------------------------------------------------------------------------

	private void keep() {
		long interval = this.config.keeperInterval().toNanos();
		long requestTimeout = this.config.requestTimeout().toNanos();
		long idleReturn = this.config.idleReturn().toNanos();
		double lowWater = this.config.lowWater();
		long lastReport = System.nanoTime();
		long reportInterval = this.config.reportInterval().toNanos(); // one record per partition with any
		this.nextReportNanos = lastReport + reportInterval;
		long lastFleet = 0;
		while (this.running) {
			long now = System.nanoTime();
			probe(now, requestTimeout);
			boolean reporting = now - lastReport >= reportInterval;
			takeNudges();
			if (reporting) {
				for (int i = 0; i < this.atReports.size();) {
					KafkaRateLimiter limiter = this.atReports.get(i);
					if (!limiter.released) {
						keep(limiter, now, requestTimeout, idleReturn, lowWater);
					}
					if (limiter.released || limiter.isQuiet(now, idleReturn)) {
						this.atReports.remove(limiter); // a nudge brings it back when it is used
					}
					else {
						i++;
					}
				}
			}
			for (int i = 0; i < this.everyPass.size();) {
				KafkaRateLimiter limiter = this.everyPass.get(i);
				boolean atReportsOnly = limiter.walkedAtReportsOnly();
				if (!limiter.released && (reporting || !atReportsOnly)) {
					keep(limiter, now, requestTimeout, idleReturn, lowWater);
				}
				if (limiter.released || limiter.isQuiet(now, idleReturn)) {
					this.everyPass.remove(limiter); // a nudge brings it back when it is used
				}
				else if (atReportsOnly) {
					this.atReports.add(limiter); // until the next report (a nudge brings it back meanwhile)
				}
				else {
					i++;
				}
			}
			this.kept = this.everyPass.size() + this.atReports.size();
			boolean everyPass = this.everyPass.size() > 0;
			Map<Integer, List<Outgoing>> reports = Map.of();
			// not connected, cold permits wait in their limiters for the first report after connecting
			if (reporting && this.connected) {
				lastReport = now;
				this.nextReportNanos = now + reportInterval;
				try {
					reports = report(now);
				}
				catch (RuntimeException ex) {
					this.lastError = "keeper: " + ex;
				}
			}
			try {
				// not connected, queue() fails each request at once: its limiter decides under the degraded policy
				flushPass(reports, now);
			}
			catch (RuntimeException ex) {
				this.lastError = "keeper: " + ex;
			}
			if (!this.connected) {
				LockSupport.parkNanos(this, IDLE_PARK_NANOS);
				continue;
			}
			if (now - lastFleet >= PROBE_INTERVAL_NANOS) {
				lastFleet = now;
				updateFleet(this.streams);
			}
			// nothing to walk every pass: wake for the probes and reports only (a call that needs a lease nudges)
			LockSupport.parkNanos(this, everyPass ? interval
					: Math.max(interval, Math.min(IDLE_PARK_NANOS, this.nextReportNanos - System.nanoTime())));
		}
	}

	/** Takes the limiters handed to the keeper since its last pass into the set walked every pass. */
	private void takeNudges() {
		for (KafkaRateLimiter limiter = this.toKeep.poll(); limiter != null; limiter = this.toKeep.poll()) {
			if (limiter.released) {
				if (limiter.keptIn != null) {
					limiter.keptIn.remove(limiter);
				}
			}
			else {
				this.everyPass.add(limiter);
			}
		}
	}

	private void keep(KafkaRateLimiter limiter, long now, long requestTimeout, long idleReturn, double lowWater) {
		try {
			limiter.keep(now, requestTimeout, idleReturn, lowWater);
		}
		catch (RuntimeException ex) {
			this.lastError = "keeper: " + ex;
		}
	}

	/** How long the keeper sleeps when no limiter leases. */
	private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	/** The authority group's size: every instance running the authority is a member. */
	private void updateFleet(KafkaStreams streams) {
		if (streams == null || streams.state() != KafkaStreams.State.RUNNING) {
			return;
		}
		try {
			this.fleet = Math.max(1, streams.metadataForAllStreamsClients().size());
		}
		catch (RuntimeException ex) {
			// metadata is not available while rebalancing: keep the last size
		}
	}

	/**
	 * Sends a health probe when none is in flight and the last answer is older than the probe
	 * interval, or when the one in flight timed out: health is UP only while probes are answered.
	 * Probes go to the request partitions in turn, so every authority task is checked; the first
	 * round goes to all of them at once, which also warms each task's path before leases need it.
	 */
	private void probe(long now, long requestTimeout) {
		long inFlight = this.probeInFlight;
		boolean firstRound = this.probeAnsweredNanos == 0;
		boolean due = (inFlight == 0) ? firstRound || now - this.probeAnsweredNanos >= PROBE_INTERVAL_NANOS
				: now - this.probeSentNanos > requestTimeout;
		KafkaStreams streams = this.streams;
		if (!due || !this.connected || (streams != null && streams.state() != KafkaStreams.State.RUNNING)) {
			return;
		}
		int count = firstRound ? this.requestPartitions : 1;
		this.probeSentNanos = now;
		for (int i = 0; i < count; i++) {
			long seq = this.probeSeq.incrementAndGet();
			this.probeInFlight = seq;
			Messages.Request request = new Messages.Request(Messages.PROBE, this.config.instanceId(), this.incarnation,
					seq, 0, 0, 0, 0, 0, 0, 0, PROBE_SPEC);
			int partition = (int) (seq % this.requestPartitions);
			this.outbox.offer(new Outgoing(this.probeKey, partition, null, request, 0, null, null, null));
		}
	}

	private void receive() {
		while (this.running) {
			if (!this.connected) {
				LockSupport.parkNanos(this, IDLE_PARK_NANOS); // the consumer is the connector's until then
				continue;
			}
			ConsumerRecords<String, byte[]> records;
			try {
				records = this.consumer.poll(Duration.ofMillis(IDLE_FETCH_MILLIS)); // returns as soon as grants arrive
			}
			catch (WakeupException ex) {
				break;
			}
			catch (RuntimeException ex) {
				this.lastError = "grants: " + ex.getMessage();
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
				continue;
			}
			long received = System.nanoTime();
			for (ConsumerRecord<String, byte[]> record : records) {
				try {
					apply(record, received);
				}
				catch (Throwable ex) {
					// whatever one grant (or a listener it reaches) throws, this thread goes on receiving
					skippedGrant(record, ex);
				}
			}
		}
	}

	/**
	 * Counts a grant record (or one grant of it) that could not be read or applied, and logs each
	 * cause once. The receiving thread goes on; only an error of the JVM itself (out of memory, an
	 * internal error) ends it.
	 */
	private void skippedGrant(ConsumerRecord<String, byte[]> record, Throwable ex) {
		if (Causes.isFatal(ex)) {
			throw (VirtualMachineError) ex;
		}
		this.malformed.increment();
		this.lastError = "grants: " + ex;
		if (this.loggedCauses.firstOf(ex)) {
			logger.log(System.Logger.Level.WARNING, "Skipping a grant record at {0}-{1} offset {2}: {3} "
					+ "(further ones of this cause are only counted)", record.topic(), record.partition(),
					record.offset(), String.valueOf(ex));
		}
	}

	private void apply(ConsumerRecord<String, byte[]> record, long received) {
		List<Messages.Grant> grants;
		java.util.function.Consumer<RuntimeException> malformed = (ex) -> skippedGrant(record, ex);
		try {
			grants = Messages.Grants.decodeAny(record.value(), malformed);
		}
		catch (MalformedRecordException ex) {
			malformed.accept(ex);
			return;
		}
		for (Messages.Grant grant : grants) {
			try {
				apply(grant, received);
			}
			catch (Throwable ex) {
				// whatever one grant (or a listener it reaches) throws, the others of the record still apply
				skippedGrant(record, ex);
			}
		}
	}

	private void apply(Messages.Grant grant, long received) {
		if (!grant.instance().equals(this.config.instanceId())) {
			return; // another instance's grant on the same partition
		}
		if (grant.key().equals(this.probeKey)) {
			if (grant.incarnation() != this.incarnation) {
				return; // a probe of an earlier run of this instance
			}
			if (grant.seq() == this.probeInFlight) {
				this.probeRoundTripNanos = received - this.probeSentNanos;
				this.probeAnsweredNanos = received;
				this.probeInFlight = 0;
			}
			else if (grant.seq() < this.probeInFlight && this.probeAnsweredNanos == 0) {
				this.probeAnsweredNanos = received; // the first round: any answer shows grants flow
			}
			return;
		}
		KafkaRateLimiter limiter = this.limiters.get(grant.key());
		if (limiter != null && limiter.incarnation == grant.incarnation()) {
			if (this.probeAnsweredNanos != 0 && this.probeInFlight == 0) {
				// an answer to a limiter shows grants flow as a probe's would: no probe while they do
				this.probeAnsweredNanos = received;
			}
			this.grantsReceived.increment();
			if (grant.instances() > this.fleetFromGrants) {
				this.fleetFromGrants = grant.instances();
			}
			long before = limiter.lastRoundTripNanos();
			limiter.onGrant(grant, received);
			long after = limiter.lastRoundTripNanos();
			if (after != before && after >= 0) {
				this.roundTrips.set((int) (this.roundTripCount.getAndIncrement() % ROUND_TRIPS_KEPT), after);
				for (java.util.function.LongConsumer recorder : this.roundTripRecorders) {
					try {
						recorder.accept(after);
					}
					catch (RuntimeException ex) {
						this.lastError = "round-trip recorder: " + ex;
					}
				}
			}
		}
	}

	// ---- health and metrics ------------------------------------------------------------------------

	public BackendHealth health() {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("cluster", this.config.clusterId());
		details.put("instance", this.config.instanceId());
		details.put("policy", this.config.degradedPolicy().name());
		details.put("connected", this.connected);
		if (!this.running) {
			return new BackendHealth(BackendHealth.Status.DOWN, details);
		}
		long degraded = this.limiters.values().stream().filter(KafkaRateLimiter::isDegraded).count();
		details.put("limiters", this.limiters.size());
		details.put("degradedLimiters", degraded);
		if (this.streams != null) {
			details.put("authority", this.streams.state().name());
			details.put("ownedPartitions", ownedPartitions().toString());
		}
		details.putAll(metrics());
		if (this.lastError != null) {
			details.put("lastError", this.lastError);
		}
		String reason = null;
		if (!this.connected) {
			reason = "Kafka not reached yet (" + this.connectError + "): limiters decide under the "
					+ this.config.degradedPolicy() + " policy; retrying";
		}
		else if (this.streams != null && this.streams.state() != KafkaStreams.State.RUNNING) {
			reason = "the authority is " + this.streams.state() + ", not RUNNING: grants may pause";
		}
		long answered = this.probeAnsweredNanos;
		long now = System.nanoTime();
		if (answered == 0) {
			reason = (reason != null) ? reason : "no grant round trip has succeeded yet";
		}
		else {
			details.put("probeAnsweredMillisAgo", (now - answered) / 1_000_000);
			details.put("probeRoundTripMillis", this.probeRoundTripNanos / 1e6);
			long waiting = (this.probeInFlight != 0) ? now - this.probeSentNanos : 0;
			if (reason == null && waiting > this.config.requestTimeout().toNanos()) {
				reason = "no answer to a probe for " + waiting / 1_000_000 + " ms";
			}
		}
		if (reason == null && degraded > 0) {
			reason = degraded + " limiter(s) decide under the degraded policy";
		}
		if (reason == null) {
			long late = this.limiters.values().stream().filter(KafkaRateLimiter::isLate).count();
			if (late > 0) {
				reason = late + " limiter(s) wait for a grant that is late (over "
						+ KeeperStep.LATE_NANOS / 1_000_000 + " ms) with their lease spent";
			}
		}
		if (reason != null) {
			details.put("reason", reason);
		}
		return new BackendHealth((reason != null) ? BackendHealth.Status.DEGRADED : BackendHealth.Status.UP, details);
	}

	public Map<String, Object> metrics() {
		Map<String, Object> metrics = new LinkedHashMap<>();
		dev.ratelimit.kafka.BackendCounters counters = counters();
		metrics.put("requestsSent", counters.requestsSent());
		metrics.put("reportsSent", counters.reportsSent());
		metrics.put("batchesSent", counters.batchesSent());
		metrics.put("limiters", counters.limiters());
		metrics.put("leasingLimiters", counters.leasingLimiters());
		Map<String, Map<String, Long>> keys = keysByLimiter();
		if (!keys.isEmpty()) {
			metrics.put("keysByLimiter", keys);
		}
		metrics.put("grantsReceived", counters.grantsReceived());
		metrics.put("sendFailures", counters.sendFailures());
		metrics.put("malformedRecords", counters.malformedRecords());
		long[] sorted = roundTripsSorted();
		if (sorted.length > 0) {
			metrics.put("roundTripP50Millis", sorted[sorted.length / 2] / 1e6);
			metrics.put("roundTripP99Millis", sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6);
		}
		return metrics;
	}

	/** The most recent lease round trips (up to 4,096), sorted, in nanoseconds. */
	public long[] roundTripsSorted() {
		int count = (int) Math.min(this.roundTripCount.get(), ROUND_TRIPS_KEPT);
		long[] values = new long[count];
		for (int i = 0; i < count; i++) {
			values[i] = this.roundTrips.get(i);
		}
		java.util.Arrays.sort(values);
		return values;
	}

	public long malformedRecords() {
		return this.malformed.sum();
	}

	/** What this runtime counted so far (see {@link dev.ratelimit.kafka.KafkaRateLimiterBackend#counters()}). */
	public dev.ratelimit.kafka.BackendCounters counters() {
		return new dev.ratelimit.kafka.BackendCounters(this.requestsSent.sum(), this.reportsSent.sum(),
				this.batchesSent.sum(), this.grantsReceived.sum(), this.sendFailures.sum(), this.malformed.sum(),
				this.degradedTransitions.sum(), this.limiters.size(), this.kept);
	}

	/** Adds a recorder of each lease round trip, in nanoseconds, called on the grant-receiving thread. */
	public void onRoundTrip(java.util.function.LongConsumer recorder) {
		this.roundTripRecorders.add(java.util.Objects.requireNonNull(recorder, "recorder"));
	}

	public long requestsSent() {
		return this.requestsSent.sum();
	}

	/** The request partition a limiter key goes to (what the producer's partitioner picks). */
	@Override
	public int partitionOf(String key) {
		int partitions = this.requestPartitions;
		if (partitions == 0) {
			return -1; // not connected: the request topic's partitions are not known yet
		}
		return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
	}

	@Override
	public boolean owns(int partition) {
		return ownedPartitions().contains(partition);
	}

	/** The request partitions whose keys this instance's authority owns right now. */
	public java.util.Set<Integer> ownedPartitions() {
		java.util.Set<Integer> owned = new java.util.TreeSet<>();
		if (this.streams != null && this.streams.state().isRunningOrRebalancing()) {
			this.streams.metadataForLocalThreads()
				.forEach((thread) -> thread.activeTasks()
					.forEach((task) -> task.topicPartitions().forEach((partition) -> owned.add(partition.partition()))));
		}
		return owned;
	}

	/** The limiters this runtime keeps (and its keeper walks). */
	public int limiterCount() {
		return this.limiters.size();
	}

	/** The keys whose state the authority keeps in this instance's tasks, or -1 when it cannot tell. */
	public long authorityKeys() {
		if (this.streams == null || this.streams.state() != KafkaStreams.State.RUNNING) {
			return -1;
		}
		try {
			return this.streams
				.store(org.apache.kafka.streams.StoreQueryParameters.fromNameAndType(AuthorityTopology.STORE,
						org.apache.kafka.streams.state.QueryableStoreTypes.<String, byte[]>keyValueStore()))
				.approximateNumEntries() + this.coldKeysByTask.values().stream().mapToLong(Integer::longValue).sum();
		}
		catch (org.apache.kafka.streams.errors.InvalidStateStoreException ex) {
			return -1;
		}
	}

	public KafkaStreams.State authorityState() {
		return (this.streams != null) ? this.streams.state() : null;
	}

	// ---- shutdown ----------------------------------------------------------------------------------

	/** Gives unspent leases back, then stops every client and thread. */
	@Override
	public void close() {
		if (!this.running) {
			return;
		}
		for (KafkaRateLimiter limiter : this.limiters.values()) {
			limiter.leave();
		}
		this.running = false;
		stop(true);
	}

	/** Stops without giving leases back or leaving cleanly, as a crash would (for tests). */
	public void abandon() {
		this.running = false;
		stop(false);
	}

	private void stop(boolean graceful) {
		if (this.connector != null) {
			this.connector.interrupt(); // a set-up call in flight ends now; the authority, if it started, is closed below
			join(this.connector);
		}
		LockSupport.unpark(this.keeper);
		this.consumer.wakeup();
		join(this.keeper);
		join(this.receiver);
		if (!graceful) {
			this.outbox.clear();
		}
		join(this.sender); // a graceful stop sends what the outbox holds (the goodbyes) first
		Duration wait = graceful ? Duration.ofSeconds(10) : Duration.ZERO;
		tellClosing(clientId("requests"));
		this.producer.close(graceful ? Duration.ofSeconds(5) : Duration.ZERO);
		if (this.streams != null) {
			tellClosing(this.config.applicationId());
			if (graceful) {
				// leave the group, so a survivor takes this instance's buckets over at once rather than
				// after the session timeout (a rolling deploy would otherwise degrade their keys)
				this.streams.close(org.apache.kafka.streams.CloseOptions.timeout(wait)
					.withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
			}
			else {
				this.streams.close(wait);
			}
		}
		tellClosing(clientId("grants"));
		this.consumer.close(Duration.ZERO);
		tellClosing(clientId("admin"));
		this.admin.close(graceful ? Duration.ofSeconds(5) : Duration.ZERO);
		deleteTemporaryStateDir();
	}

	private void deleteTemporaryStateDir() {
		java.nio.file.Path directory = this.temporaryStateDir;
		if (directory == null) {
			return;
		}
		try (java.util.stream.Stream<java.nio.file.Path> paths = Files.walk(directory)) {
			paths.sorted(java.util.Comparator.reverseOrder()).forEach((path) -> path.toFile().delete());
		}
		catch (java.io.IOException | java.io.UncheckedIOException ex) {
			// a temporary directory left behind is harmless
		}
	}

	private static void join(Thread thread) {
		try {
			thread.join(TimeUnit.SECONDS.toMillis(10));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
