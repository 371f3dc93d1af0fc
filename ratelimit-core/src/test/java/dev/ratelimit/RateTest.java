package dev.ratelimit;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class RateTest {

	@ParameterizedTest
	@CsvSource({ "100/s, 100, 1000000000", "100/1s, 100, 1000000000", "5000/10m, 5000, 600000000000",
			"10000/1d, 10000, 86400000000000", "0.5/s, 1, 2000000000", "2.5/1m, 5, 120000000000",
			"7/250ms, 7, 250000000", "1000.0/s, 1000, 1000000000", "3 / 2h, 3, 7200000000000",
			"0.000001/s, 1, 1000000000000000" })
	void parsesPermitsPerPeriod(String text, long permits, long periodNanos) {
		Rate rate = Rate.parse(text);
		assertThat(rate.permits()).isEqualTo(permits);
		assertThat(rate.periodNanos()).isEqualTo(periodNanos);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "100", "/s", "100/", "100/x", "-1/s", "0/s", "1/0s", "abc/s", "1.1234567/s" })
	void rejectsTextThatIsNotARate(String text) {
		assertThatIllegalArgumentException().isThrownBy(() -> Rate.parse(text))
			.withMessageMatching("(rate|permits) .*(not understood|must be).*");
	}

	@Test
	void badTextNamesTheFormat() {
		assertThatIllegalArgumentException().isThrownBy(() -> Rate.parse("fast"))
			.withMessage("rate 'fast' is not understood: write permits/period, for example 100/s, 100/1s, 5000/1m, "
					+ "0.5/s or 10000/1d");
	}

	@Test
	void zeroPermitsNameTheField() {
		assertThatIllegalArgumentException().isThrownBy(() -> Rate.of(0, Duration.ofSeconds(1)))
			.withMessage("permits must be positive, but was 0");
		assertThatIllegalArgumentException().isThrownBy(() -> Rate.of(5, Duration.ZERO))
			.withMessage("period must be a positive duration, but was PT0S");
		assertThatIllegalArgumentException().isThrownBy(() -> Rate.perSecond(-2))
			.withMessage("permitsPerSecond must be positive, but was -2.0");
	}

	@Test
	void fractionalRatesAreExact() {
		Rate half = Rate.perSecond(0.5);
		assertThat(half.permitsIn(Duration.ofSeconds(2).toNanos())).isEqualTo(1);
		assertThat(half.permitsIn(Duration.ofSeconds(2).toNanos() - 1)).isZero();
		assertThat(half.nanosFor(3)).isEqualTo(Duration.ofSeconds(6).toNanos());
		assertThat(half.perSecond()).isEqualTo(0.5);
	}

	@Test
	void refillNeverDriftsOverLongSpans() {
		Rate third = Rate.of(1, Duration.ofMillis(3));
		long tenYears = Duration.ofDays(3650).toNanos();
		assertThat(third.permitsIn(tenYears)).isEqualTo(tenYears / 3_000_000L);
		// a ratio whose product overflows 64 bits still computes exactly
		Rate odd = Rate.of(123_456_789, Duration.ofDays(1));
		long day = Duration.ofDays(1).toNanos();
		assertThat(odd.permitsIn(day - 1)).isEqualTo(123_456_788);
		assertThat(odd.permitsIn(day)).isEqualTo(123_456_789);
		assertThat(odd.nanosFor(123_456_789)).isEqualTo(day);
	}

	@Test
	void scalingIsAnExactFraction() {
		assertThat(Rate.perMinute(1000).scaled(0.8)).isEqualTo(Rate.of(800, Duration.ofMinutes(1)));
		assertThat(Rate.perMinute(1000).scaled(0.8).perSecond()).isEqualTo(1000 * 0.8 / 60, within(1e-12));
		assertThat(Rate.of(3, Duration.ofSeconds(1)).scaled(0.8)).isEqualTo(Rate.of(12, Duration.ofSeconds(5)));
		assertThat(Rate.of(10, Duration.ofMinutes(1)).scaled(0.01).perSecond()).isEqualTo(0.1 / 60, within(1e-12));
	}

	@Test
	void inPeriodRoundsToWholePermitsOfThatPeriod() {
		assertThat(Rate.of(12, Duration.ofSeconds(5)).inPeriod(Duration.ofSeconds(1).toNanos()))
			.isEqualTo(Rate.of(2, Duration.ofSeconds(1)));
		assertThat(Rate.perHour(1).inPeriod(Duration.ofSeconds(1).toNanos())).isEqualTo(Rate.perSecond(1));
	}

	@Test
	void printsInTheLargestWholeUnit() {
		assertThat(Rate.perDay(10_000)).hasToString("10000/d");
		assertThat(Rate.of(5, Duration.ofMinutes(10))).hasToString("5/10m");
		assertThat(Rate.perSecond(0.5)).hasToString("1/2s");
		assertThat(Rate.perSecond(100)).hasToString("100/s");
	}

	/**
	 * permitsIn is floor(nanos x permits / period) exactly, on its fast path (a product below 2^52,
	 * divided by multiplying with the period's inverse) and past it, for random rates and times;
	 * the failing seed is printed.
	 */
	@Test
	void permitsInIsTheExactFloorOnEveryPath() {
		for (long seed = 1; seed <= 200; seed++) {
			java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
			long permits = 1 + random.nextLong((random.nextBoolean()) ? 1_000 : 1_000_000_000L);
			long period = 1 + random.nextLong((random.nextBoolean()) ? 1_000_000 : 1_000_000_000_000L);
			Rate rate = Rate.of(permits, Duration.ofNanos(period));
			for (int i = 0; i < 2_000; i++) {
				long nanos = switch (random.nextInt(4)) {
					case 0 -> random.nextLong(1_000_000);
					case 1 -> random.nextLong(1_000_000_000_000L);
					case 2 -> (1L << 52) / rate.permits() + random.nextLong(-3, 4); // the fast path's edge
					default -> random.nextLong(Long.MAX_VALUE);
				};
				if (nanos < 0) {
					continue;
				}
				java.math.BigInteger exact = java.math.BigInteger.valueOf(nanos)
					.multiply(java.math.BigInteger.valueOf(rate.permits()))
					.divide(java.math.BigInteger.valueOf(rate.periodNanos()));
				long expected = (exact.bitLength() <= 63) ? exact.longValue() : Long.MAX_VALUE;
				assertThat(rate.permitsIn(nanos)).as("seed %d: %s in %d ns", seed, rate, nanos).isEqualTo(expected);
			}
		}
	}

}
