package dev.ratelimit.kafka;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import dev.ratelimit.internal.Errors;

/**
 * Settings of the Kafka backend. Immutable; built with {@link #builder(String)}, every value
 * checked when built.
 *
 * <p>Instances with the same {@link #clusterId()} share limits: same limiter name (and key), one
 * bucket. Topics are named after the cluster id: {@code <prefix>-requests}, {@code <prefix>-grants},
 * and the authority's changelog {@code <prefix>-authority-buckets-changelog}, with
 * {@code prefix = ratelimit-<clusterId>}.
 */
public final class KafkaBackendConfig {

	private final String bootstrapServers;

	/** The commit interval under {@code at_least_once} unless set: a key's state is written once per commit. */
	private static final Duration AT_LEAST_ONCE_COMMIT_INTERVAL = Duration.ofSeconds(5);

	/** The commit interval under {@code exactly_once_v2} unless set: a grant waits for the commit. */
	private static final Duration EXACTLY_ONCE_COMMIT_INTERVAL = Duration.ofMillis(50);

	private final String clusterId;

	private final String instanceId;

	private final Map<String, Object> clientProperties;

	private final int requestPartitions;

	private final int grantPartitions;

	private final Optional<Short> replicationFactor;

	private final boolean createTopics;

	private final boolean authority;

	private final Duration leaseTtl;

	private final Duration leaseHorizon;

	private final double lowWater;

	private final Duration requestTimeout;

	private final Duration keeperInterval;

	private final Duration idleReturn;

	private final Duration reportInterval;

	private final DegradedPolicy degradedPolicy;

	private final String processingGuarantee;

	private final Duration commitInterval;

	private final int standbyReplicas;

	private final Optional<Duration> sessionTimeout;

	private final Optional<String> stateDir;

	private final Optional<Boolean> failFast;

	private final int expectedInstances;

	private final KafkaClientListener clientListener;

	private KafkaBackendConfig(Builder builder) {
		this.bootstrapServers = builder.bootstrapServers;
		this.clusterId = builder.clusterId;
		this.instanceId = builder.instanceId;
		this.clientProperties = Map.copyOf(builder.clientProperties);
		this.requestPartitions = builder.requestPartitions;
		this.grantPartitions = builder.grantPartitions;
		this.replicationFactor = builder.replicationFactor;
		this.createTopics = builder.createTopics;
		this.authority = builder.authority;
		this.leaseTtl = builder.leaseTtl;
		this.leaseHorizon = builder.leaseHorizon;
		this.lowWater = builder.lowWater;
		this.requestTimeout = builder.requestTimeout;
		this.keeperInterval = builder.keeperInterval;
		this.idleReturn = builder.idleReturn;
		this.reportInterval = builder.reportInterval;
		this.degradedPolicy = builder.degradedPolicy;
		this.processingGuarantee = builder.processingGuarantee;
		this.commitInterval = (builder.commitInterval != null) ? builder.commitInterval
				: "exactly_once_v2".equals(builder.processingGuarantee) ? EXACTLY_ONCE_COMMIT_INTERVAL : AT_LEAST_ONCE_COMMIT_INTERVAL;
		this.standbyReplicas = builder.standbyReplicas;
		this.sessionTimeout = builder.sessionTimeout;
		this.stateDir = builder.stateDir;
		this.failFast = builder.failFast;
		this.expectedInstances = builder.expectedInstances;
		this.clientListener = builder.clientListener;
	}

	/**
	 * Starts a configuration.
	 * @param bootstrapServers the Kafka bootstrap servers, {@code host:port,...}
	 * @return the builder
	 */
	public static Builder builder(String bootstrapServers) {
		return new Builder(bootstrapServers);
	}


	/**
	 * Returns the Kafka bootstrap servers.
	 * @return {@code host:port,...}
	 */
	public String bootstrapServers() {
		return this.bootstrapServers;
	}


