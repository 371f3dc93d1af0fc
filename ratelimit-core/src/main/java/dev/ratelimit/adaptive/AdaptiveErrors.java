package dev.ratelimit.adaptive;

import java.time.Duration;

/**
 * Every validation message of the adaptive package, in one place, so that they read like those of
 * {@code dev.ratelimit.internal.Errors}: each names the field, the bad value, the allowed range and,
 * where there is one, the fix.
 */
final class AdaptiveErrors {

	private AdaptiveErrors() {
	}

	static IllegalArgumentException notFractionOfCeiling(String field, double value) {
		return new IllegalArgumentException(field + " must be between 0.000001 and 1 (inclusive), but was " + value
				+ ": it is a fraction of the ceiling, for example 0.01 for 1%");
	}

	static IllegalArgumentException notDecreaseFactor(String field, double value) {
		return new IllegalArgumentException(field + " must be greater than 0 and less than 1, but was " + value
				+ ": the rate is multiplied by it on each decrease, for example 0.5 to halve it");
	}

	static IllegalArgumentException notWatermark(String field, double value) {
		return new IllegalArgumentException(field + " must be between 0 and 1 (inclusive), but was " + value
				+ ": it is a share of capacity in use, for example 0.9 for 90%");
	}

	static IllegalArgumentException notPositive(String field, Duration value) {
		return new IllegalArgumentException(field + " must be a positive duration, but was " + value);
	}

	static IllegalArgumentException negative(String field, Duration value) {
		return new IllegalArgumentException(field + " must be zero or a positive duration, but was " + value);
	}

	static IllegalArgumentException notPositive(String field, long value) {
		return new IllegalArgumentException(field + " must be positive, but was " + value);
	}

	static IllegalArgumentException recoveryLagNotBelowWarning(long recoveryLag, long warningLag) {
		return new IllegalArgumentException("recoveryLag (" + recoveryLag + ") must be less than warningLag ("
				+ warningLag + "): a severity is left only when the lag falls below recoveryLag, so the gap "
				+ "between the two is what keeps the severity from flapping; lower recoveryLag or raise warningLag");
	}

	static IllegalArgumentException lagBelowLowerLevel(String field, long value, String lowerField, long lower) {
		return new IllegalArgumentException(field + " (" + value + ") must be at least " + lowerField + " (" + lower
				+ "): a more severe level needs at least as much lag; set them equal to skip the lower level");
	}

	static IllegalArgumentException criticalAboveWarning(double criticalFraction, double warningFraction) {
		return new IllegalArgumentException("criticalFraction (" + criticalFraction
				+ ") must be at most warningFraction (" + warningFraction
				+ "): a more severe level cannot allow a higher rate");
	}

	static IllegalArgumentException lowNotBelowHigh(double lowUtilization, double highUtilization) {
		return new IllegalArgumentException("lowUtilization (" + lowUtilization
				+ ") must be less than highUtilization (" + highUtilization
				+ "): utilization above highUtilization lowers the rate and below lowUtilization lets it recover");
	}

	static IllegalArgumentException badUtilization(double utilization) {
		return new IllegalArgumentException("utilization must be a finite number, zero or more, but was "
				+ utilization + ": report the share of capacity in use, 1.0 when fully used");
	}

	static IllegalArgumentException notFiniteThreshold(String field, double value) {
		return new IllegalArgumentException(field + " must be a finite number, but was " + value
				+ ": it is a reading of the load signal, in the signal's own unit (0.85 for 85% CPU)");
	}

	static IllegalArgumentException recoveryNotBelowWarning(double recovery, double warning) {
		return new IllegalArgumentException("recovery (" + recovery + ") must be less than warning (" + warning
				+ "): a load signal's level is left only when a reading falls below recovery, so the gap between "
				+ "the two is what keeps the level from flapping; lower recovery or raise warning");
	}

	static IllegalArgumentException levelBelowLowerLevel(String field, double value, String lowerField, double lower) {
		return new IllegalArgumentException(field + " (" + value + ") must be at least " + lowerField + " (" + lower
				+ "): a more severe level needs at least as high a reading; leave it out (infinity) for no such level");
	}

	static IllegalArgumentException badSignalName(String name) {
		return new IllegalArgumentException("a load signal's name must be 1 to 64 characters of letters, digits, "
				+ "'.', '-' or '_', but was '" + name + "': it names the signal in reports, for example process-cpu");
	}

	static IllegalArgumentException unknownLoadSignal(String name, java.util.Set<String> known) {
		return new IllegalArgumentException("no load signal named '" + name + "': this controller knows " + known
				+ "; declare it with AdaptiveConfig.Builder.loadSignal(name, thresholds)");
	}

	static IllegalArgumentException badLoadReading(String name, double reading) {
		return new IllegalArgumentException("a reading of load signal '" + name + "' must be a finite number, but was "
				+ reading + ": skip a sample that has no value rather than report it");
	}

	static IllegalArgumentException notRateBased(String limiter) {
		return new IllegalArgumentException("limiter '" + limiter + "' is a concurrency limiter and has no rate "
				+ "to adapt: control a rate-based limiter, or give AdaptiveController.builder a RateTarget that "
				+ "changes maxConcurrent");
	}

}
