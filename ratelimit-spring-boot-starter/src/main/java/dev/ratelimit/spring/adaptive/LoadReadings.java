package dev.ratelimit.spring.adaptive;

import dev.ratelimit.spring.config.LimiterDefinitions.LoadSpec;

/**
 * Reads the load signals of adaptive control, at each evaluation. The starter's reads Micrometer's
 * meters; a bean of this type replaces it, to feed readings from elsewhere.
 */
@FunctionalInterface
public interface LoadReadings {

	/**
	 * Reads a load signal now.
	 * @param limiter the limiter whose controller the reading goes to
	 * @param signal the signal: its name, the meter and the tags to read
	 * @return the reading, in the signal's unit, or {@link Double#NaN} when there is none (no such
	 * meter yet, no value yet); a reading that is not finite, or is negative, is skipped
	 */
	double read(String limiter, LoadSpec signal);

}
