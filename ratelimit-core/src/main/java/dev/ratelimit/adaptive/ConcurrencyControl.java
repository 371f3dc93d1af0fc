package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import dev.ratelimit.ConcurrencyLimiter;

/**
 * Adapts a {@link ConcurrencyLimiter}'s bound to the latency it measures: the most calls in flight
 * that the system behind it serves without queueing. Feed it every call's latency with
 * {@link #onSample(long, long)} and every timeout, overload error or refusal from downstream with
 * {@link #onDropped()}; it moves the limiter's {@link ConcurrencyLimiter#updateMaxConcurrent(long)}.
 *
 * <p>Two algorithms, chosen with {@link Builder#algorithm(Algorithm)}:
 * <ul>
 * <li>{@link Algorithm#GRADIENT} (default): compares the recent latency (a moving average of the
 * last few calls) with a baseline, the lowest that average was over the last one to two long
 * windows. While the
 * recent latency is within the tolerance of the baseline, the limit grows by a queue allowance of
 * its square root; above it, the limit shrinks in proportion ({@code tolerance x baseline /
 * recent}, at most halving at once). Smoothed, and it grows only while at least half the limit is
 * in use, so an idle service does not inflate it. The baseline follows a service that becomes
 * slower or faster within two windows.
 * <li>{@link Algorithm#AIMD}: grows by one for each call that finds the limit in use, and
 * multiplies by {@link Builder#backoffRatio(double)} on a drop or a call slower than
 * {@link Builder#timeout(Duration)}.
 * </ul>
 * Both multiply the limit by the backoff ratio on a drop, and keep it between
 * {@link Builder#minLimit(long)} and {@link Builder#maxLimit(long)}.
 *
 * <p>Thread-safe and non-blocking: a sample that arrives while another is being applied is
 * skipped, never waited for (samples are many; the estimate needs only most of them). A drop waits
 * for the lock, and is skipped only when it comes from within this control's own change of the
 * bound on the same thread (a waiter of the limiter served inline).
 */
public final class ConcurrencyControl {

	/** How the limit follows the samples. */
	public enum Algorithm {

		/** Latency gradient: recent latency against the long-run latency. */
		GRADIENT,

		/** Additive increase while in use, multiplicative decrease on drops and timeouts. */
		AIMD

	}

	private final ConcurrencyLimiter limiter;

	private final Algorithm algorithm;

	private final long minLimit;

	private final long maxLimit;

	private final double smoothing;

	private final double backoffRatio;

	private final double tolerance;

	private final long timeoutNanos;

	private final double shortFactor;

	private final int longWindow;

	private final ReentrantLock lock = new ReentrantLock();

	// guarded by lock

	private double limit;

	private double shortRtt;

	private double windowMin = Double.MAX_VALUE;

	private double previousMin = Double.MAX_VALUE;

	private volatile long samples;

	/** The bound last applied to the limiter; read without the lock. */
	private volatile long applied;

	private volatile long drops;

	private ConcurrencyControl(Builder builder) {
		this.limiter = builder.limiter;
		this.algorithm = builder.algorithm;
		this.minLimit = builder.minLimit;
		this.maxLimit = builder.ceiling();
		this.smoothing = builder.smoothing;
		this.backoffRatio = builder.backoffRatio;
		this.tolerance = builder.tolerance;
		this.timeoutNanos = AdaptiveController.nanos(builder.timeout);
		this.shortFactor = 2.0 / (builder.shortWindow + 1);
		this.longWindow = builder.longWindow;
		this.limit = Math.max(this.minLimit, Math.min(this.maxLimit, builder.initialLimit));
		this.applied = Math.round(this.limit);
		this.limiter.updateMaxConcurrent(this.applied);
	}

	/**
	 * Starts a control of a concurrency limiter, from its current bound.
	 * @param limiter the limiter whose bound it moves
	 * @return a builder
	 */
	public static Builder builder(ConcurrencyLimiter limiter) {
		return new Builder(Objects.requireNonNull(limiter, "limiter"));
	}

