package dev.ratelimit;

import java.time.Duration;

/**
 * Thrown when a call is denied by a limiter, with the time after which a retry could be
 * permitted.
 */
public class RateLimitExceededException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String limiterName;

	private final transient Decision decision;

	private final transient RateLimit limit;

	/**
	 * Creates the exception for a denial.
	 * @param limiterName the limiter that denied the call
	 * @param decision the decision, with remaining permits and retry-after
	 */
	public RateLimitExceededException(String limiterName, Decision decision) {
		this(limiterName, null, decision);
	}

	/**
	 * Creates the exception for a denial, with the limit that denied (for policy headers).
	 * @param limiterName the limiter that denied the call
	 * @param limit the limit in force, or {@code null}
	 * @param decision the decision, with remaining permits and retry-after
	 */
	public RateLimitExceededException(String limiterName, RateLimit limit, Decision decision) {
		super("Rate limit '" + limiterName + "' exceeded; retry after "
				+ ((decision.retryAfterNanos() == Long.MAX_VALUE) ? "a release"
						: Duration.ofNanos(decision.retryAfterNanos()).toMillis() + " ms"));
		this.limiterName = limiterName;
		this.limit = limit;
		this.decision = decision;
	}

	/**
	 * Returns the limit that denied the call, when known.
	 * @return the limit, or {@code null}
	 */
	public RateLimit getLimit() {
		return this.limit;
	}

	/**
	 * Returns the name of the limiter that denied the call.
	 * @return the limiter name
	 */
	public String getLimiterName() {
		return this.limiterName;
	}

	/**
	 * Returns the decision that denied the call.
	 * @return the decision
	 */
	public Decision getDecision() {
		return this.decision;
	}

	/**
	 * Returns the time after which a retry could be permitted.
	 * @return the retry-after duration
	 */
	public Duration getRetryAfter() {
		return this.decision.retryAfter();
	}

}
