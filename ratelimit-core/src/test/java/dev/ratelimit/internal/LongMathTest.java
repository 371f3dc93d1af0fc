package dev.ratelimit.internal;

import java.math.BigInteger;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.PropertyCheck;

import static org.assertj.core.api.Assertions.assertThat;

class LongMathTest {

	@Test
	void mulDivIsExactFloor() {
		PropertyCheck.forAll(1_000, (gen) -> {
			long a = gen.longs(0, Long.MAX_VALUE / 2);
			long b = gen.longs(0, Long.MAX_VALUE / 2);
			long c = gen.longs(1, Long.MAX_VALUE);
			BigInteger exact = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b)).divide(BigInteger.valueOf(c));
			long expected = (exact.bitLength() < 64) ? exact.longValue() : Long.MAX_VALUE;
			assertThat(LongMath.mulDiv(a, b, c)).as("%d * %d / %d", a, b, c).isEqualTo(expected);
		});
	}

	@Test
	void mulDivCeilRoundsUp() {
		PropertyCheck.forAll(1_000, (gen) -> {
			long a = gen.longs(0, 1L << 40);
			long b = gen.longs(0, 1L << 40);
			long c = gen.longs(1, 1L << 40);
			BigInteger[] division = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b))
				.divideAndRemainder(BigInteger.valueOf(c));
			BigInteger ceiling = division[0].add(BigInteger.valueOf(division[1].signum() == 0 ? 0 : 1));
			boolean saturated = division[0].bitLength() >= 64 || division[0].longValue() == Long.MAX_VALUE;
			long expected = saturated ? Long.MAX_VALUE : ceiling.longValue();
			assertThat(LongMath.mulDivCeil(a, b, c)).as("ceil(%d * %d / %d)", a, b, c).isEqualTo(expected);
		});
	}

}
