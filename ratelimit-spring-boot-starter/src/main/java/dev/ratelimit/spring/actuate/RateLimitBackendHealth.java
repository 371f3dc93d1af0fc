package dev.ratelimit.spring.actuate;

import java.util.Map;
import java.util.Objects;

/**
 * The health of a limiter backend that keeps state outside the instance, such as Kafka. A backend
 * declares a bean of this type; the {@code ratelimit} health indicator
 * ({@link RateLimitHealthIndicator}) asks every one and reports the worst state. The in-memory
 * backend needs none: it is always up.
 *
 * <p>Spring-free on purpose (no Spring Boot health types), so a backend can implement it without
 * the health module on its classpath.
 */
public interface RateLimitBackendHealth {

	/**
	 * Returns the backend's id, as in {@link dev.ratelimit.RateLimiterBackend#id()}.
	 * @return the id, for example {@code kafka}
	 */
	String backend();

	/**
	 * Returns the backend's state. Health checks run often and on request threads, so this must be
	 * fast and must not block: return the last state the backend observed rather than probe it.
	 * An exception reports the backend {@link State#DOWN}.
	 * @return the report
	 */
	Report report();

	/**
	 * What a backend's state means for decisions, declared from best to worst.
	 */
	enum State {

		/** The backend works: decisions follow the shared limit. */
		UP,

		/**
		 * The backend cannot reach its shared state, and limiters decide under the configured
		 * policy (for example each instance enforcing its last known share). Calls are still
		 * limited, less exactly; the instance should stay in service.
		 */
		DEGRADED,

		/**
		 * The backend cannot decide: calls are rejected (a fail-closed policy) or the backend has
		 * failed.
		 */
		DOWN

	}

	/**
	 * A backend's state with facts for operators.
	 *
	 * @param state the state
	 * @param details facts such as the policy in force or the time since the last contact,
	 * never {@code null}
	 */
	record Report(State state, Map<String, Object> details) {

		public Report {
			Objects.requireNonNull(state, "state");
			details = Map.copyOf(details);
		}

		/**
		 * Returns an up report.
		 * @param details facts for operators
		 * @return the report
		 */
		public static Report up(Map<String, Object> details) {
			return new Report(State.UP, details);
		}

		/**
		 * Returns a degraded report.
		 * @param details facts for operators, best including the policy in force
		 * @return the report
		 */
		public static Report degraded(Map<String, Object> details) {
			return new Report(State.DEGRADED, details);
		}

		/**
		 * Returns a down report.
		 * @param details facts for operators, best including the cause
		 * @return the report
		 */
		public static Report down(Map<String, Object> details) {
			return new Report(State.DOWN, details);
		}

	}

}
