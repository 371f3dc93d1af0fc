package dev.ratelimit;

/**
 * Receives a limiter's decisions, for metrics. One listener serves one limiter. Called on the
 * caller's thread, so implementations must be fast, non-blocking and thread-safe; the default
 * methods do nothing, and a limiter without a listener pays nothing.
 */
public interface RateLimiterListener {

	/** A listener that ignores everything. */
	RateLimiterListener NONE = new RateLimiterListener() {
	};

	/**
	 * Permits were granted.
	 * @param permits the permits granted
	 */
	default void onPermitted(long permits) {
	}

	/**
	 * A request was denied.
	 * @param permits the permits asked for
	 */
	default void onRejected(long permits) {
	}

	/**
	 * A blocking or asynchronous acquisition waited before it was granted.
	 * @param nanos how long it waited, in nanoseconds
	 */
	default void onWaited(long nanos) {
	}

	/**
	 * The limit changed (rate update, reduction or reset).
	 * @param previous the limit before
	 * @param current the limit now
	 */
	default void onLimitChanged(RateLimit previous, RateLimit current) {
	}

}
