package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.ratelimit.RateLimiterRegistry.Tier;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class RateLimiterRegistryTest {

	private final ManualClock clock = new ManualClock();

	private RateLimiterRegistry.Builder registry() {
		return RateLimiterRegistry.builder().ticker(this.clock).scheduler(this.clock);
	}

	@Test
	void findingAKeyNeitherCreatesItNorKeepsItAlive() {
		RateLimiterRegistry registry = registry().keyIdleTimeout(java.time.Duration.ofSeconds(10)).build()
			.define("api", RateLimit.perSecond(5));
		assertThat(registry.find("api", "acme")).isEmpty();
		assertThat(registry.keyCount("api")).isZero();
		RateLimiter acme = registry.limiter("api", "acme");
		assertThat(registry.find("api", "acme")).containsSame(acme);
		this.clock.advance(java.time.Duration.ofSeconds(6));
		assertThat(registry.find("api", "acme")).isPresent(); // a look is not a use:
		this.clock.advance(java.time.Duration.ofSeconds(6));
		registry.evictIdleKeys(); // idle for 12 s since its last use, 6 s since the look: evicted
		assertThat(registry.find("api", "acme")).isEmpty();
		assertThat(registry.keyCount("api")).isZero();
		assertThat(registry.keyedDetails("api")).as("the in-memory backend reports nothing").isEmpty();
		assertThat(registry.keyedDetails("unknown")).isEmpty();
	}

	@Test
	void namedLimitersAreCreatedOnceFromTheirDefinition() {
		RateLimiterRegistry registry = registry().build().define("orders", RateLimit.perSecond(5));
		RateLimiter orders = registry.limiter("orders");
		assertThat(registry.limiter("orders")).isSameAs(orders);
		assertThat(orders.limit()).isEqualTo(RateLimit.perSecond(5));
		assertThat(registry.find("orders")).contains(orders);
		assertThat(registry.limiters()).containsExactly(orders);
	}

	@Test
	void anUndefinedNameFailsWithTheFix() {
		RateLimiterRegistry registry = registry().build();
		assertThatIllegalArgumentException().isThrownBy(() -> registry.limiter("orders"))
			.withMessage("no limit is defined for 'orders': define it (ratelimit.limiters.orders in application "
					+ "properties, or registry.define) or set a default limit");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.limiter("orders", "tenant"))
			.withMessageStartingWith("no limit is defined for 'orders'");
	}

	@Test
	void theDefaultLimitServesUndefinedNames() {
		RateLimiterRegistry registry = registry().defaultLimit(RateLimit.perSecond(3)).build();
		assertThat(registry.isDefined("anything")).isTrue();
		assertThat(registry.limiter("anything").limit()).isEqualTo(RateLimit.perSecond(3));
	}

	@Test
	void aNameInUseCannotBeRedefined() {
		RateLimiterRegistry registry = registry().build().define("orders", RateLimit.perSecond(5));
		registry.limiter("orders");
		assertThatIllegalStateException().isThrownBy(() -> registry.define("orders", RateLimit.perSecond(6)))
			.withMessage("limiter 'orders' is already in use and cannot be redefined: change its rate with "
					+ "updateRate instead");
	}

	@Test
	void eachKeyHasItsOwnLimiter() {
		RateLimiterRegistry registry = registry().build().define("orders", RateLimit.perSecond(2));
		RateLimiter tenantA = registry.limiter("orders", "a");
		assertThat(RateLimiterContractTest.drain(tenantA)).isEqualTo(2);
		assertThat(registry.limiter("orders", "b").tryAcquire()).isTrue();
		assertThat(registry.limiter("orders", "a")).isSameAs(tenantA);
		assertThat(tenantA.name()).isEqualTo("orders[a]");
		assertThat(registry.keyCount("orders")).isEqualTo(2);
		assertThat(registry.keys("orders", 0, 10)).extracting(java.util.Map.Entry::getKey)
			.containsExactlyInAnyOrder("a", "b");
		assertThat(registry.keys("orders", 1, 10)).hasSize(1);
	}

	@Test
	void aFloodOfOneMillionKeysStaysWithinTheBound() {
		RateLimiterRegistry registry = registry().maxKeys(1_000).build().define("api", RateLimit.perSecond(1));
		int overflowed = 0;
		for (int i = 0; i < 1_000_000; i++) {
			RateLimiter limiter = registry.limiter("api", "key-" + i);
			limiter.tryAcquire(); // drained: capacity 1, and the clock hardly moves
			if (limiter.name().equals("api[(overflow)]")) {
				overflowed++;
			}
			if (i % 1000 == 0) {
				this.clock.advance(Duration.ofMillis(1));
			}
		}
		assertThat(registry.keyCount("api")).isLessThanOrEqualTo(1_000);
		// no key was at rest: every key past the bound shares the overflow limiter
		assertThat(overflowed).isEqualTo(1_000_000 - 1_000);
	}

	@Test
	void aFloodOfKeysAtRestNeverPushesANewKeyIntoTheOverflow() {
		RateLimiterRegistry registry = registry().maxKeys(1_000).build().define("api", RateLimit.perSecond(1));
		int overflowed = 0;
		for (int i = 0; i < 1_000_000; i++) {
			RateLimiter limiter = registry.limiter("api", "key-" + i); // looked up, not used: at rest
			if (limiter.name().equals("api[(overflow)]")) {
				overflowed++;
			}
		}
		assertThat(registry.keyCount("api")).isLessThanOrEqualTo(1_000);
		assertThat(overflowed).isZero();
	}

	@Test
	void idleKeysAtFullCapacityMakeRoom() {
		RateLimiterRegistry registry = registry().maxKeys(10).keyIdleTimeout(Duration.ofMinutes(1)).build()
			.define("api", RateLimit.perSecond(1));
		for (int i = 0; i < 10; i++) {
			registry.limiter("api", "old-" + i).tryAcquire();
		}
		assertThat(registry.limiter("api", "new").name()).isEqualTo("api[(overflow)]");
		this.clock.advance(Duration.ofMinutes(1));
		assertThat(registry.limiter("api", "new").name()).isEqualTo("api[new]");
		assertThat(registry.keyCount("api")).isEqualTo(1);
	}

	@Test
	void atTheBoundANewKeyTakesTheSlotOfTheLeastRecentlyUsedKeyAtRest() {
		RateLimiterRegistry registry = registry().maxKeys(3).keyIdleTimeout(Duration.ofHours(1)).build()
			.define("api", RateLimit.perSecond(10));
		registry.limiter("api", "oldest").tryAcquire();
		this.clock.advance(Duration.ofMinutes(10));
		RateLimiter busy = registry.limiter("api", "busy");
		for (int i = 0; i < 10; i++) {
			busy.tryAcquire(); // drained: not at rest, so never evicted
		}
		this.clock.advance(Duration.ofMinutes(10));
		registry.limiter("api", "recent").tryAcquire();
		this.clock.advance(Duration.ofSeconds(1)); // every key but "busy" back at full capacity, none idle
		RateLimiter fresh = registry.limiter("api", "new");
		assertThat(fresh.name()).isEqualTo("api[new]"); // its own limit, not the overflow bucket
		assertThat(registry.keyCount("api")).isEqualTo(3);
		assertThat(registry.keys("api", 0, 10)).extracting(java.util.Map.Entry::getKey)
			.containsExactlyInAnyOrder("busy", "recent", "new");
	}

	@Test
	void aKeyLongerThanTheBoundIsRefusedWithTheFix() {
		RateLimiterRegistry registry = registry().build().define("api", RateLimit.perSecond(10));
		assertThat(registry.limiter("api", "k".repeat(RateLimiterRegistry.DEFAULT_MAX_KEY_LENGTH))).isNotNull();
		assertThatIllegalArgumentException().isThrownBy(() -> registry.limiter("api", "k".repeat(1025)))
			.withMessageContaining("1025 characters")
			.withMessageContaining("ratelimit.max-key-length");
		assertThat(registry.keyCount("api")).isOne();
		RateLimiterRegistry wider = registry().maxKeyLength(4096).build().define("api", RateLimit.perSecond(10));
		assertThat(wider.limiter("api", "k".repeat(4096))).isNotNull();
	}

	@Test
	void aKeyIsNotEvictedWhileItsLimiterStillRemembersUse() {
		// a daily quota: idle for an hour, but evicting it would hand the key a fresh quota
		RateLimiterRegistry registry = registry().maxKeys(1).keyIdleTimeout(Duration.ofMinutes(1)).build()
			.define("daily", RateLimit.tokenBucket(Rate.perDay(10)).build());
		RateLimiter tenant = registry.limiter("daily", "t");
		RateLimiterContractTest.drain(tenant);
		this.clock.advance(Duration.ofHours(1));
		assertThat(registry.evictIdleKeys()).isZero();
		assertThat(registry.limiter("daily", "t")).isSameAs(tenant);
		this.clock.advance(Duration.ofDays(1));
		// the registry's own sweep (every half idle timeout) found it idle and full again
		assertThat(registry.keyCount("daily")).isZero();
	}

	@Test
	void idleKeysAtRestAreForgottenWithoutCallsAndTheirBackendIsTold() {
		List<RateLimiter> released = new java.util.concurrent.CopyOnWriteArrayList<>();
		RateLimiterBackend backend = new RateLimiterBackend() {

			@Override
			public String id() {
				return "test";
			}

			@Override
			public RateLimiter create(String name, String key, RateLimit limit, RateLimiterListener listener) {
				return dev.ratelimit.internal.Limiters.create(name, limit, RateLimiterRegistryTest.this.clock,
						RateLimiterRegistryTest.this.clock, listener);
			}

			@Override
			public void release(RateLimiter limiter) {
				released.add(limiter);
			}

		};
		RateLimiterRegistry registry = registry().keyIdleTimeout(Duration.ofMinutes(1)).build()
			.define("api", RateLimit.perSecond(1), backend);
		RateLimiter quiet = registry.limiter("api", "quiet");
		quiet.tryAcquire();
		RateLimiter busy = registry.limiter("api", "busy");
		for (int second = 0; second < 90; second++) {
			busy.tryAcquire();
			registry.limiter("api", "busy");
			this.clock.advance(Duration.ofSeconds(1));
		}
		// no call to the registry for "quiet" since; its sweep ran on the scheduler
		assertThat(registry.keyCount("api")).isOne();
		assertThat(released).containsExactly(quiet);
		this.clock.advance(Duration.ofMinutes(2));
		assertThat(registry.keyCount("api")).isZero();
		assertThat(released).containsExactly(quiet, busy);
	}

	@Test
	void concurrentFloodNeverExceedsTheBound() throws InterruptedException {
		RateLimiterRegistry registry = RateLimiterRegistry.builder().maxKeys(500).build()
			.define("api", RateLimit.perSecond(10));
		int threads = 4;
		CountDownLatch done = new CountDownLatch(threads);
		AtomicInteger distinct = new AtomicInteger();
		for (int t = 0; t < threads; t++) {
			int offset = t;
			new Thread(() -> {
				for (int i = 0; i < 50_000; i++) {
					registry.limiter("api", "k" + (i * threads + offset)).tryAcquire();
					distinct.incrementAndGet();
				}
				done.countDown();
			}).start();
		}
		assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
		assertThat(distinct.get()).isEqualTo(200_000);
		assertThat(registry.keyCount("api")).isEqualTo(500);
	}

	@Test
	void compositeDefinitionsTakeFromSharedAndPerKeyTiers() {
		RateLimiterRegistry registry = registry().build()
			.define("global", RateLimit.perSecond(5))
			.define("tenant", RateLimit.perSecond(3))
			.defineComposite("checkout", List.of(Tier.perKey("tenant"), Tier.shared("global")));
		RateLimiter a = registry.limiter("checkout", "a");
		RateLimiter b = registry.limiter("checkout", "b");
		assertThat(RateLimiterContractTest.drain(a)).isEqualTo(3);
		assertThat(RateLimiterContractTest.drain(b)).as("the global tier has only 2 left").isEqualTo(2);
		assertThat(registry.limiter("global").snapshot().available()).isZero();
		assertThat(registry.limiter("tenant", "b").snapshot().available()).isEqualTo(1);
		assertThatIllegalArgumentException().isThrownBy(() -> registry.limiter("checkout"))
			.withMessage("composite 'checkout' has per-key tier 'tenant' and must be asked for with a key");
	}

	@Test
	void listenersAreCreatedPerLimiter() {
		List<String> created = new ArrayList<>();
		RateLimiterRegistry registry = registry().listeners((name, key) -> {
			created.add(name + "/" + key);
			return RateLimiterListener.NONE;
		}).build().define("orders", RateLimit.perSecond(1));
		registry.limiter("orders");
		registry.limiter("orders", "x");
		assertThat(created).containsExactly("orders/null", "orders/x");
	}

	@Test
	void builderRefusesBadBounds() {
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimiterRegistry.builder().maxKeys(0))
			.withMessage("maxKeys must be positive, but was 0");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimiterRegistry.builder().keyIdleTimeout(Duration.ZERO))
			.withMessage("keyIdleTimeout must be a positive duration, but was PT0S");
	}

	@Test
	void updatingANamesLimitReachesTheSharedLimiterEveryLiveKeyAndKeysCreatedLater() {
		RateLimit configured = RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build();
		RateLimiterRegistry registry = registry().build().define("api", configured);
		RateLimiter shared = registry.limiter("api");
		RateLimiter acme = registry.limiter("api", "acme");
		RateLimit ruled = configured.withRate(Rate.parse("10/1s")).withCapacity(5);

		registry.updateLimit("api", ruled);

		assertThat(shared.limit()).isEqualTo(ruled);
		assertThat(acme.limit()).isEqualTo(ruled);
		assertThat(registry.limiter("api", "globex").limit()).isEqualTo(ruled);
		assertThat(registry.definedLimit("api")).contains(ruled);
		assertThat(shared.snapshot().available()).as("permits kept up to the new capacity").isEqualTo(5);
		registry.updateLimit("api", configured);
		assertThat(acme.limit()).isEqualTo(configured);
		assertThat(registry.limiter("api", "initech").limit()).isEqualTo(configured);
	}

	@Test
	void aNameSwitchedOffPermitsEveryCallOfEveryLimiterAndGoesOnFromItsStateWhenSwitchedOn() {
		RateLimiterRegistry registry = registry().build()
			.define("api", RateLimit.tokenBucket(Rate.parse("1/1s")).capacity(1).build())
			.define("jobs", RateLimit.concurrency(1))
			.defineComposite("both", List.of(Tier.shared("api"), Tier.shared("other")))
			.define("other", RateLimit.perSecond(1000))
			.definePriorities("tiered", RateLimit.tokenBucket(Rate.parse("1/1s")).capacity(10).build(),
					Priorities.of("critical", "batch"), "batch");
		RateLimiter shared = registry.limiter("api");
		RateLimiter acme = registry.limiter("api", "acme");
		assertThat(shared.tryAcquire()).isTrue();
		assertThat(acme.tryAcquire()).isTrue();

		registry.enabled("api", false);
		registry.enabled("tiered", false);

		assertThat(registry.isEnabled("api")).isFalse();
		for (int i = 0; i < 100; i++) {
			assertThat(shared.tryAcquire()).isTrue();
			assertThat(acme.tryAcquire()).isTrue();
			assertThat(registry.limiter("api", "later").tryAcquire()).as("a key made while off").isTrue();
			assertThat(registry.limiter("both").tryAcquire()).as("a composite skips a tier that is off").isTrue();
			assertThat(AllOrNothing.decide(List.of(shared, registry.limiter("other")), new long[] { 1, 1 }, false)
				.permitted()).isTrue();
			assertThat(registry.priorities("tiered").forClass("batch").tryAcquire()).isTrue();
		}
		assertThat(shared.snapshot().details()).containsEntry("enabled", false);
		assertThat(shared.snapshot().available()).as("nothing was taken while off").isZero();

		registry.enabled("api", true);
		assertThat(shared.tryAcquire()).as("on again, from the state it had: still empty").isFalse();
		this.clock.advance(Duration.ofSeconds(1));
		assertThat(shared.tryAcquire()).isTrue();
		assertThat(shared.snapshot().details()).doesNotContainKey("enabled");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.enabled("jobs", false))
			.withMessageContaining("cannot be switched off: raise its limit");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.enabled("both", false))
			.withMessageContaining("no limiter named 'both' with a limit of its own");
	}

	@Test
	void updatingANamesLimitReachesTheOverflowLimiterOfKeysBeyondTheBound() {
		RateLimiterRegistry registry = registry().maxKeys(1).build().define("api", RateLimit.perSecond(10));
		registry.limiter("api", "acme").tryAcquire(); // in use: a second key overflows
		RateLimiter overflow = registry.limiter("api", "globex");
		assertThat(overflow).isNotSameAs(registry.limiter("api", "acme"));

		registry.updateLimit("api", RateLimit.perSecond(1));

		assertThat(overflow.limit()).isEqualTo(RateLimit.perSecond(1));
	}

	@Test
	void updatingANamesLimitIsRefusedWhereItCannotApply() {
		RateLimiterRegistry registry = registry().build()
			.define("api", RateLimit.perSecond(100))
			.define("jobs", RateLimit.concurrency(10))
			.defineComposite("both", List.of(Tier.shared("api")))
			.definePriorities("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build(),
					Priorities.of("critical", "batch"), "batch");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.updateLimit("nope", RateLimit.perSecond(1)))
			.withMessageContaining("no limiter named 'nope' is declared");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.updateLimit("both", RateLimit.perSecond(1)))
			.withMessageContaining("is a composite");
		assertThatIllegalArgumentException().isThrownBy(() -> registry.updateLimit("api", RateLimit.concurrency(1)))
			.withMessageContaining("cannot switch to concurrency");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.updateLimit("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(1).build(),
					Priorities.of("critical", "batch").minimumShare("batch", 0.5)))
			.withMessageContaining("too small to give each reserved minimum share at least one permit");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.updateLimit("api", RateLimit.perSecond(1), Priorities.of("a", "b")))
			.withMessageContaining("limiter 'api' is not declared with priority classes");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.updateLimit("tiered", RateLimit.perSecond(100), Priorities.of("critical", "x")))
			.withMessageContaining("a change cannot make them [critical, x]");
		RateLimiter jobs = registry.limiter("jobs");
		registry.updateLimit("jobs", RateLimit.concurrency(3));
		assertThat(jobs.snapshot().capacity()).isEqualTo(3);
		RateLimiter batch = registry.priorities("tiered").forClass("batch");
		registry.updateLimit("tiered", RateLimit.tokenBucket(Rate.parse("10/1s")).capacity(100).build());
		assertThat(registry.priorities("tiered").limit().rate()).isEqualTo(Rate.parse("10/1s"));
		assertThat(batch.limit().rate()).isEqualTo(Rate.parse("10/1s"));
	}

	@Test
	void aPriorityNameTakesNewSharesAndCapacityEverywhereAndReturnsToItsDeclaration() {
		RateLimit declared = RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build();
		Priorities classes = Priorities.of("critical", "batch");
		RateLimiterRegistry registry = registry().build().definePriorities("api", declared, classes, "batch");
		RateLimiter batch = registry.priorities("api").forClass("batch");
		RateLimit ruled = RateLimit.tokenBucket(Rate.parse("200/1s")).capacity(400).build();
		registry.updateLimit("api", ruled, classes.minimumShare("batch", 0.25));
		assertThat(registry.priorities("api").limit()).isEqualTo(ruled);
		assertThat(registry.priorities("api").priorities().minimumShare("batch")).isEqualTo(0.25);
		assertThat(registry.definedPriorities("api")).contains(classes.minimumShare("batch", 0.25));
		assertThat(batch.limit().capacity()).as("batch's own 100 or the shared 300 less critical's headroom")
			.isEqualTo(240);
		// a rate alone keeps the shares in force
		registry.updateLimit("api", ruled.withRate(Rate.parse("50/1s")));
		assertThat(registry.priorities("api").priorities().minimumShare("batch")).isEqualTo(0.25);
		registry.updateLimit("api", declared, classes);
		assertThat(registry.priorities("api").limit()).isEqualTo(declared);
		assertThat(registry.priorities("api").priorities()).isEqualTo(classes);
		assertThat(registry.definedPriorities("plain")).isEmpty();
	}

	@Test
	void aChangeThatADeclaredCallCouldNoLongerFitIsRefused() {
		RateLimiterRegistry registry = registry().build()
			.define("api", RateLimit.perSecond(100))
			.definePriorities("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build(),
					Priorities.of("critical", "batch"), "batch");
		registry.declarePermits("api", null, 20);
		registry.declarePermits("tiered", "batch", 50);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.updateLimit("api", RateLimit.perSecond(100).withCapacity(19)))
			.withMessage("limiter 'api' would hold 19 permits, fewer than the 20 a declared call takes at once, so "
					+ "every such call would fail: keep the capacity at 20 or more");
		registry.updateLimit("api", RateLimit.perSecond(100).withCapacity(20));
		// batch leaves critical 20% of the shared part: 50 needs a shared part of 63 or more
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.updateLimit("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100)
				.build(), Priorities.of("critical", "batch").minimumShare("critical", 0.5)))
			.withMessageContaining("priority class 'batch' of limiter 'tiered' could take at most 40 permits at once")
			.withMessageContaining("fewer than the 50 a declared call takes");
		registry.updateLimit("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(200).build(),
				Priorities.of("critical", "batch").minimumShare("critical", 0.5));
		assertThat(registry.priorities("tiered").forClass("batch").limit().capacity()).isEqualTo(80);
	}

	@Test
	void aCallDeclaredWithoutAClassTakesTheDefaultClassAlsoThroughAComposite() {
		RateLimiterRegistry registry = registry().build()
			.definePriorities("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build(),
					Priorities.of("critical", "batch"), "batch")
			.defineComposite("both", List.of(Tier.shared("tiered")));
		registry.declarePermits("both", null, 70);
		// batch, the default class, leaves critical 20 of 100: 80 at once, enough for 70
		registry.updateLimit("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build(),
				Priorities.of("critical", "batch").minimumShare("critical", 0.1));
		// critical's own 50 does not matter to a call of batch, but batch's 40 of the shared 50 does
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.checkUpdate("tiered", RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100)
				.build(), Priorities.of("critical", "batch").minimumShare("critical", 0.5)))
			.withMessageContaining("priority class 'batch' of limiter 'tiered' could take at most 40 permits");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.checkUpdate("tiered", RateLimit.concurrency(100), null))
			.withMessageContaining("cannot switch to concurrency");
	}

	@Test
	void aCapacityReplacesThePrimaryBandwidthsAndAWindowIsToldToChangeItsRate() {
		RateLimit bucket = RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).initialPermits(80).build();
		assertThat(bucket.withCapacity(50).capacity()).isEqualTo(50);
		assertThat(bucket.withCapacity(50).initialPermits()).hasValue(50);
		assertThat(bucket.withCapacity(500).initialPermits()).hasValue(80);
		assertThat(RateLimit.concurrency(10).withCapacity(4)).isEqualTo(RateLimit.concurrency(4));
		assertThat(RateLimit.leakyBucket(Rate.parse("10/1s")).build().withCapacity(3).capacity()).isEqualTo(3);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimit.fixedWindow(100, Duration.ofMinutes(1)).build().withCapacity(50))
			.withMessageContaining("change the rate instead (for example 50/m)");
		assertThatIllegalArgumentException().isThrownBy(() -> bucket.withCapacity(0))
			.withMessageContaining("capacity");
	}

}
