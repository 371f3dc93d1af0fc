package dev.ratelimit;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.ratelimit.internal.Errors;
import dev.ratelimit.internal.LongMath;

/**
 * A rate: a number of permits per period, in any unit, fractional rates included
 * ({@code 0.5/s} is one permit every two seconds).
 *
 * <p>Kept as a fraction of whole permits over whole nanoseconds, as given ({@code 100/1m} stays
 * 100 permits per minute, which is also a window's limit and length), so limiters compute
 * refills exactly and never drift. Two rates are equal when both numbers are. Immutable and
 * thread-safe.
 */
public final class Rate {

	private static final Pattern TEXT = Pattern
		.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*/\\s*([0-9]*)\\s*(ns|us|ms|s|m|h|d)\\s*");

	private static final long SCALE = 1_000_000L;

	private final long permits;

	private final long periodNanos;

	private Rate(long permits, long periodNanos) {
		this.permits = permits;
		this.periodNanos = periodNanos;
	}

	private static Rate reduced(long permits, long periodNanos) {
		long gcd = LongMath.gcd(permits, periodNanos);
		return new Rate(permits / gcd, periodNanos / gcd);
	}

	/**
	 * Returns the rate of {@code permits} per {@code period}.
	 * @param permits permits per period, positive
	 * @param period the period, positive
	 * @return the rate
	 * @throws IllegalArgumentException if either is not positive
	 */
	public static Rate of(long permits, Duration period) {
		Objects.requireNonNull(period, "period");
		if (permits <= 0) {
			throw Errors.notPositive("permits", permits);
		}
		if (period.isNegative() || period.isZero()) {
			throw Errors.notPositive("period", period);
		}
		return new Rate(permits, nanos(period));
	}

	/**
	 * Returns a rate given in permits per second, fractional rates included. Precision is one
	 * millionth of a permit per second.
	 * @param permitsPerSecond permits per second, positive
	 * @return the rate
	 */
	public static Rate perSecond(double permitsPerSecond) {
		if (!(permitsPerSecond > 0) || Double.isInfinite(permitsPerSecond)) {
			throw Errors.notPositive("permitsPerSecond", permitsPerSecond);
		}
		return decimal(BigDecimal.valueOf(permitsPerSecond), 1_000_000_000L, permitsPerSecond + "/s");
	}

	/**
	 * Returns {@code permits} (a decimal of at most six places) per {@code periodNanos}, as a
	 * fraction of whole numbers: {@code 2.5/1m} becomes 5 per 2 minutes.
	 */
	private static Rate decimal(BigDecimal permits, long periodNanos, String text) {
		BigDecimal stripped = permits.stripTrailingZeros();
		int scale = Math.max(0, stripped.scale());
		if (scale > 6 || stripped.signum() <= 0) {
			throw Errors.rateTooPrecise(text);
		}
		BigInteger whole = stripped.movePointRight(scale).toBigIntegerExact();
		if (whole.bitLength() > 62) {
			throw Errors.badRate(text);
		}
		long numerator = whole.longValueExact();
		long denominator = BigInteger.TEN.pow(scale).longValueExact();
		long gcd = LongMath.gcd(numerator, denominator);
		return new Rate(numerator / gcd, LongMath.saturatedMultiply(denominator / gcd, periodNanos));
	}

	/**
	 * Returns the rate of {@code permits} per minute.
	 * @param permits permits per minute, positive
	 * @return the rate
	 */
	public static Rate perMinute(long permits) {
		return of(permits, Duration.ofMinutes(1));
	}

	/**
	 * Returns the rate of {@code permits} per hour.
	 * @param permits permits per hour, positive
	 * @return the rate
	 */
	public static Rate perHour(long permits) {
		return of(permits, Duration.ofHours(1));
	}

	/**
	 * Returns the rate of {@code permits} per day.
	 * @param permits permits per day, positive
	 * @return the rate
	 */
	public static Rate perDay(long permits) {
		return of(permits, Duration.ofDays(1));
	}

