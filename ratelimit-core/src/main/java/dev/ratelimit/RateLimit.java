package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

import dev.ratelimit.internal.Errors;

/**
 * An immutable, validated description of a limit: the algorithm and its parameters.
 *
 * <p>Built through a staged builder that cannot be completed without the parameters an algorithm
 * needs:
 * <pre>{@code
 * RateLimit api = RateLimit.tokenBucket(Rate.perSecond(100)).capacity(200).build();
 * RateLimit daily = RateLimit.tokenBucket(Rate.perSecond(100)).bandwidth(10_000, Rate.perDay(10_000)).build();
 * RateLimit window = RateLimit.slidingWindow(1000, Duration.ofMinutes(1)).slices(12).build();
 * RateLimit pacer = RateLimit.leakyBucket(Rate.perSecond(5)).build();
 * RateLimit bulkhead = RateLimit.concurrency(16);
 * }</pre>
 * Every value is checked when built; a bad one raises {@link IllegalArgumentException} that names
 * the field, the value and the allowed range.
 */
public final class RateLimit {

	/** Refill over this horizon must fit comfortably in a {@code long} counter. */
	private static final long HORIZON_NANOS = Duration.ofDays(3653).toNanos();

	private static final long MAX_PERMITS_OVER_HORIZON = Long.MAX_VALUE / 4;

	/** Most slices a sliding window may have. */
	public static final int MAX_SLICES = 1000;

	private final Algorithm algorithm;

	private final List<Bandwidth> bandwidths;

	private final long initialPermits;

	private final Duration warmup;

	private final int slices;

	/** The smallest capacity of the bandwidths, computed once: read on every decision. */
	private final long capacity;

	private RateLimit(Algorithm algorithm, List<Bandwidth> bandwidths, long initialPermits, Duration warmup,
			int slices) {
		this.algorithm = algorithm;
		this.bandwidths = List.copyOf(bandwidths);
		this.initialPermits = initialPermits;
		this.warmup = warmup;
		this.slices = slices;
		long smallest = Long.MAX_VALUE;
		for (Bandwidth bandwidth : this.bandwidths) {
			smallest = Math.min(smallest, bandwidth.capacity());
		}
		this.capacity = smallest;
	}

	/**
	 * Starts a token bucket that refills at {@code rate}. Its capacity (burst) defaults to the
	 * permits of one period of the rate, at least one.
	 * @param rate the refill rate
	 * @return the builder
	 */
	public static TokenBucketBuilder tokenBucket(Rate rate) {
		return new TokenBucketBuilder(rate);
	}

	/**
	 * Returns a token bucket of {@code permitsPerSecond} with a capacity of one second's permits.
	 * @param permitsPerSecond permits per second, positive, fractions allowed
	 * @return the limit
	 */
	public static RateLimit perSecond(double permitsPerSecond) {
		return tokenBucket(Rate.perSecond(permitsPerSecond)).build();
	}

	/**
	 * Starts a fixed window of at most {@code limit} permits per {@code window}.
	 * @param limit permits per window, positive
	 * @param window the window, positive
	 * @return the builder
	 */
	public static FixedWindowBuilder fixedWindow(long limit, Duration window) {
		return new FixedWindowBuilder(limit, window);
	}

	/**
	 * Starts a sliding window of at most {@code limit} permits in any {@code window}, counted in
	 * slices (10 unless set).
	 * @param limit permits per window, positive
	 * @param window the window, positive
	 * @return the builder
	 */
	public static SlidingWindowBuilder slidingWindow(long limit, Duration window) {
		return new SlidingWindowBuilder(limit, window);
	}

	/**
	 * Starts a leaky bucket pacer that spaces permits evenly at {@code rate}.
	 * @param rate the rate
	 * @return the builder
	 */
	public static LeakyBucketBuilder leakyBucket(Rate rate) {
		return new LeakyBucketBuilder(rate);
	}

	/**
	 * Returns a concurrency limit of at most {@code maxConcurrent} permits in flight.
	 * @param maxConcurrent permits in flight, positive
	 * @return the limit
	 */
	public static RateLimit concurrency(long maxConcurrent) {
		if (maxConcurrent <= 0) {
			throw Errors.notPositive("maxConcurrent", maxConcurrent);
		}
		// a concurrency limit has no rate; the bandwidth only carries its capacity
		Bandwidth bandwidth = new Bandwidth(maxConcurrent, Rate.of(maxConcurrent, Duration.ofSeconds(1)), false);
		return new RateLimit(Algorithm.CONCURRENCY, List.of(bandwidth), -1, Duration.ZERO, 1);
	}

