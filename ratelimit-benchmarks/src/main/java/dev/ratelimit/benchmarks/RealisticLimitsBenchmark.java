package dev.ratelimit.benchmarks;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.internal.CoarseClock;

/**
 * Average cost, in nanoseconds, of one non-blocking decision on the paths real limits take, next
 * to Bucket4j, Resilience4j and Guava in the same run (one limiter per implementation, shared by
 * the benchmark threads; choose {@code -t 1} or {@code -t 2}):
 * <ul>
 * <li>{@code saturated*}: a limiter at its rate, with calls far beyond it, so admits and denials
 * mix: {@code limit = 1M} is 10<sup>6</sup>/s with a burst of 1,000, {@code limit = 1K} is 1,000/s
 * with a burst of 10 (where the permit pool is off);</li>
 * <li>{@code small*}: a capacity of 10 (the pool off) at 10<sup>8</sup>/s, a rate the calls do not
 * reach, so almost every call is admitted from the bucket itself ({@code smallCapacity} sets
 * another capacity);</li>
 * <li>{@code keyed*}: 10,000 tenant keys of 100/s with a burst of 10, a key drawn per call
 * uniformly or by Zipf(1.1) ({@code keys}): ours through a {@link RateLimiterRegistry}, Bucket4j
 * from a {@link ConcurrentHashMap} of buckets, Resilience4j through its registry. Guava has no
 * keyed form.</li>
 * </ul>
 * Every saturated and small-capacity iteration counts the calls each implementation made and
 * what it admitted, over all threads, and prints them against {@code capacity + rate x elapsed}; for ours it also fails the run
 * when the count exceeds that bound plus the documented slack (the pool's 1% of the capacity and
 * the coarse clock's {@code rate x period}). Guava's burst is a second of its rate, not a
 * capacity, so its count is printed against its own bound. The drained limiter is
 * {@link TryAcquireBenchmark}'s {@code rejected*} path, run with this class by the same command.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RealisticLimitsBenchmark {

	// ---- saturated: admits and denials mixed ----------------------------------------------------

	@Benchmark
	public boolean saturatedOurs(Saturated limiters, AdmittedSaturated admitted) {
		return admitted.ours(limiters.ours.tryAcquire());
	}

	@Benchmark
	public boolean saturatedBucket4j(Saturated limiters, AdmittedSaturated admitted) {
		return admitted.bucket4j(limiters.bucket4j.tryConsume(1));
	}

	@Benchmark
	public boolean saturatedResilience4j(Saturated limiters, AdmittedSaturated admitted) {
		return admitted.resilience4j(limiters.resilience4j.acquirePermission());
	}

	@Benchmark
	public boolean saturatedGuava(Saturated limiters, AdmittedSaturated admitted) {
		return admitted.guava(limiters.guava.tryAcquire());
	}

	// ---- small capacity at a rate it can serve ---------------------------------------------------

	@Benchmark
	public boolean smallOurs(Small limiters, AdmittedSmall admitted) {
		return admitted.ours(limiters.ours.tryAcquire());
	}

	@Benchmark
	public boolean smallBucket4j(Small limiters, AdmittedSmall admitted) {
		return admitted.bucket4j(limiters.bucket4j.tryConsume(1));
	}

	@Benchmark
	public boolean smallResilience4j(Small limiters, AdmittedSmall admitted) {
		return admitted.resilience4j(limiters.resilience4j.acquirePermission());
	}

	@Benchmark
	public boolean smallGuava(Small limiters, AdmittedSmall admitted) {
		return admitted.guava(limiters.guava.tryAcquire());
	}

	/** {@link ExactBucket}: the least an exact decision does, next to ours and the peers. */
	@Benchmark
	public boolean smallExactBaseline(Small limiters, AdmittedSmall admitted) {
		return admitted.exactBaseline(limiters.exact.tryAcquire());
	}

	// ---- keyed: 10,000 tenants ---------------------------------------------------------------------

	@Benchmark
	public boolean keyedOurs(Keyed keyed, KeyChooser chooser) {
		return keyed.registry.limiter("api", keyed.names[chooser.next(keyed)]).tryAcquire();
	}

	@Benchmark
	public boolean keyedBucket4j(Keyed keyed, KeyChooser chooser) {
		return keyed.buckets.computeIfAbsent(keyed.names[chooser.next(keyed)], (key) -> Keyed.bucket()).tryConsume(1);
	}

	@Benchmark
	public boolean keyedResilience4j(Keyed keyed, KeyChooser chooser) {
		return keyed.resilience4j.rateLimiter(keyed.names[chooser.next(keyed)]).acquirePermission();
	}

	/** The key choice alone, which every keyed benchmark above includes: to subtract, not a limiter. */
	@Benchmark
	public String keyedChoiceOnly(Keyed keyed, KeyChooser chooser) {
		return keyed.names[chooser.next(keyed)];
	}

	// ---- states ------------------------------------------------------------------------------------

	/** A limit of the given shape in each implementation. */
	abstract static class Limiters {

		RateLimiter ours;

		Bucket bucket4j;

		AtomicRateLimiter resilience4j;

		com.google.common.util.concurrent.RateLimiter guava;

		long perSecond;

		long capacity;

		/** When the current iteration began (every implementation's bucket may be full then). */
		volatile long iterationStart;

		/** {@link #admitted} and {@link #calls}: ours, Bucket4j, Resilience4j, Guava, the exact baseline. */
		final AtomicLong[] admitted = counters();

		final AtomicLong[] calls = counters();

		ExactBucket exact;

		private static AtomicLong[] counters() {
			AtomicLong[] counters = new AtomicLong[5];
			java.util.Arrays.setAll(counters, (i) -> new AtomicLong());
			return counters;
		}

		final AtomicInteger threadsDone = new AtomicInteger();

		void build(long perSecond, long capacity) {
			this.perSecond = perSecond;
			this.capacity = capacity;
			this.ours = RateLimiter.of("bench", RateLimit.tokenBucket(Rate.perSecond(perSecond)).capacity(capacity).build());
			// the capacity's worth every capacity / rate: the same rate
			long periodNanos = Math.max(1, capacity * 1_000_000_000L / perSecond);
			// in nanoseconds, as it reads milliseconds by default: at 10^8/s with a capacity of 10 it would
			// admit 10,000 a second, cheap denials rather than the same limit
			this.bucket4j = Bucket.builder()
				.addLimit(Bandwidth.builder().capacity(capacity).refillGreedy(capacity, Duration.ofNanos(periodNanos)).build())
				.withNanosecondPrecision()
				.build();
			// Resilience4j's limit is per refresh period: the capacity's worth, every capacity / rate
			this.resilience4j = new AtomicRateLimiter("bench",
					RateLimiterConfig.custom()
						.limitForPeriod((int) capacity)
						.limitRefreshPeriod(Duration.ofNanos(periodNanos))
						.timeoutDuration(Duration.ZERO)
						.build());
			this.guava = com.google.common.util.concurrent.RateLimiter.create(perSecond);
			this.exact = new ExactBucket(perSecond, capacity);
		}

		@Setup(Level.Iteration)
		public void startIteration() {
			for (int i = 0; i < this.admitted.length; i++) {
				this.admitted[i].set(0);
				this.calls[i].set(0);
			}
			this.threadsDone.set(0);
			this.iterationStart = System.nanoTime();
		}

		/** Called by each benchmark thread after an iteration; the last one checks and prints. */
		void threadDone(long[] counts, long[] calls, int threads) {
			for (int i = 0; i < counts.length; i++) {
				this.admitted[i].addAndGet(counts[i]);
				this.calls[i].addAndGet(calls[i]);
			}
			if (this.threadsDone.incrementAndGet() < threads) {
				return;
			}
			double seconds = (System.nanoTime() - this.iterationStart) / 1e9;
			double bound = this.capacity + this.perSecond * seconds;
			// Guava's stored permits reach a second of its rate, whatever the burst meant
			double guavaBound = this.perSecond + this.perSecond * seconds;
			long ours = this.admitted[0].get();
			double slack = this.capacity / 100 + this.perSecond * (CoarseClock.PERIOD_NANOS / 1e9);
			String[] names = { "ours", "Bucket4j", "Resilience4j", "Guava", "exact baseline" };
			StringBuilder line = new StringBuilder(String.format("%n    admitted in %.3f s (bound %.0f):", seconds, bound));
			for (int i = 0; i < names.length; i++) {
				long count = this.admitted[i].get();
				long made = this.calls[i].get();
				if (made > 0) {
					line.append(String.format(" %s %d of %d calls (%.3f of its bound)", names[i], count, made,
							count / ((i == 3) ? guavaBound : bound)));
				}
			}
			System.out.println(line);
			if (ours > bound + slack) {
				throw new IllegalStateException("ours admitted " + ours + " in " + seconds + " s, over the bound "
						+ bound + " plus the slack " + slack);
			}
		}

	}

	/** 10^6/s burst 1,000 or 1,000/s burst 10, calls far beyond the rate. */
	@State(Scope.Benchmark)
	public static class Saturated extends Limiters {

		@Param({ "1M", "1K" })
		public String limit;

		@Setup(Level.Trial)
		public void setUp() {
			if ("1M".equals(this.limit)) {
				build(1_000_000, 1_000);
			}
			else {
				build(1_000, 10);
			}
		}

	}

	/** A capacity of 10 (or {@code smallCapacity}) at 10^8/s: the pool is off, the rate beyond the calls. */
	@State(Scope.Benchmark)
	public static class Small extends Limiters {

		/**
		 * The capacity: 10 in the standard run; under 100 the pool stays off. A larger one
		 * ({@code -p smallCapacity=50}) rechecks the system clock less often, which leaves the cost
		 * of changing one shared count per admitted call, what every exact decision pays.
		 */
		@Param({ "10" })
		public int smallCapacity;

		@Setup(Level.Trial)
		public void setUp() {
			build(100_000_000, this.smallCapacity);
		}

	}

	/**
	 * What each thread admitted in an iteration, per implementation; plain fields (the thread's
	 * own), summed over the threads when the iteration ends. Reported as a secondary result.
	 */
	abstract static class Admitted {

		public long admitted;

		final long[] counts = new long[5];

		final long[] calls = new long[5];

		void clearCounts() {
			this.admitted = 0;
			java.util.Arrays.fill(this.counts, 0);
			java.util.Arrays.fill(this.calls, 0);
		}

		boolean ours(boolean permitted) {
			return count(0, permitted);
		}

		boolean bucket4j(boolean permitted) {
			return count(1, permitted);
		}

		boolean resilience4j(boolean permitted) {
			return count(2, permitted);
		}

		boolean guava(boolean permitted) {
			return count(3, permitted);
		}

		boolean exactBaseline(boolean permitted) {
			return count(4, permitted);
		}

		private boolean count(int implementation, boolean permitted) {
			this.calls[implementation]++;
			if (permitted) {
				this.counts[implementation]++;
				this.admitted++;
			}
			return permitted;
		}

	}

	/** {@link Admitted} for the saturated limiters. */
	@State(Scope.Thread)
	@AuxCounters(AuxCounters.Type.EVENTS)
	public static class AdmittedSaturated extends Admitted {

		@Setup(Level.Iteration)
		public void clear() {
			clearCounts();
		}

		@TearDown(Level.Iteration)
		public void report(Saturated limiters, BenchmarkParams params) {
			limiters.threadDone(this.counts, this.calls, params.getThreads());
		}

	}

	/** {@link Admitted} for the small-capacity limiters. */
	@State(Scope.Thread)
	@AuxCounters(AuxCounters.Type.EVENTS)
	public static class AdmittedSmall extends Admitted {

		@Setup(Level.Iteration)
		public void clear() {
			clearCounts();
		}

		@TearDown(Level.Iteration)
		public void report(Small limiters, BenchmarkParams params) {
			limiters.threadDone(this.counts, this.calls, params.getThreads());
		}

	}

	/** 10,000 tenant keys of 100/s, burst 10, in each implementation's keyed form. */
	@State(Scope.Benchmark)
	public static class Keyed {

		static final int KEYS = 10_000;

		@Param({ "uniform", "zipf" })
		public String keys;

		String[] names;

		boolean zipf;

		/**
		 * Zipf(1.1) over the keys as an alias table (Vose): rank {@code i} is drawn with probability
		 * {@code (keep[i] + sum of keep-complements aliased to i) / KEYS}, exactly the Zipf weights, at the
		 * cost of one uniform index and one uniform fraction (a binary search over the cumulative
		 * weights cost about as much as a limiter's decision).
		 */
		double[] keep;

		int[] alias;

		RateLimiterRegistry registry;

		final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

		io.github.resilience4j.ratelimiter.RateLimiterRegistry resilience4j;

		static Bucket bucket() {
			return Bucket.builder()
				.addLimit(Bandwidth.builder().capacity(10).refillGreedy(100, Duration.ofSeconds(1)).build())
				.build();
		}

		@Setup(Level.Trial)
		public void setUp() {
			this.zipf = "zipf".equals(this.keys);
			this.names = new String[KEYS];
			for (int i = 0; i < KEYS; i++) {
				this.names[i] = "tenant-" + i;
			}
			buildZipfAliasTable();
			this.registry = RateLimiterRegistry.builder()
				.maxKeys(2 * KEYS)
				.build()
				.define("api", RateLimit.tokenBucket(Rate.perSecond(100)).capacity(10).build());
			this.resilience4j = io.github.resilience4j.ratelimiter.RateLimiterRegistry.of(RateLimiterConfig.custom()
				.limitForPeriod(10)
				.limitRefreshPeriod(Duration.ofMillis(100))
				.timeoutDuration(Duration.ZERO)
				.build());
			// every key exists before measuring, in every implementation
			for (String name : this.names) {
				this.registry.limiter("api", name);
				this.buckets.computeIfAbsent(name, (key) -> bucket());
				this.resilience4j.rateLimiter(name);
			}
		}

		/** Vose's alias method over the Zipf(1.1) weights of ranks 1..KEYS. */
		void buildZipfAliasTable() {
			double[] scaled = new double[KEYS];
			double sum = 0;
			for (int i = 0; i < KEYS; i++) {
				scaled[i] = 1 / Math.pow(i + 1, 1.1);
				sum += scaled[i];
			}
			int[] small = new int[KEYS];
			int[] large = new int[KEYS];
			int smalls = 0;
			int larges = 0;
			for (int i = 0; i < KEYS; i++) {
				scaled[i] = scaled[i] * KEYS / sum;
				if (scaled[i] < 1) {
					small[smalls++] = i;
				}
				else {
					large[larges++] = i;
				}
			}
			this.keep = new double[KEYS];
			this.alias = new int[KEYS];
			while (smalls > 0 && larges > 0) {
				int less = small[--smalls];
				int more = large[--larges];
				this.keep[less] = scaled[less];
				this.alias[less] = more;
				scaled[more] = (scaled[more] + scaled[less]) - 1;
				if (scaled[more] < 1) {
					small[smalls++] = more;
				}
				else {
					large[larges++] = more;
				}
			}
			while (larges > 0) {
				this.keep[large[--larges]] = 1;
			}
			while (smalls > 0) {
				this.keep[small[--smalls]] = 1; // rounding left it just under 1
			}
		}

	}

	/** Each thread's key choice: the same cost for every implementation. */
	@State(Scope.Thread)
	public static class KeyChooser {

		private final SplittableRandom random = new SplittableRandom(42 + Thread.currentThread().getId());

		int next(Keyed keyed) {
			if (!keyed.zipf) {
				return this.random.nextInt(Keyed.KEYS);
			}
			int index = this.random.nextInt(Keyed.KEYS);
			return (this.random.nextDouble() < keyed.keep[index]) ? index : keyed.alias[index];
		}

	}

}

