package dev.ratelimit.spring.aop;

/**
 * Hears the failures of permitted {@code @RateLimited} calls: adaptive control lowers a limiter's
 * rate when a call fails with an exception that means "back off" (an HTTP 429 from a downstream
 * service). Called on the thread that saw the failure; must be fast and must not throw.
 */
@FunctionalInterface
public interface RateLimitedFailureListener {

	/**
	 * A call limited by a limiter failed.
	 * @param limiterName the limiter's name, as declared
	 * @param failure what the call threw
	 */
	void onFailure(String limiterName, Throwable failure);

}
