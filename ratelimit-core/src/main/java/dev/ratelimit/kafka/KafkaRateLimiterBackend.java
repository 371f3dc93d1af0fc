package dev.ratelimit.kafka;

import java.util.Map;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterBackend;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.kafka.internal.KafkaBackendRuntime;

/**
 * Limits shared by every instance with the same cluster id, through Kafka: one global bucket per
 * limiter name (and key), decided locally in nanoseconds from leased permits, kept in a compacted
 * Kafka topic, surviving restarts and instance failures.
 *
 * <p>Each instance leases permits from the bucket's authority (a Kafka Streams task that owns the
 * key's partition) ahead of need and spends them with a CAS; the authority grants each instance
 * its max-min fair share and never grants a permit twice, so the global limit holds by
 * construction. Every instance runs the authority by default, so there is nothing else to
 * operate. Only token buckets with one bandwidth can be shared.
 *
 * <p>Per-key limiters (tenants, users) start cold: each instance admits a new key from its part of
 * the key's bucket at once and reports afterwards, in one record per partition per report
 * interval for all keys; a key near its limit leases like a named limiter. Nothing is kept, here
 * or at the authority, for a key at rest.
 *
 * <pre>{@code
 * KafkaRateLimiterBackend kafka = KafkaRateLimiterBackend.start(KafkaBackendConfig.builder("localhost:9092")
 *         .clusterId("checkout").build());
 * RateLimiterRegistry registry = RateLimiterRegistry.builder().backend(kafka).build()
 *         .define("payments", RateLimit.perSecond(200));
 * }</pre>
 */
public final class KafkaRateLimiterBackend implements RateLimiterBackend, AutoCloseable {

	private final KafkaBackendConfig config;

	private final KafkaBackendRuntime runtime;

	private KafkaRateLimiterBackend(KafkaBackendConfig config) {
		this.config = config;
		this.runtime = new KafkaBackendRuntime(config);
	}

	/**
	 * Creates or checks the topics, then starts the clients, the keeper and (unless opted out) the
	 * authority.
	 * @param config the configuration
	 * @return the running backend
	 * @throws IllegalStateException if Kafka cannot be reached or a topic is misconfigured
	 */
	public static KafkaRateLimiterBackend start(KafkaBackendConfig config) {
		return new KafkaRateLimiterBackend(config);
	}

	@Override
	public String id() {
		return "kafka";
	}

	/**
	 * Returns the shared limiter for a name. The same name on every instance of the cluster is one
	 * bucket; the name of a per-key limiter includes its key (see
	 * {@link RateLimiterBackend#create(String, String, RateLimit, RateLimiterListener)}).
	 * @throws IllegalArgumentException if the limit is not a token bucket with one bandwidth
	 */
	@Override
	public RateLimiter create(String name, String key, RateLimit limit, RateLimiterListener listener) {
		if (key == null) {
			return this.runtime.create(name, limit, listener);
		}
		String suffix = "[" + key + "]";
		String limiter = name.endsWith(suffix) ? name.substring(0, name.length() - suffix.length()) : name;
		return this.runtime.create(name, limiter, limit, listener);
	}

	/**
	 * Divides a global limit among priority classes. On each instance a class's calls go through
	 * the classes' policy (strict priority with reserved minimums) over this instance's share of
	 * the rate, then through the global limit; each lease request carries every class's demand, and
	 * the authority fills the instances' shares class by class, so a higher class anywhere in the
	 * fleet is served before a lower one.
	 */
	@Override
	public dev.ratelimit.PriorityRateLimiter createPriorities(String name, RateLimit limit,
			dev.ratelimit.Priorities priorities, RateLimiterListener listener) {
		// the classes tell their calls to the listener; the shared limiter tells it of the limits the
		// authority sets (another instance's update), which no class would otherwise hear of
		RateLimiterListener limitChanges = new RateLimiterListener() {

			@Override
			public void onLimitChanged(RateLimit previous, RateLimit current) {
				listener.onLimitChanged(previous, current);
			}

		};
		dev.ratelimit.kafka.internal.KafkaRateLimiter global = this.runtime.create(name, limit, limitChanges);
		if (global.isDivided()) {
			throw new IllegalArgumentException("limiter '" + name + "' is already divided among priority classes on "
					+ "this backend: ask the registry that declared it for its classes");
		}
		dev.ratelimit.internal.SharedPriorities divided = new dev.ratelimit.internal.SharedPriorities(name, global,
				priorities, global.ticker(), dev.ratelimit.Scheduler.system(), listener);
		global.divide(new dev.ratelimit.kafka.internal.KafkaRateLimiter.Classes() {

			@Override
			public int count() {
				return divided.classCount();
			}

			@Override
			public long attempts(int index) {
				return divided.attempts(index);
			}

			@Override
			public double minimumShare(int index) {
				return divided.minimumShare(index);
			}

			@Override
			public double headroom() {
				return priorities.headroom();
			}

			@Override
			public void shareChanged(double share) {
				divided.shareChanged(share);
			}

			@Override
			public void floorsChanged(long[] floors) {
				divided.floorsChanged(floors);
			}

		});
		return divided;
	}