	/**
	 * Returns the algorithm.
	 * @return the algorithm
	 */
	public Algorithm algorithm() {
		return this.algorithm;
	}

	/**
	 * Returns the bandwidths, the primary one first. Windows and pacers have exactly one.
	 * @return the bandwidths, never empty
	 */
	public List<Bandwidth> bandwidths() {
		return this.bandwidths;
	}

	/**
	 * Returns the rate of the primary bandwidth. For a window, the limit per window; for a
	 * concurrency limit, {@code maxConcurrent} per second (it has no rate of its own).
	 * @return the rate
	 */
	public Rate rate() {
		return this.bandwidths.get(0).rate();
	}

	/**
	 * Returns the capacity: the burst of a token bucket (the smallest among its bandwidths), the
	 * limit of a window, the most permits one request of a pacer may take, or the most permits in
	 * flight of a concurrency limit. No request may ask for more.
	 * @return the capacity
	 */
	public long capacity() {
		return this.capacity;
	}

	/**
	 * Returns the permits available in each bandwidth when a token bucket starts, if set; when
	 * empty, every bandwidth starts full.
	 * @return the initial permits, if set
	 */
	public OptionalLong initialPermits() {
		return (this.initialPermits < 0) ? OptionalLong.empty() : OptionalLong.of(this.initialPermits);
	}

	/**
	 * Returns the warm-up period of a token bucket, {@link Duration#ZERO} when there is none.
	 * @return the warm-up period
	 */
	public Duration warmup() {
		return this.warmup;
	}

	/**
	 * Returns the number of slices a sliding window is counted in (1 for other algorithms).
	 * @return the slices
	 */
	public int slices() {
		return this.slices;
	}

	/**
	 * Returns a copy with the primary bandwidth's rate replaced, capacity unchanged. A window keeps
	 * its length: its new limit is the rate over the window ({@link Rate#inPeriod(long)}), at least
	 * one; build a new limit to change the window itself.
	 * @param rate the new rate
	 * @return the new limit
	 */
	public RateLimit withRate(Rate rate) {
		Objects.requireNonNull(rate, "rate");
		List<Bandwidth> updated = new ArrayList<>(this.bandwidths);
		Bandwidth primary = updated.get(0);
		Rate applied = switch (this.algorithm) {
			case FIXED_WINDOW, SLIDING_WINDOW -> rate.inPeriod(primary.rate().periodNanos());
			default -> rate;
		};
		long capacity = switch (this.algorithm) {
			case FIXED_WINDOW, SLIDING_WINDOW -> applied.permits();
			default -> primary.capacity();
		};
		updated.set(0, new Bandwidth(capacity, checkRate(applied), primary.intervally()));
		return new RateLimit(this.algorithm, updated, this.initialPermits, this.warmup, this.slices);
	}

	/**
	 * Returns a copy with the capacity of the primary bandwidth replaced: a token bucket's burst, a
	 * leaky bucket's most permits per request, a concurrency limit's permits in flight. Initial
	 * permits above the new capacity are lowered to it. A window's capacity is its limit, which its
	 * rate sets: change the rate instead.
	 * @param capacity the new capacity, positive
	 * @return the new limit
	 * @throws IllegalArgumentException for a window, or a capacity that is not positive
	 */
	public RateLimit withCapacity(long capacity) {
		if (capacity <= 0) {
			throw Errors.notPositive("capacity", capacity);
		}
		if (this.algorithm == Algorithm.FIXED_WINDOW || this.algorithm == Algorithm.SLIDING_WINDOW) {
			throw new IllegalArgumentException("a " + this.algorithm.id() + "'s capacity is its limit per window, "
					+ "which its rate sets: change the rate instead (for example "
					+ Rate.of(capacity, Duration.ofNanos(this.bandwidths.get(0).rate().periodNanos())) + ")");
		}
		if (this.algorithm == Algorithm.CONCURRENCY) {
			return concurrency(capacity);
		}
		List<Bandwidth> updated = new ArrayList<>(this.bandwidths);
		Bandwidth primary = updated.get(0);
		updated.set(0, new Bandwidth(capacity, primary.rate(), primary.intervally()));
		long smallest = updated.stream().mapToLong(Bandwidth::capacity).min().getAsLong();
		long initial = (this.initialPermits >= 0) ? Math.min(this.initialPermits, smallest) : this.initialPermits;
		return new RateLimit(this.algorithm, updated, initial, this.warmup, this.slices);
	}

