package dev.ratelimit.internal;

import java.util.List;

import dev.ratelimit.AllOrNothing.Outcome;
import dev.ratelimit.AllOrNothing.Reservation;
import dev.ratelimit.Decision;
import dev.ratelimit.RateLimiter;

/**
 * Implements {@link dev.ratelimit.AllOrNothing}: takes permits from several limiters, each its own
 * count, all or none. Like {@link CompositeLimiter}, a denial refunds what the earlier limiters gave
 * and each limiter's listener hears its own outcome. Each limiter is asked with its own ticker.
 */
public final class Tiers {

	private Tiers() {
	}

	/** See {@link dev.ratelimit.AllOrNothing#decide}. */
	public static Outcome decide(List<? extends RateLimiter> limiters, long[] permits, boolean withDecision) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		for (int i = 0; i < checked.length; i++) {
			if (!checked[i].take(permits[i])) {
				refund(checked, permits, i);
				checked[i].listener().onRejected(permits[i]);
				return new Outcome(checked[i].denial(permits[i]), i, null);
			}
		}
		if (!withDecision) {
			for (int i = 0; i < checked.length; i++) {
				checked[i].listener().onPermitted(permits[i]);
			}
			return PERMITTED;
		}
		long remaining = Long.MAX_VALUE;
		long reset = 0;
		Decision[] each = new Decision[checked.length];
		for (int i = 0; i < checked.length; i++) {
			checked[i].listener().onPermitted(permits[i]);
			long now = checked[i].clock().read();
			each[i] = new Decision(true, Math.max(0, checked[i].available(now)), 0, checked[i].resetNanos(now));
			remaining = Math.min(remaining, each[i].remaining());
			reset = Math.max(reset, each[i].resetNanos());
		}
		return new Outcome(new Decision(true, remaining, 0, reset), -1, each);
	}

	private static final Outcome PERMITTED = new Outcome(new Decision(true, 0, 0, 0), -1, null);

	/** See {@link dev.ratelimit.AllOrNothing#denial}. */
	public static Decision denial(RateLimiter limiter, long permits) {
		return check(List.of(limiter), new long[] { permits })[0].denial(permits);
	}

	/** See {@link dev.ratelimit.AllOrNothing#reserve}. */
	public static Reservation reserve(List<? extends RateLimiter> limiters, long[] permits, long maxWaitNanos) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		long wait = 0;
		for (int i = 0; i < checked.length; i++) {
			long reservation = checked[i].reserveOrPass(permits[i], maxWaitNanos, checked[i].preciseNow());
			if (reservation < 0) {
				refund(checked, permits, i);
				checked[i].listener().onRejected(permits[i]);
				return new Reservation(-1, i, checked[i].denial(permits[i]));
			}
			wait = Math.max(wait, reservation);
		}
		for (int i = 0; i < checked.length; i++) {
			if (wait > 0) {
				checked[i].listener().onWaited(wait);
			}
			checked[i].listener().onPermitted(permits[i]);
		}
		return new Reservation(wait, -1, null);
	}

	/** See {@link dev.ratelimit.AllOrNothing#refund}. */
	public static void refund(List<? extends RateLimiter> limiters, long[] permits) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		refund(checked, permits, checked.length);
	}

	private static void refund(AbstractRateLimiter[] limiters, long[] permits, int before) {
		for (int j = before - 1; j >= 0; j--) {
			limiters[j].refundIfTaken(permits[j]);
		}
	}

	private static AbstractRateLimiter[] check(List<? extends RateLimiter> limiters, long[] permits) {
		if (limiters.size() != permits.length) {
			throw new IllegalArgumentException(
					"one permit count per limiter is needed: " + limiters.size() + " limiters, " + permits.length + " counts");
		}
		AbstractRateLimiter[] checked = new AbstractRateLimiter[limiters.size()];
		for (int i = 0; i < checked.length; i++) {
			checked[i] = Limiters.tier(limiters.get(i));
			checked[i].checkPermits(permits[i]);
		}
		return checked;
	}

}
