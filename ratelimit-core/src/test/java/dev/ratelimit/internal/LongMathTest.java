package dev.ratelimit.internal;

import java.math.BigInteger;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

import static org.assertj.core.api.Assertions.assertThat;

class LongMathTest {

	@Property
	void mulDivIsExactFloor(@ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 2) long a,
			@ForAll @LongRange(min = 0, max = Long.MAX_VALUE / 2) long b,
			@ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long c) {
		BigInteger exact = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b)).divide(BigInteger.valueOf(c));
		long expected = (exact.bitLength() < 64) ? exact.longValue() : Long.MAX_VALUE;
		assertThat(LongMath.mulDiv(a, b, c)).isEqualTo(expected);
	}

	@Property
	void mulDivCeilRoundsUp(@ForAll @LongRange(min = 0, max = 1L << 40) long a,
			@ForAll @LongRange(min = 0, max = 1L << 40) long b, @ForAll @LongRange(min = 1, max = 1L << 40) long c) {
		BigInteger[] division = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b)).divideAndRemainder(BigInteger.valueOf(c));
		BigInteger ceiling = division[0].add(BigInteger.valueOf(division[1].signum() == 0 ? 0 : 1));
		boolean saturated = division[0].bitLength() >= 64 || division[0].longValue() == Long.MAX_VALUE;
		long expected = saturated ? Long.MAX_VALUE : ceiling.longValue();
		assertThat(LongMath.mulDivCeil(a, b, c)).isEqualTo(expected);
	}

}
