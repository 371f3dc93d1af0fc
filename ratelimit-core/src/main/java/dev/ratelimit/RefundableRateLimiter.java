package dev.ratelimit;

/**
 * A limiter that can give back permits it granted but that will not be used, which is what taking
 * from several limiters all or none needs: when one denies, the others get back what they gave.
 * Every limiter this library creates is one. A limiter of your own can join a
 * {@linkplain RateLimiter#composite composite} or an {@link AllOrNothing} decision by implementing
 * this interface.
 * <p>
 * A limiter that is not this library's own is asked through its public methods only: it permits
 * or denies at once (a composite does not reserve ahead on it, so a wait on the composite
 * retries after the wait its snapshot suggests), and its listener, if it has one, hears its own
 * grant even when another limiter then denies and the permits come back.
 */
public interface RefundableRateLimiter extends RateLimiter {

	/**
	 * Gives back permits this limiter granted that will not be used, leaving it as if they had not
	 * been taken. Giving back permits it did not grant lets more through than its limit.
	 * @param permits the permits, as many as were granted
	 * @throws IllegalArgumentException if {@code permits} is not positive or above the capacity
	 */
	void refund(long permits);

}
