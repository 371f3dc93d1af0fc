package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.kafka.KafkaTestSupport.Load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One limit shared by three instances, each with its own Kafka clients and Kafka Streams
 * authority, on a real broker: accuracy, fairness and isolation, with numbers. Run on the
 * in-process KRaft broker ({@link SharedLimitIT}) and on Testcontainers Kafka when a Docker engine
 * is present ({@link SharedLimitContainerIT}).
 */
abstract class SharedLimitScenarios {

	final List<KafkaRateLimiterBackend> backends = new ArrayList<>();

	/** The bootstrap servers of the broker the scenarios run on. */
	abstract String bootstrap();

	@AfterEach
	void closeBackends() {
		KafkaTestSupport.closeAll(this.backends);
	}

	private List<KafkaRateLimiterBackend> start(String cluster, int count) {
		for (int i = 0; i < count; i++) {
			// a lease covers a quarter of a second of demand: at the end of a 20 s measurement, what
			// is still leased and unspent counts against accuracy, and shorter leases strand less
			this.backends.add(KafkaRateLimiterBackend.start(KafkaTestSupport
				.config(bootstrap(), cluster, "instance-" + i)
				.leaseHorizon(Duration.ofMillis(250))
				.build()));
		}
		KafkaTestSupport.awaitAuthorities(this.backends);
		return this.backends;
	}

