package dev.ratelimit.spring.aop;

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * The observations of one {@code @RateLimited} method's acquisitions. An operation holds none
 * when the application has no {@code ObservationRegistry}, so a call then costs nothing more.
 */
final class AcquireObservations {

	private final RateLimitObservations observations;

	private final String limiters;

	private final String operation;

	private final long permits;

	AcquireObservations(RateLimitObservations observations, String limiters, String operation, long permits) {
		this.observations = observations;
		this.limiters = limiters;
		this.operation = operation;
		this.permits = permits;
	}

	/**
	 * Starts the observation of one acquisition.
	 * @param parent the parent, for a reactive call whose parent is in its subscriber's context;
	 * {@code null} for the registry's current observation
	 */
	@Nullable Observation start(@Nullable Observation parent) {
		return this.observations.start(RateLimitObservationContext.Source.METHOD, this.limiters, this.operation,
				this.permits, parent);
	}

}
