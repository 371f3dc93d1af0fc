package dev.ratelimit.spring.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiterRegistry;

/**
 * Configuration of rate limiting, under {@code ratelimit}. Immutable; values are checked when
 * the limiters are built at start-up, and a bad one stops the application with a message that
 * names the property.
 */
@ConfigurationProperties("ratelimit")
public class RateLimitProperties {

	/**
	 * Whether rate limiting is enabled. When disabled, no limiter is created and
	 * {@code @RateLimited} methods run unlimited.
	 */
	private final boolean enabled;

	/**
	 * Where limiter state lives.
	 */
	private final Backend backend;

	/**
	 * Values applied to every limiter that does not set them. When a rate is set here, names used
	 * without a declaration get this limit.
	 */
	private final Limiter defaults;

	/**
	 * Limiters by name.
	 */
	private final Map<String, Limiter> limiters;

	/**
	 * Web integration.
	 */
	private final Web web;

	/**
	 * Metrics integration.
	 */
	private final Metrics metrics;

	/**
	 * Kafka: the backend, used when the backend is kafka for limiters of global scope, and the
	 * integration with Kafka listeners.
	 */
	private final Kafka kafka;

	/**
	 * The longest key a per-key limiter accepts, in characters: keys come from requests, so a
	 * longer one is refused with an error rather than kept or sent to Kafka.
	 */
	private final int maxKeyLength;

	public RateLimitProperties(@DefaultValue("true") boolean enabled, @DefaultValue("in-memory") Backend backend,
			@DefaultValue Limiter defaults, Map<String, Limiter> limiters, @DefaultValue Web web,
			@DefaultValue Metrics metrics, @DefaultValue Kafka kafka) {
		this(enabled, backend, defaults, limiters, web, metrics, kafka, RateLimiterRegistry.DEFAULT_MAX_KEY_LENGTH);
	}

	@org.springframework.boot.context.properties.bind.ConstructorBinding
	public RateLimitProperties(@DefaultValue("true") boolean enabled, @DefaultValue("in-memory") Backend backend,
			@DefaultValue Limiter defaults, Map<String, Limiter> limiters, @DefaultValue Web web,
			@DefaultValue Metrics metrics, @DefaultValue Kafka kafka, @DefaultValue("1024") int maxKeyLength) {
		this.maxKeyLength = maxKeyLength;
		this.enabled = enabled;
		this.backend = backend;
		this.defaults = defaults;
		this.limiters = (limiters != null) ? Map.copyOf(limiters) : Map.of();
		this.web = web;
		this.metrics = metrics;
		this.kafka = kafka;
	}

	public boolean isEnabled() {
		return this.enabled;
	}

	public int getMaxKeyLength() {
		return this.maxKeyLength;
	}

	public Backend getBackend() {
		return this.backend;
	}

	public Limiter getDefaults() {
		return this.defaults;
	}

	public Map<String, Limiter> getLimiters() {
		return this.limiters;
	}

	public Web getWeb() {
		return this.web;
	}

	public Metrics getMetrics() {
		return this.metrics;
	}

	public Kafka getKafka() {
		return this.kafka;
	}

	/**
	 * Where limiter state lives.
	 */
	public enum Backend {

		/** In this instance's memory: limits are per instance. */
		IN_MEMORY,

		/** Shared by every instance through Kafka, for limiters of global scope. */
		KAFKA

	}

	/**
	 * Whether a limiter is this instance's own or shared by every instance of the cluster.
	 */
	public enum Scope {

		/** Kept in this instance's memory. */
		LOCAL,

		/** Shared through the configured backend (kafka) by every instance with the same cluster id. */
		GLOBAL

	}

	/**
	 * One limiter. Every value is optional here and falls back to {@code ratelimit.defaults}.
	 */
	public static class Limiter {

		/**
		 * Whether the limit is this instance's own or shared by every instance (global needs the
		 * kafka backend and a token bucket with one bandwidth).
		 */
		private final Scope scope;

		/**
		 * Admission algorithm.
		 */
		private final Algorithm algorithm;

		/**
		 * Rate as permits per period, for example 100/1s, 5000/1m, 0.5/s or 10000/1d. For windows,
		 * the limit per window and the window.
		 */
		private final Rate rate;

		/**
		 * Most permits a token bucket holds (the burst), or most permits one request of a leaky
		 * bucket may take. Defaults to the permits of one period of the rate.
		 */
		private final Long capacity;

