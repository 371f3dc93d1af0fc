package dev.ratelimit.internal;

import java.util.List;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimiter;

/**
 * Takes permits from several limiters, each its own count, all or none: what a method with several
 * limits needs. Like {@link CompositeLimiter}, a denial refunds what the earlier limiters gave and
 * each limiter's listener hears its own outcome. Each limiter is asked with its own ticker.
 */
public final class AllOrNothing {

	private AllOrNothing() {
	}

	/**
	 * The outcome of a decision over several limiters.
	 *
	 * @param decision the combined decision: permitted when all permitted; the smallest remaining;
	 * when denied, the decision of the limiter that denied
	 * @param denying index of the limiter that denied, -1 when permitted
	 * @param each when permitted and asked for, each limiter's own decision; otherwise {@code null}
	 */
	public record Outcome(Decision decision, int denying, Decision[] each) {

		/**
		 * Returns whether every limiter permitted.
		 * @return whether permitted
		 */
		public boolean permitted() {
			return this.denying < 0;
		}

	}

	/**
	 * Takes {@code permits[i]} from {@code limiters.get(i)} for every i, or nothing.
	 * @param limiters limiters created by this library
	 * @param permits permits per limiter
	 * @param withDecision whether to compute remaining permits and reset times (costs a clock read
	 * and an allocation per limiter)
	 * @return the outcome
	 */
	public static Outcome decide(List<RateLimiter> limiters, long[] permits, boolean withDecision) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		for (int i = 0; i < checked.length; i++) {
			if (!checked[i].tryTake(permits[i])) {
				refund(checked, permits, i);
				checked[i].listener().onRejected(permits[i]);
				return new Outcome(denial(checked[i], permits[i]), i, null);
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

	/**
	 * Describes, without taking anything, why {@code permits} were just denied: remaining permits
	 * and the wait. For callers that tried with the allocation-free {@code tryAcquire} first.
	 * @param limiter a limiter created by this library
	 * @param permits the permits asked for
	 * @return the denial
	 */
	public static Decision denial(RateLimiter limiter, long permits) {
		return denial(check(List.of(limiter), new long[] { permits })[0], permits);
	}

	private static Decision denial(AbstractRateLimiter limiter, long permits) {
		long now = limiter.clock().read();
		long remaining = Math.max(0, limiter.available(now));
		return new Decision(false, remaining, Math.max(1, limiter.retryAfter(permits, now)), limiter.resetNanos(now));
	}

	/**
	 * The outcome of a reservation over several limiters.
	 *
	 * @param waitNanos when reserved, the wait before the permits may be used; -1 when denied
	 * @param denying index of the limiter that denied, -1 when reserved
	 * @param denial the decision of the limiter that denied, {@code null} when reserved
	 */
	public record Reservation(long waitNanos, int denying, Decision denial) {

		/**
		 * Returns whether the permits were reserved.
		 * @return whether reserved
		 */
		public boolean reserved() {
			return this.denying < 0;
		}

	}

	/**
	 * Takes the permits now, or reserves them for use within {@code maxWaitNanos}, from every
	 * limiter or from none.
	 * @param limiters limiters created by this library
	 * @param permits permits per limiter
	 * @param maxWaitNanos the longest acceptable wait
	 * @return the reservation, with the wait before the permits may be used
	 */
	public static Reservation reserve(List<RateLimiter> limiters, long[] permits, long maxWaitNanos) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		long wait = 0;
		for (int i = 0; i < checked.length; i++) {
			long reservation = checked[i].reserve(permits[i], maxWaitNanos, checked[i].preciseNow());
			if (reservation < 0) {
				refund(checked, permits, i);
				checked[i].listener().onRejected(permits[i]);
				return new Reservation(-1, i, denial(checked[i], permits[i]));
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

	/**
	 * Gives back permits taken by {@link #decide} or {@link #reserve} that will not be used.
	 * @param limiters the limiters
	 * @param permits permits per limiter
	 */
	public static void refund(List<RateLimiter> limiters, long[] permits) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		refund(checked, permits, checked.length);
	}

	private static void refund(AbstractRateLimiter[] limiters, long[] permits, int before) {
		for (int j = before - 1; j >= 0; j--) {
			limiters[j].refund(permits[j]);
		}
	}

	private static AbstractRateLimiter[] check(List<RateLimiter> limiters, long[] permits) {
		if (limiters.size() != permits.length) {
			throw new IllegalArgumentException(
					"one permit count per limiter is needed: " + limiters.size() + " limiters, " + permits.length + " counts");
		}
		AbstractRateLimiter[] checked = new AbstractRateLimiter[limiters.size()];
		for (int i = 0; i < checked.length; i++) {
			if (!(limiters.get(i) instanceof AbstractRateLimiter limiter)) {
				throw Errors.notRefundable(limiters.get(i).name());
			}
			limiter.checkPermits(permits[i]);
			checked[i] = limiter;
		}
		return checked;
	}

}
