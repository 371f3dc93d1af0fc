package dev.ratelimit.internal;

/**
 * Exact integer arithmetic for converting between elapsed nanoseconds and permits without
 * overflow or drift. A rate is kept as a reduced fraction {@code permits / periodNanos}, so
 * {@code permits(elapsed) = floor(elapsed * permits / periodNanos)} is computed exactly however
 * long a limiter lives (up to the range of {@code long}).
 */
public final class LongMath {

	private LongMath() {
	}

	/**
	 * Returns {@code floor(a * b / c)} for non-negative {@code a}, {@code b} and positive {@code c},
	 * exactly, when the result fits in a {@code long}. Uses 128-bit arithmetic when the product
	 * overflows.
	 */
	public static long mulDiv(long a, long b, long c) {
		long high = Math.multiplyHigh(a, b);
		long low = a * b;
		if (high == 0 && low >= 0) {
			return low / c;
		}
		if (Long.compareUnsigned(high, c) >= 0) {
			return Long.MAX_VALUE; // the quotient does not fit: saturate
		}
		// Schoolbook binary division of the unsigned 128-bit (high:low) by c. The remainder stays
		// below c < 2^63, so shifting it left by one never loses a bit as an unsigned value.
		long remainder = high;
		long quotient = 0;
		for (int bit = 63; bit >= 0; bit--) {
			remainder = (remainder << 1) | ((low >>> bit) & 1);
			if (Long.compareUnsigned(remainder, c) >= 0) {
				remainder -= c;
				quotient |= 1L << bit;
			}
		}
		return (quotient < 0) ? Long.MAX_VALUE : quotient;
	}

	/** Returns {@code ceil(a * b / c)} under the same conditions as {@link #mulDiv}. */
	public static long mulDivCeil(long a, long b, long c) {
		long floor = mulDiv(a, b, c);
		if (floor == Long.MAX_VALUE) {
			return floor;
		}
		// a*b is a multiple of c exactly when floor * c == a * b (compared in 128 bits).
		boolean exact = Math.multiplyHigh(floor, c) == Math.multiplyHigh(a, b) && floor * c == a * b;
		return exact ? floor : floor + 1;
	}

	/** Returns {@code a + b}, or {@link Long#MAX_VALUE} when the sum overflows. */
	public static long saturatedAdd(long a, long b) {
		long sum = a + b;
		if (((a ^ sum) & (b ^ sum)) < 0) {
			return (a < 0) ? Long.MIN_VALUE : Long.MAX_VALUE;
		}
		return sum;
	}

	/** Returns {@code a * b} for non-negative arguments, or {@link Long#MAX_VALUE} on overflow. */
	public static long saturatedMultiply(long a, long b) {
		long high = Math.multiplyHigh(a, b);
		long low = a * b;
		return (high == 0 && low >= 0) ? low : Long.MAX_VALUE;
	}

	/** Greatest common divisor of two positive numbers. */
	public static long gcd(long a, long b) {
		while (b != 0) {
			long t = a % b;
			a = b;
			b = t;
		}
		return a;
	}

}
