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
		return this.runtime.create(name, limit, listener);
	}

	/**
	 * Returns the backend's health: degraded while any limiter decides under its policy or the
	 * authority is not running.
	 * @return the health
	 */
	public BackendHealth health() {
		return this.runtime.health();
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
