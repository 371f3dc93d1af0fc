package dev.ratelimit.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import dev.ratelimit.Bandwidth;
import dev.ratelimit.Rate;

/**
 * The exact state of one bandwidth between two limit changes, as a single counter.
 *
 * <p>Let {@code R(t)} be the permits refilled from {@code origin} to {@code t} (continuous:
 * {@code floor(elapsed * rate)}; intervally: whole periods times the permits per period). The
 * state is {@code consumed}, and the permits available at {@code t} are
 * {@code capacity + R(t) - max(consumed, R(t))}: raising {@code consumed} to {@code R(t)} is the
 * clamp at capacity. Taking {@code k} sets {@code consumed = max(consumed, R(t)) + k}. This is the
 * generic cell rate algorithm counted in permits instead of time, so it is exact in integers,
 * needs one CAS per change and never drifts. A fixed window is the same with intervally refill,
 * and a pacer the same with zero capacity. {@code consumed} may run ahead of {@code R(t)} by more
 * than the capacity while reservations are outstanding (the bucket is in debt).
 *
 * <p>When the limit changes, the epoch is frozen ({@code consumed} set to {@link #FROZEN} by CAS)
 * and replaced; a caller that sees {@link #FROZEN} re-reads the current epoch.
 */
final class BucketEpoch {

	static final long FROZEN = Long.MIN_VALUE;

	private static final VarHandle CONSUMED;

	private static final VarHandle SEEN;

	static {
		try {
			CONSUMED = MethodHandles.lookup().findVarHandle(BucketEpoch.class, "consumed", long.class);
			SEEN = MethodHandles.lookup().findVarHandle(BucketEpoch.class, "seen", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	final long origin;

	final long capacity;

	final Rate rate;

	final boolean intervally;

	private volatile long consumed;

	/**
	 * The last system-clock reading at which a limiter on the coarse clock admitted from this epoch
	 * (see {@code PooledRateLimiter.seen()}): beside {@code consumed}, whose line an admit writes
	 * anyway.
	 */
	private volatile long seen = Long.MIN_VALUE;

	BucketEpoch(Bandwidth bandwidth, long origin, long available) {
		this(bandwidth.capacity(), bandwidth.rate(), bandwidth.intervally(), origin, available);
	}

	BucketEpoch(long capacity, Rate rate, boolean intervally, long origin, long available) {
		this.capacity = capacity;
		this.rate = rate;
		this.intervally = intervally;
		this.origin = origin;
		this.consumed = capacity - available; // so that capacity + R(origin) - consumed = available
	}

	long consumed() {
		return this.consumed;
	}

	long seen() {
		return this.seen;
	}

	/** Raises {@link #seen()} to {@code now}; a racing older value may win, which only delays refill. */
	void see(long now) {
		if (now > this.seen) {
			SEEN.setRelease(this, now);
		}
	}

	boolean compareAndSet(long expected, long value) {
		return CONSUMED.compareAndSet(this, expected, value);
	}

	/** Freezes the epoch and returns the last consumed value. Called under the update lock. */
	long freeze() {
		for (;;) {
			long consumed = this.consumed;
			if (consumed == FROZEN || compareAndSet(consumed, FROZEN)) {
				return consumed;
			}
		}
	}

	/** Permits refilled from the origin to {@code now}. */
	long refilled(long now) {
		long elapsed = now - this.origin;
		if (elapsed <= 0) {
			return 0;
		}
		if (this.intervally) {
			return LongMath.saturatedMultiply(elapsed / this.rate.periodNanos(), this.rate.permits());
		}
		return this.rate.permitsIn(elapsed);
	}

	/** Permits available at {@code now} given a consumed value. */
	long available(long consumed, long refilled) {
		return this.capacity + refilled - Math.max(consumed, refilled);
	}

	/** Nanoseconds from {@code now} until {@code R} reaches {@code target}. */
	long nanosUntilRefilled(long target, long refilled, long now) {
		if (target <= refilled) {
			return 0;
		}
		long sinceOrigin;
		if (this.intervally) {
			long periods = target / this.rate.permits() + ((target % this.rate.permits() == 0) ? 0 : 1);
			sinceOrigin = LongMath.saturatedMultiply(periods, this.rate.periodNanos());
		}
		else {
			sinceOrigin = this.rate.nanosFor(target);
		}
		return Math.max(1, LongMath.saturatedAdd(this.origin, sinceOrigin) - now);
	}

	/** Nanoseconds from {@code now} until {@code permits} are available, assuming nothing else is taken. */
	long nanosUntilAvailable(long permits, long consumed, long refilled, long now) {
		return nanosUntilRefilled(Math.max(consumed, refilled) + permits - this.capacity, refilled, now);
	}

	/** Gives permits back; ignored once frozen (the permits were counted in the handover). */
	void giveBack(long permits) {
		for (;;) {
			long consumed = this.consumed;
			if (consumed == FROZEN || compareAndSet(consumed, Math.max(0, consumed - permits))) {
				return;
			}
		}
	}

}
