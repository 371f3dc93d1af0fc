package dev.ratelimit.internal;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.Ticker;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The coarse clock driven by hand: a manual source, and the test ticking it as its thread would.
 */
class CoarseClockTest {

	private final AtomicLong source = new AtomicLong(1_000_000_000L);

	private final AtomicInteger wakes = new AtomicInteger();

	/** Readings of the source itself: the ticks, and the rechecks of denials. */
	private final AtomicLong sourceReads = new AtomicLong();

	private final CoarseClock clock = new CoarseClock(() -> {
		this.sourceReads.incrementAndGet();
		return this.source.get();
	}, this.wakes::incrementAndGet);

	@Test
	void aReadingIsTheSourceAsOfTheLastTickNeverAhead() {
		assertThat(this.clock.read()).isEqualTo(1_000_000_000L); // dormant at first: the source itself
		this.clock.resumed();
		this.source.addAndGet(400_000);
		assertThat(this.clock.read()).as("between ticks: the last tick's").isEqualTo(1_000_000_000L);
		this.clock.tick();
		assertThat(this.clock.read()).isEqualTo(1_000_400_000L);
		this.source.addAndGet(CoarseClock.PERIOD_NANOS);
		assertThat(this.clock.read()).isEqualTo(1_000_400_000L);
		this.clock.tick();
		assertThat(this.clock.read()).isEqualTo(1_000_400_000L + CoarseClock.PERIOD_NANOS);
	}

	@Test
	void itNeverGoesBack() {
		this.clock.read();
		this.clock.resumed();
		this.source.addAndGet(5_000_000);
		this.clock.tick();
		this.source.addAndGet(-3_000_000); // a source that stepped back (not System.nanoTime)
		this.clock.tick();
		assertThat(this.clock.read()).isEqualTo(1_005_000_000L);
	}

	@Test
	void itTicksWhileReadAndGoesDormantAfterTicksWithoutAReadAndOneReaderWakesIt() {
		this.clock.read();
		assertThat(this.wakes).hasValue(1);
		this.clock.resumed();
		for (int i = 0; i < 5 * CoarseClock.IDLE_TICKS; i++) {
			this.source.addAndGet(CoarseClock.PERIOD_NANOS);
			assertThat(this.clock.tick()).as("read between ticks: it goes on").isTrue();
			this.clock.read();
		}
		for (int i = 1; i < CoarseClock.IDLE_TICKS; i++) {
			assertThat(this.clock.tick()).isTrue();
		}
		// the first of these ticks found the last read; the rest found none
		assertThat(this.clock.tick()).isTrue();
		assertThat(this.clock.tick()).as("IDLE_TICKS ticks unread: dormant").isFalse();
		// dormant: a read is the source itself, and only the first read wakes the thread
		this.source.addAndGet(7_000_000);
		long now = this.source.get();
		assertThat(this.clock.read()).isEqualTo(now);
		assertThat(this.clock.read()).isEqualTo(now);
		assertThat(this.wakes).hasValue(2);
		this.clock.resumed();
		assertThat(this.clock.tick()).isTrue();
	}

	@Test
	void theSharedClockIsTheDefaultTickerAndFollowsTheSystemClock() {
		assertThat(Ticker.coarse()).isSameAs(CoarseClock.shared());
		long before = System.nanoTime();
		long reading = Ticker.coarse().read();
		long after = System.nanoTime();
		// never ahead of the system clock; behind it by at most the period plus how long the thread waited for a CPU
		assertThat(reading).isLessThanOrEqualTo(after);
		assertThat(before - reading).isLessThan(Duration.ofSeconds(5).toNanos());
	}

	@Test
	void limitersReadTheCoarseClockUnlessGivenAnotherAndPacersTheSystemClock() {
		RateLimit bucket = RateLimit.tokenBucket(Rate.perSecond(10)).build();
		assertThat(((AbstractRateLimiter) RateLimiter.of("bucket", bucket)).ticker()).isSameAs(CoarseClock.shared());
		assertThat(((AbstractRateLimiter) dev.ratelimit.RateLimiterRegistry.builder()
			.build()
			.define("api", bucket)
			.limiter("api", "tenant")).ticker()).isSameAs(CoarseClock.shared());
		Ticker manual = () -> 42;
		assertThat(((AbstractRateLimiter) RateLimiter.builder("bucket", bucket).ticker(manual).build()).ticker())
			.isSameAs(manual);
		assertThat(((AbstractRateLimiter) RateLimiter.of("bucket", bucket)).clock()).isSameAs(CoarseClock.shared());
		// a pacer spaces calls more finely than the coarse clock's period
		assertThat(((AbstractRateLimiter) RateLimiter.of("pacer", RateLimit.leakyBucket(Rate.perSecond(10_000)).build()))
			.clock()).isNotSameAs(CoarseClock.shared());
	}

