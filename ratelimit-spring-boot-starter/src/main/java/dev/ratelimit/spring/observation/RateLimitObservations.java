package dev.ratelimit.spring.observation;

import java.util.Objects;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;

/**
 * Starts and stops the observations of permit acquisitions, for the parts of the starter that
 * take permits ({@code @RateLimited} methods, HTTP rules, throttled listeners, the Spring Cloud
 * Gateway limiter). Made only when the
 * application has an {@link ObservationRegistry}; a part without one records nothing and pays
 * nothing. Public for the
 * starter's own packages; applications customize observations with a
 * {@link RateLimitObservationConvention} bean instead.
 */
public final class RateLimitObservations {

	/**
	 * The Reactor context key under which Micrometer keeps the current observation
	 * ({@code ObservationThreadLocalAccessor.KEY}, written out so that the class, which needs
	 * context-propagation, is not loaded).
	 */
	public static final String REACTOR_CONTEXT_KEY = "micrometer.observation";

	private final ObservationRegistry registry;

	private final @Nullable RateLimitObservationConvention convention;

	/**
	 * Creates the observations of one application.
	 * @param registry where observations go
	 * @param convention names and tags them, {@code null} for
	 * {@link DefaultRateLimitObservationConvention}
	 */
	public RateLimitObservations(ObservationRegistry registry, @Nullable RateLimitObservationConvention convention) {
		this.registry = Objects.requireNonNull(registry, "registry");
		this.convention = convention;
	}

	/**
	 * Starts the observation of one acquisition.
	 * @param source where it comes from
	 * @param limiters the limiter names, comma-separated
	 * @param operation what is limited
	 * @param permits permits asked of each limiter
	 * @param parent the parent, when it is not the registry's current observation (a reactive call
	 * finds it in its subscriber's context); {@code null} for the current one
	 * @return the started observation, or {@code null} when the registry has no handler (nothing
	 * would see it)
	 */
	public @Nullable Observation start(Source source, String limiters, String operation, long permits,
			@Nullable Observation parent) {
		if (this.registry.isNoop()) {
			return null; // no handler: nothing to allocate
		}
		Observation observation = Observation.createNotStarted(this.convention,
				DefaultRateLimitObservationConvention.INSTANCE,
				() -> new RateLimitObservationContext(source, limiters, operation, permits), this.registry);
		if (parent != null) {
			observation.parentObservation(parent);
		}
		return observation.start();
	}

	/**
	 * Returns the observations of one limited operation, whose source, limiters, name and permits
	 * stay the same from one acquisition to the next.
	 * @param source where its acquisitions come from
	 * @param limiters the limiter names, comma-separated
	 * @param operation what is limited
	 * @param permits permits asked of each limiter
	 * @return the operation's observations
	 */
	public Operation operation(Source source, String limiters, String operation, long permits) {
		return new Operation(this, source, limiters, operation, permits);
	}

	/**
	 * The observations of one limited operation: a {@code @RateLimited} method, or a throttled
	 * listener's records or batches. A part holds none when the application has no
	 * {@code ObservationRegistry}, so a call then costs nothing more.
	 */
	public static final class Operation {

		private final RateLimitObservations observations;

		private final Source source;

		private final String limiters;

		private final String operation;

		private final long permits;

		private Operation(RateLimitObservations observations, Source source, String limiters, String operation,
				long permits) {
			this.observations = observations;
			this.source = source;
			this.limiters = limiters;
			this.operation = operation;
			this.permits = permits;
		}

		/**
		 * Starts the observation of one acquisition.
		 * @param parent the parent, when it is not the registry's current observation (a
		 * reactive call finds it in its subscriber's context); {@code null} for the current one
		 * @return the started observation, or {@code null} when nothing would see it
		 */
		public @Nullable Observation start(@Nullable Observation parent) {
			return this.observations.start(this.source, this.limiters, this.operation, this.permits, parent);
		}

		/**
		 * Starts the observation of one acquisition of its own number of permits (a batch of
		 * records, say).
		 * @param parent the parent, or {@code null} for the current one
		 * @param permits the permits asked of each limiter this time
		 * @return the started observation, or {@code null} when nothing would see it
		 */
		public @Nullable Observation start(@Nullable Observation parent, long permits) {
			return this.observations.start(this.source, this.limiters, this.operation, permits, parent);
		}

	}

	/**
	 * Stops an observation, if any, with how its acquisition ended; only the first end of an
	 * acquisition stops it (a cancellation racing a grant ends it once). A handler that throws is
	 * ignored: the permits are taken, and the call goes on.
	 * @param observation the observation, or {@code null}
	 * @param outcome the outcome
	 */
	public static void stop(@Nullable Observation observation, Outcome outcome) {
		if (!endsNow(observation, outcome)) {
			return;
		}
		try {
			observation.stop();
		}
		catch (RuntimeException ex) {
			// an observation handler's failure is not the call's
		}
	}

	/**
	 * Stops an observation, if any, with a decision: permitted when {@code refused} is
	 * {@code null}, cancelled when the refusal came from an interrupted wait, rejected otherwise.
	 * @param observation the observation, or {@code null}
	 * @param refused the refusal, or {@code null} when the permits were taken
	 */
	public static void stop(@Nullable Observation observation, @Nullable RateLimitExceededException refused) {
		stop(observation, (refused == null) ? Outcome.PERMITTED
				: (refused.getCause() instanceof InterruptedException) ? Outcome.CANCELLED : Outcome.REJECTED);
	}

	/**
	 * Stops an observation, if any, whose acquisition failed with an exception.
	 * @param observation the observation, or {@code null}
	 * @param failure what was thrown
	 */
	public static void failed(@Nullable Observation observation, Throwable failure) {
		if (!endsNow(observation, null)) {
			return;
		}
		try {
			observation.error(failure);
			observation.stop();
		}
		catch (RuntimeException ex) {
			// an observation handler's failure is not the call's
		}
	}

	/**
	 * Whether this end of an acquisition is its first: only the first stops the observation.
	 * @param observation the observation, or {@code null} for none
	 * @param outcome the outcome, {@code null} for a failure
	 */
	private static boolean endsNow(@Nullable Observation observation, @Nullable Outcome outcome) {
		return observation != null && (!(observation.getContext() instanceof RateLimitObservationContext context)
				|| context.end(outcome));
	}

}
