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

	/** {@code 1 / periodNanos}, for the fast path of {@link #permitsIn}. */
	private final double inversePeriod;

	/** The longest time for which {@code nanos * permits} stays below 2^52 (exact in a double). */
	private final long maxFastNanos;

	private Rate(long permits, long periodNanos) {
		this.permits = permits;
		this.periodNanos = periodNanos;
		this.inversePeriod = 1.0 / periodNanos;
		this.maxFastNanos = (1L << 52) / permits;
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
		// rounded to six places, so that floating-point noise (72.03800000000001) does not matter
		BigDecimal rounded = BigDecimal.valueOf(permitsPerSecond).setScale(6, java.math.RoundingMode.HALF_UP);
		// the text only for an error: a per-key global limiter builds a rate like this per answer
		return decimal(rounded, 1_000_000_000L, () -> permitsPerSecond + "/s");
	}

	/**
	 * Returns {@code permits} (a decimal of at most six places) per {@code periodNanos}, as a
	 * fraction of whole numbers: {@code 2.5/1m} becomes 5 per 2 minutes.
	 */
	private static Rate decimal(BigDecimal permits, long periodNanos, java.util.function.Supplier<String> text) {
		BigDecimal stripped = permits.stripTrailingZeros();
		int scale = Math.max(0, stripped.scale());
		if (scale > 6 || stripped.signum() <= 0) {
			throw Errors.rateTooPrecise(text.get());
		}
		BigInteger whole = stripped.movePointRight(scale).toBigIntegerExact();
		if (whole.bitLength() > 62) {
			throw Errors.badRate(text.get());
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
		return decimal(new BigDecimal(number), periodNanos, () -> text);
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
	 * Returns this rate multiplied by a factor given to six decimal places, as an exact fraction:
	 * the period is kept when the permits come out whole ({@code 1000/m} scaled by 0.8 is
	 * {@code 800/m}), otherwise it grows ({@code 3/s} scaled by 0.8 is {@code 12/5s}). Use
	 * {@link #inPeriod(long)} to express a rate over a chosen period.
	 * @param factor the factor, positive
	 * @return the scaled rate
	 */
	public Rate scaled(double factor) {
		if (!(factor > 0) || Double.isInfinite(factor)) {
			throw Errors.notPositive("factor", factor);
		}
		long millionths = Math.max(1, Math.round(factor * SCALE));
		long gcd = LongMath.gcd(millionths, SCALE);
		long numerator = millionths / gcd;
		long denominator = SCALE / gcd;
		long permits = LongMath.saturatedMultiply(this.permits, numerator);
		if (permits != Long.MAX_VALUE && permits % denominator == 0) {
			return new Rate(permits / denominator, this.periodNanos); // whole: keep the period
		}
		long common = LongMath.gcd(permits, denominator);
		long period = LongMath.saturatedMultiply(this.periodNanos, denominator / common);
		if (permits == Long.MAX_VALUE || period == Long.MAX_VALUE) {
			return perSecond(Math.max(Math.round(perSecond() * factor * SCALE), 1) / (double) SCALE);
		}
		return new Rate(permits / common, period);
	}

	/**
	 * Returns this rate over another period, rounded to whole permits and at least one: how a
	 * window of that length expresses it.
	 * @param periodNanos the period in nanoseconds, positive
	 * @return permits per that period
	 */
	public Rate inPeriod(long periodNanos) {
		if (periodNanos <= 0) {
			throw Errors.notPositive("periodNanos", periodNanos);
		}
		if (periodNanos == this.periodNanos) {
			return this;
		}
		long whole = Math.max(1, Math.round((double) this.permits * periodNanos / this.periodNanos));
		return new Rate(whole, periodNanos);
	}

	/**
	 * Returns how many whole permits accrue in the given number of nanoseconds.
	 * @param nanos elapsed nanoseconds, zero or more
	 * @return whole permits, rounded down
	 */
	public long permitsIn(long nanos) {
		if (nanos >= 0 && nanos <= this.maxFastNanos) {
			// nanos * permits is below 2^52, so exact as a double: the quotient by the period, taken
			// as a product with its inverse, is off by at most one, which the remainder corrects
			// (a division costs tens of cycles, and a decision on a saturated bucket makes one)
			long product = nanos * this.permits;
			long quotient = (long) (product * this.inversePeriod);
			long remainder = product - quotient * this.periodNanos;
			while (remainder < 0) {
				quotient--;
				remainder += this.periodNanos;
			}
			while (remainder >= this.periodNanos) {
				quotient++;
				remainder -= this.periodNanos;
			}
			return quotient;
		}
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
