package dev.ratelimit.benchmarks;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;

/**
 * Average cost, in nanoseconds, of one non-blocking permit decision ({@code tryAcquire} or its
 * equivalent) of this library's token bucket and of Bucket4j, Resilience4j and Guava, measured in
 * the same run so that their ratios are meaningful on a noisy machine.
 *
 * <p>Two paths are measured, each with one limiter per implementation shared by all benchmark
 * threads ({@link Scope#Benchmark}), so that with {@code -t 2} the threads contend on it:
 * <ul>
 * <li>{@code permitted*}: a limiter of 10<sup>9</sup> permits per second with a burst of
 * 10<sup>9</sup>. Denying a call would take more than 10<sup>9</sup> calls in a second, under one
 * nanosecond each, so every call is permitted; the {@code rejections} secondary result counts
 * any call that was not and must read 0.
 * <li>{@code rejected*}: a limiter of one permit per hour with a capacity of one, drained in setup,
 * so every call is denied (checked after setup and after each iteration).
 * </ul>
 * Two baselines give the floor in the same run: {@link System#nanoTime()}, which a limiter that
 * reads the clock on every call cannot beat, and a CAS loop on one shared counter, which is what
 * this library's pooled fast path does.
 *
 * <p>The thread count is not fixed here: choose it with {@code -t 1} or {@code -t 2}. Every method
 * returns the decision so that the JIT cannot drop the call. The commands are in
 * {@code docs/benchmarks.md} and {@code run-benchmarks.sh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TryAcquireBenchmark {

	// ---- permitted: every call is granted --------------------------------------------------

	@Benchmark
	public boolean permittedOurs(Permitting limiters, Rejections rejections) {
		return rejections.count(limiters.ours.tryAcquire());
	}

	@Benchmark
	public boolean permittedBucket4j(Permitting limiters, Rejections rejections) {
		return rejections.count(limiters.bucket4j.tryConsume(1));
	}

	@Benchmark
	public boolean permittedResilience4j(Permitting limiters, Rejections rejections) {
		return rejections.count(limiters.resilience4j.acquirePermission());
	}

	@Benchmark
	public boolean permittedGuava(Permitting limiters, Rejections rejections) {
		return rejections.count(limiters.guava.tryAcquire());
	}

	// ---- rejected: every call is denied -----------------------------------------------------

	@Benchmark
	public boolean rejectedOurs(Drained limiters) {
		return limiters.ours.tryAcquire();
	}

	@Benchmark
	public boolean rejectedBucket4j(Drained limiters) {
		return limiters.bucket4j.tryConsume(1);
	}

	@Benchmark
	public boolean rejectedResilience4j(Drained limiters) {
		return limiters.resilience4j.acquirePermission();
	}

	@Benchmark
	public boolean rejectedGuava(Drained limiters) {
		return limiters.guava.tryAcquire();
	}

	// ---- baselines: the floor on this machine -------------------------------------------------

	@Benchmark
	public long baselineNanoTime() {
		return System.nanoTime();
	}

	/**
	 * One successful compare-and-exchange on a shared counter, retried on contention: the cost of
	 * taking a permit from this library's pool.
	 */
	@Benchmark
	public boolean baselineCas(Counter counter) {
		AtomicLong value = counter.value;
		long current = value.get();
		for (;;) {
			long witness = value.compareAndExchange(current, current - 1);
			if (witness == current) {
				return true;
			}
			current = witness;
		}
	}

	/** Limiters that permit every call the machine can make: 10^9 permits per second. */
	@State(Scope.Benchmark)
	public static class Permitting {

		/** Rate and burst, far beyond what any thread reaches (it would need under 1 ns a call). */
		static final int PERMITS_PER_SECOND = 1_000_000_000;

		RateLimiter ours;

		Bucket bucket4j;

		AtomicRateLimiter resilience4j;

		com.google.common.util.concurrent.RateLimiter guava;

		@Setup(Level.Trial)
		public void setUp() {
			this.ours = RateLimiter.of("bench",
					RateLimit.tokenBucket(Rate.perSecond(PERMITS_PER_SECOND)).capacity(PERMITS_PER_SECOND).build());
			this.bucket4j = Bucket.builder()
				.addLimit(Bandwidth.builder()
					.capacity(PERMITS_PER_SECOND)
					.refillGreedy(PERMITS_PER_SECOND, Duration.ofSeconds(1))
					.build())
				.build();
			this.resilience4j = new AtomicRateLimiter("bench",
					RateLimiterConfig.custom()
						.limitForPeriod(PERMITS_PER_SECOND)
						.limitRefreshPeriod(Duration.ofSeconds(1))
						.timeoutDuration(Duration.ZERO)
						.build());
			this.guava = com.google.common.util.concurrent.RateLimiter.create(PERMITS_PER_SECOND);
		}

	}

	/** Limiters of one permit per hour, drained, so that every call is denied. */
	@State(Scope.Benchmark)
	public static class Drained {

		RateLimiter ours;

		Bucket bucket4j;

		AtomicRateLimiter resilience4j;

		com.google.common.util.concurrent.RateLimiter guava;

		@Setup(Level.Trial)
		public void setUp() {
			this.ours = RateLimiter.of("bench", RateLimit.tokenBucket(Rate.perHour(1)).capacity(1).build());
			this.bucket4j = Bucket.builder()
				.addLimit(Bandwidth.builder().capacity(1).refillGreedy(1, Duration.ofHours(1)).build())
				.build();
			this.resilience4j = new AtomicRateLimiter("bench",
					RateLimiterConfig.custom()
						.limitForPeriod(1)
						.limitRefreshPeriod(Duration.ofHours(1))
						.timeoutDuration(Duration.ZERO)
						.build());
			this.guava = com.google.common.util.concurrent.RateLimiter.create(1.0 / 3600);
			// the one permit each holds is granted, then none is left for an hour
			check(this.ours.tryAcquire() && this.bucket4j.tryConsume(1) && this.resilience4j.acquirePermission()
					&& this.guava.tryAcquire(), "a fresh limiter should grant its one permit");
			checkAllDeny();
		}

		@TearDown(Level.Iteration)
		public void checkAllDeny() {
			check(!this.ours.tryAcquire(), "ours should deny");
			check(!this.bucket4j.tryConsume(1), "Bucket4j should deny");
			check(!this.resilience4j.acquirePermission(), "Resilience4j should deny");
			check(!this.guava.tryAcquire(), "Guava should deny");
		}

	}

	/**
	 * Counts denied calls of the permitting benchmarks, reported as the {@code rejections}
	 * secondary result. The branch is never taken, so it costs next to nothing and the same for
	 * every implementation.
	 */
	@State(Scope.Thread)
	@AuxCounters(AuxCounters.Type.EVENTS)
	public static class Rejections {

		public long rejections;

		@Setup(Level.Iteration)
		public void clear() {
			this.rejections = 0;
		}

		boolean count(boolean permitted) {
			if (!permitted) {
				this.rejections++;
			}
			return permitted;
		}

	}

	/** A counter shared by all threads, for the CAS baseline. */
	@State(Scope.Benchmark)
	public static class Counter {

		final AtomicLong value = new AtomicLong();

	}

	private static void check(boolean condition, String message) {
		if (!condition) {
			throw new IllegalStateException(message);
		}
	}

}
