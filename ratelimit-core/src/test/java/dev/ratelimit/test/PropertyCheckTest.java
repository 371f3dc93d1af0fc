package dev.ratelimit.test;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class PropertyCheckTest {

	@Test
	void aFailingPropertyNamesTheSeedThatReplaysIt() {
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> PropertyCheck.forAll(1_000, (gen) -> assertThat(gen.longs(0, 100)).isLessThan(100)))
			.withMessageContaining("-Dratelimit.seed=");
	}

	@Test
	void oneSeedDrawsTheSameValuesAndBoundsAreKept() {
		List<Long> first = new PropertyCheck.Gen(42).lists(5, 5, (gen) -> gen.longs(-3, Long.MAX_VALUE));
		List<Long> again = new PropertyCheck.Gen(42).lists(5, 5, (gen) -> gen.longs(-3, Long.MAX_VALUE));
		assertThat(first).isEqualTo(again).allSatisfy((value) -> assertThat(value).isGreaterThanOrEqualTo(-3));
		PropertyCheck.forAll(500, (gen) -> assertThat(gen.ints(7, 9)).isBetween(7, 9));
	}

}