		/**
		 * Permits a token bucket holds at start, in every bandwidth. Full unless set.
		 */
		private final Long initialPermits;

		/**
		 * Warm-up period of a token bucket: after idling, the rate starts at a third and reaches the
		 * full rate after this much steady use.
		 */
		private final Duration warmup;

		/**
		 * Number of slices a sliding window is counted in.
		 */
		private final Integer slices;

		/**
		 * Most permits in flight, for the concurrency algorithm.
		 */
		private final Long maxConcurrent;

		/**
		 * Further bandwidths of a token bucket, enforced together with the rate (for example a
		 * daily quota).
		 */
		private final List<Bandwidth> bandwidths;

		/**
		 * Tiers of a composite limiter, tried in order, taken all or nothing. A composite has no
		 * rate of its own.
		 */
		private final List<Tier> tiers;

		/**
		 * Longest time a @RateLimited call waits for a permit. Zero fails fast.
		 */
		private final Duration waitTimeout;

		/**
		 * Most live keys of this limiter's per-key limiters; further keys share one overflow limiter
		 * until idle keys are evicted.
		 */
		private final Integer maxKeys;

		/**
		 * Time a key must be unused, and back at full capacity, before it may be evicted.
		 */
		private final Duration keyIdleTimeout;

		/**
		 * Whether HTTP responses of calls limited by this limiter carry the RateLimit and
		 * RateLimit-Policy headers.
		 */
		private final Boolean headers;

		/**
		 * Adaptive control of the rate: lowered on back-off signals, consumer lag or high
		 * utilization, recovered step by step.
		 */
		private final Adaptive adaptive;

		/**
		 * Priority classes that divide the limit: the less important are refused first when it is
		 * short. Local token buckets only.
		 */
		private final Priority priority;

		public Limiter(Scope scope, Algorithm algorithm, Rate rate, Long capacity, Long initialPermits, Duration warmup,
				Integer slices, Long maxConcurrent, List<Bandwidth> bandwidths, List<Tier> tiers, Duration waitTimeout,
				Integer maxKeys, Duration keyIdleTimeout, Boolean headers, Adaptive adaptive, Priority priority) {
			this.adaptive = adaptive;
			this.priority = priority;
			this.scope = scope;
			this.algorithm = algorithm;
			this.rate = rate;
			this.capacity = capacity;
			this.initialPermits = initialPermits;
			this.warmup = warmup;
			this.slices = slices;
			this.maxConcurrent = maxConcurrent;
			this.bandwidths = (bandwidths != null) ? List.copyOf(bandwidths) : List.of();
			this.tiers = (tiers != null) ? List.copyOf(tiers) : List.of();
			this.waitTimeout = waitTimeout;
			this.maxKeys = maxKeys;
			this.keyIdleTimeout = keyIdleTimeout;
			this.headers = headers;
		}

		public Scope getScope() {
			return this.scope;
		}

		public Algorithm getAlgorithm() {
			return this.algorithm;
		}

		public Rate getRate() {
			return this.rate;
		}

		public Long getCapacity() {
			return this.capacity;
		}

		public Long getInitialPermits() {
			return this.initialPermits;
		}

		public Duration getWarmup() {
			return this.warmup;
		}

		public Integer getSlices() {
			return this.slices;
		}

		public Long getMaxConcurrent() {
			return this.maxConcurrent;
		}

		public List<Bandwidth> getBandwidths() {
			return this.bandwidths;
		}

		public List<Tier> getTiers() {
			return this.tiers;
		}

		public Duration getWaitTimeout() {
			return this.waitTimeout;
		}

		public Integer getMaxKeys() {
			return this.maxKeys;
		}

		public Duration getKeyIdleTimeout() {
			return this.keyIdleTimeout;
		}

		public Boolean getHeaders() {
			return this.headers;
		}

		public Adaptive getAdaptive() {
			return this.adaptive;
		}

		public Priority getPriority() {
			return this.priority;
		}

	}

	/**
	 * Adaptive control of a limiter's rate. The configured rate is the ceiling.
	 */
	public static class Adaptive {

		/**
		 * Whether the limiter's rate is controlled adaptively.
		 */
		private final Boolean enabled;

		/**
		 * Lowest rate, as a fraction of the configured rate.
		 */
		private final Double floorFraction;

