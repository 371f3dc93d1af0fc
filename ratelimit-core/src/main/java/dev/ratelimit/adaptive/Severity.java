package dev.ratelimit.adaptive;

/**
 * How far behind the consumer is, from the lag reported to
 * {@link AdaptiveController#onLag(long)}. Declared from the least to the most severe, so
 * {@link #compareTo(Enum)} orders them.
 *
 * <p>Each level caps the rate at a fraction of the ceiling (see {@link AdaptiveConfig}); a level is
 * entered as soon as the lag exceeds its threshold and left only when the lag falls below
 * {@link AdaptiveConfig#recoveryLag()}.
 */
public enum Severity {

	/** Lag is not a concern; the rate may recover toward the ceiling. */
	NORMAL,

	/** Lag above {@link AdaptiveConfig#warningLag()}: rate at most {@link AdaptiveConfig#warningFraction()}. */
	WARNING,

	/** Lag above {@link AdaptiveConfig#criticalLag()}: rate at most {@link AdaptiveConfig#criticalFraction()}. */
	CRITICAL,

	/** Lag above {@link AdaptiveConfig#emergencyLag()}: rate at the floor until the backlog clears. */
	EMERGENCY

}
