package dev.ratelimit.kafka;

/**
 * What a Kafka-backed limiter does while it cannot get leases from the authority (Kafka
 * unreachable, authority moving). Decisions never throw and never wait on Kafka whatever the
 * policy; health reports the degraded state, and grants flowing again end it.
 */
public enum DegradedPolicy {

	/**
	 * Each instance enforces locally its last known fair share of the global rate (the rate
	 * divided by the active instances when no share is known yet). The default.
	 */
	LOCAL_SHARE,

	/** Deny everything beyond leases already held. */
	FAIL_CLOSED,

	/** Permit everything. */
	FAIL_OPEN

}