		/**
		 * Factor the rate is multiplied by on a back-off signal.
		 */
		private final Double decreaseFactor;

		/**
		 * Shortest time between two decreases on back-off signals; a burst of signals is one step.
		 */
		private final Duration decreaseCooldown;

		/**
		 * Time without a decrease before each recovery step.
		 */
		private final Duration recoveryInterval;

		/**
		 * Size of a recovery step, as a fraction of the configured rate.
		 */
		private final Double recoveryStep;

		/**
		 * Consumer lag above which the severity is warning.
		 */
		private final Long warningLag;

		/**
		 * Consumer lag above which the severity is critical.
		 */
		private final Long criticalLag;

		/**
		 * Consumer lag above which the severity is emergency (the rate drops to the floor).
		 */
		private final Long emergencyLag;

		/**
		 * Consumer lag below which the severity returns to normal and the rate may recover.
		 */
		private final Long recoveryLag;

		/**
		 * Rate at warning severity, as a fraction of the configured rate.
		 */
		private final Double warningFraction;

		/**
		 * Rate at critical severity, as a fraction of the configured rate.
		 */
		private final Double criticalFraction;

		/**
		 * Utilization above which the rate is lowered, when utilization is a signal.
		 */
		private final Double highUtilization;

		/**
		 * Utilization below which the rate may recover at once, when utilization is a signal.
		 */
		private final Double lowUtilization;

		/**
		 * Factor the rate is multiplied by at high utilization.
		 */
		private final Double utilizationDecreaseFactor;

		/**
		 * Whether the limiter's own utilization is sampled as a signal.
		 */
		private final Boolean utilization;

		/**
		 * Exceptions that mean "back off" when a @RateLimited call of this limiter throws them (an
		 * HTTP 429 from a downstream service, for example), by class name.
		 */
		private final List<String> reduceOn;

		/**
		 * Consumer group or listener id whose lag sets the severity.
		 */
		private final String lagSource;

		/**
		 * Load signals that set the severity, by name: process-cpu, system-cpu and heap-after-gc read
		 * Micrometer's meters of the same meaning; any other name reads the meter it names.
		 */
		private final Map<String, Load> load;

		/**
		 * For a concurrency limiter: how its bound follows the calls' latency, gradient or aimd.
		 */
		private final dev.ratelimit.adaptive.ConcurrencyControl.Algorithm algorithm;

		/**
		 * For a concurrency limiter: the lowest bound.
		 */
		private final Long minLimit;

		/**
		 * For a concurrency limiter: the highest bound.
		 */
		private final Long maxLimit;

		/**
		 * For a concurrency limiter with the aimd algorithm: a call slower than this counts as
		 * dropped.
		 */
		private final Duration timeout;

		public Adaptive(Boolean enabled, Double floorFraction, Double decreaseFactor, Duration decreaseCooldown,
				Duration recoveryInterval, Double recoveryStep, Long warningLag, Long criticalLag, Long emergencyLag,
				Long recoveryLag, Double warningFraction, Double criticalFraction, Double highUtilization,
				Double lowUtilization, Double utilizationDecreaseFactor, Boolean utilization, List<String> reduceOn,
				String lagSource, Map<String, Load> load, dev.ratelimit.adaptive.ConcurrencyControl.Algorithm algorithm,
				Long minLimit, Long maxLimit, Duration timeout) {
			this.algorithm = algorithm;
			this.minLimit = minLimit;
			this.maxLimit = maxLimit;
			this.timeout = timeout;
			this.enabled = enabled;
			this.floorFraction = floorFraction;
			this.decreaseFactor = decreaseFactor;
			this.decreaseCooldown = decreaseCooldown;
			this.recoveryInterval = recoveryInterval;
			this.recoveryStep = recoveryStep;
			this.warningLag = warningLag;
			this.criticalLag = criticalLag;
			this.emergencyLag = emergencyLag;
			this.recoveryLag = recoveryLag;
			this.warningFraction = warningFraction;
			this.criticalFraction = criticalFraction;
			this.highUtilization = highUtilization;
			this.lowUtilization = lowUtilization;
			this.utilizationDecreaseFactor = utilizationDecreaseFactor;
			this.utilization = utilization;
			this.reduceOn = (reduceOn != null) ? List.copyOf(reduceOn) : List.of();
			this.lagSource = lagSource;
			this.load = (load != null) ? new LinkedHashMap<>(load) : Map.of();
		}

