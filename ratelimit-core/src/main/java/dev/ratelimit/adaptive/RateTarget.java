package dev.ratelimit.adaptive;

import dev.ratelimit.Rate;

/**
 * Where an {@link AdaptiveController} sends the rates it decides: a local limiter's
 * {@link dev.ratelimit.RateLimiter#updateRate(Rate)}, or a backend that publishes the rate to
 * every instance sharing a limit.
 *
 * <p>Called only when the rate changes (and on {@link AdaptiveController#reset()}), one call at a
 * time and in order, while the controller holds its lock: an implementation must return quickly
 * and must not block (a distributed backend should send asynchronously). If it throws, the
 * controller keeps its previous rate and the exception reaches the caller of the signal.
 */
@FunctionalInterface
public interface RateTarget {

	/**
	 * Puts a new rate in force.
	 * @param rate the rate, between the controller's floor and ceiling
	 */
	void apply(Rate rate);

}
