package dev.ratelimit.spring.kafka;

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * The observations of one throttled listener's permits: {@code null} wherever it is used when the
 * application has no observation registry.
 */
final class ListenerObservations {

	private final RateLimitObservations observations;

	private final String limiter;

	private final String listenerId;

	private final long permits;

	private ListenerObservations(RateLimitObservations observations, String limiter, String listenerId,
			long permits) {
		this.observations = observations;
		this.limiter = limiter;
		this.listenerId = listenerId;
		this.permits = permits;
	}

	static @Nullable ListenerObservations of(@Nullable RateLimitObservations observations, RateLimiter limiter,
			String listenerId, long permits) {
		return (observations != null) ? new ListenerObservations(observations, limiter.name(), listenerId, permits)
				: null;
	}

	/** Starts the observation of one record's permits, a child of the thread's current one. */
	@Nullable Observation start() {
		return this.observations.start(Source.LISTENER, this.limiter, this.listenerId, this.permits, null);
	}

	static void stop(@Nullable Observation observation, Outcome outcome) {
		RateLimitObservations.stop(observation, outcome);
	}

	static void failed(@Nullable Observation observation, Throwable failure) {
		RateLimitObservations.failed(observation, failure);
	}

}