	/**
	 * Returns the name of the group of instances that share limits.
	 * @return the cluster id
	 */
	public String clusterId() {
		return this.clusterId;
	}


	/**
	 * Returns this instance's id.
	 * @return the instance id
	 */
	public String instanceId() {
		return this.instanceId;
	}

	/** Extra properties for every client (security, SASL/SSL, client tuning). */
	public Map<String, Object> clientProperties() {
		return this.clientProperties;
	}


	/**
	 * Returns the partitions of the request topic when it is created.
	 * @return the partition count
	 */
	public int requestPartitions() {
		return this.requestPartitions;
	}


	/**
	 * Returns the partitions of the grant topic when it is created.
	 * @return the partition count
	 */
	public int grantPartitions() {
		return this.grantPartitions;
	}


	/**
	 * Returns the replication factor of the topics and the changelog, empty for the broker's default.
	 * @return the replication factor, if set
	 */
	public Optional<Short> replicationFactor() {
		return this.replicationFactor;
	}


	/**
	 * Returns whether missing topics are created at start-up.
	 * @return whether to create topics
	 */
	public boolean createTopics() {
		return this.createTopics;
	}


	/**
	 * Returns whether this instance runs the authority.
	 * @return whether to run the authority
	 */
	public boolean authority() {
		return this.authority;
	}


	/**
	 * Returns how long a lease may be spent after it is granted.
	 * @return the lease lifetime
	 */
	public Duration leaseTtl() {
		return this.leaseTtl;
	}


	/**
	 * Returns how much of an instance's demand one lease covers.
	 * @return the lease horizon
	 */
	public Duration leaseHorizon() {
		return this.leaseHorizon;
	}


	/**
	 * Returns the fraction of the last lease left at which more is asked for.
	 * @return the low-water fraction
	 */
	public double lowWater() {
		return this.lowWater;
	}


	/**
	 * Returns how long to wait for a grant before degrading.
	 * @return the request timeout
	 */
	public Duration requestTimeout() {
		return this.requestTimeout;
	}


	/**
	 * Returns how often the keeper thread looks at every lease.
	 * @return the keeper interval
	 */
	public Duration keeperInterval() {
		return this.keeperInterval;
	}


	/**
	 * Returns how long a key may be unused before its lease is given back.
	 * @return the idle time
	 */
	public Duration idleReturn() {
		return this.idleReturn;
	}

	/**
	 * Returns how often an instance reports the permits its per-key limiters admitted in the cold
	 * regime: one record per request partition with any, per interval.
	 * @return the report interval
	 */
	public Duration reportInterval() {
		return this.reportInterval;
	}


	/**
	 * Returns what limiters do while grants do not come.
	 * @return the degraded policy
	 */
	public DegradedPolicy degradedPolicy() {
		return this.degradedPolicy;
	}


	/**
	 * Returns the authority's processing guarantee.
	 * @return {@code at_least_once} or {@code exactly_once_v2}
	 */
	public String processingGuarantee() {
		return this.processingGuarantee;
	}


	/**
	 * Returns the authority's commit interval: as set, or else 5 s under {@code at_least_once} and
	 * 50 ms under {@code exactly_once_v2}.
	 * @return the commit interval
	 */
	public Duration commitInterval() {
		return this.commitInterval;
	}


	/**
	 * Returns the standby replicas of the authority's state.
	 * @return the standby count
	 */
	public int standbyReplicas() {
		return this.standbyReplicas;
	}


	/**
	 * Returns the authority's consumer session timeout: how long a crashed instance keeps the
	 * buckets its authority owned (6 s unless set; empty only for Kafka Streams' own default of 45 s).
	 * @return the session timeout, if set
	 */
	public Optional<Duration> sessionTimeout() {
		return this.sessionTimeout;
	}


