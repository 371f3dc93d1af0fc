package dev.ratelimit.adaptive;

/**
 * The thresholds of one load signal of an {@link AdaptiveController}, such as the process's CPU
 * usage: readings above a threshold raise the signal's {@link Severity} to that level at once, and a
 * reading below {@link #recovery()} returns it to {@link Severity#NORMAL}, the same hysteresis as
 * the lag's. Thresholds are in the signal's own unit (a share of 1 for CPU usage, tasks for a queue,
 * seconds for a latency), compared strictly: "above 0.85" means more than 0.85.
 *
 * <pre class="code">
 * LoadThresholds cpu = LoadThresholds.of(0.85, 0.75).withCritical(0.95);
 * </pre>
 *
 * @param warning above this reading, the signal is at least {@link Severity#WARNING}
 * @param critical above this reading, at least {@link Severity#CRITICAL};
 * {@link Double#POSITIVE_INFINITY} for no such level
 * @param emergency above this reading, {@link Severity#EMERGENCY}; at least {@code critical}, or
 * {@code warning} when there is no critical level; {@link Double#POSITIVE_INFINITY} for no such
 * level
 * @param recovery below this reading, the signal returns to {@link Severity#NORMAL}; less than
 * {@code warning}, and the gap between the two is what keeps the level from flapping
 */
public record LoadThresholds(double warning, double critical, double emergency, double recovery) {

	/**
	 * Checks the thresholds.
	 * @throws IllegalArgumentException naming the first threshold out of its range
	 */
	public LoadThresholds {
		if (!Double.isFinite(warning)) {
			throw AdaptiveErrors.notFiniteThreshold("warning", warning);
		}
		if (!Double.isFinite(recovery)) {
			throw AdaptiveErrors.notFiniteThreshold("recovery", recovery);
		}
		if (!(recovery < warning)) {
			throw AdaptiveErrors.recoveryNotBelowWarning(recovery, warning);
		}
		if (!(critical >= warning)) {
			throw AdaptiveErrors.levelBelowLowerLevel("critical", critical, "warning", warning);
		}
		// without a critical level, emergency is bounded by the warning level
		if (critical == Double.POSITIVE_INFINITY ? !(emergency >= warning) : !(emergency >= critical)) {
			throw (critical == Double.POSITIVE_INFINITY)
					? AdaptiveErrors.levelBelowLowerLevel("emergency", emergency, "warning", warning)
					: AdaptiveErrors.levelBelowLowerLevel("emergency", emergency, "critical", critical);
		}
	}

	/**
	 * Thresholds with a warning level only: no critical or emergency level.
	 * @param warning above this reading, the signal is at {@link Severity#WARNING}
	 * @param recovery below this reading, it returns to {@link Severity#NORMAL}
	 * @return the thresholds
	 * @throws IllegalArgumentException if {@code recovery} is not below {@code warning}
	 */
	public static LoadThresholds of(double warning, double recovery) {
		return new LoadThresholds(warning, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, recovery);
	}

	/**
	 * Returns these thresholds with a critical level.
	 * @param critical above this reading, the signal is at least {@link Severity#CRITICAL}
	 * @return the thresholds
	 * @throws IllegalArgumentException if below the warning level or above the emergency level
	 */
	public LoadThresholds withCritical(double critical) {
		return new LoadThresholds(this.warning, critical, this.emergency, this.recovery);
	}

	/**
	 * Returns these thresholds with an emergency level.
	 * @param emergency above this reading, the signal is at {@link Severity#EMERGENCY}
	 * @return the thresholds
	 * @throws IllegalArgumentException if below the critical level (the warning level without one)
	 */
	public LoadThresholds withEmergency(double emergency) {
		return new LoadThresholds(this.warning, this.critical, emergency, this.recovery);
	}

	/**
	 * The level a reading enters, before hysteresis.
	 * @param reading the reading
	 * @return the most severe level whose threshold the reading is above
	 */
	Severity levelOf(double reading) {
		if (reading > this.emergency) {
			return Severity.EMERGENCY;
		}
		if (reading > this.critical) {
			return Severity.CRITICAL;
		}
		if (reading > this.warning) {
			return Severity.WARNING;
		}
		return Severity.NORMAL;
	}

}
