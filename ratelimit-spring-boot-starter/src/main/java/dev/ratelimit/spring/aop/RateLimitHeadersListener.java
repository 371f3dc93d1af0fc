package dev.ratelimit.spring.aop;

import java.util.List;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimit;

/**
 * Hears the decisions of permitted {@code @RateLimited} calls, for example to write rate limit
 * headers on the current HTTP response. The web auto-configuration provides one; decisions are
 * computed only while a listener is {@linkplain #isActive() active}, so calls outside a web
 * request pay nothing for it.
 *
 * <p>Listeners are beans, or, for calls returning {@code Mono} or {@code Flux}, an instance the
 * subscriber puts in its Reactor context under the key {@code RateLimitHeadersListener.class}:
 * that is how a listener is scoped to one WebFlux exchange, which no thread-bound state can find.
 */
public interface RateLimitHeadersListener {

	/**
	 * Returns whether the current call would use the decisions (for example, whether it runs in a
	 * web request).
	 * @return whether to compute and report decisions
	 */
	boolean isActive();

	/**
	 * Receives the limits a permitted call took.
	 * @param limits each limit with its decision
	 */
	void onPermitted(List<AppliedLimit> limits);

	/**
	 * One limit a call took.
	 *
	 * @param name the limiter name as declared (without the key)
	 * @param limit the limit in force
	 * @param decision the decision
	 */
	record AppliedLimit(String name, RateLimit limit, Decision decision) {
	}

}
