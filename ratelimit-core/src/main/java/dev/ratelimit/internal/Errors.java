package dev.ratelimit.internal;

import java.time.Duration;

/**
 * Every validation message of the library, in one place, so that they read alike: each names the
 * field, the bad value, the allowed range and, where there is one, the fix.
 */
public final class Errors {

	private Errors() {
	}

	public static IllegalArgumentException notPositive(String field, long value) {
		return new IllegalArgumentException(field + " must be positive, but was " + value);
	}

	public static IllegalArgumentException notPositive(String field, double value) {
		return new IllegalArgumentException(field + " must be positive, but was " + value);
	}

	public static IllegalArgumentException negative(String field, long value) {
		return new IllegalArgumentException(field + " must be zero or more, but was " + value);
	}

	public static IllegalArgumentException notPositive(String field, Duration value) {
		return new IllegalArgumentException(field + " must be a positive duration, but was " + value);
	}

	public static IllegalArgumentException negative(String field, Duration value) {
		return new IllegalArgumentException(field + " must be zero or a positive duration, but was " + value);
	}

	public static IllegalArgumentException outOfRange(String field, double value, double min, double max) {
		return new IllegalArgumentException(
				field + " must be between " + min + " and " + max + " (inclusive), but was " + value);
	}

	public static IllegalArgumentException outOfRange(String field, long value, long min, long max) {
		return new IllegalArgumentException(
				field + " must be between " + min + " and " + max + " (inclusive), but was " + value);
	}

	public static IllegalArgumentException tooLarge(String field, long value, long max, String unit, String why) {
		return new IllegalArgumentException(field + " must be at most " + max + " " + unit + ", but was " + value
				+ " " + unit + " (" + why + ")");
	}

	public static IllegalArgumentException notPositivePermits(String limiter, long permits) {
		return new IllegalArgumentException("permits must be positive, but was " + permits + " (limiter '"
				+ limiter + "')");
	}

	public static IllegalArgumentException permitsOverCapacity(String limiter, long permits, long capacity) {
		return new IllegalArgumentException("permits (" + permits + ") exceed the capacity (" + capacity
				+ ") of limiter '" + limiter + "': such a request could never be permitted; "
				+ "ask for at most " + capacity + " permits or raise the capacity");
	}

	public static IllegalArgumentException badRate(String text) {
		return new IllegalArgumentException("rate '" + text
				+ "' is not understood: write permits/period, for example 100/s, 100/1s, 5000/1m, 0.5/s or 10000/1d");
	}

	public static IllegalArgumentException rateTooPrecise(String rate) {
		return new IllegalArgumentException("rate must be positive and given to at most 6 decimal places, but was "
				+ rate);
	}

	public static IllegalStateException releaseWithoutAcquire(String limiter, long permits, long inFlight) {
		return new IllegalStateException("release of " + permits + " permit(s) on concurrency limiter '" + limiter
				+ "' exceeds the " + inFlight + " in flight: release only permits that an acquire granted");
	}

	public static IllegalArgumentException notRefundable(String tier) {
		return new IllegalArgumentException("limiter '" + tier + "' cannot give back permits, so permits taken "
				+ "from it could not be returned when another limiter denies: create it with RateLimiter.of, "
				+ "RateLimiter.builder or a RateLimiterRegistry, or implement RefundableRateLimiter");
	}

	public static IllegalArgumentException notRateBased(String limiter) {
		return new IllegalArgumentException("limiter '" + limiter + "' is a concurrency limiter and has no rate: "
				+ "use ConcurrencyLimiter.updateMaxConcurrent instead");
	}

}
