package dev.ratelimit;

/**
 * A limiter of permits in flight (a bulkhead): permits taken must be given back with
 * {@link #release(long)} when the work is done. Waiting acquisitions are woken by releases.
 */
public interface ConcurrencyLimiter extends RateLimiter {

	/**
	 * Gives back permits taken earlier.
	 * @param permits permits to give back, positive
	 * @throws IllegalStateException if more permits are released than are in flight
	 */
	void release(long permits);

	/**
	 * Gives back one permit.
	 */
	default void release() {
		release(1);
	}

	/**
	 * Returns the permits in flight.
	 * @return permits taken and not yet released
	 */
	long inFlight();

	/**
	 * Changes the most permits in flight. Permits already in flight stay valid; new ones are
	 * granted only while below the new bound.
	 * @param maxConcurrent the new bound, positive
	 */
	void updateMaxConcurrent(long maxConcurrent);

	/**
	 * Creates a concurrency limiter on the system clock.
	 * @param name the name
	 * @param maxConcurrent the most permits in flight, positive
	 * @return the limiter
	 */
	static ConcurrencyLimiter of(String name, long maxConcurrent) {
		return (ConcurrencyLimiter) RateLimiter.of(name, RateLimit.concurrency(maxConcurrent));
	}

}
