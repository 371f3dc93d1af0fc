package dev.ratelimit.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.test.ManualClock;
import dev.ratelimit.test.PropertyCheck;
import dev.ratelimit.test.PropertyCheck.Gen;
import dev.ratelimit.test.PropertyCheck.Weighted;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admission invariant, for any rate, capacity and sequence of requests and clock moves:
 * <ul>
 * <li>over any interval T a token bucket admits at most {@code capacity + rate x T} permits, plus
 * at most its prefetch bound ({@code capacity / 100}, zero below 100);</li>
 * <li>its state never goes negative;</li>
 * <li>under saturating demand it admits exactly {@code capacity + floor(rate x T)}: no capacity is
 * lost.</li>
 * </ul>
 * Windows keep their own forms of the same bound. Seeded generators ({@link PropertyCheck}); a
 * failure prints the seed that replays it.
 */
class AdmissionInvariantProperties {

	record Step(long advanceNanos, int permitsPercent) {
	}

	/** 1 to 150 steps: no clock move, up to a millisecond, or up to three seconds. */
	static List<Step> steps(Gen gen) {
		return gen.lists(1, 150, (g) -> new Step(g.oneOf(Weighted.of(1, (x) -> 0L),
				Weighted.of(1, (x) -> x.longs(1, 1_000_000L)), Weighted.of(1, (x) -> x.longs(1, 3_000_000_000L))),
				g.ints(1, 100)));
	}

	private record Admission(long time, long permits) {
	}

	private static long permitsFor(Step step, long capacity) {
		return Math.max(1, Math.min(capacity, (capacity * step.permitsPercent()) / 100 / 10 + 1));
	}

	@Test
	void tokenBucketNeverAdmitsMoreThanCapacityPlusRefill() {
		PropertyCheck.forAll(400, (gen) -> tokenBucketNeverAdmitsMoreThanCapacityPlusRefill(gen.longs(1, 2000),
				gen.longs(1, 5000), gen.longs(1_000_000, 5_000_000_000L), steps(gen)));
	}

	private static void tokenBucketNeverAdmitsMoreThanCapacityPlusRefill(long capacity, long permitsPerPeriod,
			long periodNanos, List<Step> steps) {
		ManualClock clock = new ManualClock();
		Rate rate = Rate.of(permitsPerPeriod, Duration.ofNanos(periodNanos));
		AbstractRateLimiter limiter = (AbstractRateLimiter) RateLimiter
			.builder("p", RateLimit.tokenBucket(rate).capacity(capacity).build())
			.ticker(clock)
			.build();
		List<Admission> admissions = new ArrayList<>();
		for (Step step : steps) {
			clock.advanceNanos(step.advanceNanos());
			long permits = permitsFor(step, capacity);
			for (int burst = 0; burst < 3; burst++) {
				if (limiter.tryAcquire(permits)) {
					admissions.add(new Admission(clock.read(), permits));
				}
			}
			assertThat(limiter.available(clock.read())).as("state never negative").isGreaterThanOrEqualTo(0);
		}
		long extra = capacity / 100;
		for (int i = 0; i < admissions.size(); i++) {
			long admitted = 0;
			for (int j = i; j < admissions.size(); j++) {
				admitted += admissions.get(j).permits();
				long span = admissions.get(j).time() - admissions.get(i).time();
				long refill = rate.permitsIn(span) + 1; // ceil of the exact refill
				assertThat(admitted).as("admitted over %d ns", span).isLessThanOrEqualTo(capacity + extra + refill);
			}
		}
	}

	@Test
	void saturatedTokenBucketLosesNoCapacity() {
		PropertyCheck.forAll(400, (gen) -> saturatedTokenBucketLosesNoCapacity(gen.longs(1, 2000), gen.longs(1, 5000),
				gen.longs(1_000_000, 5_000_000_000L), steps(gen)));
	}

	private static void saturatedTokenBucketLosesNoCapacity(long capacity, long permitsPerPeriod, long periodNanos,
			List<Step> steps) {
		ManualClock clock = new ManualClock();
		Rate rate = Rate.of(permitsPerPeriod, Duration.ofNanos(periodNanos));
		RateLimiter limiter = RateLimiter.builder("p", RateLimit.tokenBucket(rate).capacity(capacity).build())
			.ticker(clock)
			.build();
		long start = clock.read();
		long admitted = 0;
		while (limiter.tryAcquire()) {
			admitted++;
		}
		for (Step step : steps) {
			// never long enough to refill the whole capacity, so no refill is lost to the cap
			clock.advanceNanos(Math.min(step.advanceNanos(), rate.nanosFor(capacity) - 1));
			while (limiter.tryAcquire()) {
				admitted++;
			}
		}
		assertThat(admitted).isEqualTo(capacity + rate.permitsIn(clock.read() - start));
	}

