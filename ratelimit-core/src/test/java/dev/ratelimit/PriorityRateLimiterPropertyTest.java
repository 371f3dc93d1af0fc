package dev.ratelimit;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;
import dev.ratelimit.test.PropertyCheck;
import dev.ratelimit.test.PropertyCheck.Gen;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The local priority policy under random classes, shares, limits and calls (seeded; a failure
 * prints the seed that replays it):
 * <ul>
 * <li>the whole never grants more than capacity + rate x elapsed;
 * <li>when a class is refused, a less important class is refused too, unless it has a reserved
 * minimum share of its own;
 * <li>without reserved shares, a class's call leaves the most important class at least that
 * class's headroom (its floor in the shared bucket);
 * <li>a refused call is granted once its retry time has passed, if no one took meanwhile;
 * <li>changes of capacity and shares at random moments never add permits: the whole grants no
 * more than its first capacity + rate x elapsed, and a change keeps no more than the new capacity.
 * </ul>
 */
class PriorityRateLimiterPropertyTest {

	@Test
	void theBoundHoldsAndLowerClassesAreRefusedFirst() {
		PropertyCheck.forAll(300, (gen) -> {
			int count = gen.ints(2, 5);
			List<String> names = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				names.add("c" + i);
			}
			Priorities priorities = shares(gen, names, 20);
			long perSecond = gen.longs(1, 1_000_000);
			long capacity = gen.longs(20, 5_000);
			RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(perSecond)).capacity(capacity).build();
			ManualClock clock = new ManualClock();
			PriorityRateLimiter limiter = PriorityRateLimiter.builder("p", limit, priorities)
				.ticker(clock)
				.scheduler(clock)
				.build();
			String context = priorities + ", " + limit;
			long admitted = 0;
			long nanosPerPermit = Math.max(1, 1_000_000_000L / perSecond);
			for (int step = 0; step < 400; step++) {
				if (gen.ints(0, 3) == 0) {
					clock.advanceNanos(gen.longs(0, 3 * nanosPerPermit));
					continue;
				}
				int index = gen.ints(0, count - 1);
				RateLimiter view = limiter.forClass(names.get(index));
				long permits = gen.longs(1, Math.min(view.snapshot().capacity(), 30));
				Decision decision = view.decide(permits);
				if (decision.permitted()) {
					admitted += permits;
					boolean shares = names.stream().anyMatch((name) -> limiter.priorities().minimumShare(name) > 0);
					if (!shares) {
						long floor = Math.min(capacity - 1, (long) Math.floor(index * priorities.headroom() * capacity));
						assertThat(limiter.forClass("c0").snapshot().available())
							.as("%s: c%d took %d permits into the headroom of the classes above it", context, index,
									permits)
							.isGreaterThanOrEqualTo(floor);
					}
					continue;
				}
				for (int lower = index + 1; lower < count; lower++) {
					RateLimiter other = limiter.forClass(names.get(lower));
					if (permits <= other.snapshot().capacity() && other.tryAcquire(permits)) {
						admitted += permits;
						assertThat(priorities.minimumShare(names.get(lower)))
							.as("%s: c%d refused %d permits that c%d, without a reserve of its own, got", context, index,
									permits, lower)
							.isPositive();
					}
				}
				if (gen.ints(0, 3) == 0) {
					// a refusal's retry time: nothing else takes, so the call then passes
					Decision again = view.decide(permits);
					if (!again.permitted()) {
						clock.advanceNanos(again.retryAfterNanos());
						assertThat(view.tryAcquire(permits)).as("%s: c%d after its retry time", context, index).isTrue();
					}
					admitted += permits;
				}
				long elapsed = clock.read();
				assertThat(admitted).as("%s: granted after %d ns", context, elapsed)
					.isLessThanOrEqualTo(capacity + Rate.perSecond(perSecond).permitsIn(elapsed));
			}
		});
	}

	@Test
	void newDivisionsNeverAddPermits() {
		PropertyCheck.forAll(300, (gen) -> {
			int count = gen.ints(2, 4);
			List<String> names = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				names.add("c" + i);
			}
			long perSecond = gen.longs(1, 1_000_000);
			Rate rate = Rate.perSecond(perSecond);
			long firstCapacity = gen.longs(20, 5_000);
			ManualClock clock = new ManualClock();
			PriorityRateLimiter limiter = PriorityRateLimiter
				.builder("p", RateLimit.tokenBucket(rate).capacity(firstCapacity).build(), shares(gen, names, 30))
				.ticker(clock)
				.scheduler(clock)
				.build();
			long admitted = 0;
			long nanosPerPermit = Math.max(1, 1_000_000_000L / perSecond);
			StringBuilder changes = new StringBuilder();
			for (int step = 0; step < 300; step++) {
				int action = gen.ints(0, 9);
				if (action == 0) {
					long capacity = gen.longs(20, 5_000);
					Priorities priorities = shares(gen, names, 30);
					limiter.update(RateLimit.tokenBucket(rate).capacity(capacity).build(), priorities);
					changes.append(" @").append(clock.read()).append(':').append(capacity).append(' ').append(priorities);
					if (gen.ints(0, 1) == 0) {
						// everything the classes can take right after the change: never more than it holds
						long drained = 0;
						for (String name : names) {
							drained += drain(limiter.forClass(name), capacity);
						}
						admitted += drained;
						assertThat(drained).as("permits taken right after a change to capacity %d", capacity)
							.isLessThanOrEqualTo(capacity);
					}
				}
				else if (action <= 3) {
					clock.advanceNanos(gen.longs(0, 3 * nanosPerPermit));
				}
				else {
					RateLimiter view = limiter.forClass(names.get(gen.ints(0, count - 1)));
					long permits = gen.longs(1, Math.min(view.snapshot().capacity(), 30));
					if (view.tryAcquire(permits)) {
						admitted += permits;
					}
				}
				assertThat(admitted).as("rate %d/s, first capacity %d, changes%s: granted after %d ns", perSecond,
						firstCapacity, changes, clock.read())
					.isLessThanOrEqualTo(firstCapacity + rate.permitsIn(clock.read()));
			}
		});
	}

	/** Takes all a class can have now, in halving steps. */
	private static long drain(RateLimiter view, long capacity) {
		long taken = 0;
		for (long permits = Math.min(capacity, view.snapshot().capacity()); permits >= 1; permits /= 2) {
			while (view.tryAcquire(permits)) {
				taken += permits;
			}
		}
		return taken;
	}

	/**
	 * Random minimum shares for some of the classes, each of 1% to {@code mostPercent}, adding up
	 * to at most 0.8.
	 */
	private static Priorities shares(Gen gen, List<String> names, int mostPercent) {
		Priorities priorities = Priorities.of(names);
		double left = 0.8;
		for (String name : names) {
			if (gen.ints(0, 2) == 0) {
				double share = gen.ints(1, mostPercent) / 100.0;
				if (share < left) {
					priorities = priorities.minimumShare(name, share);
					left -= share;
				}
			}
		}
		return priorities;
	}

}
