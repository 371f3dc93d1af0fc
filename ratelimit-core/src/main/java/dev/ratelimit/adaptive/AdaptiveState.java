package dev.ratelimit.adaptive;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import dev.ratelimit.Rate;

/**
 * A point-in-time view of an {@link AdaptiveController}, for actuator endpoints and meters.
 *
 * @param name the controller's name (its limiter's, when it controls one)
 * @param rate the rate in force
 * @param ceiling the highest rate: the configured limit
 * @param floor the lowest rate: {@link AdaptiveConfig#floorFraction()} of the ceiling
 * @param severity the severity: the highest of the lag's and the load signals'
 * @param lag the last lag reported to {@link AdaptiveController#onLag(long)}, 0 before the first
 * @param lastReason why the rate last changed ({@link ChangeReason#CEILING} until the first
 * change)
 * @param lastDetail what caused the last change, for people: the text given to
 * {@link AdaptiveController#reduce(String)}, or the lag or utilization that crossed a threshold
 * @param lastChangeNanos {@link dev.ratelimit.Ticker} reading of the last rate change, or of the
 * creation; only differences with other readings of the same ticker mean something
 * @param decreases how many times a signal lowered the rate, counted since creation
 * @param increases how many recovery steps raised the rate, counted since creation (resets and
 * ceiling changes are not counted in either)
 * @param loads the last reading and the level of each load signal that has had a reading
 * ({@link AdaptiveController#onLoad(String, double)}), in the order the signals were declared;
 * unmodifiable
 */
public record AdaptiveState(String name, Rate rate, Rate ceiling, Rate floor, Severity severity, long lag,
		ChangeReason lastReason, String lastDetail, long lastChangeNanos, long decreases, long increases,
		Map<String, Load> loads) {

	/**
	 * Copies the load signals.
	 */
	public AdaptiveState {
		loads = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(loads, "loads")));
	}

	/**
	 * A load signal's state.
	 *
	 * @param reading the last reading, in the signal's unit
	 * @param severity the signal's own level, with hysteresis
	 */
	public record Load(double reading, Severity severity) {

	}

}
