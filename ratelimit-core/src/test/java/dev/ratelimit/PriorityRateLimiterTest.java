package dev.ratelimit;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Priority classes on one token bucket of 1000/s, capacity 1000, on a manual clock: who gets the
 * capacity when one class saturates the limit, the bound of the whole, reserved minimums, and the
 * errors.
 */
class PriorityRateLimiterTest {

	private static final RateLimit LIMIT = RateLimit.perSecond(1000);

	private final ManualClock clock = new ManualClock();

	private PriorityRateLimiter limiter(Priorities priorities) {
		return PriorityRateLimiter.builder("api", LIMIT, priorities).ticker(this.clock).scheduler(this.clock).build();
	}

	@Test
	void aSaturatingLowerClassLeavesTheHigherClassesTheirCalls() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "normal", "batch"));
		RateLimiter critical = limiter.forClass("critical");
		RateLimiter normal = limiter.forClass("normal");
		RateLimiter batch = limiter.forClass("batch");
		long[] asked = new long[3];
		long[] admitted = new long[3];
		// 10 s in steps of 1 ms: batch asks 5 times a millisecond (5x the rate), critical once
		// every 5 ms (20% of the rate), normal once every 10 ms (10% of the rate)
		for (int ms = 0; ms < 10_000; ms++) {
			if (ms % 5 == 0) {
				asked[0]++;
				admitted[0] += critical.tryAcquire() ? 1 : 0;
			}
			if (ms % 10 == 3) {
				asked[1]++;
				admitted[1] += normal.tryAcquire() ? 1 : 0;
			}
			for (int i = 0; i < 5; i++) {
				asked[2]++;
				admitted[2] += batch.tryAcquire() ? 1 : 0;
			}
			this.clock.advance(Duration.ofMillis(1));
		}
		assertThat(admitted[0]).as("critical admitted of %d", asked[0]).isEqualTo(asked[0]);
		assertThat(admitted[1]).as("normal admitted of %d", asked[1]).isEqualTo(asked[1]);
		long total = admitted[0] + admitted[1] + admitted[2];
		// the bound of the whole: capacity + rate x elapsed
		assertThat(total).isLessThanOrEqualTo(1000 + 1000 * 10);
		// batch gets what is left: all of it but what the others took, less the 400 permits of
		// headroom it leaves and the permit refilled after its last call
		assertThat(admitted[2]).isGreaterThanOrEqualTo(1000 * 10 + 1000 - admitted[0] - admitted[1] - 400 - 1);
	}

	@Test
	void aClassTakesFromTheSharedBucketOnlyDownToTheHeadroomOfTheClassesAboveIt() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "normal", "batch"));
		// headroom 0.2: normal leaves 200 permits, batch 400
		assertThat(drain(limiter.forClass("batch"))).isEqualTo(600);
		assertThat(drain(limiter.forClass("normal"))).isEqualTo(200);
		assertThat(drain(limiter.forClass("critical"))).isEqualTo(200);
		assertThat(limiter.forClass("critical").snapshot().available()).isZero();
	}

	@Test
	void aReservedMinimumIsKeptWhileAHigherClassSaturatesTheLimit() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch").minimumShare("batch", 0.05));
		RateLimiter critical = limiter.forClass("critical");
		RateLimiter batch = limiter.forClass("batch");
		long batchAsked = 0;
		long batchAdmitted = 0;
		long criticalAdmitted = 0;
		// critical asks 5 times a millisecond; batch once every 20 ms: its 5% of the rate
		for (int ms = 0; ms < 10_000; ms++) {
			for (int i = 0; i < 5; i++) {
				criticalAdmitted += critical.tryAcquire() ? 1 : 0;
			}
			if (ms % 20 == 7) {
				batchAsked++;
				batchAdmitted += batch.tryAcquire() ? 1 : 0;
			}
			this.clock.advance(Duration.ofMillis(1));
		}
		assertThat(batchAdmitted).as("batch admitted of %d", batchAsked).isEqualTo(batchAsked);
		assertThat(criticalAdmitted + batchAdmitted).isLessThanOrEqualTo(1000 + 1000 * 10);
		// critical borrows what batch leaves of its reserve: it gets more than the shared 95%
		assertThat(criticalAdmitted).isGreaterThan(950 * 10);
	}

	@Test
	void anIdleClassesReserveIsLentDownToHalf() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch").minimumShare("batch", 0.1));
		// shared: 900 permits; batch's own: 100, of which critical may borrow 50
		assertThat(drain(limiter.forClass("critical"))).isEqualTo(950);
		assertThat(drain(limiter.forClass("batch"))).isEqualTo(50);
	}

	@Test
	void aChangeOfRateThroughAnyClassChangesTheWhole() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch").minimumShare("batch", 0.1));
		limiter.forClass("batch").updateRate(Rate.perSecond(100));
		assertThat(limiter.limit().rate()).isEqualTo(Rate.perSecond(100));
		assertThat(limiter.forClass("critical").limit().rate()).isEqualTo(Rate.perSecond(100));
		assertThat(limiter.forClass("batch").limit().capacity()).as("the class's capacity stays").isEqualTo(720);
		drain(limiter.forClass("critical"));
		drain(limiter.forClass("batch"));
		this.clock.advance(Duration.ofSeconds(1));
		// a second at 100/s: 90 to the shared bucket, 10 to batch's own
		assertThat(drain(limiter.forClass("critical")) + drain(limiter.forClass("batch"))).isEqualTo(100);
		limiter.reset();
		assertThat(drain(limiter.forClass("critical")) + drain(limiter.forClass("batch"))).isEqualTo(1000);
	}

	@Test
	void newSharesTakeEffectAtOnceAndAClassGivenAReserveIsNoLongerStarved() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch"));
		RateLimiter critical = limiter.forClass("critical");
		RateLimiter batch = limiter.forClass("batch");
		long[] admitted = new long[1];
		long[] batchAdmitted = new long[2];
		long[] asked = new long[2];
		// 10 s: critical asks 5 times a millisecond; batch once every 20 ms; after 5 s batch is given 5%
		for (int ms = 0; ms < 10_000; ms++) {
			if (ms == 5_000) {
				limiter.update(LIMIT, Priorities.of("critical", "batch").minimumShare("batch", 0.05));
				assertThat(limiter.priorities().minimumShare("batch")).isEqualTo(0.05);
			}
			for (int i = 0; i < 5; i++) {
				admitted[0] += critical.tryAcquire() ? 1 : 0;
			}
			if (ms % 20 == 7) {
				int half = (ms < 5_000) ? 0 : 1;
				asked[half]++;
				batchAdmitted[half] += batch.tryAcquire() ? 1 : 0;
			}
			this.clock.advance(Duration.ofMillis(1));
		}
		// before the change batch got only what critical left in saturation: next to nothing
		assertThat(batchAdmitted[0]).as("batch admitted before the change, of %d", asked[0]).isLessThan(asked[0] / 10);
		// after it, every call (its 5% of the rate) but the first, made before its reserve had a permit
		assertThat(batchAdmitted[1]).as("batch admitted after the change, of %d", asked[1])
			.isGreaterThanOrEqualTo(asked[1] - 1);
		assertThat(admitted[0] + batchAdmitted[0] + batchAdmitted[1]).as("the bound of the whole across the change")
			.isLessThanOrEqualTo(1000 + 1000 * 10);
	}

	@Test
	void aNewDivisionKeepsThePermitsHeldAndCreatesNone() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "normal", "batch").minimumShare("batch", 0.1));
		RateLimiter critical = limiter.forClass("critical");
		RateLimiter batch = limiter.forClass("batch");
		// critical takes 300 of the shared 900: 700 held in all (600 shared, batch's own 100)
		assertThat(critical.tryAcquire(300)).isTrue();
		limiter.update(LIMIT, Priorities.of("critical", "normal", "batch").minimumShare("normal", 0.2));
		// batch's reserve is gone, normal's is new and starts from what the shared part held
		assertThat(drain(critical) + drain(limiter.forClass("normal")) + drain(batch))
			.as("permits after the change").isEqualTo(700);
		// more capacity does not add permits either: they come at the rate
		limiter.update(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(4000).build(),
				Priorities.of("critical", "normal", "batch").minimumShare("normal", 0.2));
		assertThat(limiter.limit().capacity()).isEqualTo(4000);
		assertThat(critical.snapshot().available()).isZero();
		this.clock.advance(Duration.ofSeconds(10));
		assertThat(drain(critical) + drain(limiter.forClass("normal")) + drain(batch)).isEqualTo(4000);
		// less capacity keeps what fits
		limiter.reset();
		limiter.update(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(500).build(),
				Priorities.of("critical", "normal", "batch"));
		assertThat(drain(critical)).isEqualTo(500);
		assertThat(critical.limit().capacity()).isEqualTo(500);
		assertThat(batch.limit().capacity()).as("batch leaves 40%% of the shared 500").isEqualTo(300);
	}

	@Test
	void aDivisionThatCannotBeMadeIsRefusedAndChangesNothing() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch").minimumShare("batch", 0.1));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> limiter.update(LIMIT, Priorities.of("critical", "normal")))
			.withMessageContaining("has the priority classes [critical, batch], and a change cannot make them "
					+ "[critical, normal]");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> limiter.update(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(2).build(),
					Priorities.of("critical", "batch").minimumShare("critical", 0.5).minimumShare("batch", 0.4)))
			.withMessageContaining("too small to give each reserved minimum share at least one permit");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> limiter.update(RateLimit.slidingWindow(100, Duration.ofSeconds(1)).build(),
					Priorities.of("critical", "batch")))
			.withMessageContaining("cannot take priorities");
		assertThat(limiter.limit()).isEqualTo(LIMIT);
		assertThat(limiter.priorities().minimumShare("batch")).isEqualTo(0.1);
		assertThat(drain(limiter.forClass("critical")) + drain(limiter.forClass("batch"))).isEqualTo(1000);
	}

	@Test
	void repeatedChangesNeverAddPermits() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch"));
		RateLimiter critical = limiter.forClass("critical");
		limiter.update(LIMIT, Priorities.of("critical", "batch").minimumShare("batch", 0.2));
		limiter.update(LIMIT, Priorities.of("critical", "batch").minimumShare("batch", 0.1));
		this.clock.advance(Duration.ofSeconds(1));
		// two replacements, a second of refill: still no more than the capacity in all
		assertThat(drain(critical) + drain(limiter.forClass("batch"))).isEqualTo(1000);
		this.clock.advance(Duration.ofMillis(100));
		assertThat(drain(critical) + drain(limiter.forClass("batch"))).isEqualTo(100);
	}

	@Test
	void callsAndRefundsRacingChangesNeverGetMoreThanTheBound() throws Exception {
		Priorities classes = Priorities.of("critical", "normal", "batch");
		PriorityRateLimiter limiter = limiter(classes.minimumShare("batch", 0.1));
		java.util.concurrent.atomic.LongAdder admitted = new java.util.concurrent.atomic.LongAdder();
		java.util.concurrent.atomic.AtomicBoolean changing = new java.util.concurrent.atomic.AtomicBoolean(true);
		java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(4);
		List<Thread> callers = new java.util.ArrayList<>();
		for (int t = 0; t < 4; t++) {
			RateLimiter view = limiter.forClass(classes.classes().get(t % 3));
			boolean refunds = (t == 3);
			callers.add(new Thread(() -> {
				started.countDown();
				while (changing.get()) {
					if (view.tryAcquire()) {
						if (refunds) {
							// taken, then given back while the buckets may be replaced
							((RefundableRateLimiter) view).refund(1);
						}
						else {
							admitted.increment();
						}
					}
				}
			}));
		}
		callers.forEach(Thread::start);
		started.await();
		// 300 changes, the clock 10 ms on after each: 10 permits of refill each time (a change
		// moves whole permits: what a bucket refilled of a permit is not carried over)
		for (int change = 0; change < 300; change++) {
			Priorities shares = switch (change % 3) {
				case 0 -> classes.minimumShare("normal", 0.3);
				case 1 -> classes;
				default -> classes.minimumShare("batch", 0.2).minimumShare("critical", 0.1);
			};
			limiter.update(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(500 + 250 * (change % 4)).build(), shares);
			this.clock.advance(Duration.ofMillis(10));
		}
		changing.set(false);
		for (Thread caller : callers) {
			caller.join();
		}
		// at most the first capacity and 10 permits a change, however the callers and changes met
		assertThat(admitted.sum()).isLessThanOrEqualTo(1000 + 3000).isPositive();
	}

	@Test
	void newSharesAreToldAsAChangeAndAChangeThatChangesNothingIsNot() {
		List<String> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
		Priorities classes = Priorities.of("critical", "batch");
		PriorityRateLimiter limiter = PriorityRateLimiter.builder("api", LIMIT, classes)
			.ticker(this.clock)
			.scheduler(this.clock)
			.listener(new RateLimiterListener() {
				@Override
				public void onLimitChanged(RateLimit previous, RateLimit current) {
					changes.add(previous.capacity() + " -> " + current.capacity());
				}
			})
			.build();
		limiter.update(LIMIT, classes);
		limiter.update(LIMIT, classes.minimumShare("batch", 0.2));
		limiter.update(LIMIT.withCapacity(500), classes.minimumShare("batch", 0.2));
		limiter.update(LIMIT.withCapacity(500), classes.minimumShare("batch", 0.2));
		assertThat(changes).containsExactly("1000 -> 1000", "1000 -> 500");
	}

	@Test
	void aWaitingCallGetsItsPermitsOnceItsSourcesRefill() throws InterruptedException {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch"));
		RateLimiter batch = limiter.forClass("batch");
		drain(batch);
		Decision denied = batch.decide(1);
		assertThat(denied.permitted()).isFalse();
		// batch leaves 200 to critical: it waits for the shared bucket to reach 201
		assertThat(denied.retryAfterNanos()).isEqualTo(Duration.ofMillis(1).toNanos());
		assertThat(batch.acquire(1, Duration.ofSeconds(1))).isTrue();
		assertThat(this.clock.sleptNanos()).isEqualTo(Duration.ofMillis(1).toNanos());
	}

	@Test
	void whatCannotBeDividedIsRefusedWithTheReason() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> PriorityRateLimiter.of("api", RateLimit.slidingWindow(100, Duration.ofSeconds(1)).build(),
					Priorities.of("a", "b")))
			.withMessageContaining("cannot take priorities: it is a sliding-window");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> PriorityRateLimiter.of("api", RateLimit.tokenBucket(Rate.perSecond(10)).capacity(2).build(),
					Priorities.of("a", "b", "c").minimumShare("b", 0.5).minimumShare("c", 0.4)))
			.withMessageContaining("too small to give each reserved minimum share at least one permit");
		assertThatIllegalArgumentException().isThrownBy(() -> Priorities.of("critical"))
			.withMessageStartingWith("priorities need 2 to 16 classes, but were given 1");
		assertThatIllegalArgumentException().isThrownBy(() -> Priorities.of("a", "b", "a"))
			.withMessageContaining("'a' is listed twice");
		assertThatIllegalArgumentException().isThrownBy(() -> Priorities.of("a", "b c"))
			.withMessageContaining("but was 'b c'");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> Priorities.of("a", "b").minimumShare("a", 0.6).minimumShare("b", 0.4))
			.withMessageContaining("add up to 1.0, but must stay below 1");
		assertThatIllegalArgumentException().isThrownBy(() -> Priorities.of("a", "b").minimumShare("c", 0.1))
			.withMessage("no priority class named 'c': the classes are [a, b]");
		assertThatIllegalArgumentException().isThrownBy(() -> Priorities.of("a", "b", "c").headroom(0.5))
			.withMessageContaining("for 3 classes, at most 0.495");
		PriorityRateLimiter limiter = limiter(Priorities.of("a", "b"));
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.forClass("c"));
		// a call of b can take at most what b may take from the shared bucket: 800; its limit says so,
		// so that whatever sizes calls by limit().capacity() asks for what b can have
		assertThat(limiter.forClass("b").snapshot().capacity()).isEqualTo(800);
		assertThat(limiter.forClass("b").limit()).isEqualTo(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(800).build());
		assertThat(limiter.forClass("a").limit().capacity()).isEqualTo(1000);
		assertThat(limiter.limit()).isEqualTo(LIMIT);
		assertThatIllegalArgumentException().isThrownBy(() -> limiter.forClass("b").tryAcquire(801));
	}

	@Test
	void manyClassesGetASmallerDefaultHeadroom() {
		assertThat(Priorities.of("a", "b", "c", "d", "e").headroom()).isEqualTo(0.2);
		assertThat(Priorities.of("a", "b", "c", "d", "e", "f", "g").headroom()).isEqualTo(0.15);
	}

	@Test
	void aRegistryGivesTheDefaultClassByNameAndEachClassThroughItsPriorities() {
		RateLimiterRegistry registry = RateLimiterRegistry.builder().ticker(this.clock).scheduler(this.clock).build();
		registry.definePriorities("api", LIMIT, Priorities.of("critical", "normal", "batch"), "batch");
		RateLimiter unclassified = registry.limiter("api");
		assertThat(unclassified).isSameAs(registry.priorities("api").forClass("batch"));
		assertThat(drain(unclassified)).isEqualTo(600);
		assertThat(drain(registry.priorities("api").forClass("critical"))).isEqualTo(400);
		assertThatIllegalArgumentException().isThrownBy(() -> registry.limiter("api", "tenant-1"))
			.withMessageContaining("has no per-key limiters");
		registry.define("plain", LIMIT);
		assertThatIllegalArgumentException().isThrownBy(() -> registry.priorities("plain"))
			.withMessageContaining("limiter 'plain' has no priority classes");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.definePriorities("other", LIMIT, Priorities.of("a", "b"), "c"))
			.withMessage("no priority class named 'c': the classes are [a, b]");
	}

	@Test
	void refundedPermitsGoBackWhereThereIsRoomSoADrainCanBeRepeated() {
		PriorityRateLimiter limiter = limiter(Priorities.of("critical", "batch").minimumShare("batch", 0.1));
		RefundableRateLimiter batch = (RefundableRateLimiter) limiter.forClass("batch");
		// batch: its own 100, the shared 900 down to its floor of 180, and no borrowing
		long taken = drain(batch);
		assertThat(taken).isEqualTo(100 + 720);
		for (long i = 0; i < taken; i++) {
			batch.refund(1);
		}
		assertThat(drain(batch)).isEqualTo(taken);
		assertThat(drain(limiter.forClass("critical"))).isEqualTo(180);
	}

	@Test
	void aChangeIsToldOnceAndWithNoLockHeldSoAListenerMayChangeTheLimitAgain() throws Exception {
		java.util.List<String> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
		java.util.concurrent.ExecutorService other = java.util.concurrent.Executors.newSingleThreadExecutor();
		try {
			PriorityRateLimiter[] holder = new PriorityRateLimiter[1];
			holder[0] = PriorityRateLimiter.builder("api", LIMIT, Priorities.of("critical", "normal", "batch"))
				.ticker(this.clock)
				.scheduler(this.clock)
				.listener(new RateLimiterListener() {
					@Override
					public void onLimitChanged(RateLimit previous, RateLimit current) {
						changes.add(previous.rate() + " -> " + current.rate());
						if (current.rate().equals(Rate.perSecond(500))) {
							// another thread changes it again while this one is told: an adaptive
							// controller's lock in the starter; it must not wait for this change to end
							try {
								other.submit(() -> holder[0].forClass("normal").updateRate(Rate.perSecond(400)))
									.get(30, java.util.concurrent.TimeUnit.SECONDS);
							}
							catch (Exception ex) {
								throw new IllegalStateException(ex);
							}
						}
					}
				})
				.build();
			holder[0].forClass("batch").updateRate(Rate.perSecond(500));
			assertThat(changes).containsExactly("1000/s -> 500/s", "500/s -> 400/s");
			assertThat(holder[0].forClass("critical").limit().rate()).isEqualTo(Rate.perSecond(400));
		}
		finally {
			other.shutdownNow();
		}
	}

	@Test
	void aPriorityNameHasNoKeysAndIsSeenByFindOnceAnyClassWasAskedFor() {
		RateLimiterRegistry registry = RateLimiterRegistry.builder().ticker(this.clock).scheduler(this.clock).build();
		registry.definePriorities("api", LIMIT, Priorities.of("critical", "batch"), "batch");
		assertThat(registry.hasPriorities("api")).isTrue();
		registry.priorities("api").forClass("critical").tryAcquire();
		assertThat(registry.find("api")).containsSame(registry.priorities("api").forClass("batch"));
		assertThatIllegalArgumentException().isThrownBy(() -> registry.limiter("api", "tenant-1"));
		assertThat(registry.keyedNames()).doesNotContain("api");
		assertThatIllegalStateException()
			.isThrownBy(() -> registry.definePriorities("api", LIMIT, Priorities.of("a", "b"), "a"))
			.withMessageContaining("already in use");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> registry.definePriorities("windowed",
					RateLimit.fixedWindow(10, Duration.ofSeconds(1)).build(), Priorities.of("a", "b"), "a"))
			.withMessageContaining("cannot take priorities");
	}

	private static long drain(RateLimiter limiter) {
		long taken = 0;
		while (limiter.tryAcquire()) {
			taken++;
		}
		return taken;
	}

}