	/**
	 * Parses {@code permits/period}: a number (fractions allowed) and a period of an optional
	 * count and a unit among {@code ns, us, ms, s, m, h, d}, for example {@code 100/s},
	 * {@code 1000/1s}, {@code 5000/10m}, {@code 0.5/s}, {@code 10000/1d}.
	 * @param text the text
	 * @return the rate
	 * @throws IllegalArgumentException if the text is not a rate
	 */
	public static Rate parse(String text) {
		Objects.requireNonNull(text, "text");
		Matcher matcher = TEXT.matcher(text.toLowerCase(Locale.ROOT));
		if (!matcher.matches()) {
			throw Errors.badRate(text);
		}
		String count = matcher.group(2);
		long periods = count.isEmpty() ? 1 : Long.parseLong(count);
		if (periods <= 0) {
			throw Errors.badRate(text);
		}
		long unitNanos = switch (matcher.group(3)) {
			case "ns" -> 1L;
			case "us" -> 1_000L;
			case "ms" -> 1_000_000L;
			case "s" -> 1_000_000_000L;
			case "m" -> 60_000_000_000L;
			case "h" -> 3_600_000_000_000L;
			default -> 86_400_000_000_000L;
		};
		long periodNanos = LongMath.saturatedMultiply(periods, unitNanos);
		String number = matcher.group(1);
		if (number.indexOf('.') < 0) {
			long permits = Long.parseLong(number);
			if (permits <= 0) {
				throw Errors.notPositive("permits", permits);
			}
			return new Rate(permits, periodNanos);
		}
		return decimal(new BigDecimal(number), periodNanos, text);
	}

	/**
	 * Returns the permits per period.
	 * @return whole permits per {@link #periodNanos()}
	 */
	public long permits() {
		return this.permits;
	}

	/**
	 * Returns the period.
	 * @return the period in nanoseconds in which {@link #permits()} permits accrue
	 */
	public long periodNanos() {
		return this.periodNanos;
	}

	/**
	 * Returns the rate in permits per second.
	 * @return permits per second
	 */
	public double perSecond() {
		return this.permits * 1e9 / this.periodNanos;
	}

	/**
	 * Returns this rate multiplied by a factor. The period is kept when the scaled permits are a
	 * whole number to within 1% (so a window keeps its length); otherwise the result is a
	 * per-second rate to six decimal places, at least one permit per 1,000,000 seconds.
	 * @param factor the factor, positive
	 * @return the scaled rate
	 */
	public Rate scaled(double factor) {
		if (!(factor > 0) || Double.isInfinite(factor)) {
			throw Errors.notPositive("factor", factor);
		}
		double permits = this.permits * factor;
		long whole = Math.round(permits);
		if (whole >= 1 && whole < Long.MAX_VALUE / 2 && Math.abs(permits - whole) <= 0.01 * permits) {
			return new Rate(whole, this.periodNanos);
		}
		double permitsPerSecond = Math.max(perSecond() * factor, 1.0 / SCALE);
		return perSecond(Math.round(permitsPerSecond * SCALE) / (double) SCALE);
	}

	/**
	 * Returns how many whole permits accrue in the given number of nanoseconds.
	 * @param nanos elapsed nanoseconds, zero or more
	 * @return whole permits, rounded down
	 */
	public long permitsIn(long nanos) {
		long whole = nanos / this.periodNanos;
		long rest = nanos % this.periodNanos;
		return LongMath.saturatedAdd(LongMath.saturatedMultiply(whole, this.permits),
				LongMath.mulDiv(rest, this.permits, this.periodNanos));
	}

	/**
	 * Returns the shortest time in which the given number of permits accrue.
	 * @param permits permits, zero or more
	 * @return nanoseconds, rounded up
	 */
	public long nanosFor(long permits) {
		long whole = permits / this.permits;
		long rest = permits % this.permits;
		return LongMath.saturatedAdd(LongMath.saturatedMultiply(whole, this.periodNanos),
				LongMath.mulDivCeil(rest, this.periodNanos, this.permits));
	}

	static long nanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	@Override
	public boolean equals(Object other) {
		return (other instanceof Rate rate) && rate.permits == this.permits && rate.periodNanos == this.periodNanos;
	}

	@Override
	public int hashCode() {
		return Long.hashCode(this.permits) * 31 + Long.hashCode(this.periodNanos);
	}

	/** Returns the rate as {@code permits/period}, in the largest whole unit of the period. */
	@Override
	public String toString() {
		long[] units = { 86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L,
				1_000L, 1L };
		String[] names = { "d", "h", "m", "s", "ms", "us", "ns" };
		for (int i = 0; i < units.length; i++) {
			if (this.periodNanos % units[i] == 0) {
				long count = this.periodNanos / units[i];
				return this.permits + "/" + ((count == 1) ? "" : count) + names[i];
			}
		}
		return this.permits + "/" + this.periodNanos + "ns";
	}

}