	@Test
	void aLimitThatRefillsItsCapacityInUnder20msRechecksItsDenialsAndARateChangeChoosesAgain() {
		RateLimit slow = RateLimit.tokenBucket(Rate.perSecond(1_000)).capacity(20).build(); // 20 ms
		RateLimit fast = RateLimit.tokenBucket(Rate.perSecond(1_000_000)).capacity(1_000).build(); // 1 ms
		AbstractRateLimiter limiter = (AbstractRateLimiter) RateLimiter.of("changing", slow);
		assertThat(limiter.clock()).isSameAs(CoarseClock.shared());
		assertThat(limiter.recheckMask).isEqualTo(CoarseClock.NO_RECHECK);
		limiter.updateLimit(fast);
		assertThat(limiter.clock()).as("still the coarse clock, denials rechecked").isSameAs(CoarseClock.shared());
		assertThat(limiter.recheckMask).as("one denial in 16: capacity 1,000 / 64, to the nearest power of two")
			.isEqualTo(15);
		limiter.updateLimit(slow);
		assertThat(limiter.recheckMask).isEqualTo(CoarseClock.NO_RECHECK);
		// 10 ms: the coarse clock serves it while it ticks; one denial in 16 guards a starved clock
		assertThat(maskOf(RateLimit.tokenBucket(Rate.perSecond(1_000)).capacity(10).build())).isEqualTo(15);
		// refilled within a period, and small: every denial rechecked
		assertThat(maskOf(RateLimit.tokenBucket(Rate.perSecond(100_000_000)).capacity(10).build())).isZero();
		assertThat(maskOf(RateLimit.tokenBucket(Rate.perSecond(10_000_000)).capacity(100_000).build())).isEqualTo(15);
		// the fastest bandwidth decides
		RateLimit tiers = RateLimit.tokenBucket(Rate.perSecond(1_000_000))
			.capacity(1_000)
			.bandwidth(100_000, Rate.perMinute(100_000))
			.build();
		assertThat(maskOf(tiers)).isEqualTo(15);
		// a slow bandwidth's capacity does not count: no recheck helps it, so it asks for none
		assertThat(maskOf(RateLimit.tokenBucket(Rate.perSecond(1_000_000))
			.capacity(1_000)
			.bandwidth(100, Rate.perSecond(100))
			.build())).isEqualTo(15);
		assertThat(maskOf(RateLimit.tokenBucket(Rate.perSecond(1_000_000)).capacity(200).build())).as("200 / 64 = 3: 2")
			.isEqualTo(1);
		assertThat(CoarseClock.clockFor(CoarseClock.shared(), RateLimit.slidingWindow(10, java.time.Duration.ofSeconds(1)).build(), false))
			.isSameAs(CoarseClock.shared());
		// a limiter that does not recheck (a warming-up bucket) reads the system clock when fast
		AbstractRateLimiter warming = (AbstractRateLimiter) RateLimiter.of("warming",
				RateLimit.tokenBucket(Rate.perSecond(1_000_000)).capacity(1_000).warmup(Duration.ofSeconds(1)).build());
		assertThat(warming.clock()).isNotSameAs(CoarseClock.shared());
		assertThat(warming.recheckMask).isEqualTo(CoarseClock.NO_RECHECK);
	}

	private static int maskOf(RateLimit limit) {
		AbstractRateLimiter limiter = (AbstractRateLimiter) RateLimiter.of("limit", limit);
		assertThat(limiter.clock()).isSameAs(CoarseClock.shared());
		return limiter.recheckMask;
	}