		public Boolean getEnabled() {
			return this.enabled;
		}

		public Double getFloorFraction() {
			return this.floorFraction;
		}

		public Double getDecreaseFactor() {
			return this.decreaseFactor;
		}

		public Duration getDecreaseCooldown() {
			return this.decreaseCooldown;
		}

		public Duration getRecoveryInterval() {
			return this.recoveryInterval;
		}

		public Double getRecoveryStep() {
			return this.recoveryStep;
		}

		public Long getWarningLag() {
			return this.warningLag;
		}

		public Long getCriticalLag() {
			return this.criticalLag;
		}

		public Long getEmergencyLag() {
			return this.emergencyLag;
		}

		public Long getRecoveryLag() {
			return this.recoveryLag;
		}

		public Double getWarningFraction() {
			return this.warningFraction;
		}

		public Double getCriticalFraction() {
			return this.criticalFraction;
		}

		public Double getHighUtilization() {
			return this.highUtilization;
		}

		public Double getLowUtilization() {
			return this.lowUtilization;
		}

		public Double getUtilizationDecreaseFactor() {
			return this.utilizationDecreaseFactor;
		}

		public Boolean getUtilization() {
			return this.utilization;
		}

		public List<String> getReduceOn() {
			return this.reduceOn;
		}

		public String getLagSource() {
			return this.lagSource;
		}

		public Map<String, Load> getLoad() {
			return this.load;
		}

		public dev.ratelimit.adaptive.ConcurrencyControl.Algorithm getAlgorithm() {
			return this.algorithm;
		}

		public Long getMinLimit() {
			return this.minLimit;
		}

		public Long getMaxLimit() {
			return this.maxLimit;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

	}

	/**
	 * Priority classes of a limiter.
	 */
	public static class Priority {

		/**
		 * Classes from the most to the least important, for example critical, normal, batch.
		 */
		private final List<String> classes;

		/**
		 * Share of the rate reserved for a class, by class: it is never starved below it.
		 */
		private final Map<String, Double> minimumShares;

		/**
		 * Fraction of the shared capacity each class leaves to each class above it. 0.2 unless set
		 * (less for more than five classes).
		 */
		private final Double headroom;

		/**
		 * Class of calls that declare none. The least important class unless set.
		 */
		private final String defaultClass;

		public Priority(List<String> classes, Map<String, Double> minimumShares, Double headroom, String defaultClass) {
			this.classes = (classes != null) ? List.copyOf(classes) : List.of();
			this.minimumShares = (minimumShares != null) ? new LinkedHashMap<>(minimumShares) : Map.of();
			this.headroom = headroom;
			this.defaultClass = defaultClass;
		}

		public List<String> getClasses() {
			return this.classes;
		}

		public Map<String, Double> getMinimumShares() {
			return this.minimumShares;
		}

		public Double getHeadroom() {
			return this.headroom;
		}

		public String getDefaultClass() {
			return this.defaultClass;
		}

	}

	/**
	 * A load signal of adaptive control: a meter read at each evaluation, and the readings that
	 * raise and clear its severity.
	 */
	public static class Load {

		/**
		 * Name of the Micrometer meter to read: a gauge's value, or a timer's mean latency in
		 * seconds since the last reading. Known signals name their own.
		 */
		private final String meter;

		/**
		 * Tags the meter must have; the highest reading of the meters that match is taken.
		 */
		private final Map<String, String> tags;

		/**
		 * Reading above which the signal's severity is at least warning.
		 */
		private final Double warning;

		/**
		 * Reading above which the signal's severity is at least critical. None unless set.
		 */
		private final Double critical;

		/**
		 * Reading above which the signal's severity is emergency (the rate drops to the floor).
		 * None unless set.
		 */
		private final Double emergency;

		/**
		 * Reading below which the signal's severity returns to normal.
		 */
		private final Double recovery;

		public Load(String meter, Map<String, String> tags, Double warning, Double critical, Double emergency,
				Double recovery) {
			this.meter = meter;
			this.tags = (tags != null) ? new LinkedHashMap<>(tags) : Map.of();
			this.warning = warning;
			this.critical = critical;
			this.emergency = emergency;
			this.recovery = recovery;
		}

		public String getMeter() {
			return this.meter;
		}

		public Map<String, String> getTags() {
			return this.tags;
		}

		public Double getWarning() {
			return this.warning;
		}

