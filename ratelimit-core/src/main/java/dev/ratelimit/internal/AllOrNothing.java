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
	 * when denied, the retry-after of the limiter that denied
	 * @param denying index of the limiter that denied, -1 when permitted
	 */
	public record Outcome(Decision decision, int denying) {
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
				long now = checked[i].ticker().read();
				long remaining = Math.max(0, checked[i].available(now));
				return new Outcome(new Decision(false, remaining, Math.max(1, checked[i].retryAfter(permits[i], now)),
						checked[i].resetNanos(now)), i);
			}
		}
		long remaining = Long.MAX_VALUE;
		long reset = 0;
		for (int i = 0; i < checked.length; i++) {
			checked[i].listener().onPermitted(permits[i]);
			if (withDecision) {
				long now = checked[i].ticker().read();
				remaining = Math.min(remaining, Math.max(0, checked[i].available(now)));
				reset = Math.max(reset, checked[i].resetNanos(now));
			}
		}
		return new Outcome(new Decision(true, withDecision ? remaining : 0, 0, reset), -1);
	}

	/**
	 * Takes the permits now, or reserves them for use within {@code maxWaitNanos}, from every
	 * limiter or from none.
	 * @param limiters limiters created by this library
	 * @param permits permits per limiter
	 * @param maxWaitNanos the longest acceptable wait
	 * @return the wait in nanoseconds before the permits may be used, or a negative value when they
	 * cannot be had in time
	 */
	public static long reserve(List<RateLimiter> limiters, long[] permits, long maxWaitNanos) {
		AbstractRateLimiter[] checked = check(limiters, permits);
		long wait = 0;
		for (int i = 0; i < checked.length; i++) {
			long reservation = checked[i].reserve(permits[i], maxWaitNanos, checked[i].ticker().read());
			if (reservation < 0) {
				refund(checked, permits, i);
				checked[i].listener().onRejected(permits[i]);
				return -1;
			}
			wait = Math.max(wait, reservation);
		}
		for (int i = 0; i < checked.length; i++) {
			if (wait > 0) {
				checked[i].listener().onWaited(wait);
			}
			checked[i].listener().onPermitted(permits[i]);
		}
		return wait;
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
