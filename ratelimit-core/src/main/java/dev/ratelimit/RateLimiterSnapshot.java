package dev.ratelimit;

import java.util.Map;

/**
 * A point-in-time view of a limiter, for reports, actuator endpoints and meters.
 *
 * @param name the limiter's name
 * @param algorithm its algorithm
 * @param rate its current rate (for a concurrency limit, {@code maxConcurrent} per second)
 * @param capacity its capacity (burst, window limit, or permits in flight)
 * @param available permits that could be taken now
 * @param utilization share of the capacity in use, from 0 (idle) to 1 (exhausted)
 * @param backend where the authoritative state lives, for example {@code in-memory} or
 * {@code kafka}
 * @param distributed whether the limit is shared by several instances
 * @param persistent whether the state survives a restart
 * @param details backend-specific facts (lease state, round-trip times), never {@code null}
 */
public record RateLimiterSnapshot(String name, Algorithm algorithm, Rate rate, long capacity, long available,
		double utilization, String backend, boolean distributed, boolean persistent, Map<String, Object> details) {

	public RateLimiterSnapshot {
		details = Map.copyOf(details);
	}

}