	/**
	 * Returns the authority's state directory, empty for a temporary one.
	 * @return the state directory, if set
	 */
	public Optional<String> stateDir() {
		return this.stateDir;
	}

	/**
	 * Returns whether start-up fails when Kafka cannot be reached: as set, or else only under
	 * {@link DegradedPolicy#FAIL_CLOSED} (which would deny every call until Kafka is reached). When
	 * it does not fail, the backend starts degraded and connects in the background; a topic found
	 * misconfigured fails start-up either way.
	 * @return whether an unreachable Kafka fails start-up
	 */
	public boolean failFast() {
		return this.failFast.orElse(this.degradedPolicy == DegradedPolicy.FAIL_CLOSED);
	}

	/**
	 * Returns how many instances this one assumes share the limits until it has seen the group
	 * (1 unless set): the local share under {@link DegradedPolicy#LOCAL_SHARE} before Kafka was ever
	 * reached is the rate divided by it, and so is a new key's cold part before the first rebalance.
	 * @return the assumed fleet size, at least 1
	 */
	public int expectedInstances() {
		return this.expectedInstances;
	}

	/**
	 * Returns what hears of the backend's Kafka clients.
	 * @return the listener, {@link KafkaClientListener#NONE} unless set
	 */
	public KafkaClientListener clientListener() {
		return this.clientListener;
	}

	/** The prefix of the backend's topics and application id. */
	public String prefix() {
		return "ratelimit-" + this.clusterId;
	}


	/**
	 * Returns the request topic's name.
	 * @return {@code ratelimit-<clusterId>-requests}
	 */
	public String requestTopic() {
		return prefix() + "-requests";
	}


	/**
	 * Returns the grant topic's name.
	 * @return {@code ratelimit-<clusterId>-grants}
	 */
	public String grantTopic() {
		return prefix() + "-grants";
	}


	/**
	 * Returns the name of the compacted topic that holds the runtime rules of the application's
	 * limiters ({@link KafkaRuleBook}).
	 * @return {@code ratelimit-<clusterId>-rules}
	 */
	public String rulesTopic() {
		return prefix() + "-rules";
	}

	/**
	 * Returns the authority's Kafka Streams application id.
	 * @return {@code ratelimit-<clusterId>-authority}
	 */
	public String applicationId() {
		return prefix() + "-authority";
	}


	/**
	 * Returns the name of the changelog topic that holds the limiter state.
	 * @return the changelog topic
	 */
	public String changelogTopic() {
		return applicationId() + "-buckets-changelog";
	}

	@Override
	public String toString() {
		return "KafkaBackendConfig[cluster=" + this.clusterId + ", instance=" + this.instanceId + ", bootstrap="
				+ this.bootstrapServers + ", authority=" + this.authority + ", leaseTtl=" + this.leaseTtl
				+ ", leaseHorizon=" + this.leaseHorizon + ", policy=" + this.degradedPolicy + ", guarantee="
				+ this.processingGuarantee + ", commitInterval=" + this.commitInterval + "]";
	}

	static String defaultInstanceId() {
		String host;
		try {
			host = InetAddress.getLocalHost().getHostName();
		}
		catch (Exception ex) {
			host = "host";
		}
		return host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
	}

	/** Builds a {@link KafkaBackendConfig}. */
	public static final class Builder {

		private final String bootstrapServers;

		private String clusterId = "default";

		private String instanceId = defaultInstanceId();

		private final Map<String, Object> clientProperties = new HashMap<>();

		private int requestPartitions = 6;

		private int grantPartitions = 12;

		private Optional<Short> replicationFactor = Optional.empty();

		private boolean createTopics = true;

		private boolean authority = true;

		private Duration leaseTtl = Duration.ofSeconds(5);

		private Duration leaseHorizon = Duration.ofMillis(500);

		private double lowWater = 0.5;

		private Duration requestTimeout = Duration.ofSeconds(2);

		private Duration keeperInterval = Duration.ofMillis(5);

