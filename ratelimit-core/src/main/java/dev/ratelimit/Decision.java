package dev.ratelimit;

import java.time.Duration;

/**
 * The outcome of one attempt to take permits, with what a caller needs to answer a client:
 * whether it was permitted, how many permits remain and how long to wait.
 *
 * @param permitted whether the permits were taken
 * @param remaining permits still available right after the decision (never negative); when denied,
 * fewer than were asked, even if some came between the denial and its report
 * @param retryAfterNanos when denied, nanoseconds until the same request could be permitted
 * ({@link Long#MAX_VALUE} when unknown, as for a concurrency limit); zero when permitted
 * @param resetNanos nanoseconds until the limiter is back at its full capacity, if nothing else
 * is taken
 */
public record Decision(boolean permitted, long remaining, long retryAfterNanos, long resetNanos) {

	/**
	 * Returns {@link #retryAfterNanos()} as a duration.
	 * @return the wait before retrying; zero when permitted
	 */
	public Duration retryAfter() {
		return Duration.ofNanos(this.retryAfterNanos);
	}

	/**
	 * Returns {@link #resetNanos()} as a duration.
	 * @return the time until the capacity is fully available again
	 */
	public Duration reset() {
		return Duration.ofNanos(this.resetNanos);
	}

}
