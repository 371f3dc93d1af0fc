package dev.ratelimit.kafka.internal;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.rules.LimitRule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The rules topic's record format: what is written reads back the same, and every hostile record
 * is refused whole with what is wrong named.
 */
class RuleRecordsTest {

	private static final LimitRule RULE = LimitRule
		.change("orders", Rate.parse("50/1s"), 60L, "alice", "incident 42: the payment provider is slow")
		.published(0, Instant.parse("2026-12-04T23:00:00Z"), "instance-1", "token-bucket[100/1s capacity=100]");

	@Test
	void aRuleReadsBackAsWrittenWithTheOffsetAsItsVersion() {
		LimitRule read = RuleRecords.decode("orders", RuleRecords.encode(RULE), 18);

		assertThat(read).isEqualTo(RULE.published(18, RULE.at(), RULE.origin(), RULE.configured()));
		assertThat(new String(RuleRecords.encode(RULE), StandardCharsets.UTF_8)).startsWith("ratelimit-rule=1\n")
			.contains("rate=50/s\n", "capacity=60\n", "author=alice\n");
	}

	@Test
	void aClearingRuleHasNeitherRateNorCapacity() {
		LimitRule clear = LimitRule.clear("orders", "bob", "")
			.published(0, Instant.parse("2026-12-04T23:00:00Z"), "instance-2", "");

		LimitRule read = RuleRecords.decode("orders", RuleRecords.encode(clear), 3);

		assertThat(read.isCleared()).isTrue();
		assertThat(read.author()).isEqualTo("bob");
	}

	@Test
	void aRuleThatSwitchesTheLimiterOffSaysSo() {
		LimitRule off = LimitRule.change("orders", null, null, false, "alice", "INC-7")
			.published(0, Instant.parse("2026-12-04T23:00:00Z"), "instance-1", "");

		LimitRule read = RuleRecords.decode("orders", RuleRecords.encode(off), 4);

		assertThat(read.switchesOff()).isTrue();
		assertThat(read.isCleared()).isFalse();
		String text = new String(RuleRecords.encode(off), StandardCharsets.UTF_8);
		assertRefused("orders", text.replace("enabled=false", "enabled=no"), "enabled must be true or false");
	}

	@Test
	void fieldsOfALaterFormatVersionAreIgnored() {
		String text = new String(RuleRecords.encode(RULE), StandardCharsets.UTF_8) + "shares=batch:0.1\n";

		assertThat(RuleRecords.decode("orders", text.getBytes(StandardCharsets.UTF_8), 1).rate())
			.isEqualTo(Rate.parse("50/1s"));
	}

	@Test
	void classSharesAreWrittenInFormat2AndALaterFormatIsRefusedWhole() {
		LimitRule shares = LimitRule
			.change("api", null, 400L, null, java.util.Map.of("batch", 0.25), "alice", "batch backlog")
			.published(0, Instant.parse("2026-12-05T01:00:00Z"), "instance-1", "token-bucket[100/1s capacity=100]");
		String text = new String(RuleRecords.encode(shares), StandardCharsets.UTF_8);

		assertThat(text).startsWith("ratelimit-rule=2\n").contains("shares=batch:0.25\n");
		LimitRule read = RuleRecords.decode("api", RuleRecords.encode(shares), 7);
		assertThat(read.shares()).containsExactly(java.util.Map.entry("batch", 0.25));
		assertThat(read.isCleared()).isFalse();
		assertThat(read.describeChange()).isEqualTo("capacity 400, minimum shares batch:0.25");
		// none: every class loses its reserve
		LimitRule none = RuleRecords.decode("api", text.replace("shares=batch:0.25", "shares=none")
			.getBytes(StandardCharsets.UTF_8), 8);
		assertThat(none.shares()).isEmpty();
		assertRefused("api", text.replace("shares=batch:0.25", "shares=batch:1.5"), "greater than 0 and less than 1");
		assertRefused("api", text.replace("shares=batch:0.25", "shares=batch:0.6,critical:0.5"), "add up to");
		assertRefused("api", text.replace("shares=batch:0.25", "shares=batch:0.1,batch:0.2"), "twice");
		assertRefused("api", text.replace("shares=batch:0.25", "shares=b a:0.1"), "not a priority class name");
		assertRefused("api", text.replace("shares=batch:0.25", "shares=batch:lots"), "is not a number");
		assertRefused("api", text.replace("shares=batch:0.25", "shares=batch"), "class:share");
		// a later format is refused whole, so the rule before it stays (as a reader of format 1,
		// from before this version, refuses format 2)
		assertRefused("api", text.replace("ratelimit-rule=2", "ratelimit-rule=3"), "format 1 or 2");
	}

	@Test
	void hostileRecordsAreRefusedWithWhatIsWrong() {
		String valid = new String(RuleRecords.encode(RULE), StandardCharsets.UTF_8);
		assertRefused("orders", "not a rule at all", "field=value");
		assertRefused("orders", "limiter=orders\nauthor=a\n", "format 1 or 2");
		assertRefused("payments", valid, "the key must be the limiter's name");
		assertRefused("orders", valid + "rate=1/1s\n", "field 'rate' twice");
		assertRefused("orders", valid.replace("rate=50/s", "rate=lots"), "is not valid");
		assertRefused("orders", valid.replace("capacity=60", "capacity=-5"), "capacity must be positive");
		assertRefused("orders", valid.replace("capacity=60", "capacity=99999999999999999999"), "is not valid");
		assertRefused("orders", valid.replace("author=alice", "author=al\rice"), "control character");
		assertRefused("orders", valid.replace("at=2026-12-04T23:00:00Z", "at=yesterday"), "is not valid");
		assertRefused("orders", valid.replace("author=alice\n", ""), "without author");
		assertRefused("orders", valid.replace("reason=", "reason=" + "x".repeat(LimitRule.MAX_REASON_LENGTH + 1)),
				"longer than");
		byte[] tooLong = new byte[RuleRecords.MAX_BYTES + 1];
		assertThatExceptionOfType(MalformedRecordException.class)
			.isThrownBy(() -> RuleRecords.decode("orders", tooLong, 1))
			.withMessageContaining("bytes, more than");
		byte[] notUtf8 = { (byte) 0xC3, (byte) 0x28 };
		assertThatExceptionOfType(MalformedRecordException.class)
			.isThrownBy(() -> RuleRecords.decode("orders", notUtf8, 1))
			.withMessageContaining("not UTF-8");
	}

	private static void assertRefused(String key, String text, String problem) {
		assertThatExceptionOfType(MalformedRecordException.class)
			.isThrownBy(() -> RuleRecords.decode(key, text.getBytes(StandardCharsets.UTF_8), 1))
			.withMessageContaining(problem);
	}

}