	/**
	 * A capacity of 10 at 10<sup>8</sup>/s refills in 100 ns: on a coarse clock that does not move
	 * it would admit 10 calls and no more; every denial is rechecked on the source, so a call every
	 * microsecond is always admitted.
	 */
	@Test
	void aSmallFastBucketIsServedAtItsRateThoughTheCoarseClockStands() {
		RateLimiter limiter = RateLimiter.builder("small", RateLimit.tokenBucket(Rate.perSecond(100_000_000))
			.capacity(10)
			.build()).ticker(this.clock).build();
		long readsBefore = this.sourceReads.get();
		for (int call = 0; call < 10_000; call++) {
			this.source.addAndGet(1_000);
			assertThat(limiter.tryAcquire()).as("call %d", call).isTrue();
		}
		assertThat(this.clock.read()).as("the coarse clock never ticked").isEqualTo(1_000_000_000L);
		// one system-clock reading per capacity's worth of calls, not one per call
		assertThat(this.sourceReads.get() - readsBefore).isLessThanOrEqualTo(10_000 / 5);
	}

	/**
	 * Two calls on a capacity of 10 at 10<sup>8</sup>/s, where 100 ns is a whole capacity: one reads
	 * the system clock, and before it takes, another reads it 1 us later, takes and publishes its
	 * reading. The first, denied at its own reading, decides again at the other's and is admitted,
	 * as the bucket has room there; before, it was denied (3.5% of the calls of two threads in the
	 * benchmark). No third reading of the clock is needed.
	 */
	@Test
	void aRecheckThatALaterReadingOvertookDecidesAgainAtThatReading() {
		AtomicLong time = new AtomicLong(1_000_000_000L);
		AtomicReference<Runnable> duringReading = new AtomicReference<>();
		AtomicLong reads = new AtomicLong();
		RateLimiter limiter = drainedAtOneSecond(overtakingClock(time, duringReading, reads));
		time.addAndGet(1_000); // 100 permits refilled since: full again, on the system clock
		AtomicBoolean otherAdmitted = new AtomicBoolean();
		duringReading.set(() -> {
			time.addAndGet(1_000);
			otherAdmitted.set(limiter.tryAcquire());
		});
		long readsBefore = reads.get();
		assertThat(limiter.tryAcquire()).as("admitted at the other call's reading").isTrue();
		assertThat(otherAdmitted).isTrue();
		assertThat(reads.get() - readsBefore).as("the first call's reading and the other's").isEqualTo(2);
	}

	/**
	 * As above, but the other calls take the whole bucket at their later reading: deciding again at
	 * it denies, the count is past the first call's reading by more than the capacity, so the first
	 * call reads the clock once more, 1 us later still, and is admitted there. With the clock
	 * standing instead, the fresh reading denies too, and the bound holds.
	 */
	@Test
	void aRecheckThatALaterReadingOvertookReadsTheSourceAgain() {
		AtomicLong time = new AtomicLong(1_000_000_000L);
		AtomicReference<Runnable> duringReading = new AtomicReference<>();
		AtomicLong reads = new AtomicLong();
		RateLimiter limiter = drainedAtOneSecond(overtakingClock(time, duringReading, reads));
		time.addAndGet(1_000);
		AtomicInteger othersAdmitted = new AtomicInteger();
		duringReading.set(() -> {
			time.addAndGet(1_000);
			while (limiter.tryAcquire()) {
				othersAdmitted.incrementAndGet();
			}
			time.addAndGet(1_000);
		});
		long readsBefore = reads.get();
		assertThat(limiter.tryAcquire()).as("admitted on a fresh reading").isTrue();
		assertThat(othersAdmitted).hasValue(10);
		// the first call's reading, the other calls' (one to admit, one for the denial that ended
		// them) and the first call's second
		assertThat(reads.get() - readsBefore).isEqualTo(4);

		// now with the clock standing after the others' reading: the first call's fresh reading is
		// theirs, where they took the whole bucket, so it is denied there too
		int rest = 0;
		while (limiter.tryAcquire()) {
			rest++; // the 9 left at the last reading
		}
		assertThat(rest).isEqualTo(9);
		time.addAndGet(1_000); // full again
		othersAdmitted.set(0);
		duringReading.set(() -> {
			time.addAndGet(1_000);
			while (limiter.tryAcquire()) {
				othersAdmitted.incrementAndGet();
			}
		});
		readsBefore = reads.get();
		assertThat(limiter.tryAcquire()).as("no room at any reading").isFalse();
		assertThat(othersAdmitted).as("the capacity at their reading, and no more").hasValue(10);
		assertThat(reads.get() - readsBefore).isEqualTo(4);
	}

