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

	/**
	 * Creates the exception for a denial.
	 * @param limiterName the limiter that denied the call
	 * @param decision the decision, with remaining permits and retry-after
	 */
	public RateLimitExceededException(String limiterName, Decision decision) {
		super("Rate limit '" + limiterName + "' exceeded; retry after "
				+ ((decision.retryAfterNanos() == Long.MAX_VALUE) ? "a release"
						: Duration.ofNanos(decision.retryAfterNanos()).toMillis() + " ms"));
		this.limiterName = limiterName;
		this.decision = decision;
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
