package dev.ratelimit.spring.web;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Bandwidth;
import dev.ratelimit.Decision;
import dev.ratelimit.RateLimit;

/**
 * Formats the rate limit fields of HTTP responses: {@code Retry-After} (RFC 9110) and the
 * {@code RateLimit-Policy} and {@code RateLimit} structured fields of
 * <a href="https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/">draft-ietf-httpapi-ratelimit-headers-10</a>.
 *
 * <p>Each limit is one list member named after the limiter:
 * <pre>
 * RateLimit-Policy: "orders";q=100;w=60
 * RateLimit: "orders";r=0;t=3
 * </pre>
 * {@code q} is the quota (the limit's capacity), {@code w} the window in seconds (the length of a
 * fixed or sliding window, or the time a token or leaky bucket takes to refill its capacity;
 * absent for a concurrency limit, which has no window), {@code r} the permits remaining and
 * {@code t} the seconds until the quota is available again (for a denial, the retry-after). Times
 * are rounded up to whole seconds so that a client that waits them is not denied for being early.
 *
 * <p>Free of Spring, stateless and thread-safe.
 */
public final class RateLimitHeaders {

	/** Name of the field with each limit's remaining quota. */
	public static final String RATE_LIMIT = "RateLimit";

	/** Name of the field with each limit's quota policy. */
	public static final String RATE_LIMIT_POLICY = "RateLimit-Policy";

	/** Name of the field with the seconds to wait before retrying a denied request. */
	public static final String RETRY_AFTER = "Retry-After";

	private static final long NANOS_PER_SECOND = 1_000_000_000L;

	private RateLimitHeaders() {
	}

	/**
	 * Returns the {@code RateLimit-Policy} member of a limit, such as {@code "orders";q=100;w=60}.
	 * @param name the policy (limiter) name
	 * @param limit the limit
	 * @return the list member
	 */
	public static String policy(String name, RateLimit limit) {
		StringBuilder member = name(name).append(";q=").append(quota(limit));
		long window = windowSeconds(limit);
		if (window > 0) {
			member.append(";w=").append(window);
		}
		return member.toString();
	}

	/**
	 * Returns the {@code RateLimit} member of a decision, such as {@code "orders";r=0;t=3}. The
	 * reset {@code t} of a denial is its retry-after; of a permitted call, the time until the
	 * limiter is full again. It is left out when not known (a concurrency limit with permits in
	 * flight, a decision made after a wait).
	 * @param name the policy (limiter) name
	 * @param decision the decision
	 * @return the list member
	 */
	public static String rateLimit(String name, Decision decision) {
		StringBuilder member = name(name).append(";r=").append(Math.max(0, decision.remaining()));
		long reset = decision.permitted() ? decision.resetNanos() : decision.retryAfterNanos();
		if (reset >= 0 && reset != Long.MAX_VALUE) {
			long seconds = decision.permitted() ? seconds(reset) : Math.max(1, seconds(reset));
			member.append(";t=").append(seconds);
		}
		return member.toString();
	}

	/**
	 * Returns the {@code Retry-After} value of a denial: whole seconds, rounded up, at least one.
	 * @param decision the decision
	 * @return the seconds, or {@code -1} when the wait is not known (a concurrency limit, whose
	 * permits return when callers release them) or the decision permitted the call
	 */
	public static long retryAfterSeconds(Decision decision) {
		if (decision.permitted() || decision.retryAfterNanos() == Long.MAX_VALUE) {
			return -1;
		}
		return Math.max(1, seconds(decision.retryAfterNanos()));
	}

	/**
	 * Returns the quota of a limit: its capacity, the most permits it grants at once (the burst of
	 * a token bucket, the limit of a window, the most permits in flight of a concurrency limit).
	 * @param limit the limit
	 * @return the quota
	 */
	public static long quota(RateLimit limit) {
		return limit.capacity();
	}

	/**
	 * Returns the window of a limit in whole seconds, rounded up: the window of a fixed or sliding
	 * window; for a token or leaky bucket, the time its rate takes to refill the capacity (a token
	 * bucket with several bandwidths is described by the one with the smallest capacity, the one
	 * that sets the quota).
	 * @param limit the limit
	 * @return the window in seconds, at least one, or {@code 0} for a concurrency limit, which
	 * has none
	 */
	public static long windowSeconds(RateLimit limit) {
		if (limit.algorithm() == Algorithm.CONCURRENCY) {
			return 0;
		}
		if (limit.algorithm() == Algorithm.FIXED_WINDOW || limit.algorithm() == Algorithm.SLIDING_WINDOW) {
			return Math.max(1, seconds(limit.rate().periodNanos()));
		}
		Bandwidth tightest = limit.bandwidths().get(0);
		for (Bandwidth bandwidth : limit.bandwidths()) {
			if (bandwidth.capacity() < tightest.capacity()) {
				tightest = bandwidth;
			}
		}
		return Math.max(1, seconds(tightest.rate().nanosFor(tightest.capacity())));
	}

	/**
	 * Returns nanoseconds as whole seconds, rounded up.
	 * @param nanos nanoseconds, zero or more
	 * @return the seconds
	 */
	static long seconds(long nanos) {
		long seconds = nanos / NANOS_PER_SECOND;
		return (nanos % NANOS_PER_SECOND != 0) ? seconds + 1 : seconds;
	}

	/**
	 * Starts a member with the name as a structured-field string: quoted, with {@code "} and
	 * {@code \} escaped. Characters a string cannot hold (controls, non-ASCII) become {@code ?}, so
	 * an odd limiter name cannot break the field.
	 */
	private static StringBuilder name(String name) {
		StringBuilder member = new StringBuilder(name.length() + 24).append('"');
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			if (c == '"' || c == '\\') {
				member.append('\\').append(c);
			}
			else {
				member.append((c >= 0x20 && c < 0x7f) ? c : '?');
			}
		}
		return member.append('"');
	}

}
