package dev.ratelimit.rules;

import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class LimitRuleTest {

	@Test
	void aChangeSaysWhatItSetsAndAClearSaysCleared() {
		assertThat(LimitRule.change("orders", Rate.parse("50/1s"), 60L, "alice", "why").describeChange())
			.isEqualTo("rate 50/s, capacity 60");
		assertThat(LimitRule.change("orders", null, 60L, "alice", "").describeChange()).isEqualTo("capacity 60");
		LimitRule clear = LimitRule.clear("orders", "alice", "over");
		assertThat(clear.isCleared()).isTrue();
		assertThat(clear.describeChange()).isEqualTo("cleared");
		assertThat(clear.rateOverride()).isEmpty();
		LimitRule off = LimitRule.change("orders", null, null, false, "alice", "INC-7");
		assertThat(off.isCleared()).isFalse();
		assertThat(off.switchesOff()).isTrue();
		assertThat(off.describeChange()).isEqualTo("switched off");
		assertThat(LimitRule.change("orders", Rate.parse("5/1s"), null, true, "alice", "").enabled())
			.as("on is the default: not written").isNull();
	}

	@Test
	void aRuleThatChangesNothingOrHasBadFieldsIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> LimitRule.change("orders", null, null, "alice", ""))
			.withMessageContaining("changes nothing");
		assertThatIllegalArgumentException().isThrownBy(() -> LimitRule.change("orders", null, null, true, "alice", ""))
			.withMessageContaining("changes nothing");
		assertThatIllegalArgumentException().isThrownBy(() -> LimitRule.change("orders", null, 0L, "alice", ""))
			.withMessageContaining("capacity must be positive");
		assertThatIllegalArgumentException().isThrownBy(() -> LimitRule.change(" ", null, 1L, "alice", ""))
			.withMessageContaining("limiter must not be blank");
		assertThatIllegalArgumentException().isThrownBy(() -> LimitRule.change("orders", null, 1L, " ", ""))
			.withMessageContaining("author must not be blank");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> LimitRule.change("orders", null, 1L, "alice", "line one\nline two"))
			.withMessageContaining("reason holds a control character");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> LimitRule.change("o".repeat(LimitRule.MAX_NAME_LENGTH + 1), null, 1L, "alice", ""))
			.withMessageContaining("longer than the 200 allowed");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new LimitRule("orders", -1, null, 1L, null, null, "a", "", Instant.EPOCH, "i", ""))
			.withMessageContaining("version must be zero or more");
	}

}
