package dev.ratelimit.kafka;

import java.util.Map;

/**
 * The state of a shared-limit backend, for health indicators.
 *
 * @param status the status
 * @param details facts behind it (round-trip times, degraded limiters, authority state)
 */
public record BackendHealth(Status status, Map<String, Object> details) {

	public BackendHealth {
		details = Map.copyOf(details);
	}

	/** How well the backend is doing. */
	public enum Status {

		/** Leases flow. */
		UP,

		/** Some limiters decide under their degraded policy (Kafka unreachable or the authority moving). */
		DEGRADED,

		/** The backend is closed or could not start. */
		DOWN

	}

}
