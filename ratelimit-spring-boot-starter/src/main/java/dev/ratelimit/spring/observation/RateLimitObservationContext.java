package dev.ratelimit.spring.observation;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

/**
 * What one observed permit acquisition knows: where it came from, the limiters it asked, and how
 * it ended. An observation covers the acquisition only, waiting included, not the work the
 * permits were for.
 */
public final class RateLimitObservationContext extends Observation.Context {

	/** Where an acquisition came from. */
	public enum Source {

		/** A {@code @RateLimited} method. */
		METHOD("method"),

		/** An HTTP rule. */
		HTTP("http"),

		/** The records of a throttled Kafka listener ({@code ratelimit.kafka.listeners}). */
		LISTENER("listener"),

		/** A request of a Spring Cloud Gateway route whose {@code RequestRateLimiter} uses this library. */
		GATEWAY("gateway");

		private final String value;

		Source(String value) {
			this.value = value;
		}

		/**
		 * Returns the value of the {@code ratelimit.source} key.
		 * @return the value
		 */
		public String value() {
			return this.value;
		}

	}

	/** How an acquisition ended. */
	public enum Outcome {

		/** The permits were taken, possibly after a wait. */
		PERMITTED("permitted"),

		/** The permits were refused: the call was rejected or went to its fallback. */
		REJECTED("rejected"),

		/** The caller gave up while waiting (a cancelled future or subscription, an interrupt). */
		CANCELLED("cancelled");

		private final String value;

		Outcome(String value) {
			this.value = value;
		}

		/**
		 * Returns the value of the {@code ratelimit.outcome} key.
		 * @return the value
		 */
		public String value() {
			return this.value;
		}

	}

	private final Source source;

	private final String limiters;

	private final String operation;

	private final long permits;

	private volatile @Nullable Outcome outcome;

	/** Set by the first stop, so that racing ends (a cancel and a grant) stop it once. */
	private final AtomicBoolean ended = new AtomicBoolean();

	/**
	 * Creates a context.
	 * @param source where the acquisition comes from
	 * @param limiters the names of the limiters asked, comma-separated in declaration order (names,
	 * never keys, so that the value set stays small)
	 * @param operation what is limited: {@code Class.method} of a method, the rule of an HTTP rule, the
	 * listener id
	 * @param permits the most permits asked of one limiter
	 */
	public RateLimitObservationContext(Source source, String limiters, String operation, long permits) {
		this.source = Objects.requireNonNull(source, "source");
		this.limiters = Objects.requireNonNull(limiters, "limiters");
		this.operation = Objects.requireNonNull(operation, "operation");
		this.permits = permits;
	}

	/**
	 * Returns where the acquisition came from.
	 * @return the source
	 */
	public Source getSource() {
		return this.source;
	}

	/**
	 * Returns the names of the limiters asked, comma-separated.
	 * @return the limiter names
	 */
	public String getLimiters() {
		return this.limiters;
	}

	/**
	 * Returns what is limited.
	 * @return the operation
	 */
	public String getOperation() {
		return this.operation;
	}

	/**
	 * Returns the most permits asked of one limiter.
	 * @return the permits
	 */
	public long getPermits() {
		return this.permits;
	}

	/**
	 * Returns how the acquisition ended, or {@code null} while it runs and when deciding failed
	 * ({@link #getError()} then says how).
	 * @return the outcome
	 */
	public @Nullable Outcome getOutcome() {
		return this.outcome;
	}

	/**
	 * Ends the acquisition, once: returns whether this call did (and its observation is to be
	 * stopped).
	 * @param outcome how it ended, or {@code null} when deciding failed
	 */
	boolean end(@Nullable Outcome outcome) {
		if (!this.ended.compareAndSet(false, true)) {
			return false;
		}
		this.outcome = outcome;
		return true;
	}

}