		public Double getCritical() {
			return this.critical;
		}

		public Double getEmergency() {
			return this.emergency;
		}

		public Double getRecovery() {
			return this.recovery;
		}

	}

	/**
	 * A further bandwidth of a token bucket.
	 */
	public static class Bandwidth {

		/**
		 * Refill rate, for example 10000/1d.
		 */
		private final Rate rate;

		/**
		 * Most permits the bandwidth holds. Defaults to the permits of one period of its rate.
		 */
		private final Long capacity;

		public Bandwidth(Rate rate, Long capacity) {
			this.rate = rate;
			this.capacity = capacity;
		}

		public Rate getRate() {
			return this.rate;
		}

		public Long getCapacity() {
			return this.capacity;
		}

	}

	/**
	 * A tier of a composite limiter.
	 */
	public static class Tier {

		/**
		 * Name of the limiter that forms the tier.
		 */
		private final String name;

		/**
		 * Whether the tier is that limiter's per-key limiter, keyed like the composite.
		 */
		private final boolean perKey;

		public Tier(String name, @DefaultValue("false") boolean perKey) {
			this.name = name;
			this.perKey = perKey;
		}

		public String getName() {
			return this.name;
		}

		public boolean isPerKey() {
			return this.perKey;
		}

	}

	/**
	 * Web integration.
	 */
	public static class Web {

		/**
		 * Whether responses carry the IETF RateLimit and RateLimit-Policy headers, on permitted
		 * calls too. Denied calls always carry Retry-After.
		 */
		private final boolean headers;

		public Web(@DefaultValue("true") boolean headers) {
			this.headers = headers;
		}

		public boolean isHeaders() {
			return this.headers;
		}

	}

	/**
	 * Metrics integration.
	 */
	public static class Metrics {

		/**
		 * Whether meters of per-key limiters carry a key tag. Keys can be unbounded user input,
		 * so this is off unless the key count is small.
		 */
		private final boolean perKeyTags;

		/**
		 * Most keys per limiter that get their own meters when per-key tags are on.
		 */
		private final int maxTaggedKeys;

		public Metrics(@DefaultValue("false") boolean perKeyTags, @DefaultValue("100") int maxTaggedKeys) {
			this.perKeyTags = perKeyTags;
			this.maxTaggedKeys = maxTaggedKeys;
		}

		public boolean isPerKeyTags() {
			return this.perKeyTags;
		}

		public int getMaxTaggedKeys() {
			return this.maxTaggedKeys;
		}

	}

	/**
	 * Kafka backend and Kafka listener integration. A backend setting left out takes the default
	 * of {@link dev.ratelimit.kafka.KafkaBackendConfig.Builder}, the one place defaults are kept.
	 */
	public static class Kafka {

		/**
		 * Kafka bootstrap servers for the backend. Taken from spring.kafka when not set.
		 */
		private final List<String> bootstrapServers;

		/**
		 * Name of the group of instances that share global limits; part of the backend's topic names.
		 */
		private final String clusterId;

		/**
		 * Id of this instance, stable across restarts where possible (a pod name). Host name and
		 * process id when not set.
		 */
		private final String instanceId;

		/**
		 * Whether this instance runs the authority that grants leases. An instance that does not is a
		 * pure client.
		 */
		private final Boolean authority;

		/**
		 * Whether to create the backend's topics at start-up when they are missing.
		 */
		private final Boolean createTopics;

		/**
		 * Partitions of the request topic, which bound how many instances share the authority's work;
		 * each instance sends a record per partition holding its active keys per report interval.
		 */
		private final Integer requestPartitions;

		/**
		 * Partitions of the grant topic.
		 */
		private final Integer grantPartitions;

		/**
		 * Replication factor of the backend's topics and of the authority's state changelog. The
		 * broker's default when not set.
		 */
		private final Short replicationFactor;

		/**
		 * How long a lease may be spent after it is granted.
		 */
		private final Duration leaseTtl;

		/**
		 * How much of an instance's demand one lease covers; longer means fewer Kafka records per
		 * decision and more permits held by each instance.
		 */
		private final Duration leaseHorizon;

		/**
		 * Fraction of the last lease left at which more is asked for, ahead of need.
		 */
		private final Double lowWater;

		/**
		 * How long to wait for a grant before deciding under the degraded policy.
		 */
		private final Duration requestTimeout;

