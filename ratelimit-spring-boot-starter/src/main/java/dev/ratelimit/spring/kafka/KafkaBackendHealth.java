package dev.ratelimit.spring.kafka;

import dev.ratelimit.kafka.BackendHealth;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;

/**
 * Reports the Kafka backend's health to the {@code ratelimit} health indicator: up while leases
 * flow, degraded while limiters decide under their policy, down once closed.
 */
public class KafkaBackendHealth implements RateLimitBackendHealth {

	private final KafkaRateLimiterBackend backend;

	public KafkaBackendHealth(KafkaRateLimiterBackend backend) {
		this.backend = backend;
	}

	@Override
	public String backend() {
		return this.backend.id();
	}

	@Override
	public Report report() {
		BackendHealth health = this.backend.health();
		return switch (health.status()) {
			case UP -> new Report(State.UP, health.details());
			case DEGRADED -> new Report(State.DEGRADED, health.details());
			case DOWN -> new Report(State.DOWN, health.details());
		};
	}

}