	/**
	 * Reports a call that completed.
	 * @param rttNanos how long it took, in nanoseconds, positive
	 * @param inFlight the calls in flight when it started (itself included)
	 * @throws IllegalArgumentException for a latency that is not positive
	 */
	public void onSample(long rttNanos, long inFlight) {
		if (rttNanos <= 0) {
			throw new IllegalArgumentException("a call's latency must be positive, but was " + rttNanos
					+ " ns: report the time from its start to its end, read from one monotonic clock");
		}
		if (this.algorithm == Algorithm.AIMD && rttNanos > this.timeoutNanos) {
			onDropped();
			return;
		}
		if (this.lock.isHeldByCurrentThread() || !this.lock.tryLock()) {
			// another sample is being applied, or this thread's own (a waiter served inline while
			// the bound moved): this one is skipped
			return;
		}
		try {
			this.samples++;
			double next = (this.algorithm == Algorithm.GRADIENT) ? gradient(rttNanos, inFlight) : aimd(inFlight);
			apply(next);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Reports a drop: a timeout, an overload error, a refusal from downstream. The limit is
	 * multiplied by the backoff ratio.
	 */
	public void onDropped() {
		if (this.lock.isHeldByCurrentThread()) {
			return; // within this thread's own change of the bound
		}
		this.lock.lock();
		try {
			this.drops++;
			apply(this.limit * this.backoffRatio);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns the bound in force: the most calls in flight the limiter now lets through.
	 * @return the limit
	 */
	public long limit() {
		return this.applied;
	}

	/**
	 * Returns the samples applied so far (those skipped while another was applied not counted).
	 * @return the count
	 */
	public long samples() {
		return this.samples;
	}

	/**
	 * Returns the drops reported so far.
	 * @return the count
	 */
	public long drops() {
		return this.drops;
	}

	/**
	 * Returns the algorithm.
	 * @return the algorithm
	 */
	public Algorithm algorithm() {
		return this.algorithm;
	}

	@Override
	public String toString() {
		return "ConcurrencyControl[" + this.limiter.name() + ", " + this.algorithm + ", limit=" + this.applied + "]";
	}

	// ---- under the lock -----------------------------------------------------------------------

	private double gradient(long rttNanos, long inFlight) {
		double rtt = rttNanos;
		if (this.samples == 1) {
			this.shortRtt = rtt;
		}
		this.shortRtt += (rtt - this.shortRtt) * this.shortFactor;
		// the baseline: the lowest recent average of the last one to two windows. An average against
		// an average, so a service whose calls vary widely (a few fast cache hits, a long tail) is
		// not taken for a queue; it follows a service that becomes slower or faster within two
		// windows, and the queueing the limit lets build up does not raise it as long as the queue
		// drains now and then, which the limit's own cuts see to
		this.windowMin = Math.min(this.windowMin, this.shortRtt);
		if (this.samples % this.longWindow == 0) {
			this.previousMin = this.windowMin;
			this.windowMin = Double.MAX_VALUE;
		}
		double baseline = Math.min(this.windowMin, this.previousMin);
		double gradient = Math.max(0.5, Math.min(1.0, this.tolerance * baseline / this.shortRtt));
		double target = this.limit * gradient + Math.sqrt(this.limit);
		if (inFlight < this.limit / 2 && target > this.limit) {
			// not enough demand to tell whether more would be served: hold
			return this.limit;
		}
		return this.limit * (1 - this.smoothing) + target * this.smoothing;
	}

	private double aimd(long inFlight) {
		// against the bound in force, a whole number: 8.1 lets no more than 8 in
		return (inFlight >= this.applied) ? this.limit + 1 : this.limit;
	}

	private void apply(double next) {
		this.limit = Math.max(this.minLimit, Math.min(this.maxLimit, next));
		long bound = Math.max(1, Math.round(this.limit));
		if (bound != this.applied) {
			this.limiter.updateMaxConcurrent(bound);
			this.applied = bound;
		}
	}

	/**
	 * Builds a {@link ConcurrencyControl}. Not thread-safe.
	 */
	public static final class Builder {

		private final ConcurrencyLimiter limiter;

		private Algorithm algorithm = Algorithm.GRADIENT;

		private long initialLimit;

		private long minLimit = 1;

		private static final long UNSET = Long.MIN_VALUE;

		/** Unset: 1000, or the initial limit when higher. */
		private long maxLimit = UNSET;

		private double smoothing = 0.05;

		private double backoffRatio = 0.9;

		private double tolerance = 1.25;

		private Duration timeout = Duration.ofSeconds(5);

		private int shortWindow = 50;

		private int longWindow = 600;

		private Builder(ConcurrencyLimiter limiter) {
			this.limiter = limiter;
			this.initialLimit = limiter.limit().capacity();
		}

		/**
		 * Sets the algorithm. {@link Algorithm#GRADIENT} unless set.
		 * @param algorithm the algorithm
		 * @return this builder
		 */
		public Builder algorithm(Algorithm algorithm) {
			this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
			return this;
		}

		/**
		 * Sets the limit to start from. The limiter's bound unless set.
		 * @param initialLimit the limit, positive
		 * @return this builder
		 */
		public Builder initialLimit(long initialLimit) {
			this.initialLimit = initialLimit;
			return this;
		}

		/**
		 * Sets the floor: the limit never goes below it. 1 unless set.
		 * @param minLimit the floor, positive
		 * @return this builder
		 */
		public Builder minLimit(long minLimit) {
			this.minLimit = minLimit;
			return this;
		}

		/**
		 * Sets the ceiling: the limit never goes above it. 1000 unless set, or the initial limit
		 * when that is higher.
		 * @param maxLimit the ceiling, at least the floor
		 * @return this builder
		 */
		public Builder maxLimit(long maxLimit) {
			this.maxLimit = maxLimit;
			return this;
		}

		/**
		 * Sets how far each gradient sample moves the limit toward its target. 0.05 unless set: a
		 * larger value follows faster, and swings below the service's concurrency more often.
		 * @param smoothing greater than 0, at most 1
		 * @return this builder
		 */
		public Builder smoothing(double smoothing) {
			this.smoothing = smoothing;
			return this;
		}

		/**
		 * Sets the factor a drop multiplies the limit by. 0.9 unless set.
		 * @param backoffRatio greater than 0 and less than 1
		 * @return this builder
		 */
		public Builder backoffRatio(double backoffRatio) {
			this.backoffRatio = backoffRatio;
			return this;
		}

		/**
		 * Sets how much slower than the baseline (the lowest recent average) the recent latency may
		 * be before the gradient lowers the limit. 1.25 unless set: lower keeps latency closer to the service's,
		 * and leaves workers idle more often when its calls vary widely.
		 * @param tolerance at least 1
		 * @return this builder
		 */
		public Builder tolerance(double tolerance) {
			this.tolerance = tolerance;
			return this;
		}

		/**
		 * Sets the latency above which an {@link Algorithm#AIMD} sample counts as a drop. 5 seconds
		 * unless set.
		 * @param timeout positive
		 * @return this builder
		 */
		public Builder timeout(Duration timeout) {
			this.timeout = Objects.requireNonNull(timeout, "timeout");
			return this;
		}

		/**
		 * Sets the samples the recent latency averages over, and the samples of each window the
		 * baseline is the lowest recent average of. 50 and 600 unless set.
		 * @param shortWindow at least 1
		 * @param longWindow greater than {@code shortWindow}
		 * @return this builder
		 */
		public Builder windows(int shortWindow, int longWindow) {
			this.shortWindow = shortWindow;
			this.longWindow = longWindow;
			return this;
		}

		/**
		 * Builds the control and sets the limiter's bound to the initial limit, within the floor and
		 * the ceiling.
		 * @return the control
		 * @throws IllegalArgumentException naming the first value out of its range
		 */
		public ConcurrencyControl build() {
			check(this.minLimit >= 1, "minLimit", this.minLimit, "at least 1");
			check(this.maxLimit == UNSET || this.maxLimit >= 1, "maxLimit", this.maxLimit, "at least 1");
			check(ceiling() >= this.minLimit, "maxLimit", ceiling(), "at least minLimit (" + this.minLimit + ")");
			check(this.initialLimit >= 1, "initialLimit", this.initialLimit, "at least 1");
			check(this.smoothing > 0 && this.smoothing <= 1, "smoothing", this.smoothing, "greater than 0, at most 1");
			check(this.backoffRatio > 0 && this.backoffRatio < 1, "backoffRatio", this.backoffRatio,
					"greater than 0 and less than 1");
			check(this.tolerance >= 1, "tolerance", this.tolerance, "at least 1");
			check(!this.timeout.isNegative() && !this.timeout.isZero(), "timeout", this.timeout, "positive");
			check(this.shortWindow >= 1 && this.longWindow > this.shortWindow, "windows",
					this.shortWindow + "/" + this.longWindow, "a short window of 1 or more and a longer long one");
			return new ConcurrencyControl(this);
		}

		private long ceiling() {
			return (this.maxLimit == UNSET) ? Math.max(1000, this.initialLimit) : this.maxLimit;
		}

		private static void check(boolean ok, String field, Object value, String range) {
			if (!ok) {
				throw new IllegalArgumentException(field + " must be " + range + ", but was " + value);
			}
		}

	}

}