		private Duration idleReturn = Duration.ofSeconds(10);

		private Duration reportInterval = Duration.ofSeconds(1);

		private DegradedPolicy degradedPolicy = DegradedPolicy.LOCAL_SHARE;

		private String processingGuarantee = "at_least_once";

		private Duration commitInterval;

		private int standbyReplicas = 0;

		private Optional<Duration> sessionTimeout = Optional.of(Duration.ofSeconds(6));

		private Optional<String> stateDir = Optional.empty();

		private Optional<Boolean> failFast = Optional.empty();

		private int expectedInstances = 1;

		private KafkaClientListener clientListener = KafkaClientListener.NONE;

		private Builder(String bootstrapServers) {
			if (bootstrapServers == null || bootstrapServers.isBlank()) {
				throw new IllegalArgumentException(
						"bootstrapServers must name at least one broker (host:port), but was '" + bootstrapServers + "'");
			}
			this.bootstrapServers = bootstrapServers;
		}

		/**
		 * Names the group of instances that share limits. Letters, digits, '.', '_' and '-' only
		 * (it becomes part of topic names).
		 * @param clusterId the cluster id
		 * @return this builder
		 */
		public Builder clusterId(String clusterId) {
			Objects.requireNonNull(clusterId, "clusterId");
			if (!clusterId.matches("[A-Za-z0-9._-]{1,100}")) {
				throw new IllegalArgumentException("clusterId must be 1 to 100 letters, digits, '.', '_' or '-' "
						+ "(it becomes part of topic names), but was '" + clusterId + "'");
			}
			this.clusterId = clusterId;
			return this;
		}

		/**
		 * Sets this instance's id: stable across restarts where possible (a pod name); host name and process id unless set.
		 * @param instanceId the id
		 * @return this builder
		 */
		public Builder instanceId(String instanceId) {
			Objects.requireNonNull(instanceId, "instanceId");
			if (instanceId.isBlank()) {
				throw new IllegalArgumentException("instanceId must not be blank");
			}
			this.instanceId = instanceId;
			return this;
		}

		/**
		 * Adds properties for every client of the backend (security, tuning).
		 * @param properties Kafka client properties
		 * @return this builder
		 */
		public Builder clientProperties(Map<String, ?> properties) {
			this.clientProperties.putAll(Objects.requireNonNull(properties, "properties"));
			return this;
		}

		/**
		 * Sets the partitions of the request topic when it is created (6 unless set). They bound how
		 * many instances share the authority's work, and every instance sends per report interval one
		 * record to each partition holding its leasing or cold keys (and gets one back): more
		 * partitions spread the authority wider at the cost of records.
		 * @param partitions positive
		 * @return this builder
		 */
		public Builder requestPartitions(int partitions) {
			this.requestPartitions = positive("requestPartitions", partitions);
			return this;
		}

		/**
		 * Sets the partitions of the grant topic when it is created (12 unless set).
		 * @param partitions positive
		 * @return this builder
		 */
		public Builder grantPartitions(int partitions) {
			this.grantPartitions = positive("grantPartitions", partitions);
			return this;
		}

		/**
		 * Sets the replication factor of the topics and the changelog (the broker's default unless set).
		 * @param replicationFactor positive
		 * @return this builder
		 */
		public Builder replicationFactor(short replicationFactor) {
			positive("replicationFactor", replicationFactor);
			this.replicationFactor = Optional.of(replicationFactor);
			return this;
		}

		/**
		 * Sets whether missing topics are created at start-up (true unless set).
		 * @param createTopics whether to create topics
		 * @return this builder
		 */
		public Builder createTopics(boolean createTopics) {
			this.createTopics = createTopics;
			return this;
		}

		/**
		 * Whether this instance runs the authority (the default); an instance that does not is a
		 * pure client.
		 * @param authority whether to run the authority
		 * @return this builder
		 */
		public Builder authority(boolean authority) {
			this.authority = authority;
			return this;
		}