	/**
	 * Three instances share 200 permits/s (burst 200), each demanding 200/s for 20 s: together they
	 * are admitted between 95% and 101% of rate x T + capacity.
	 */
	@Test
	void threeInstancesShareOneLimitAccurately() throws Exception {
		List<KafkaRateLimiterBackend> instances = start("accuracy", 3);
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(200)).capacity(200).build();
		List<Load> loads = new ArrayList<>();
		for (KafkaRateLimiterBackend instance : instances) {
			loads.add(new Load(instance.create("shared", null, limit, RateLimiterListener.NONE), 200));
		}
		Duration run = Duration.ofSeconds(20);
		long[] admitted = KafkaTestSupport.runAll(loads, run);
		long total = admitted[0] + admitted[1] + admitted[2];
		double expected = 200 * 20 + 200;
		System.out.printf("accuracy: admitted %d of %d possible (%.1f%%), per instance %s%n", total, (long) expected,
				100 * total / expected, java.util.Arrays.toString(admitted));
		instances.forEach((instance) -> System.out.println("accuracy: " + instance.metrics()));
		assertThat(total).isBetween((long) (0.95 * expected), (long) (1.01 * expected));
	}

	/**
	 * Demands of 100, 200 and 300 per second against a limit of 200/s: the max-min fair share is a
	 * third each, and each instance gets at least 80% of it.
	 */
	@Test
	void instancesGetTheirFairShare() throws Exception {
		List<KafkaRateLimiterBackend> instances = start("fairness", 3);
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(200)).capacity(200).build();
		double[] demands = { 100, 200, 300 };
		List<Load> loads = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			loads.add(new Load(instances.get(i).create("fair", null, limit, RateLimiterListener.NONE), demands[i]));
		}
		long[] admitted = KafkaTestSupport.runAll(loads, Duration.ofSeconds(20));
		double fair = (200 * 20 + 200) / 3.0;
		System.out.printf("fairness: admitted %s, fair share %.0f each%n", java.util.Arrays.toString(admitted), fair);
		for (long got : admitted) {
			assertThat((double) got).isGreaterThanOrEqualTo(0.8 * fair);
		}
	}

	/** The same name is one bucket on every instance; a different name is another bucket. */
	@Test
	void sameNameSharesDifferentNamesDoNot() throws Exception {
		List<KafkaRateLimiterBackend> instances = start("isolation", 2);
		// both instances' clients and authorities are warm before the measured run
		RateLimit warm = RateLimit.tokenBucket(Rate.perSecond(1000)).build();
		for (KafkaRateLimiterBackend instance : instances) {
			RateLimiter warmUp = instance.create("warm-up", null, warm, RateLimiterListener.NONE);
			org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(warmUp::tryAcquire);
		}
		RateLimit limit = RateLimit.tokenBucket(Rate.perMinute(60)).capacity(60).build();
		RateLimiter aOnFirst = instances.get(0).create("a", null, limit, RateLimiterListener.NONE);
		RateLimiter aOnSecond = instances.get(1).create("a", null, limit, RateLimiterListener.NONE);
		RateLimiter bOnSecond = instances.get(1).create("b", null, limit, RateLimiterListener.NONE);
		long[] admitted = KafkaTestSupport.runAll(
				List.of(new Load(aOnFirst, 200), new Load(aOnSecond, 200), new Load(bOnSecond, 200)),
				Duration.ofSeconds(10));
		System.out.printf("isolation: a on first %d, a on second %d, b on second %d%n", admitted[0], admitted[1],
				admitted[2]);
		// "a" is one bucket of 60 (+10 refilled in 10 s) for both instances together, not 60 each;
		// the lower bound leaves room for permits still leased when the run ends
		assertThat(admitted[0] + admitted[1]).isBetween(50L, 71L);
		assertThat(admitted[0]).isPositive();
		assertThat(admitted[1]).isPositive();
		// "b" is a bucket of its own, full at the start
		assertThat(admitted[2]).isBetween(50L, 71L);
	}

	/**
	 * A key idle long enough to give its lease back is served at once when traffic returns: its
	 * first calls come from the cold-start allowance (its share of what the bucket last held) instead
	 * of waiting for a lease, and the authority debits them.
	 */
	@Test
	void aBurstAfterIdlingIsServedAtOnce() {
		RateLimiter limiter = usedThenIdle("cold-start");
		int admitted = 0;
		for (int i = 0; i < 20; i++) {
			admitted += limiter.tryAcquire() ? 1 : 0; // a burst faster than any lease round trip
		}
		System.out.printf("cold start: %d of a burst of 20 admitted with no lease held%n", admitted);
		assertThat(admitted).isEqualTo(20);
	}

	/**
	 * A key this instance has never used starts in the cold regime: its first calls are admitted at
	 * once from a local allowance (its part of the bucket, here the whole capacity: one instance),
	 * without waiting on Kafka; once the allowance is spent the key leases, and a call that may wait
	 * gets the first grant.
	 */
	@Test
	void aNewKeysFirstCallsArePermittedFromItsColdAllowance() throws Exception {
		KafkaRateLimiterBackend instance = KafkaRateLimiterBackend.start(KafkaTestSupport
			.config(bootstrap(), "first-call", "instance-0")
			.build());
		this.backends.add(instance);
		KafkaTestSupport.awaitAuthorities(this.backends);
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(1)).capacity(10).build();

		RateLimiter tenant = instance.create("tenants[tenant-1]", "tenant-1", limit, RateLimiterListener.NONE);
		assertThat(tenant.snapshot().details()).containsEntry("regime", "cold");
		int admitted = 0;
		for (int i = 0; i < 10; i++) {
			admitted += tenant.tryAcquire() ? 1 : 0; // faster than any round trip
		}
		assertThat(admitted).isEqualTo(10);
		assertThat(tenant.tryAcquire()).isFalse(); // the bucket is spent: no more than its capacity
		assertThat(tenant.snapshot().details()).containsEntry("regime", "leased");
		assertThat(tenant.acquire(1, Duration.ofSeconds(10))).isTrue(); // the refill, through a lease

		RateLimiter async = instance.create("tenants[tenant-2]", "tenant-2", limit, RateLimiterListener.NONE);
		assertThat(async.acquireAsync(1, Duration.ofSeconds(10)).get(30, java.util.concurrent.TimeUnit.SECONDS))
			.isTrue();
	}

	/**
	 * Records an attacker (or a bug) writes to the request topic: a key too long for any record, a
	 * rate update no limiter accepts, truncated bytes. Each is skipped and counted; the partition
	 * goes on granting, and the limit in force stays.
	 */
	@Test
	void badRecordsOnTheRequestTopicNeitherStallAPartitionNorChangeALimit() throws Exception {
		List<KafkaRateLimiterBackend> instances = start("hostile", 2);
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(100)).capacity(100).build();
		List<RateLimiter> victims = new ArrayList<>();
		for (KafkaRateLimiterBackend instance : instances) {
			victims.add(instance.create("victim", null, limit, RateLimiterListener.NONE));
		}
		int partition = instances.get(0).partitionOf("victim");
		java.util.Map<String, Object> producer = java.util.Map.of(
				org.apache.kafka.clients.producer.ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
		String topic = instances.get(0).config().requestTopic();
		dev.ratelimit.kafka.internal.Messages.Request lease = new dev.ratelimit.kafka.internal.Messages.Request(
				(byte) 1, "attacker", 1, 1, 10, 0, 1, 500, 0, 0, 0,
				new dev.ratelimit.kafka.internal.Messages.Spec(100, 100, 1_000_000_000L));
		dev.ratelimit.kafka.internal.Messages.Request update = new dev.ratelimit.kafka.internal.Messages.Request(
				(byte) 2, "attacker", 1, 2, 0, 0, 1, 500, 0, 0, 0,
				new dev.ratelimit.kafka.internal.Messages.Spec(100, 1_000_000_000L, 1));
		List<org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>> hostile = List.of(
				// a key longer than any record's string field, an UPDATE far beyond the API's bounds, a truncated record
				new org.apache.kafka.clients.producer.ProducerRecord<>(topic, partition, "k".repeat(70_000), lease.encode()),
				new org.apache.kafka.clients.producer.ProducerRecord<>(topic, partition, "victim", update.encode()),
				new org.apache.kafka.clients.producer.ProducerRecord<>(topic, partition, "victim", new byte[] { 1, 1, 0 }));
		try (var bad = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(producer,
				new org.apache.kafka.common.serialization.StringSerializer(),
				new org.apache.kafka.common.serialization.ByteArraySerializer())) {
			int step = 0;
			for (org.apache.kafka.clients.producer.ProducerRecord<String, byte[]> record : hostile) {
				long skipped = malformed(instances);
				bad.send(record).get();
				await().atMost(Duration.ofSeconds(30)).until(() -> malformed(instances) > skipped);
				step++;
				// after each: a limiter new on every instance, for a key of the same partition, gets a grant
				// (it holds no lease and no share of its own yet: only an answer from the partition admits it)
				for (KafkaRateLimiterBackend instance : instances) {
					String fresh = keyOfPartition(instance, partition, "after-" + step + "-" + instance.config().instanceId());
					RateLimiter probe = instance.create(fresh, null, limit, RateLimiterListener.NONE);
					assertThat(probe.acquire(1, Duration.ofSeconds(10))).isTrue();
					await().atMost(Duration.ofSeconds(30))
						.until(() -> ((Number) probe.snapshot().details().get("lastRoundTripMillis")).doubleValue() >= 0);
				}
			}
		}
		for (RateLimiter victim : victims) {
			assertThat(victim.acquire(1, Duration.ofSeconds(10))).isTrue(); // every instance still decides
			assertThat(victim.limit()).isEqualTo(limit); // and the forged rate never reached a limiter
		}
	}

	/**
	 * A listener that throws, even an {@code Error}, when a grant brings a limit changed elsewhere:
	 * the instance's grant receiver counts it and goes on, so its other limiters keep getting grants.
	 */
	@Test
	void aListenerThatThrowsOnAGrantNeitherStopsTheGrantReceiverNorItsOtherLimiters() throws Exception {
		List<KafkaRateLimiterBackend> instances = start("throwing-listener", 2);
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(100)).capacity(100).build();
		RateLimiterListener throwing = new RateLimiterListener() {
			@Override
			public void onLimitChanged(RateLimit previous, RateLimit current) {
				throw new AssertionError("a listener's bug");
			}
		};
		RateLimiter watched = instances.get(0).create("watched", null, limit, throwing);
		RateLimiter changer = instances.get(1).create("watched", null, limit, RateLimiterListener.NONE);
		assertThat(watched.acquire(1, Duration.ofSeconds(10))).isTrue();
		assertThat(changer.acquire(1, Duration.ofSeconds(10))).isTrue();
		long skipped = instances.get(0).runtime().malformedRecords();
		changer.updateRate(Rate.perSecond(50)); // the next grant of "watched" on instance 0 carries it
		await().atMost(Duration.ofSeconds(30)).until(() -> {
			watched.tryAcquire(); // demand, so instance 0 asks for "watched" again
			return watched.limit().rate().equals(Rate.perSecond(50))
					&& instances.get(0).runtime().malformedRecords() > skipped;
		});
		RateLimiter other = instances.get(0).create("other", null, limit, RateLimiterListener.NONE);
		assertThat(other.acquire(1, Duration.ofSeconds(10))).isTrue();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> ((Number) other.snapshot().details().get("lastRoundTripMillis")).doubleValue() >= 0);
		assertThat(instances.get(0).health().status()).isEqualTo(BackendHealth.Status.UP);
	}

	private static long malformed(List<KafkaRateLimiterBackend> instances) {
		return instances.stream().mapToLong((instance) -> instance.runtime().malformedRecords()).sum();
	}

	/** A limiter name that the instance maps to {@code partition}: {@code prefix} and a number. */
	private static String keyOfPartition(KafkaRateLimiterBackend instance, int partition, String prefix) {
		for (int i = 0;; i++) {
			if (instance.partitionOf(prefix + "-" + i) == partition) {
				return prefix + "-" + i;
			}
		}
	}

	/**
	 * Cold keys cost no record per call: what an instance admits from its allowances goes to the
	 * authority in one report per request partition per second, and the authority keeps no state
	 * for a key once its bucket is full again.
	 */
	@Test
	void coldKeysAreReportedInBatchesAndForgottenWhenFull() {
		KafkaRateLimiterBackend instance = KafkaRateLimiterBackend.start(KafkaTestSupport
			.config(bootstrap(), "cold-keys", "instance-0")
			.build());
		this.backends.add(instance);
		KafkaTestSupport.awaitAuthorities(this.backends);
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(100)).capacity(100).build();
		long requestsBefore = instance.runtime().requestsSent();
		for (int key = 0; key < 1_000; key++) {
			RateLimiter tenant = instance.create("tenants[t" + key + "]", "t" + key, limit, RateLimiterListener.NONE);
			assertThat(tenant.tryAcquire()).isTrue();
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> ((Number) instance.metrics().get("reportsSent")).longValue() > 0
					&& instance.runtime().authorityKeys() == 0);
		// a report per partition and second at most, and no lease request: one record for many keys
		assertThat(((Number) instance.metrics().get("reportsSent")).longValue()).isLessThanOrEqualTo(12 * 3);
		assertThat(instance.runtime().requestsSent() - requestsBefore).isLessThan(100); // probes only
	}

	/**
	 * Tenants over their limit on two instances: their leases go in one record per request
	 * partition and report interval, not one per key, and each tenant still gets its limit and no
	 * more than the bound (plus the documented cold start and one report interval of debt). Both
	 * instances know the group has two members, so a new key's cold part is half its bucket.
	 */
	@Test
	void keysOverTheirLimitLeaseInBatchesAndKeepTheirLimit() {
		List<KafkaRateLimiterBackend> instances = start("hot-keys", 2);
		// each instance knows the group's size: a new key's cold part is the bucket divided by it
		await().atMost(Duration.ofSeconds(30))
			.until(() -> instances.stream().allMatch((instance) -> instance.runtime().fleetSize() == 2));
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(10)).capacity(10).build();
		int keys = 60;
		List<List<RateLimiter>> tenants = new ArrayList<>();
		for (KafkaRateLimiterBackend instance : instances) {
			List<RateLimiter> own = new ArrayList<>();
			for (int key = 0; key < keys; key++) {
				own.add(instance.create("hot[t" + key + "]", "t" + key, limit, RateLimiterListener.NONE));
			}
			tenants.add(own);
		}
		long[] admitted = new long[keys];
		long start = System.nanoTime();
		long end = start + Duration.ofSeconds(6).toNanos();
		while (System.nanoTime() < end) {
			for (List<RateLimiter> own : tenants) {
				for (int key = 0; key < keys; key++) {
					admitted[key] += own.get(key).tryAcquire() ? 1 : 0;
				}
			}
			java.util.concurrent.locks.LockSupport.parkNanos(2_000_000); // about 30 calls per second and key
		}
		double seconds = (System.nanoTime() - start) / 1e9;
		long requests = 0;
		long batches = 0;
		for (KafkaRateLimiterBackend instance : instances) {
			requests += instance.runtime().requestsSent();
			batches += ((Number) instance.metrics().get("batchesSent")).longValue();
		}
		long least = java.util.Arrays.stream(admitted).min().getAsLong();
		long most = java.util.Arrays.stream(admitted).max().getAsLong();
		// the bound, one capacity for the cold start, one report interval of shares spent before a debt shows
		long bound = (long) Math.ceil(10 + 10 * seconds) + 10 + 10;
		// each key's state reaches the changelog once per commit (5 s), not once per answer (two a
		// second, one per instance): a key's first states, then about one per 5 s
		long changelog = KafkaTestSupport.records(bootstrap(), instances.get(0).config().changelogTopic());
		long changelogBound = (long) (keys * (Math.ceil(seconds / 5) + 3));
		System.out.printf("hot keys: %d requests in %d batches; admitted per key %d to %d in %.1f s, bound %d; "
				+ "%d changelog records (bound %d)%n", requests, batches, least, most, seconds, bound, changelog,
				changelogBound);
		assertThat(requests).as("requests, one per instance, key and report").isGreaterThan(changelogBound);
		assertThat(changelog).as("changelog records").isLessThanOrEqualTo(changelogBound);
		assertThat(batches).isPositive();
		assertThat(requests).as("requests per batch").isGreaterThanOrEqualTo(2 * batches);
		// the health details count the keys per limiter name and regime: every hot key leases
		@SuppressWarnings("unchecked")
		java.util.Map<String, java.util.Map<String, Long>> byLimiter = (java.util.Map<String, java.util.Map<String, Long>>) instances
			.get(0)
			.health()
			.details()
			.get("keysByLimiter");
		assertThat(byLimiter).containsOnlyKeys("hot");
		assertThat(byLimiter.get("hot")).containsEntry("keys", (long) keys).containsEntry("leased", (long) keys)
			.containsEntry("cold", 0L);
		// and per name, with what was sent for its keys (over their limit: requests, many per record)
		java.util.Map<String, Object> hot = instances.get(0).keyedDetails("hot");
		assertThat(hot).containsEntry("keys", (long) keys).containsEntry("leased", (long) keys).containsKey("debt");
		assertThat((Long) hot.get("requestsSent")).isGreaterThanOrEqualTo(keys);
		assertThat(instances.get(0).keyedDetails("unknown")).containsEntry("keys", 0L);
		assertThat(most).isLessThanOrEqualTo(bound);
		assertThat(least).as("every tenant gets most of its limit").isGreaterThanOrEqualTo((long) (0.8 * 10 * seconds));
	}

	/**
	 * A burst that goes on after idling is served from the cold-start allowance and then from
	 * leases: it gets no more than the bucket held plus its refill.
	 */
	@Test
	void aLongBurstAfterIdlingGetsNoMoreThanTheBucket() {
		RateLimiter limiter = usedThenIdle("cold-burst");
		long start = System.nanoTime();
		long admitted = 0;
		while (System.nanoTime() - start < Duration.ofSeconds(2).toNanos()) {
			admitted += limiter.tryAcquire() ? 1 : 0;
		}
		double seconds = (System.nanoTime() - start) / 1e9;
		long bound = (long) Math.ceil(100 + 100 * seconds);
		System.out.printf("cold burst: %d admitted in %.2f s after idling, bound %d%n", admitted, seconds, bound);
		assertThat(admitted).isLessThanOrEqualTo(bound);
		assertThat(admitted).as("the burst is served, not starved").isGreaterThan(100);
	}

	/**
	 * A limiter of 100/s (burst 100) on a new instance that returns idle leases after 1 s: used
	 * once, then left until its lease has gone back to the authority.
	 */
	private RateLimiter usedThenIdle(String cluster) {
		KafkaRateLimiterBackend instance = KafkaRateLimiterBackend.start(KafkaTestSupport
			.config(bootstrap(), cluster, "instance-0")
			.idleReturn(Duration.ofSeconds(1))
			.build());
		this.backends.add(instance);
		KafkaTestSupport.awaitAuthorities(this.backends);
		RateLimiter limiter = instance.create("bursty", null,
				RateLimit.tokenBucket(Rate.perSecond(100)).capacity(100).build(), RateLimiterListener.NONE);
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(limiter::tryAcquire);
		// idle: the lease goes back to the authority
		org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
			.until(() -> (long) limiter.snapshot().details().get("leased") == 0);
		return limiter;
	}

}
