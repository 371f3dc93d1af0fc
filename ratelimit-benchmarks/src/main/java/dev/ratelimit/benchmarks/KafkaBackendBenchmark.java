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
			if (this.backend != null) {
				// leases and round trips of the whole trial, for the record
				System.out.println("Kafka backend after the trial: " + this.backend.metrics());
				this.backend.close();
			}
			if (this.broker != null) {
				this.broker.destroy();
			}
		}

	}

	/** Bucket4j's CAS-based proxy manager on Lettuce, one bucket in Redis. */
	@State(Scope.Benchmark)
	public static class Redis {

		/** The Redis server; the run script starts one on loopback when none answers there. */
		@Param("redis://127.0.0.1:6379")
		public String redisUri;

		RedisClient client;

		StatefulRedisConnection<String, byte[]> connection;

		BucketProxy bucket;

		@Setup(Level.Trial)
		public void setUp(Limit limit) {
			this.client = RedisClient.create(this.redisUri);
			try {
				this.connection = this.client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
			}
			catch (RuntimeException ex) {
				throw new IllegalStateException("Redis does not answer at " + this.redisUri
						+ ": start one (run-kafka-benchmarks.sh does) or pass -p redisUri=...", ex);
			}
			String key = "ratelimit-benchmark-hot";
			this.connection.sync().del(key); // a full bucket, not one left over from an earlier run
			BucketConfiguration configuration = BucketConfiguration.builder()
				.addLimit(Bandwidth.builder()
					.capacity(limit.capacity)
					.refillGreedy(limit.rate, Duration.ofSeconds(1))
					.build())
				.build();
			this.bucket = Bucket4jLettuce.casBasedBuilder(this.connection)
				.expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofMinutes(1)))
				.build()
				.builder()
				.build(key, () -> configuration);
			if (!this.bucket.tryConsume(1)) {
				throw new IllegalStateException("a fresh Bucket4j bucket in Redis denied its first call");
			}
		}

		@TearDown(Level.Trial)
		public void tearDown() {
			if (this.connection != null) {
				this.connection.close();
			}
			if (this.client != null) {
				this.client.shutdown();
			}
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
