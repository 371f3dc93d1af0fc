package dev.ratelimit;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class TokenBucketTest {

	private final ManualClock clock = new ManualClock();

	private RateLimiter limiter(RateLimit limit) {
		return RateLimiter.builder("bucket", limit).ticker(this.clock).scheduler(this.clock).build();
	}

	@Test
	void burstIsTheCapacityIndependentOfTheRate() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(50).build());
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(50);
	}

	@Test
	void refillsContinuouslyAtTheRate() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiterContractTest.drain(limiter);
		this.clock.advance(Duration.ofMillis(99));
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(limiter.tryAcquire()).isTrue();
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(350));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(3);
	}

	/**
	 * A call reads the clock, and before it takes, another call reads it 1 us later and takes: at
	 * 10^8/s with a capacity of 10 the first call's reading is then far behind the count, so it
	 * reads the clock once more and is admitted, as the bucket has room at that reading.
	 */
	@Test
	void aCallThatALaterReadingOvertookReadsTheClockAgain() {
		AtomicLong time = new AtomicLong(1_000_000_000L);
		AtomicReference<Runnable> afterReading = new AtomicReference<>();
		AtomicInteger reads = new AtomicInteger();
		Ticker ticker = () -> {
			reads.incrementAndGet();
			long reading = time.get();
			Runnable other = afterReading.getAndSet(null);
			if (other != null) {
				other.run();
			}
			return reading;
		};
		RateLimiter limiter = RateLimiter.builder("fast", RateLimit.tokenBucket(Rate.perSecond(100_000_000)).capacity(10).build())
			.ticker(ticker)
			.scheduler(this.clock)
			.build();
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(10);
		time.addAndGet(1_000);
		AtomicBoolean otherAdmitted = new AtomicBoolean();
		afterReading.set(() -> {
			time.addAndGet(1_000);
			otherAdmitted.set(limiter.tryAcquire());
		});
		int readsBefore = reads.get();
		assertThat(limiter.tryAcquire()).isTrue();
		assertThat(otherAdmitted).isTrue();
		assertThat(reads.get() - readsBefore).isEqualTo(3);
		// the two took 2 of the 10 at that reading; a call denied with nothing taken past its
		// reading reads the clock once
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(8);
		readsBefore = reads.get();
		assertThat(limiter.tryAcquire()).isFalse();
		assertThat(reads.get() - readsBefore).isEqualTo(1);

		// full again; the others take all of it at their later reading and the clock stands: the
		// first call's second reading finds no room either, and nothing beyond the capacity went
		time.addAndGet(1_000);
		AtomicInteger othersAdmitted = new AtomicInteger();
		afterReading.set(() -> {
			time.addAndGet(1_000);
			while (limiter.tryAcquire()) {
				othersAdmitted.incrementAndGet();
			}
		});
		readsBefore = reads.get();
		assertThat(limiter.tryAcquire()).isFalse();
		assertThat(othersAdmitted).hasValue(10);
		// the first call's two readings, and one for each of the others' 11 calls
		assertThat(reads.get() - readsBefore).isEqualTo(13);
	}

	/**
	 * A permit that comes between a denial and its report (a refill here; a lease's grant on a
	 * shared limit) does not make the denial report room for what it denied: an HTTP 429 would
	 * otherwise say {@code r=1}. The permit is there for the next call.
	 */
	@Test
	void aDenialNeverReportsRoomForWhatItDenied() {
		AtomicLong time = new AtomicLong(1_000_000_000L);
		AtomicBoolean refillAfterReading = new AtomicBoolean();
		Ticker ticker = () -> {
			long reading = time.get();
			if (refillAfterReading.getAndSet(false)) {
				time.addAndGet(100_000_000L); // a permit of 10/s, after this reading
			}
			return reading;
		};
		RateLimiter limiter = RateLimiter.builder("slow", RateLimit.tokenBucket(Rate.perSecond(10)).capacity(1).build())
			.ticker(ticker)
			.scheduler(this.clock)
			.build();
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(1);
		refillAfterReading.set(true);

		Decision denied = limiter.decide(1);

		assertThat(denied.permitted()).isFalse();
		assertThat(denied.remaining()).isZero();
		assertThat(limiter.decide(1).permitted()).isTrue();
	}

	@Test
	void refillStopsAtTheCapacity() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(20).build());
		RateLimiterContractTest.drain(limiter);
		this.clock.advance(Duration.ofHours(5));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(20);
	}

	@Test
	void fractionalRateAdmitsOnePermitEveryTwoSeconds() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(0.5)).build());
		assertThat(limiter.limit().capacity()).isEqualTo(1);
		assertThat(limiter.tryAcquire()).isTrue();
		this.clock.advance(Duration.ofMillis(1999));
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(limiter.tryAcquire()).isTrue();
	}

	@Test
	void ratesInMinutesHoursAndDays() {
		RateLimiter perMinute = limiter(RateLimit.tokenBucket(Rate.perMinute(6)).build());
		RateLimiter perDay = limiter(RateLimit.tokenBucket(Rate.perDay(24)).build());
		RateLimiterContractTest.drain(perMinute);
		RateLimiterContractTest.drain(perDay);
		this.clock.advance(Duration.ofSeconds(10));
		assertThat(perMinute.tryAcquire()).isTrue();
		assertThat(perDay.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMinutes(59).plusSeconds(50));
		assertThat(perDay.tryAcquire()).isTrue();
		assertThat(perDay.tryAcquire()).isFalse();
	}

	@Test
	void everyBandwidthIsEnforcedTogether() {
		// 100/s with a burst of 100, and 1,000 per day
		RateLimiter limiter = limiter(
				RateLimit.tokenBucket(Rate.perSecond(100)).bandwidth(1000, Rate.perDay(1000)).build());
		int admitted = 0;
		for (int second = 0; second < 30; second++) {
			admitted += RateLimiterContractTest.drain(limiter);
			this.clock.advance(Duration.ofSeconds(1));
		}
		// the per-second bandwidth alone would allow 100 + 30 x 100; the daily one caps it
		assertThat(admitted).isEqualTo(1000);
		Decision denied = limiter.decide(1);
		assertThat(denied.retryAfter()).isGreaterThan(Duration.ofSeconds(50));
		this.clock.advance(denied.retryAfter());
		assertThat(limiter.tryAcquire()).isTrue();
	}

	@Test
	void aDeniedMultiBandwidthRequestTakesNothingFromAnyBandwidth() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(100)).bandwidth(10, Rate.perHour(10)).build());
		assertThat(limiter.tryAcquire(8)).isTrue();
		long before = limiter.snapshot().available();
		assertThat(limiter.tryAcquire(5)).isFalse(); // the hourly bandwidth has only 2
		assertThat(limiter.snapshot().available()).isEqualTo(before);
		assertThat(limiter.tryAcquire(2)).isTrue();
	}

	@Test
	void initialPermitsStartBelowFull() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).initialPermits(0).build());
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(limiter.tryAcquire()).isTrue();
	}

	@Test
	void blockingAcquireReservesAndWaitsInTurn() throws InterruptedException {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiterContractTest.drain(limiter);
		assertThat(limiter.acquire(1, Duration.ofSeconds(1))).isTrue();
		assertThat(this.clock.sleptNanos()).isEqualTo(Duration.ofMillis(100).toNanos());
		// a reservation is taken at once: three async callers get consecutive slots
		CompletableFuture<Boolean> first = limiter.acquireAsync(1, Duration.ofSeconds(1));
		CompletableFuture<Boolean> second = limiter.acquireAsync(1, Duration.ofSeconds(1));
		CompletableFuture<Boolean> third = limiter.acquireAsync(5, Duration.ofSeconds(1));
		this.clock.advance(Duration.ofMillis(100));
		assertThat(first).isCompletedWithValue(true);
		assertThat(second).isNotDone();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(second).isCompletedWithValue(true);
		assertThat(third).isNotDone();
		this.clock.advance(Duration.ofMillis(500));
		assertThat(third).isCompletedWithValue(true);
		assertThat(limiter.tryAcquire()).isFalse();
	}

	@Test
	void aWaitLongerThanTheTimeoutIsRefusedAtOnce() throws InterruptedException {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiterContractTest.drain(limiter);
		assertThat(limiter.acquire(5, Duration.ofMillis(499))).isFalse();
		assertThat(this.clock.sleptNanos()).isZero();
		assertThat(limiter.acquire(5, Duration.ofMillis(500))).isTrue();
	}

	@Test
	void interruptedWaitReturnsItsReservation() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiterContractTest.drain(limiter);
		Thread.currentThread().interrupt();
		assertThatExceptionOfType(InterruptedException.class)
			.isThrownBy(() -> limiter.acquire(3, Duration.ofSeconds(1)));
		this.clock.advance(Duration.ofMillis(300));
		assertThat(limiter.tryAcquire(3)).as("the reserved permits were given back").isTrue();
	}

	@Test
	void cancelledAsyncWaitReturnsItsReservation() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiterContractTest.drain(limiter);
		CompletableFuture<Boolean> future = limiter.acquireAsync(3, Duration.ofSeconds(1));
		future.cancel(false);
		this.clock.advance(Duration.ofMillis(300));
		assertThat(limiter.tryAcquire(3)).isTrue();
	}

	@Test
	void updateRateKeepsAvailablePermitsAndAppliesTheNewRate() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(10).build());
		assertThat(limiter.tryAcquire(4)).isTrue();
		limiter.updateRate(Rate.perSecond(1));
		assertThat(limiter.limit().rate()).isEqualTo(Rate.perSecond(1));
		assertThat(limiter.limit().capacity()).isEqualTo(10);
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(6);
		this.clock.advance(Duration.ofMillis(999));
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(limiter.tryAcquire()).isTrue();
	}

	@Test
	void decisionTellsWhenTheBucketIsFullAgain() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).build());
		Decision decision = limiter.decide(4);
		assertThat(decision.remaining()).isEqualTo(6);
		assertThat(decision.reset()).isEqualTo(Duration.ofMillis(400));
	}

	@Test
	void largeCapacitiesPrefetchAtMostOnePercent() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(10_000).build());
		assertThat(limiter.tryAcquire()).isTrue();
		assertThat(limiter.snapshot().details()).containsEntry("prefetchLimit", 100L).containsEntry("prefetched", 100L);
		// the prefetched permits are counted as available: nothing is lost
		assertThat(limiter.snapshot().available()).isEqualTo(9_999);
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(9_999);
	}

	@Test
	void smallCapacitiesAreExact() {
		RateLimiter limiter = limiter(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(99).build());
		assertThat(limiter.tryAcquire()).isTrue();
		assertThat(limiter.snapshot().details()).containsEntry("prefetchLimit", 0L).containsEntry("prefetched", 0L);
	}

}