		/**
		 * How often the keeper thread looks at every global limiter (renewals, returns, timeouts);
		 * a call that finds its lease empty wakes it at once.
		 */
		private final Duration keeperInterval;

		/**
		 * How long a global limiter may go without calls before its lease is given back.
		 */
		private final Duration idleReturn;

		/**
		 * How often per-key global limiters report what they admitted in the cold regime, and how
		 * often a leasing one asks: one record per request partition with any, per interval.
		 */
		private final Duration reportInterval;

		/**
		 * What limiters do while grants do not come: each instance enforcing its share of the rate,
		 * denying, or permitting.
		 */
		private final dev.ratelimit.kafka.DegradedPolicy degradedPolicy;

		/**
		 * Processing guarantee of the authority: at_least_once or exactly_once_v2.
		 */
		private final String processingGuarantee;

		/**
		 * Commit interval of the authority: a key's state reaches the changelog once per commit.
		 * Unless set, 5s under at_least_once (where answers never wait for it) and 50ms under
		 * exactly_once_v2, where it bounds every lease round trip.
		 */
		private final Duration commitInterval;

		/**
		 * Standby replicas of the authority's state, for faster failover.
		 */
		private final Integer standbyReplicas;

		/**
		 * Session timeout of the authority's consumers: how long a crashed instance keeps its
		 * buckets (at least the broker's group.min.session.timeout.ms, 6 s by default).
		 */
		private final Duration sessionTimeout;

		/**
		 * Directory for the authority's local state (locks and checkpoints only).
		 */
		private final String stateDir;

		/**
		 * Whether start-up fails when Kafka cannot be reached. Unless set, only under the fail-closed
		 * policy; otherwise the application starts, limiters decide under the degraded policy, and
		 * the backend connects in the background. A misconfigured topic fails start-up either way.
		 */
		private final Boolean failFast;

		/**
		 * How many instances this one assumes share the limits until it has seen the group: divides
		 * the rate for the local share before Kafka was ever reached, and a new key's bucket for its
		 * cold part before the first rebalance.
		 */
		private final Integer expectedInstances;

		/**
		 * Extra Kafka client properties for the backend's clients, on top of spring.kafka's (security,
		 * for example).
		 */
		private final Map<String, String> properties;

		/**
		 * Kafka listener containers to throttle or observe, by listener id: the id of a
		 * Kafka listener annotation, or the bean name of a listener container.
		 */
		private final Map<String, Listener> listeners;

		/**
		 * Consumer lag observation.
		 */
		private final Backpressure backpressure;

		public Kafka(List<String> bootstrapServers, String clusterId, String instanceId, Boolean authority,
				Boolean createTopics, Integer requestPartitions, Integer grantPartitions, Short replicationFactor,
				Duration leaseTtl, Duration leaseHorizon, Double lowWater, Duration requestTimeout,
				Duration keeperInterval, Duration idleReturn, Duration reportInterval,
				dev.ratelimit.kafka.DegradedPolicy degradedPolicy, String processingGuarantee, Duration commitInterval,
				Integer standbyReplicas, Duration sessionTimeout, String stateDir, Boolean failFast,
				Integer expectedInstances, Map<String, String> properties, Map<String, Listener> listeners,
				@DefaultValue Backpressure backpressure) {
			this.bootstrapServers = (bootstrapServers != null) ? List.copyOf(bootstrapServers) : List.of();
			this.clusterId = clusterId;
			this.instanceId = instanceId;
			this.authority = authority;
			this.createTopics = createTopics;
			this.requestPartitions = requestPartitions;
			this.grantPartitions = grantPartitions;
			this.replicationFactor = replicationFactor;
			this.leaseTtl = leaseTtl;
			this.leaseHorizon = leaseHorizon;
			this.lowWater = lowWater;
			this.requestTimeout = requestTimeout;
			this.keeperInterval = keeperInterval;
			this.idleReturn = idleReturn;
			this.reportInterval = reportInterval;
			this.degradedPolicy = degradedPolicy;
			this.processingGuarantee = processingGuarantee;
			this.commitInterval = commitInterval;
			this.standbyReplicas = standbyReplicas;
			this.sessionTimeout = sessionTimeout;
			this.stateDir = stateDir;
			this.failFast = failFast;
			this.expectedInstances = expectedInstances;
			this.properties = (properties != null) ? Map.copyOf(properties) : Map.of();
			this.listeners = (listeners != null) ? Map.copyOf(listeners) : Map.of();
			this.backpressure = backpressure;
		}