	/** A coarse clock that never ticks, whose source runs {@code duringReading} once inside a reading. */
	private static CoarseClock overtakingClock(AtomicLong time, AtomicReference<Runnable> duringReading, AtomicLong reads) {
		CoarseClock clock = new CoarseClock(() -> {
			reads.incrementAndGet();
			long reading = time.get();
			Runnable other = duringReading.getAndSet(null);
			if (other != null) {
				other.run(); // other calls, between this reading and the take that uses it
			}
			return reading;
		}, () -> {
		});
		clock.read();
		clock.resumed(); // running, and never ticking: every reading of it is the first
		return clock;
	}

	/** 10 at 10^8/s on that clock, its 10 permits taken at the clock's one reading. */
	private static RateLimiter drainedAtOneSecond(CoarseClock clock) {
		RateLimiter limiter = RateLimiter.builder("small", RateLimit.tokenBucket(Rate.perSecond(100_000_000))
			.capacity(10)
			.build()).ticker(clock).build();
		for (int call = 0; call < 10; call++) {
			assertThat(limiter.tryAcquire()).isTrue();
		}
		return limiter;
	}

	/** The same for a sliding window of 100 per millisecond called at half that. */
	@Test
	void aFastSlidingWindowIsServedThoughTheCoarseClockStands() {
		RateLimiter limiter = RateLimiter.builder("window", RateLimit.slidingWindow(100, Duration.ofMillis(1)).build())
			.ticker(this.clock)
			.build();
		assertThat(((AbstractRateLimiter) limiter).recheckMask).isZero();
		for (int call = 0; call < 5_000; call++) {
			this.source.addAndGet(20_000);
			assertThat(limiter.tryAcquire()).as("call %d", call).isTrue();
		}
	}

	/**
	 * 10<sup>6</sup>/s burst 1,000, called ten times as often as its rate while the coarse clock
	 * stands: the sampled rechecks see the source often enough that the bucket admits its bound,
	 * less a few permits, and never more.
	 */
	@Test
	void aSaturatedFastBucketAdmitsItsBoundThoughTheCoarseClockStands() {
		RateLimiter limiter = RateLimiter.builder("saturated", RateLimit.tokenBucket(Rate.perSecond(1_000_000))
			.capacity(1_000)
			.build()).ticker(this.clock).build();
		long start = this.source.get();
		long readsBefore = this.sourceReads.get();
		long admitted = 0;
		for (int call = 0; call < 1_000_000; call++) {
			this.source.addAndGet(100);
			if (limiter.tryAcquire()) {
				admitted++;
			}
		}
		long bound = 1_000 + (this.source.get() - start) / 1_000;
		assertThat(admitted).isLessThanOrEqualTo(bound).isGreaterThan(bound * 99 / 100);
		// one denial in 16 rechecked, about 6% of the calls: not every one
		assertThat(this.sourceReads.get() - readsBefore).isBetween(1_000_000L / 40, 1_000_000L / 10);
	}

	/**
	 * The same limit called at 95% of its rate, the coarse clock ticking every 1.3 ms (late), so each
	 * tick would refill more than the capacity at once and the coarse clock alone would admit at most
	 * 1,000 of the 1,235 calls per tick: rechecks find the refill that the coarse reading hides, and
	 * only a few calls per tick are denied.
	 */
	@Test
	void aFastBucketUnderItsRateIsServedOnATickingCoarseClock() {
		RateLimiter limiter = RateLimiter.builder("under", RateLimit.tokenBucket(Rate.perSecond(1_000_000))
			.capacity(1_000)
			.build()).ticker(this.clock).build();
		this.clock.resumed();
		long nextTick = this.source.get() + 1_300_000;
		int calls = 190_000;
		long admitted = 0;
		for (int call = 0; call < calls; call++) {
			this.source.addAndGet(1_053);
			if (this.source.get() - nextTick >= 0) {
				this.clock.tick();
				nextTick += 1_300_000;
			}
			if (limiter.tryAcquire()) {
				admitted++;
			}
		}
		// 153 ticks; about 15 wrong denials before each recheck (one in 16), under 2% in all
		assertThat(admitted).isGreaterThan(calls * 98L / 100);
	}

