package dev.ratelimit;

import java.util.List;

import dev.ratelimit.internal.Tiers;

/**
 * Takes permits from several limiters, each its own count, all or none: what a call with several
 * limits needs (a per-user and a per-tenant limit, say, or one limit counted in requests and another
 * in bytes). When a limiter denies, the permits the limiters before it gave are given back, and each
 * limiter's listener hears its own outcome: permitted when all permitted, rejected for the one that
 * denied. Each limiter is asked with its own clock, so local and Kafka-backed limiters mix.
 * <p>
 * Every limiter must be a {@link RefundableRateLimiter}: every limiter this library creates is one;
 * see that interface for how a limiter of your own is asked. Unlike a
 * {@linkplain RateLimiter#composite composite}, which takes the same count from every tier, each
 * limiter here takes its own count.
 *
 * <pre>{@code
 * AllOrNothing.Outcome outcome = AllOrNothing.decide(List.of(perUser, perTenant), new long[] { 1, 1 }, false);
 * if (!outcome.permitted()) {
 *     long waitNanos = outcome.decision().retryAfterNanos(); // the denying limiter's wait
 *     ...
 * }
 * }</pre>
 */
public final class AllOrNothing {

	private AllOrNothing() {
	}

	/**
	 * The outcome of a decision over several limiters.
	 *
	 * @param decision the combined decision: permitted when all permitted, with the smallest
	 * remaining count; when denied, the decision of the limiter that denied
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
	 * Takes {@code permits[i]} from {@code limiters.get(i)} for every i, or nothing.
	 * @param limiters refundable limiters
	 * @param permits permits per limiter, each positive and within its limiter's capacity
	 * @param withDecision whether to work out the remaining permits and reset times of a grant
	 * (costs a clock read and an allocation per limiter); a denial always has them
	 * @return the outcome
	 * @throws IllegalArgumentException if the counts do not match the limiters, a count is out of
	 * range, or a limiter is not refundable
	 */
	public static Outcome decide(List<? extends RateLimiter> limiters, long[] permits, boolean withDecision) {
		return Tiers.decide(limiters, permits, withDecision);
	}

	/**
	 * Takes the permits now, or reserves them for use within {@code maxWaitNanos}, from every
	 * limiter or from none. The caller waits {@link Reservation#waitNanos()} before using them, or
	 * {@linkplain #refund gives them back} if it will not.
	 * @param limiters refundable limiters
	 * @param permits permits per limiter, each positive and within its limiter's capacity
	 * @param maxWaitNanos the longest acceptable wait
	 * @return the reservation
	 * @throws IllegalArgumentException as {@link #decide}
	 */
	public static Reservation reserve(List<? extends RateLimiter> limiters, long[] permits, long maxWaitNanos) {
		return Tiers.reserve(limiters, permits, maxWaitNanos);
	}

	/**
	 * Gives back permits taken by {@link #decide} or {@link #reserve} that will not be used (the
	 * call was cancelled, say).
	 * @param limiters the limiters the permits were taken from
	 * @param permits the permits taken from each
	 */
	public static void refund(List<? extends RateLimiter> limiters, long[] permits) {
		Tiers.refund(limiters, permits);
	}

	/**
	 * Describes, without taking anything, why {@code permits} were just denied: the remaining
	 * permits and the wait. For callers that asked with the allocation-free
	 * {@link RateLimiter#tryAcquire(long)} first and need the details of a denial only.
	 * @param limiter a refundable limiter
	 * @param permits the permits asked for
	 * @return the denial
	 */
	public static Decision denial(RateLimiter limiter, long permits) {
		return Tiers.denial(limiter, permits);
	}

}