	@Override
	public boolean equals(Object other) {
		return (other instanceof RateLimit that) && that.algorithm == this.algorithm
				&& that.bandwidths.equals(this.bandwidths) && that.initialPermits == this.initialPermits
				&& that.warmup.equals(this.warmup) && that.slices == this.slices;
	}

	@Override
	public int hashCode() {
		return Objects.hash(this.algorithm, this.bandwidths, this.initialPermits, this.warmup, this.slices);
	}

	@Override
	public String toString() {
		StringBuilder text = new StringBuilder(this.algorithm.id()).append('[');
		for (int i = 0; i < this.bandwidths.size(); i++) {
			Bandwidth bandwidth = this.bandwidths.get(i);
			text.append((i > 0) ? ", " : "")
				.append(bandwidth.rate())
				.append(" capacity=")
				.append(bandwidth.capacity());
		}
		if (this.initialPermits >= 0) {
			text.append(" initialPermits=").append(this.initialPermits);
		}
		if (!this.warmup.isZero()) {
			text.append(" warmup=").append(this.warmup);
		}
		if (this.algorithm == Algorithm.SLIDING_WINDOW) {
			text.append(" slices=").append(this.slices);
		}
		return text.append(']').toString();
	}

	static Rate checkRate(Rate rate) {
		long permits = rate.permitsIn(HORIZON_NANOS);
		if (permits >= MAX_PERMITS_OVER_HORIZON) {
			throw Errors.tooLarge("rate", (long) rate.perSecond(),
					(long) (MAX_PERMITS_OVER_HORIZON / (HORIZON_NANOS / 1e9)), "permits per second",
					"so that a limiter's counter cannot overflow in ten years");
		}
		return rate;
	}

	private static long windowNanos(Duration window) {
		Objects.requireNonNull(window, "window");
		if (window.isNegative() || window.isZero()) {
			throw Errors.notPositive("window", window);
		}
		return Rate.nanos(window);
	}

	/** Builds a token bucket; the rate is already given. */
	public static final class TokenBucketBuilder {

		private final Rate rate;

		private long capacity;

		private long initialPermits = -1;

		private Duration warmup = Duration.ZERO;

		private final List<Bandwidth> extra = new ArrayList<>();

		private TokenBucketBuilder(Rate rate) {
			this.rate = checkRate(Objects.requireNonNull(rate, "rate"));
			this.capacity = Math.max(1, rate.permits());
		}

		/**
		 * Sets the capacity (burst), independent of the rate.
		 * @param capacity the capacity, positive
		 * @return this builder
		 */
		public TokenBucketBuilder capacity(long capacity) {
			if (capacity <= 0) {
				throw Errors.notPositive("capacity", capacity);
			}
			this.capacity = capacity;
			return this;
		}

		/**
		 * Sets the permits available at start, between zero and the capacity. Full unless set.
		 * @param initialPermits the initial permits
		 * @return this builder
		 */
		public TokenBucketBuilder initialPermits(long initialPermits) {
			if (initialPermits < 0) {
				throw Errors.negative("initialPermits", initialPermits);
			}
			this.initialPermits = initialPermits;
			return this;
		}

		/**
		 * Adds a warm-up period with Guava's {@code SmoothWarmingUp} semantics: after being idle, the
		 * limiter starts at a third of the rate and reaches the full rate after the period of
		 * steady use. A warming-up bucket paces rather than bursts, so it allows one bandwidth only.
		 * @param warmup the warm-up period, positive
		 * @return this builder
		 */
		public TokenBucketBuilder warmup(Duration warmup) {
			Objects.requireNonNull(warmup, "warmup");
			if (warmup.isNegative() || warmup.isZero()) {
				throw Errors.notPositive("warmup", warmup);
			}
			this.warmup = warmup;
			return this;
		}

		/**
		 * Adds another bandwidth enforced together with the first, for example a daily quota on top
		 * of a per-second rate.
		 * @param capacity its capacity, positive
		 * @param rate its refill rate
		 * @return this builder
		 */
		public TokenBucketBuilder bandwidth(long capacity, Rate rate) {
			this.extra.add(Bandwidth.of(capacity, checkRate(Objects.requireNonNull(rate, "rate"))));
			return this;
		}

