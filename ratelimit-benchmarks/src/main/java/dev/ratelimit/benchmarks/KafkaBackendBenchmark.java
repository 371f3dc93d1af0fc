package dev.ratelimit.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.BucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.kafka.test.EmbeddedKafkaBroker;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;

/**
 * Decisions per second ({@code tryAcquire} calls, JMH {@code Mode.Throughput}) on one hot key
 * shared by all benchmark threads, for three ways to keep the bucket:
 * <ul>
 * <li>{@code inMemory}: this library's token bucket, {@code RateLimiter.of(...)}.
 * <li>{@code kafka}: this library's Kafka backend, one instance ({@link KafkaRateLimiterBackend}
 * with its Kafka Streams authority) against an in-process KRaft broker started for the trial.
 * Decisions spend leased permits locally; the keeper thread leases ahead of need.
 * <li>{@code bucket4jRedis}: Bucket4j's compare-and-swap proxy manager on Lettuce
 * ({@code Bucket4jLettuce.casBasedBuilder}), one bucket in a Redis server (default
 * {@code redis://127.0.0.1:6379}, parameter {@code redisUri}). Every decision is a round trip
 * to Redis.
 * </ul>
 *
 * <p>The limit is {@code rate} permits per second with a burst of {@code capacity} (both
 * 10<sup>9</sup> unless given with {@code -p}), so that the limiter is not what bounds the
 * throughput: with 10<sup>7</sup>, one thread of the in-memory bucket would run into the limit and
 * measure denials. For the Kafka backend the lease horizon ({@code leaseHorizonMillis}) sizes each
 * lease to that many milliseconds of measured demand, so one lease covers millions of decisions.
 *
 * <p>Besides the primary score (every decision), the {@code permitted} and {@code denied}
 * secondary results count decisions by outcome, per second. A denial here means the backend could
 * not keep up (the Kafka backend denies while its pool waits for a lease), so compare the
 * {@code permitted} rates; {@code results-table.py} does. Broker, authority and benchmark threads
 * share the machine's cores, as they would in one application instance with a local broker.
 *
 * <p>Choose the thread count with {@code -t 1} or {@code -t 2}; all threads share one limiter per
 * implementation. The commands are in {@code docs/benchmarks.md} and
 * {@code run-kafka-benchmarks.sh}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(1)
public class KafkaBackendBenchmark {

	@Benchmark
	public boolean inMemory(InMemory bucket, Decisions decisions) {
		return decisions.count(bucket.limiter.tryAcquire());
	}

	@Benchmark
	public boolean kafka(Kafka backend, Decisions decisions) {
		return decisions.count(backend.limiter.tryAcquire());
	}

	@Benchmark
	public boolean bucket4jRedis(Redis redis, Decisions decisions) {
		return decisions.count(redis.bucket.tryConsume(1));
	}

	/**
	 * The per-tenant workload: each call for a tenant drawn at random (uniformly) from
	 * {@code tenants}, each tenant limited to {@code tenantRate}/s with a burst of
	 * {@code tenantCapacity}, through a registry's global per-key limiter (as
	 * {@code @RateLimited(key = "#tenant")} with {@code scope: global}).
	 */
	@Benchmark
	public boolean kafkaTenants(KafkaTenants tenants, TenantChoice choice, Decisions decisions) {
		return decisions.count(tenants.registry.limiter("api", tenants.names[choice.next(tenants.names.length)])
			.tryAcquire());
	}

	/** The same per-tenant workload on Bucket4j in Redis: one bucket per tenant, a round trip per call. */
	@Benchmark
	public boolean bucket4jRedisTenants(RedisTenants tenants, TenantChoice choice, Decisions decisions) {
		return decisions.count(tenants.buckets[choice.next(tenants.buckets.length)].tryConsume(1));
	}

	/** The tenants of the per-tenant workload and their limit. */
	@State(Scope.Benchmark)
	public static class Tenants {

		@Param("20000")
		public int tenants;

		@Param("10")
		public long tenantRate;

		@Param("20")
		public long tenantCapacity;

		RateLimit toRateLimit() {
			return RateLimit.tokenBucket(Rate.perSecond(this.tenantRate)).capacity(this.tenantCapacity).build();
		}

	}

	/** Each thread's own random tenant choice (seeded, so runs repeat). */
	@State(Scope.Thread)
	public static class TenantChoice {

		private final java.util.SplittableRandom random = new java.util.SplittableRandom(
				Thread.currentThread().getId());

		int next(int bound) {
			return this.random.nextInt(bound);
		}

	}

	/** A registry whose per-key limiter {@code api} is global through the Kafka backend. */
	@State(Scope.Benchmark)
	public static class KafkaTenants {

		EmbeddedKafkaBroker broker;

		KafkaRateLimiterBackend backend;

		dev.ratelimit.RateLimiterRegistry registry;

		String[] names;

		@Setup(Level.Trial)
		public void setUp(Tenants tenants) throws InterruptedException {
			this.broker = EmbeddedBroker.start();
			this.backend = KafkaRateLimiterBackend.start(KafkaBackendConfig.builder(this.broker.getBrokersAsString())
				.clusterId("benchmark-tenants")
				.instanceId("benchmark-0")
				.replicationFactor((short) 1)
				.build());
			EmbeddedBroker.awaitAuthority(this.backend, Duration.ofSeconds(60));
			this.registry = dev.ratelimit.RateLimiterRegistry.builder()
				.maxKeys(Math.max(10_000, 2 * tenants.tenants))
				.build()
				.define("api", tenants.toRateLimit(), this.backend);
			this.names = new String[tenants.tenants];
			for (int i = 0; i < this.names.length; i++) {
				this.names[i] = "tenant-" + i;
			}
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			stop(this.backend, this.broker);
		}

	}

	/** Bucket4j's CAS-based proxy manager on Lettuce: one bucket per tenant in Redis. */
	@State(Scope.Benchmark)
	public static class RedisTenants {

		@Param("redis://127.0.0.1:6379")
		public String redisUri;

		RedisLink redis;

		BucketProxy[] buckets;

		@Setup(Level.Trial)
		public void setUp(Tenants tenants) {
			this.redis = RedisLink.open(this.redisUri);
			BucketConfiguration configuration = BucketConfiguration.builder()
				.addLimit(Bandwidth.builder()
					.capacity(tenants.tenantCapacity)
					.refillGreedy(tenants.tenantRate, Duration.ofSeconds(1))
					.build())
				.build();
			var proxies = this.redis.proxyManager();
			this.buckets = new BucketProxy[tenants.tenants];
			for (int i = 0; i < this.buckets.length; i++) {
				String key = "ratelimit-benchmark-tenant-" + i;
				this.redis.connection().sync().del(key); // full buckets, not ones left over from an earlier run
				this.buckets[i] = proxies.builder().build(key, () -> configuration);
			}
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			if (this.redis != null) {
				this.redis.close();
			}
		}

	}

	/** The limit every implementation enforces, on its one hot key. */
	@State(Scope.Benchmark)
	public static class Limit {

		/** Permits per second. */
		@Param("1000000000")
		public long rate;

		/** Burst, in permits. */
		@Param("1000000000")
		public long capacity;

		RateLimit toRateLimit() {
			return RateLimit.tokenBucket(Rate.perSecond(this.rate)).capacity(this.capacity).build();
		}

	}

	/** This library's in-memory token bucket. */
	@State(Scope.Benchmark)
	public static class InMemory {

		RateLimiter limiter;

		@Setup(Level.Trial)
		public void setUp(Limit limit) {
			this.limiter = RateLimiter.of("hot", limit.toRateLimit());
		}

	}

	/** The Kafka backend, one instance, on an in-process broker of its own. */
	@State(Scope.Benchmark)
	public static class Kafka {

		/** How far ahead, in milliseconds of measured demand, each lease reaches. */
		@Param("500")
		public long leaseHorizonMillis;

		EmbeddedKafkaBroker broker;

		KafkaRateLimiterBackend backend;

		RateLimiter limiter;

		@Setup(Level.Trial)
		public void setUp(Limit limit) throws InterruptedException {
			this.broker = EmbeddedBroker.start();
			this.backend = KafkaRateLimiterBackend.start(KafkaBackendConfig.builder(this.broker.getBrokersAsString())
				.clusterId("benchmark")
				.instanceId("benchmark-0")
				.requestPartitions(1)
				.grantPartitions(1)
				.replicationFactor((short) 1)
				.leaseHorizon(Duration.ofMillis(this.leaseHorizonMillis))
				.build());
			EmbeddedBroker.awaitAuthority(this.backend, Duration.ofSeconds(60));
			this.limiter = this.backend.create("hot", null, limit.toRateLimit(), RateLimiterListener.NONE);
			// the first lease: until it arrives every decision is a denial
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
			while (!this.limiter.tryAcquire()) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("no lease within 30 s: " + this.backend.health());
				}
				Thread.sleep(5);
			}
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			stop(this.backend, this.broker);
		}

	}

	/** Bucket4j's CAS-based proxy manager on Lettuce, one bucket in Redis. */
	@State(Scope.Benchmark)
	public static class Redis {

		/** The Redis server; the run script starts one on loopback when none answers there. */
		@Param("redis://127.0.0.1:6379")
		public String redisUri;

		RedisLink redis;

		BucketProxy bucket;

		@Setup(Level.Trial)
		public void setUp(Limit limit) {
			this.redis = RedisLink.open(this.redisUri);
			String key = "ratelimit-benchmark-hot";
			this.redis.connection().sync().del(key); // a full bucket, not one left over from an earlier run
			BucketConfiguration configuration = BucketConfiguration.builder()
				.addLimit(Bandwidth.builder()
					.capacity(limit.capacity)
					.refillGreedy(limit.rate, Duration.ofSeconds(1))
					.build())
				.build();
			this.bucket = this.redis.proxyManager().builder().build(key, () -> configuration);
			if (!this.bucket.tryConsume(1)) {
				throw new IllegalStateException("a fresh Bucket4j bucket in Redis denied its first call");
			}
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			if (this.redis != null) {
				this.redis.close();
			}
		}

	}

	/** A Lettuce connection to Redis, and Bucket4j's CAS-based proxy manager on it. */
	record RedisLink(RedisClient client, StatefulRedisConnection<String, byte[]> connection) {

		static RedisLink open(String uri) {
			RedisClient client = RedisClient.create(uri);
			try {
				return new RedisLink(client, client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE)));
			}
			catch (RuntimeException ex) {
				client.shutdown();
				throw new IllegalStateException("Redis does not answer at " + uri
						+ ": start one (run-kafka-benchmarks.sh does) or pass -p redisUri=...", ex);
			}
		}

		io.github.bucket4j.redis.lettuce.cas.LettuceBasedProxyManager<String> proxyManager() {
			return Bucket4jLettuce.casBasedBuilder(this.connection)
				.expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofMinutes(1)))
				.build();
		}

		void close() {
			this.connection.close();
			this.client.shutdown();
		}

	}

	/** Stops a backend (printing its figures for the record) and its broker. */
	static void stop(KafkaRateLimiterBackend backend, EmbeddedKafkaBroker broker) {
		if (backend != null) {
			// leases and round trips of the whole trial, for the record
			System.out.println("Kafka backend after the trial: " + backend.metrics());
			backend.close();
		}
		if (broker != null) {
			broker.destroy();
		}
	}

	/**
	 * Decisions by outcome, reported as the {@code permitted} and {@code denied} secondary results
	 * (per second, like the primary score).
	 */
	@State(Scope.Thread)
	@AuxCounters(AuxCounters.Type.OPERATIONS)
	public static class Decisions {

		public long permitted;

		public long denied;

		@Setup(Level.Iteration)
		public void clear() {
			this.permitted = 0;
			this.denied = 0;
		}

		boolean count(boolean permitted) {
			if (permitted) {
				this.permitted++;
			}
			else {
				this.denied++;
			}
			return permitted;
		}

	}

}