		/**
		 * Sets how long a lease may be spent after it is granted (5 s unless set).
		 * @param leaseTtl positive, longer than the request timeout
		 * @return this builder
		 */
		public Builder leaseTtl(Duration leaseTtl) {
			this.leaseTtl = positive("leaseTtl", leaseTtl);
			return this;
		}

		/**
		 * Sets how much of an instance's demand one lease covers (500 ms unless set).
		 * @param leaseHorizon positive
		 * @return this builder
		 */
		public Builder leaseHorizon(Duration leaseHorizon) {
			this.leaseHorizon = positive("leaseHorizon", leaseHorizon);
			return this;
		}

		public Builder lowWater(double lowWater) {
			if (!(lowWater > 0 && lowWater < 1)) {
				throw new IllegalArgumentException("lowWater must be between 0 and 1 (exclusive), but was " + lowWater);
			}
			this.lowWater = lowWater;
			return this;
		}

		/**
		 * Sets how long to wait for a grant before degrading (2 s unless set).
		 * @param requestTimeout positive, shorter than the lease lifetime
		 * @return this builder
		 */
		public Builder requestTimeout(Duration requestTimeout) {
			this.requestTimeout = positive("requestTimeout", requestTimeout);
			return this;
		}

		/**
		 * Sets how often the keeper thread looks at every lease (5 ms unless set).
		 * @param keeperInterval positive
		 * @return this builder
		 */
		public Builder keeperInterval(Duration keeperInterval) {
			this.keeperInterval = positive("keeperInterval", keeperInterval);
			return this;
		}

		/**
		 * Sets how long a key may be unused before its lease is given back (10 s unless set).
		 * @param idleReturn positive
		 * @return this builder
		 */
		public Builder idleReturn(Duration idleReturn) {
			this.idleReturn = positive("idleReturn", idleReturn);
			return this;
		}

		/**
		 * Sets how often the permits per-key limiters admit in the cold regime are reported, and how
		 * often a leasing per-key limiter asks (1 s unless set): longer means fewer records (one per
		 * request partition with any, per instance, per interval, and one answer) and a later notice
		 * when a key's bucket runs low.
		 * @param reportInterval positive
		 * @return this builder
		 */
		public Builder reportInterval(Duration reportInterval) {
			this.reportInterval = positive("reportInterval", reportInterval);
			return this;
		}

		/**
		 * Sets what limiters do while grants do not come (local share unless set).
		 * @param degradedPolicy the policy
		 * @return this builder
		 */
		public Builder degradedPolicy(DegradedPolicy degradedPolicy) {
			this.degradedPolicy = Objects.requireNonNull(degradedPolicy, "degradedPolicy");
			return this;
		}

		/**
		 * Sets the authority's processing guarantee: {@code at_least_once} (the default; lease
		 * round trips of a few milliseconds, idempotent requests make redelivery harmless) or
		 * {@code exactly_once_v2} (a grant is visible only after the commit interval).
		 * @param processingGuarantee the guarantee
		 * @return this builder
		 */
		public Builder processingGuarantee(String processingGuarantee) {
			if (!"at_least_once".equals(processingGuarantee) && !"exactly_once_v2".equals(processingGuarantee)) {
				throw new IllegalArgumentException("processingGuarantee must be at_least_once or exactly_once_v2, but was '"
						+ processingGuarantee + "'");
			}
			this.processingGuarantee = processingGuarantee;
			return this;
		}