	/**
	 * A token bucket reading a clock that lags the true time by up to the period (a random lag at
	 * each read, never going back): since the start it admits at most capacity + rate x elapsed of
	 * the true time, and over any window at most that window's bound plus rate x period. The seed is
	 * printed when it fails.
	 */
	@Test
	void aBucketOnALaggingClockKeepsItsBound() {
		for (long seed = 1; seed <= 20; seed++) {
			SplittableRandom random = new SplittableRandom(seed);
			long period = CoarseClock.PERIOD_NANOS;
			long rate = 1 + random.nextLong(1_000_000);
			long capacity = 1 + random.nextLong(2_000);
			AtomicLong truth = new AtomicLong(0);
			AtomicLong lagging = new AtomicLong(0);
			RateLimiter limiter = RateLimiter.builder("lagging", RateLimit.tokenBucket(Rate.perSecond(rate))
				.capacity(capacity)
				.build()).ticker(lagging::get).build();
			int steps = 20_000;
			long[] times = new long[steps];
			long[] admittedBy = new long[steps];
			long admitted = 0;
			for (int step = 0; step < steps; step++) {
				truth.addAndGet(random.nextLong(1 + 2_000_000_000L / rate));
				long seen = Math.max(lagging.get(), truth.get() - random.nextLong(period + 1));
				lagging.set(seen);
				if (limiter.tryAcquire()) {
					admitted++;
				}
				times[step] = truth.get();
				admittedBy[step] = admitted;
			}
			assertKeepsItsBound(seed, random, rate, capacity, times, admittedBy);
		}
	}

	/**
	 * The bound of {@link #aBucketOnALaggingClockKeepsItsBound} on a coarse clock whose ticks come
	 * late by up to a period, for random rates and capacities, so that fast limits recheck their
	 * denials on the source: since the start a bucket admits at most capacity + rate x elapsed, and
	 * over any window that window's bound plus rate x period. The seed is printed when it fails.
	 */
	@Test
	void aBucketThatRechecksOnTheSourceKeepsItsBound() {
		for (long seed = 1; seed <= 40; seed++) {
			SplittableRandom random = new SplittableRandom(seed);
			long period = CoarseClock.PERIOD_NANOS;
			// rates from 1 to 10^8 per second, as many of each order of magnitude
			long rate = Math.max(1, (long) Math.pow(10, random.nextDouble(8)));
			long capacity = 1 + random.nextLong(2_000);
			AtomicLong truth = new AtomicLong(0);
			CoarseClock coarse = new CoarseClock(truth::get, () -> {
			});
			coarse.resumed();
			RateLimiter limiter = RateLimiter.builder("rechecking", RateLimit.tokenBucket(Rate.perSecond(rate))
				.capacity(capacity)
				.build()).ticker(coarse).build();
			int steps = 20_000;
			long[] times = new long[steps];
			long[] admittedBy = new long[steps];
			long admitted = 0;
			long nextTick = random.nextLong(period + 1);
			for (int step = 0; step < steps; step++) {
				// calls about twice the rate, and one in a hundred after a pause of up to 2 ms, so that
				// even the fastest limits see a few hundred ticks
				long gap = (random.nextInt(100) == 0) ? 2 * period : 2_000_000_000L / rate;
				truth.addAndGet(random.nextLong(1 + gap));
				while (truth.get() - nextTick >= 0) {
					coarse.tick();
					nextTick += period + random.nextLong(period + 1);
				}
				if (limiter.tryAcquire()) {
					admitted++;
				}
				times[step] = truth.get();
				admittedBy[step] = admitted;
			}
			assertKeepsItsBound(seed, random, rate, capacity, times, admittedBy);
		}
	}

	/**
	 * Since the start, at most capacity + rate x elapsed of the true time; over 200 random windows,
	 * at most that window's bound plus the pool's slack and rate x period.
	 * @param times the true time after each step
	 * @param admittedBy the admitted count after each step
	 */
	private static void assertKeepsItsBound(long seed, SplittableRandom random, long rate, long capacity, long[] times,
			long[] admittedBy) {
		int steps = times.length;
		long sinceStart = capacity + rate * times[steps - 1] / 1_000_000_000L + 1;
		assertThat(admittedBy[steps - 1]).as("seed %d: admitted since the start", seed)
			.isLessThanOrEqualTo(sinceStart);
		for (int trial = 0; trial < 200; trial++) {
			int from = random.nextInt(steps - 1);
			int to = from + 1 + random.nextInt(steps - from - 1);
			long inWindow = admittedBy[to] - admittedBy[from];
			double bound = capacity + capacity / 100 + rate * ((times[to] - times[from]) + CoarseClock.PERIOD_NANOS) / 1e9
					+ 1;
			assertThat((double) inWindow).as("seed %d: window %d..%d", seed, from, to).isLessThanOrEqualTo(bound);
		}
	}

}
