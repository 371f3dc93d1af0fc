package dev.ratelimit.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Leaky bucket as a pacer: permits leave at the rate, evenly spaced, with no burst.
 *
 * <p>The state is the time the next slot is free ({@code nextFree}, nanoseconds on the ticker).
 * A request is admitted when {@code nextFree <= now} and books {@code permits} slots:
 * {@code nextFree = max(nextFree, now) + permits x interval}, by CAS. A waiting caller books its
 * slots at once and then waits for the first of them, so waiters are served in order and evenly
 * spaced. The interval is rounded up to whole nanoseconds, so spacing is never shorter than
 * {@code 1 / rate}. When the rate changes, slots already booked are kept, counted in permits and
 * spaced at the new rate.
 */
final class PacerLimiter extends AbstractRateLimiter {

	private static final long FROZEN = Long.MIN_VALUE;

	private static final VarHandle NEXT_FREE;

	static {
		try {
			NEXT_FREE = MethodHandles.lookup().findVarHandle(Slots.class, "nextFree", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	/** The slots of one rate; frozen and replaced when the rate changes. */
	static final class Slots {

		final long intervalNanos;

		volatile long nextFree;

		Slots(Rate rate, long nextFree) {
			this.intervalNanos = Math.max(1, rate.nanosFor(1));
			this.nextFree = nextFree;
		}

	}

	private volatile Slots slots;

	PacerLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler, RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		this.slots = new Slots(limit.rate(), this.ticker.read());
	}

	@Override
	protected boolean tryTake(long permits) {
		return reserve(permits, 0, this.ticker.read()) >= 0;
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		for (;;) {
			Slots slots = this.slots;
			long nextFree = (long) NEXT_FREE.getVolatile(slots);
			if (nextFree == FROZEN) {
				Thread.onSpinWait();
				continue;
			}
			long start = Math.max(nextFree, now);
			long wait = start - now;
			if (wait > maxWaitNanos) {
				return denied(wait);
			}
			long booked = LongMath.saturatedAdd(start, LongMath.saturatedMultiply(permits, slots.intervalNanos));
			if (NEXT_FREE.compareAndSet(slots, nextFree, booked)) {
				return wait;
			}
		}
	}

	private long nextFree() {
		for (;;) {
			long nextFree = (long) NEXT_FREE.getVolatile(this.slots);
			if (nextFree != FROZEN) {
				return nextFree;
			}
			Thread.onSpinWait();
		}
	}

	@Override
	protected long available(long now) {
		return (nextFree() <= now) ? capacity() : 0;
	}

	@Override
	protected long retryAfter(long permits, long now) {
		return resetNanos(now);
	}

	@Override
	protected long resetNanos(long now) {
		return Math.max(0, nextFree() - now);
	}

	@Override
	protected void refundTaken(long permits) {
		for (;;) {
			Slots slots = this.slots;
			long nextFree = (long) NEXT_FREE.getVolatile(slots);
			if (nextFree == FROZEN) {
				Thread.onSpinWait();
				continue;
			}
			if (NEXT_FREE.compareAndSet(slots, nextFree, nextFree - permits * slots.intervalNanos)) {
				return;
			}
		}
	}

	private static long freeze(Slots slots) {
		for (;;) {
			long nextFree = (long) NEXT_FREE.getVolatile(slots);
			if (nextFree == FROZEN || NEXT_FREE.compareAndSet(slots, nextFree, FROZEN)) {
				return nextFree;
			}
		}
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		Slots old = this.slots;
		long nextFree = freeze(old);
		long bookedPermits = Math.max(0, nextFree - now) / old.intervalNanos;
		Slots updated = new Slots(next.rate(), now);
		updated.nextFree = now + bookedPermits * updated.intervalNanos;
		this.slots = updated;
	}

	@Override
	protected void applyReset(long now) {
		freeze(this.slots);
		this.slots = new Slots(limit().rate(), now);
	}

	@Override
	protected Map<String, Object> details() {
		return Map.of("intervalNanos", this.slots.intervalNanos, "nextSlotInNanos",
				resetNanos(this.ticker.read()));
	}

}