	@Test
	void fixedWindowAdmitsAtMostTheLimitPerWindow() {
		PropertyCheck.forAll(200, (gen) -> fixedWindowAdmitsAtMostTheLimitPerWindow(gen.longs(1, 2000),
				gen.longs(1_000_000, 5_000_000_000L), steps(gen)));
	}

	private static void fixedWindowAdmitsAtMostTheLimitPerWindow(long limit, long windowNanos, List<Step> steps) {
		ManualClock clock = new ManualClock();
		RateLimiter limiter = RateLimiter.builder("w", RateLimit.fixedWindow(limit, Duration.ofNanos(windowNanos)).build())
			.ticker(clock)
			.build();
		long origin = clock.read();
		java.util.Map<Long, Long> perWindow = new java.util.HashMap<>();
		for (Step step : steps) {
			clock.advanceNanos(step.advanceNanos());
			long permits = permitsFor(step, limit);
			while (limiter.tryAcquire(permits)) {
				perWindow.merge((clock.read() - origin) / windowNanos, permits, Long::sum);
			}
		}
		// a prefetched permit may be spent one window later: at most limit / 100 of them
		perWindow.values().forEach((admitted) -> assertThat(admitted).isLessThanOrEqualTo(limit + limit / 100));
		long total = perWindow.values().stream().mapToLong(Long::longValue).sum();
		assertThat(total).isLessThanOrEqualTo(limit * perWindow.size());
	}

	@Test
	void slidingWindowAdmitsAtMostTheLimitInAnyWindowOfSlices() {
		PropertyCheck.forAll(200, (gen) -> slidingWindowAdmitsAtMostTheLimitInAnyWindowOfSlices(gen.longs(1, 2000),
				gen.ints(1, 20), gen.longs(1_000, 250_000_000L), steps(gen)));
	}

	private static void slidingWindowAdmitsAtMostTheLimitInAnyWindowOfSlices(long limit, int slices, long sliceNanos,
			List<Step> steps) {
		ManualClock clock = new ManualClock();
		long windowNanos = sliceNanos * slices;
		RateLimiter limiter = RateLimiter
			.builder("s", RateLimit.slidingWindow(limit, Duration.ofNanos(windowNanos)).slices(slices).build())
			.ticker(clock)
			.build();
		long origin = clock.read();
		java.util.TreeMap<Long, Long> perSlice = new java.util.TreeMap<>();
		for (Step step : steps) {
			clock.advanceNanos(step.advanceNanos() % (2 * windowNanos));
			long permits = permitsFor(step, limit);
			while (limiter.tryAcquire(permits)) {
				perSlice.merge((clock.read() - origin) / sliceNanos, permits, Long::sum);
			}
		}
		for (long first : perSlice.keySet()) {
			long inWindow = perSlice.subMap(first, true, first + slices - 1, true).values().stream()
				.mapToLong(Long::longValue).sum();
			assertThat(inWindow).as("slices %d..%d", first, first + slices - 1)
				.isLessThanOrEqualTo(limit + limit / 100);
		}
	}

	@Test
	void pacerSpacesPermitsAtTheRate() {
		PropertyCheck.forAll(200, (gen) -> pacerSpacesPermitsAtTheRate(gen.longs(1, 100),
				gen.longs(1_000_000, 5_000_000_000L), steps(gen)));
	}

	private static void pacerSpacesPermitsAtTheRate(long permitsPerPeriod, long periodNanos, List<Step> steps) {
		ManualClock clock = new ManualClock();
		Rate rate = Rate.of(permitsPerPeriod, Duration.ofNanos(periodNanos));
		RateLimiter limiter = RateLimiter.builder("l", RateLimit.leakyBucket(rate).build()).ticker(clock).build();
		long first = -1;
		long admitted = 0;
		for (Step step : steps) {
			clock.advanceNanos(step.advanceNanos() % periodNanos);
			while (limiter.tryAcquire()) {
				if (first < 0) {
					first = clock.read();
				}
				admitted++;
				// n permits need at least n - 1 whole intervals after the first
				assertThat(clock.read() - first).isGreaterThanOrEqualTo((admitted - 1) * rate.nanosFor(1));
			}
		}
	}

}