		/**
		 * Sets the authority's commit interval. The authority's store writes a key's state to its
		 * changelog once per commit however often the key changed in between (Kafka Streams' record
		 * cache), so the interval sets the changelog's share of the records: unless set, it is 5 s
		 * under {@code at_least_once} (a leasing key, asked by each instance once per report
		 * interval, costs one changelog record per 5 s rather than one per answer), and 50 ms under
		 * {@code exactly_once_v2}, where a grant becomes visible only at the commit. Under
		 * {@code at_least_once} answers never wait for the commit, and a crashed owner's successor
		 * restores the state as of the last commit and replays the requests since (a lease request
		 * already answered is answered again, unchanged), so nothing granted is forgotten: the
		 * interval bounds how much it replays.
		 * @param commitInterval positive
		 * @return this builder
		 */
		public Builder commitInterval(Duration commitInterval) {
			this.commitInterval = positive("commitInterval", commitInterval);
			return this;
		}

		/**
		 * Sets the standby replicas of the authority's state (0 unless set).
		 * @param standbyReplicas zero or more
		 * @return this builder
		 */
		public Builder standbyReplicas(int standbyReplicas) {
			if (standbyReplicas < 0) {
				throw Errors.negative("standbyReplicas", standbyReplicas);
			}
			this.standbyReplicas = standbyReplicas;
			return this;
		}

		/**
		 * Sets how long a crashed instance keeps its buckets (default 6 s, the smallest session timeout
		 * a broker accepts unless its {@code group.min.session.timeout.ms} is lowered; Kafka Streams'
		 * own default is 45 s). Heartbeats go at a third of it.
		 * @param sessionTimeout positive
		 * @return this builder
		 */
		public Builder sessionTimeout(Duration sessionTimeout) {
			this.sessionTimeout = Optional.of(positive("sessionTimeout", sessionTimeout));
			return this;
		}

		/**
		 * Sets the authority's state directory (a temporary one, deleted on close, unless set).
		 * @param stateDir the directory
		 * @return this builder
		 */
		public Builder stateDir(String stateDir) {
			this.stateDir = Optional.of(Objects.requireNonNull(stateDir, "stateDir"));
			return this;
		}

		/**
		 * Sets whether start-up fails when Kafka cannot be reached (unless set: only under
		 * {@link DegradedPolicy#FAIL_CLOSED}). Otherwise the backend starts, its limiters decide under
		 * the degraded policy, and it connects in the background, retrying until Kafka answers.
		 * @param failFast whether an unreachable Kafka fails start-up
		 * @return this builder
		 */
		public Builder failFast(boolean failFast) {
			this.failFast = Optional.of(failFast);
			return this;
		}

		/**
		 * Sets how many instances this one assumes share the limits until it has seen the group (1
		 * unless set): what divides the rate for the local share before Kafka was ever reached, and a
		 * new key's bucket for its cold part before the first rebalance ended.
		 * @param expectedInstances at least 1
		 * @return this builder
		 */
		public Builder expectedInstances(int expectedInstances) {
			this.expectedInstances = positive("expectedInstances", expectedInstances);
			return this;
		}

		/**
		 * Sets what hears of the backend's Kafka clients as they are created and closed (to bind
		 * their metrics, for example).
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder clientListener(KafkaClientListener listener) {
			this.clientListener = Objects.requireNonNull(listener, "listener");
			return this;
		}

		/**
		 * Builds the configuration.
		 * @return the configuration
		 * @throws IllegalArgumentException if the values do not fit together
		 */
		public KafkaBackendConfig build() {
			if (this.requestTimeout.compareTo(this.leaseTtl) >= 0) {
				throw new IllegalArgumentException("requestTimeout (" + this.requestTimeout
						+ ") must be shorter than leaseTtl (" + this.leaseTtl + "): a lease must outlive one lost request");
			}
			return new KafkaBackendConfig(this);
		}

		private static int positive(String field, int value) {
			if (value <= 0) {
				throw Errors.notPositive(field, value);
			}
			return value;
		}

		private static Duration positive(String field, Duration value) {
			Objects.requireNonNull(value, field);
			if (value.isNegative() || value.isZero()) {
				throw Errors.notPositive(field, value);
			}
			return value;
		}

	}

}
