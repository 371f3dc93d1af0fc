package dev.ratelimit.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Sliding window counted in slices: at most {@code limit} permits in any {@code slices}
 * consecutive slices of {@code window / slices} each. A window of real time that does not start on
 * a slice boundary may see the limit plus what one slice admitted; more slices narrow that.
 *
 * <p>The current slice is an object holding its count and the counts of the slices before it that
 * are still in the window. Only the count changes, by CAS. Moving to a new slice freezes the old
 * count (a sign bit set by CAS, so the final value is fixed and visible to all) and publishes a
 * successor by CAS on {@link #current}; any thread may do it, so no thread waits for another. This
 * allocates one small object per slice that sees traffic, never per decision.
 */
final class SlidingWindowLimiter extends PooledRateLimiter {

	private static final long FROZEN_BIT = Long.MIN_VALUE;

	private static final VarHandle CURRENT;

	private static final VarHandle COUNT;

	static {
		try {
			MethodHandles.Lookup lookup = MethodHandles.lookup();
			CURRENT = lookup.findVarHandle(SlidingWindowLimiter.class, "current", Slice.class);
			COUNT = lookup.findVarHandle(Slice.class, "count", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private volatile Slice current;

	SlidingWindowLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		this.current = Slice.first(new Shape(this.ticker.read(), limit), 0, 0);
		leaseExtra(leaseExtraFor(limit.capacity()));
	}

	/** The parameters of a window, fixed between limit changes. */
	record Shape(long origin, long limit, long sliceNanos, int slices) {

		Shape(long origin, RateLimit limit) {
			// a window's rate is its limit per its window, kept as given
			this(origin, limit.rate().permits(), limit.rate().periodNanos() / limit.slices(), limit.slices());
		}

		long sliceAt(long now) {
			long elapsed = now - this.origin;
			return (elapsed <= 0) ? 0 : elapsed / this.sliceNanos;
		}

		long startOf(long slice) {
			return LongMath.saturatedAdd(this.origin, LongMath.saturatedMultiply(slice, this.sliceNanos));
		}

	}

	/** One slice: its count and the counts of the slices before it still in the window. */
	static final class Slice {

		final Shape shape;

		final long index;

		/** history[i] = permits of slice index - 1 - i, for i < slices - 1. */
		final long[] history;

		/** Sum of the history. */
		final long previous;

		volatile long count;

		private Slice(Shape shape, long index, long[] history, long count) {
			this.shape = shape;
			this.index = index;
			this.history = history;
			long sum = 0;
			for (long permits : history) {
				sum += permits;
			}
			this.previous = sum;
			this.count = count;
		}

		static Slice first(Shape shape, long previousSlicePermits, long count) {
			long[] history = new long[shape.slices() - 1];
			if (history.length > 0) {
				history[0] = previousSlicePermits;
			}
			return new Slice(shape, 0, history, (history.length > 0) ? count : count + previousSlicePermits);
		}

		/** Permits of slice {@code slice}, which is at most this one; {@code count} is this one's. */
		long permitsOf(long slice, long count) {
			if (slice == this.index) {
				return count;
			}
			long back = this.index - 1 - slice;
			return (back >= 0 && back < this.history.length) ? this.history[(int) back] : 0;
		}

		/** Permits in the window that ends with slice {@code at} (at least this slice). */
		long inWindowEndingAt(long at, long count) {
			if (at == this.index) {
				return this.previous + count;
			}
			long sum = 0;
			for (long slice = Math.max(0, at - this.shape.slices() + 1); slice <= this.index; slice++) {
				sum += permitsOf(slice, count);
			}
			return sum;
		}

		Slice successor(long at, long finalCount) {
			long[] history = new long[this.history.length];
			for (int i = 0; i < history.length; i++) {
				long slice = at - 1 - i;
				history[i] = (slice < 0 || slice > this.index) ? 0 : permitsOf(slice, finalCount);
			}
			return new Slice(this.shape, at, history, 0);
		}

	}

	/** The slice for {@code now}, moving the window forward when time has passed. */
	private Slice sliceFor(long now) {
		for (;;) {
			Slice slice = this.current;
			long count = (long) COUNT.getVolatile(slice);
			long at = slice.shape.sliceAt(now);
			if (count >= 0 && at <= slice.index) {
				return slice;
			}
			advance(slice, Math.max(at, slice.index + ((count < 0) ? 1 : 0)));
		}
	}

	private void advance(Slice slice, long at) {
		long count = freeze(slice);
		CURRENT.compareAndSet(this, slice, slice.successor(Math.max(at, slice.index + 1), count));
	}

	private static long freeze(Slice slice) {
		for (;;) {
			long count = (long) COUNT.getVolatile(slice);
			if (count < 0) {
				return count & ~FROZEN_BIT;
			}
			if (COUNT.compareAndSet(slice, count, count | FROZEN_BIT)) {
				return count;
			}
		}
	}

	@Override
	protected long lease(long min, long max, long now) {
		for (;;) {
			Slice slice = sliceFor(now);
			long count = (long) COUNT.getVolatile(slice);
			if (count < 0) {
				continue;
			}
			long free = slice.shape.limit() - slice.previous - count;
			long take = Math.min(max, free);
			if (take < min) {
				return DENIED_UNKNOWN; // callers that need the wait ask authorityRetryAfter
			}
			if (COUNT.compareAndSet(slice, count, count + take)) {
				return take;
			}
		}
	}

	/** Time until enough of the window's older slices leave it to admit {@code permits}. */
	private static long retryAfterIn(Slice slice, long count, long permits, long now) {
		Shape shape = slice.shape;
		long at = Math.max(slice.index, shape.sliceAt(now));
		long excess = slice.inWindowEndingAt(at, count) + permits - shape.limit();
		if (excess <= 0) {
			return 0;
		}
		for (long oldest = at - shape.slices() + 1; oldest <= slice.index; oldest++) {
			excess -= slice.permitsOf(oldest, count);
			if (excess <= 0) {
				// that slice leaves the window when slice oldest + slices begins
				return Math.max(1, shape.startOf(oldest + shape.slices()) - now);
			}
		}
		return Math.max(1, shape.startOf(slice.index + shape.slices()) - now);
	}

	@Override
	protected long authorityReserve(long permits, long maxWaitNanos, long now) {
		// A window cannot lend from the future: callers poll at the retry time instead.
		return (lease(permits, permits, now) >= 0) ? 0 : denied(authorityRetryAfter(permits, now));
	}

	@Override
	protected void giveBack(long permits) {
		for (;;) {
			Slice slice = this.current;
			long count = (long) COUNT.getVolatile(slice);
			if (count < 0) {
				sliceFor(this.ticker.read());
				continue;
			}
			if (COUNT.compareAndSet(slice, count, Math.max(0, count - permits))) {
				return;
			}
		}
	}

	@Override
	protected long authorityAvailable(long now) {
		Slice slice = this.current;
		long count = (long) COUNT.getVolatile(slice) & ~FROZEN_BIT;
		long at = Math.max(slice.index, slice.shape.sliceAt(now));
		return slice.shape.limit() - slice.inWindowEndingAt(at, count);
	}

	@Override
	protected long authorityRetryAfter(long permits, long now) {
		Slice slice = this.current;
		return retryAfterIn(slice, (long) COUNT.getVolatile(slice) & ~FROZEN_BIT, permits, now);
	}

	@Override
	protected long resetNanos(long now) {
		Slice slice = this.current;
		long count = (long) COUNT.getVolatile(slice) & ~FROZEN_BIT;
		Shape shape = slice.shape;
		for (long newest = slice.index; newest > slice.index - shape.slices(); newest--) {
			if (slice.permitsOf(newest, count) > 0) {
				return Math.max(0, shape.startOf(newest + shape.slices()) - now);
			}
		}
		return 0;
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		Slice slice = sliceFor(now);
		long count = freeze(slice);
		long used = slice.previous + count;
		// Start the new window now, with what the old one counted as the previous slice: nothing
		// admitted before the change is forgotten until it would have left a window anyway.
		this.current = Slice.first(new Shape(now, next), used, 0);
		leaseExtra(leaseExtraFor(next.capacity()));
	}

	@Override
	protected void applyReset(long now) {
		freeze(this.current);
		this.current = Slice.first(new Shape(now, limit()), 0, 0);
		drainPool();
	}

}
