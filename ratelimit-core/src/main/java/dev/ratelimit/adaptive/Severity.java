package dev.ratelimit.adaptive;

/**
 * How overloaded the system is: from the lag reported to {@link AdaptiveController#onLag(long)}
 * and the readings reported to {@link AdaptiveController#onLoad(String, double)}, each source with
 * a level of its own; the controller's severity is the highest of them. Declared from the least to
 * the most severe, so {@link #compareTo(Enum)} orders them.
 *
 * <p>Each level caps the rate at a fraction of the ceiling (see {@link AdaptiveConfig}); a source's
 * level is entered as soon as its reading exceeds the level's threshold and left, straight to
 * normal, only when a reading falls below its recovery threshold ({@link AdaptiveConfig#recoveryLag()},
 * {@link LoadThresholds#recovery()}).
 */
public enum Severity {

	/** Every source is normal; the rate may recover toward the ceiling. */
	NORMAL,

	/** A source above its warning threshold: rate at most {@link AdaptiveConfig#warningFraction()}. */
	WARNING,

	/** A source above its critical threshold: rate at most {@link AdaptiveConfig#criticalFraction()}. */
	CRITICAL,

	/** A source above its emergency threshold: rate at the floor until it recovers. */
	EMERGENCY

}