		public List<String> getBootstrapServers() {
			return this.bootstrapServers;
		}

		public String getClusterId() {
			return this.clusterId;
		}

		public String getInstanceId() {
			return this.instanceId;
		}

		public Boolean getAuthority() {
			return this.authority;
		}

		public Boolean getCreateTopics() {
			return this.createTopics;
		}

		public Integer getRequestPartitions() {
			return this.requestPartitions;
		}

		public Integer getGrantPartitions() {
			return this.grantPartitions;
		}

		public Short getReplicationFactor() {
			return this.replicationFactor;
		}

		public Duration getLeaseTtl() {
			return this.leaseTtl;
		}

		public Duration getLeaseHorizon() {
			return this.leaseHorizon;
		}

		public Duration getKeeperInterval() {
			return this.keeperInterval;
		}

		public Duration getIdleReturn() {
			return this.idleReturn;
		}

		public Duration getReportInterval() {
			return this.reportInterval;
		}

		public Double getLowWater() {
			return this.lowWater;
		}

		public Duration getRequestTimeout() {
			return this.requestTimeout;
		}

		public dev.ratelimit.kafka.DegradedPolicy getDegradedPolicy() {
			return this.degradedPolicy;
		}

		public String getProcessingGuarantee() {
			return this.processingGuarantee;
		}

		public Duration getCommitInterval() {
			return this.commitInterval;
		}

		public Integer getStandbyReplicas() {
			return this.standbyReplicas;
		}

		public Duration getSessionTimeout() {
			return this.sessionTimeout;
		}

		public String getStateDir() {
			return this.stateDir;
		}

		public Boolean getFailFast() {
			return this.failFast;
		}

		public Integer getExpectedInstances() {
			return this.expectedInstances;
		}

		public Map<String, String> getProperties() {
			return this.properties;
		}

		public Map<String, Listener> getListeners() {
			return this.listeners;
		}

		public Backpressure getBackpressure() {
			return this.backpressure;
		}

		/**
		 * One Kafka listener container.
		 */
		public static class Listener {

			/**
			 * Name of the limiter, declared under ratelimit.limiters, that records of this listener
			 * take permits from. Without one, the listener's consumer lag is observed but its
			 * records are not throttled.
			 */
			private final String limiter;

			/**
			 * Permits each record takes, also each record of a batch.
			 */
			private final long permitsPerRecord;

			/**
			 * Priority class of the records, for a limiter with priority classes. The limiter's
			 * default class unless set.
			 */
			private final String priority;

			public Listener(String limiter, @DefaultValue("1") long permitsPerRecord, String priority) {
				this.limiter = limiter;
				this.permitsPerRecord = permitsPerRecord;
				this.priority = priority;
			}

			public String getPriority() {
				return this.priority;
			}

			public String getLimiter() {
				return this.limiter;
			}

			public long getPermitsPerRecord() {
				return this.permitsPerRecord;
			}

		}

		/**
		 * Consumer lag observation.
		 */
		public static class Backpressure {

			/**
			 * Consumer groups, typically downstream of this application, whose lag is read with
			 * the admin client.
			 */
			private final List<Watch> watch;

			/**
			 * Time between two readings of the lag of watched groups, and between two reports of
			 * every lag to lag listeners.
			 */
			private final Duration lagInterval;

			public Backpressure(List<Watch> watch, @DefaultValue("5s") Duration lagInterval) {
				this.watch = (watch != null) ? List.copyOf(watch) : List.of();
				this.lagInterval = lagInterval;
			}

			public List<Watch> getWatch() {
				return this.watch;
			}

			public Duration getLagInterval() {
				return this.lagInterval;
			}

		}

		/**
		 * A consumer group whose lag is watched.
		 */
		public static class Watch {

			/**
			 * Consumer group id.
			 */
			private final String group;

			/**
			 * Topics to read the group's lag on. Partitions without a committed offset count from
			 * the start of the log. When empty, every partition the group has committed an offset
			 * for.
			 */
			private final List<String> topics;

			public Watch(String group, List<String> topics) {
				this.group = group;
				this.topics = (topics != null) ? List.copyOf(topics) : List.of();
			}

			public String getGroup() {
				return this.group;
			}

			public List<String> getTopics() {
				return this.topics;
			}

		}

	}

}
