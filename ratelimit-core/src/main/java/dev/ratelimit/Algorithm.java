package dev.ratelimit;

/**
 * The admission algorithms a {@link RateLimit} can use.
 */
public enum Algorithm {

	/**
	 * Token bucket (the default): tokens refill continuously at the rate up to the capacity; a
	 * request takes tokens. The capacity is the burst.
	 */
	TOKEN_BUCKET("token-bucket"),

	/**
	 * Fixed window: at most {@code limit} permits per window; the count starts again at each
	 * window boundary.
	 */
	FIXED_WINDOW("fixed-window"),

	/**
	 * Sliding window: at most {@code limit} permits in the last window, counted in slices of the
	 * window.
	 */
	SLIDING_WINDOW("sliding-window"),

	/**
	 * Leaky bucket as a pacer: permits are spaced evenly at the rate, with no burst; waiting callers
	 * are given the next free slots in turn.
	 */
	LEAKY_BUCKET("leaky-bucket"),

	/**
	 * Concurrency limiter (bulkhead): at most {@code maxConcurrent} permits in flight; permits are
	 * released by the caller.
	 */
	CONCURRENCY("concurrency");

	private final String id;

	Algorithm(String id) {
		this.id = id;
	}

	/**
	 * Returns the lower-case, hyphenated name used in configuration and reports.
	 * @return the id, for example {@code token-bucket}
	 */
	public String id() {
		return this.id;
	}

}