/**
 * A baseline, not a limiter: the least an exact token bucket on the coarse clock does per decision,
 * to tell what any exact decision pays from what ours adds. One count in permits (the generic cell
 * rate algorithm, as ours) alone on its cache line, changed by compare-and-set; the coarse clock
 * ({@link dev.ratelimit.Ticker#coarse()}); a denial checked again on {@link System#nanoTime()}, whose
 * reading later decisions start from. No pool, listener, limit change, reservation or overflow
 * guard; the rate must be a whole number of nanoseconds per permit (10^8/s: 10).
 */
final class ExactBucket extends ExactBucketPadAfter {

	private static final java.lang.invoke.VarHandle CONSUMED;

	static {
		try {
			CONSUMED = java.lang.invoke.MethodHandles.lookup()
				.findVarHandle(ExactBucketCount.class, "consumed", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final dev.ratelimit.Ticker clock = dev.ratelimit.Ticker.coarse();

	private final long origin = System.nanoTime();

	private final long nanosPerPermit;

	private final long capacity;

	ExactBucket(long perSecond, long capacity) {
		if (perSecond <= 0 || perSecond > 1_000_000_000L || 1_000_000_000L % perSecond != 0) {
			throw new IllegalArgumentException(perSecond + "/s is not a whole number of nanoseconds per permit");
		}
		this.nanosPerPermit = 1_000_000_000L / perSecond;
		this.capacity = capacity;
		this.seen = this.origin;
	}

	boolean tryAcquire() {
		if (take(Math.max(this.clock.read(), this.seen))) {
			return true;
		}
		long precise = System.nanoTime();
		if (!take(precise)) {
			return false;
		}
		if (precise > this.seen) {
			this.seen = precise;
		}
		return true;
	}

	private boolean take(long now) {
		long refilled = (now - this.origin) / this.nanosPerPermit;
		for (;;) {
			long consumed = this.consumed;
			if (this.capacity + refilled - Math.max(consumed, refilled) < 1) {
				return false;
			}
			if (CONSUMED.compareAndSet(this, consumed, Math.max(consumed, refilled) + 1)) {
				return true;
			}
		}
	}

}

/** Padding before {@link ExactBucket}'s count. */
abstract class ExactBucketPadBefore {

	long p0, p1, p2, p3, p4, p5, p6, p7;

}

/** {@link ExactBucket}'s count and the last system-clock reading that admitted, on one line. */
abstract class ExactBucketCount extends ExactBucketPadBefore {

	volatile long consumed;

	volatile long seen;

}

/** Padding after the count, before the fields every decision reads. */
abstract class ExactBucketPadAfter extends ExactBucketCount {

	long q0, q1, q2, q3, q4, q5, q6, q7;

}
