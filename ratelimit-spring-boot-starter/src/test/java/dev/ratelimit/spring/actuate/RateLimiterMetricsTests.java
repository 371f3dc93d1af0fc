package dev.ratelimit.spring.actuate;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.RateLimiterRegistry.KeyPolicy;
import dev.ratelimit.RateLimiterRegistry.Tier;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class RateLimiterMetricsTests {

	private final ManualClock clock = new ManualClock();

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	@Test
	void countsCallsNotPermitsByResult() throws InterruptedException {
		RateLimiter orders = registry(false, 0).limiter("orders");
		assertThat(orders.tryAcquire(2)).isTrue();
		assertThat(orders.tryAcquire()).isTrue();
		assertThat(orders.tryAcquire()).isFalse();
		assertThat(orders.decide(1).permitted()).isFalse();
		assertThat(orders.acquire(1, Duration.ZERO)).isFalse();
		assertThat(calls("permitted", "name", "orders")).isEqualTo(2);
		assertThat(calls("rejected", "name", "orders")).isEqualTo(3);
	}

	@Test
	void timesWaitsBeforeAGrant() throws InterruptedException {
		RateLimiter orders = registry(false, 0).limiter("orders");
		orders.tryAcquire(3);
		// 3 per second: the next permit comes a third of a second later, which the manual clock "sleeps"
		assertThat(orders.acquire(1, Duration.ofSeconds(1))).isTrue();
		Timer waits = this.meters.get(RateLimiterMetrics.WAIT).tag("name", "orders").timer();
		assertThat(waits.count()).isOne();
		assertThat(waits.totalTime(TimeUnit.NANOSECONDS)).isEqualTo(333_333_334);
	}

	@Test
	void gaugesFollowTheSharedLimiter() {
		RateLimiter orders = registry(false, 0).limiter("orders");
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "orders")).isEqualTo(3);
		assertThat(gauge(RateLimiterMetrics.UTILIZATION, "name", "orders")).isZero();
		assertThat(gauge(RateLimiterMetrics.RATE, "name", "orders")).isEqualTo(3);
		orders.tryAcquire(3);
		orders.updateRate(Rate.perSecond(30));
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "orders")).isZero();
		assertThat(gauge(RateLimiterMetrics.UTILIZATION, "name", "orders")).isEqualTo(1);
		assertThat(gauge(RateLimiterMetrics.RATE, "name", "orders")).isEqualTo(30);
		this.clock.advance(Duration.ofMillis(100));
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "orders")).isEqualTo(3);
	}

	@Test
	void aConcurrencyLimiterHasNoRate() {
		RateLimiter db = registry(false, 0).limiter("db");
		db.tryAcquire();
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "db")).isEqualTo(1);
		assertThat(gauge(RateLimiterMetrics.UTILIZATION, "name", "db")).isEqualTo(0.5);
		assertThat(gauge(RateLimiterMetrics.RATE, "name", "db")).isNaN();
	}

	@Test
	void withoutPerKeyTagsKeysAddToTheirNamesCountersAndHaveNoGauges() {
		RateLimiterRegistry registry = registry(false, 0);
		registry.limiter("tenant", "a").tryAcquire();
		registry.limiter("tenant", "b").tryAcquire();
		registry.limiter("tenant", "b").tryAcquire();
		assertThat(calls("permitted", "name", "tenant")).isEqualTo(2);
		assertThat(calls("rejected", "name", "tenant")).isOne();
		assertThat(gauge(RateLimiterMetrics.KEYS, "name", "tenant")).isEqualTo(2);
		assertThat(this.meters.find(RateLimiterMetrics.AVAILABLE).gauges()).isEmpty();
		assertThat(this.meters.getMeters()).allSatisfy((meter) -> assertThat(meter.getId().getTag("key")).isNull());
		assertThat(this.meters.getMeters()).extracting((meter) -> meter.getId().getName())
			.containsOnly(RateLimiterMetrics.CALLS, RateLimiterMetrics.WAIT, RateLimiterMetrics.KEYS);
	}

	@Test
	void perKeyTagsAreBoundedAndLaterKeysAddUpUnderOther() {
		RateLimiterRegistry registry = registry(true, 2);
		registry.limiter("tenant", "a").tryAcquire();
		registry.limiter("tenant", "b").tryAcquire();
		registry.limiter("tenant", "c").tryAcquire();
		registry.limiter("tenant", "d").tryAcquire();
		registry.limiter("tenant", "a").tryAcquire();
		registry.limiter("tenant").tryAcquire();
		assertThat(calls("permitted", "name", "tenant", "key", "a")).isOne();
		assertThat(calls("rejected", "name", "tenant", "key", "a")).isOne();
		assertThat(calls("permitted", "name", "tenant", "key", "b")).isOne();
		assertThat(calls("permitted", "name", "tenant", "key", RateLimiterMetrics.OTHER_KEYS)).isEqualTo(2);
		assertThat(calls("permitted", "name", "tenant", "key", RateLimiterMetrics.NO_KEY)).isOne();
		assertThat(this.meters.find(RateLimiterMetrics.CALLS).counters()).extracting((meter) -> meter.getId().getTag("key"))
			.containsOnly("a", "b", RateLimiterMetrics.OTHER_KEYS, RateLimiterMetrics.NO_KEY);
		assertThat(this.meters.find(RateLimiterMetrics.AVAILABLE).gauges()).extracting((meter) -> meter.getId().getTag("key"))
			.containsExactlyInAnyOrder("a", "b", RateLimiterMetrics.NO_KEY);
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "tenant", "key", "a")).isZero();
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "tenant", "key", "b")).isZero();
		assertThat(gauge(RateLimiterMetrics.RATE, "name", "tenant", "key", "a")).isEqualTo(1);
		assertThat(gauge(RateLimiterMetrics.KEYS, "name", "tenant")).isEqualTo(4);
		// Prometheus needs one set of tag keys per meter name
		assertThat(this.meters.getMeters()).filteredOn((meter) -> !meter.getId().getName().equals(RateLimiterMetrics.KEYS))
			.allSatisfy((meter) -> assertThat(meter.getId().getTag("key")).isNotNull());
	}

	@Test
	void keyGaugesFollowAKeysLimiterAcrossEvictionAndReCreation() {
		RateLimiterRegistry registry = registry(true, 10);
		RateLimiter first = registry.limiter("tenant", "a");
		first.tryAcquire();
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "tenant", "key", "a")).isZero();
		this.clock.advance(Duration.ofMinutes(2)); // refilled, then idle past the key timeout
		registry.evictIdleKeys(); // the registry's own sweep may have been first
		assertThat(registry.keyCount("tenant")).isZero();
		RateLimiter second = registry.limiter("tenant", "a");
		assertThat(second).isNotSameAs(first);
		second.updateRate(Rate.perSecond(5));
		assertThat(gauge(RateLimiterMetrics.RATE, "name", "tenant", "key", "a")).isEqualTo(5);
		assertThat(calls("permitted", "name", "tenant", "key", "a")).as("the same counter goes on").isOne();
	}

	@Test
	void compositesCountTheCompositeAndEachTier() {
		RateLimiterRegistry registry = registry(false, 0);
		RateLimiter checkout = registry.limiter("checkout", "a");
		assertThat(checkout.tryAcquire()).isTrue();
		assertThat(checkout.tryAcquire()).as("the per-key tier of one permit denies").isFalse();
		assertThat(calls("permitted", "name", "checkout")).isOne();
		assertThat(calls("rejected", "name", "checkout")).isOne();
		assertThat(calls("permitted", "name", "tenant")).isOne();
		assertThat(calls("rejected", "name", "tenant")).isOne();
		assertThat(calls("permitted", "name", "orders")).isOne();
		assertThat(calls("rejected", "name", "orders")).as("orders was not asked the second time").isZero();
	}

	@Test
	void withoutAMeterRegistryLimitersGetNoListenerUntilOneAppears() {
		AtomicReference<MeterRegistry> meterRegistry = new AtomicReference<>();
		RateLimiterMetrics metrics = new RateLimiterMetrics(meterRegistry::get, () -> null, false, 0);
		assertThat(metrics.create("orders", null)).isSameAs(RateLimiterListener.NONE);
		meterRegistry.set(this.meters);
		RateLimiterListener listener = metrics.create("orders", null);
		assertThat(listener).isNotSameAs(RateLimiterListener.NONE);
		listener.onPermitted(1);
		assertThat(calls("permitted", "name", "orders")).isOne();
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "orders")).as("no limiter registry yet").isNaN();
	}

	@Test
	void aGaugeOfALimiterThatIsNotThereReadsNaN() {
		RateLimiterRegistry registry = registry(false, 0);
		RateLimiterMetrics metrics = new RateLimiterMetrics(() -> this.meters, () -> registry, false, 0);
		metrics.create("orders", null); // as if a listener were asked for before the limiter is stored
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "orders")).isNaN();
		registry.limiter("orders");
		assertThat(gauge(RateLimiterMetrics.AVAILABLE, "name", "orders")).isEqualTo(3);
	}

	@Test
	void rejectsANegativeKeyBound() {
		assertThatIllegalArgumentException().isThrownBy(() -> new RateLimiterMetrics(() -> null, () -> null, true, -1))
			.withMessage("maxTaggedKeys must be zero or more, but was -1");
	}

	@Test
	void aBackendThatReportsItsKeysGetsGaugesByStateAndDebt() {
		java.util.Map<String, Object> report = new java.util.concurrent.ConcurrentHashMap<>(
				java.util.Map.of("keys", 3L, "cold", 2L, "leased", 1L, "degraded", 0L, "debt", 7L));
		dev.ratelimit.RateLimiterBackend reporting = new dev.ratelimit.RateLimiterBackend() {

			@Override
			public String id() {
				return "reporting";
			}

			@Override
			public RateLimiter create(String name, String key, RateLimit limit,
					dev.ratelimit.RateLimiterListener listener) {
				return RateLimiter.builder(name, limit).listener(listener).build();
			}

			@Override
			public java.util.Map<String, Object> keyedDetails(String name) {
				return "api".equals(name) ? report : java.util.Map.of();
			}

		};
		AtomicReference<RateLimiterRegistry> registry = new AtomicReference<>();
		registry.set(RateLimiterRegistry.builder()
			.ticker(this.clock)
			.scheduler(this.clock)
			.listeners(new RateLimiterMetrics(() -> this.meters, registry::get, false, 0))
			.build()
			.define("api", RateLimit.tokenBucket(Rate.perSecond(1)).build(), reporting)
			.define("tenant", RateLimit.tokenBucket(Rate.perSecond(1)).build()));
		registry.get().limiter("api", "a").tryAcquire();
		registry.get().limiter("tenant", "a").tryAcquire();
		assertThat(gauge(RateLimiterMetrics.KEYS_BY_STATE, "name", "api", "state", "cold")).isEqualTo(2);
		assertThat(gauge(RateLimiterMetrics.KEYS_BY_STATE, "name", "api", "state", "leased")).isEqualTo(1);
		assertThat(gauge(RateLimiterMetrics.KEYS_BY_STATE, "name", "api", "state", "degraded")).isZero();
		assertThat(gauge(RateLimiterMetrics.KEYS_DEBT, "name", "api")).isEqualTo(7);
		// an in-memory name reports nothing: no such series for it
		assertThat(this.meters.find(RateLimiterMetrics.KEYS_DEBT).tag("name", "tenant").gauges()).isEmpty();
	}

	private RateLimiterRegistry registry(boolean perKeyTags, int maxTaggedKeys) {
		AtomicReference<RateLimiterRegistry> registry = new AtomicReference<>();
		RateLimiterMetrics metrics = new RateLimiterMetrics(() -> this.meters, registry::get, perKeyTags,
				maxTaggedKeys);
		registry.set(RateLimiterRegistry.builder()
			.ticker(this.clock)
			.scheduler(this.clock)
			.listeners(metrics)
			.build()
			.define("orders", RateLimit.tokenBucket(Rate.perSecond(3)).build())
			.define("db", RateLimit.concurrency(2))
			.define("tenant", RateLimit.tokenBucket(Rate.perSecond(1)).build(), null,
					new KeyPolicy(100, Duration.ofMinutes(1)))
			.defineComposite("checkout", List.of(Tier.perKey("tenant"), Tier.shared("orders"))));
		return registry.get();
	}

	private double calls(String result, String... tags) {
		return this.meters.get(RateLimiterMetrics.CALLS).tags(tags).tag("result", result).counter().count();
	}

	private double gauge(String name, String... tags) {
		List<Meter> found = List.copyOf(this.meters.find(name).tags(tags).meters());
		assertThat(found).as("one %s%s", name, List.of(tags)).hasSize(1);
		assertThat(found.get(0).getId().getTags()).as("exactly the tags asked for").hasSize(tags.length / 2);
		return ((Gauge) found.get(0)).value();
	}

}
