package dev.ratelimit.spring.aop;

import org.jspecify.annotations.Nullable;

/**
 * Hears the failures of permitted {@code @RateLimited} calls, and how long the calls through a
 * concurrency limiter took: adaptive control lowers a limiter's rate when a call fails with an
 * exception that means "back off" (an HTTP 429 from a downstream service), and adapts a
 * concurrency limit to the calls' latency. Called on the thread that saw the failure or the end;
 * must be fast and must not throw.
 */
@FunctionalInterface
public interface RateLimitedFailureListener {

	/**
	 * A call limited by a limiter failed.
	 * @param limiterName the limiter's name, as declared
	 * @param failure what the call threw
	 */
	void onFailure(String limiterName, Throwable failure);

	/**
	 * A call through a concurrency limiter ended. Nothing by default.
	 * @param limiterName the concurrency limiter's name, as declared
	 * @param rttNanos how long the call took, from its permits to its end
	 * @param inFlight the limiter's permits in flight when the call started, its own included
	 * @param failure what the call threw, or {@code null}
	 */
	default void onCompleted(String limiterName, long rttNanos, long inFlight, @Nullable Throwable failure) {
	}

}
