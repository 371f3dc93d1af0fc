package dev.ratelimit.sample.orders;

import java.time.Duration;

import org.springframework.stereotype.Component;

import dev.ratelimit.RateLimiterRegistry;

/**
 * Paces a Kafka listener by a named limiter: takes one permit per record before the record is
 * processed, waiting on the consumer thread. Waits are short at the sample's rates (a fifth of a
 * second at 5 per second, 20 seconds at the adaptive floor), far below
 * {@code max.poll.interval.ms} for the few records of one poll ({@code max-poll-records}).
 */
@Component
public class ListenerThrottle {

	/** Longest single wait; above one permit's spacing at the lowest rate the sample can reach. */
	private static final Duration MAX_WAIT = Duration.ofSeconds(30);

	private final RateLimiterRegistry registry;

	public ListenerThrottle(RateLimiterRegistry registry) {
		this.registry = registry;
	}

	/**
	 * Waits for one permit of a limiter.
	 * @param limiter the limiter name
	 * @throws InterruptedException if the consumer thread is interrupted, when the container stops
	 */
	public void awaitPermit(String limiter) throws InterruptedException {
		while (!this.registry.limiter(limiter).acquire(1, MAX_WAIT)) {
			// not even MAX_WAIT was enough for one permit: the rate is lower still, so ask again
		}
	}

}