		/**
		 * Builds the limit.
		 * @return the limit
		 * @throws IllegalArgumentException if the parameters do not fit together
		 */
		public RateLimit build() {
			List<Bandwidth> bandwidths = new ArrayList<>();
			bandwidths.add(Bandwidth.of(this.capacity, this.rate));
			bandwidths.addAll(this.extra);
			if (!this.warmup.isZero() && bandwidths.size() > 1) {
				throw new IllegalArgumentException(
						"warmup applies to a token bucket with one bandwidth, but " + bandwidths.size()
								+ " were given: use a composite limiter to combine a warming-up limit with others");
			}
			long smallest = bandwidths.stream().mapToLong(Bandwidth::capacity).min().getAsLong();
			if (this.initialPermits > smallest) {
				throw Errors.outOfRange("initialPermits", this.initialPermits, 0, smallest);
			}
			return new RateLimit(Algorithm.TOKEN_BUCKET, bandwidths, this.initialPermits, this.warmup, 1);
		}

	}

	/** Builds a fixed window; limit and window are already given. */
	public static final class FixedWindowBuilder {

		private final Bandwidth bandwidth;

		private FixedWindowBuilder(long limit, Duration window) {
			if (limit <= 0) {
				throw Errors.notPositive("limit", limit);
			}
			long nanos = windowNanos(window);
			this.bandwidth = new Bandwidth(limit, checkRate(Rate.of(limit, Duration.ofNanos(nanos))), true);
		}

		/**
		 * Builds the limit.
		 * @return the limit
		 */
		public RateLimit build() {
			return new RateLimit(Algorithm.FIXED_WINDOW, List.of(this.bandwidth), -1, Duration.ZERO, 1);
		}

	}

	/** Builds a sliding window; limit and window are already given. */
	public static final class SlidingWindowBuilder {

		private final long limit;

		private final long windowNanos;

		private int slices = 10;

		private SlidingWindowBuilder(long limit, Duration window) {
			if (limit <= 0) {
				throw Errors.notPositive("limit", limit);
			}
			this.limit = limit;
			this.windowNanos = windowNanos(window);
		}

		/**
		 * Sets the number of slices the window is counted in: more slices follow the window more
		 * closely and cost a little more memory.
		 * @param slices between 1 and {@value RateLimit#MAX_SLICES}
		 * @return this builder
		 */
		public SlidingWindowBuilder slices(int slices) {
			if (slices < 1 || slices > MAX_SLICES) {
				throw Errors.outOfRange("slices", slices, 1, MAX_SLICES);
			}
			this.slices = slices;
			return this;
		}

		/**
		 * Builds the limit.
		 * @return the limit
		 * @throws IllegalArgumentException if the window cannot be divided into the slices
		 */
		public RateLimit build() {
			if (this.windowNanos % this.slices != 0) {
				throw new IllegalArgumentException("window of " + Duration.ofNanos(this.windowNanos)
						+ " cannot be divided into " + this.slices + " equal slices: choose a slice count that divides "
						+ "the window in nanoseconds");
			}
			Rate rate = checkRate(Rate.of(this.limit, Duration.ofNanos(this.windowNanos)));
			return new RateLimit(Algorithm.SLIDING_WINDOW, List.of(new Bandwidth(this.limit, rate, true)), -1,
					Duration.ZERO, this.slices);
		}

	}

	/** Builds a leaky bucket pacer; the rate is already given. */
	public static final class LeakyBucketBuilder {

		private final Rate rate;

		private long maxPermits;

		private LeakyBucketBuilder(Rate rate) {
			this.rate = checkRate(Objects.requireNonNull(rate, "rate"));
			this.maxPermits = Math.max(1, rate.permits());
		}

		/**
		 * Sets the most permits one request may take (its slots are then reserved back to back).
		 * One period's permits unless set.
		 * @param maxPermits positive
		 * @return this builder
		 */
		public LeakyBucketBuilder maxPermits(long maxPermits) {
			if (maxPermits <= 0) {
				throw Errors.notPositive("maxPermits", maxPermits);
			}
			this.maxPermits = maxPermits;
			return this;
		}

		/**
		 * Builds the limit.
		 * @return the limit
		 */
		public RateLimit build() {
			return new RateLimit(Algorithm.LEAKY_BUCKET, List.of(Bandwidth.of(this.maxPermits, this.rate)), -1,
					Duration.ZERO, 1);
		}

	}

}