	/**
	 * Forgets a per-key limiter whose key its registry evicted at rest: nothing is kept for a key at
	 * rest, here or at the authority.
	 */
	@Override
	public void release(RateLimiter limiter) {
		if (limiter instanceof dev.ratelimit.kafka.internal.KafkaRateLimiter kafka) {
			this.runtime.release(kafka);
		}
	}

	/**
	 * Returns what this instance knows of the per-key limiters of a name: the keys it keeps, how
	 * many are cold, leased and degraded, what their buckets owed by the last answers ({@code debt}),
	 * the permits admitted cold and not yet reported, and the requests and report entries sent for
	 * them since start (several keys travel in one record).
	 */
	@Override
	public Map<String, Object> keyedDetails(String name) {
		return this.runtime.keyedDetails(name);
	}

	/**
	 * Returns the backend's health. UP only when this instance's authority is RUNNING (not
	 * rebalancing) and its health probes, sent through Kafka to each request partition's authority in
	 * turn, are answered; DEGRADED with a {@code reason} otherwise, or while any limiter decides under
	 * its degraded policy; DOWN once closed.
	 * @return the health
	 */
	public BackendHealth health() {
		return this.runtime.health();
	}

	/**
	 * Returns the request partition of a limiter name (a per-key limiter's name includes its key,
	 * {@code name[key]}): the authority task owning that partition keeps the limiter's bucket.
	 * @param name the limiter name
	 * @return the partition number
	 */
	public int partitionOf(String name) {
		return this.runtime.partitionOf(name);
	}

	/**
	 * Returns whether this instance's authority owns the bucket of a limiter name now. Exactly one
	 * running instance does for each name; while ownership moves (an instance joined, left or
	 * crashed), none may, and grants for the name pause.
	 * @param name the limiter name
	 * @return whether the bucket is kept here
	 */
	public boolean ownsBucketOf(String name) {
		return this.runtime.owns(this.runtime.partitionOf(name));
	}

	/**
	 * Returns the request partitions whose buckets this instance's authority owns now.
	 * @return the partition numbers, empty while rebalancing or when the authority runs elsewhere
	 */
	public java.util.Set<Integer> ownedPartitions() {
		return this.runtime.ownedPartitions();
	}

	/**
	 * Returns what this instance's backend counted since it started: records sent and received,
	 * failures, and the limiters it keeps. Cheap enough to read on every scrape of a meter.
	 * @return the counters now
	 */
	public BackendCounters counters() {
		return this.runtime.counters();
	}

	/**
	 * Adds a recorder of lease round trips: each time a grant answers a lease request, the time
	 * from the request's send to the grant's arrival, in nanoseconds. Called on the thread that
	 * receives grants, so it must be quick (a Micrometer {@code Timer.record} is); what it throws
	 * is ignored.
	 * @param recorder the recorder
	 */
	public void onRoundTrip(java.util.function.LongConsumer recorder) {
		this.runtime.onRoundTrip(recorder);
	}

	/**
	 * Returns counters and lease round-trip percentiles.
	 * @return the metrics by name
	 */
	public Map<String, Object> metrics() {
		return this.runtime.metrics();
	}

	/**
	 * Returns the configuration.
	 * @return the configuration
	 */
	public KafkaBackendConfig config() {
		return this.config;
	}

	/**
	 * Returns the runtime, for tests and benchmarks that need its internals.
	 * @return the runtime
	 */
	public KafkaBackendRuntime runtime() {
		return this.runtime;
	}

	/** Gives unspent leases back and stops. */
	@Override
	public void close() {
		this.runtime.close();
	}

}
