package dev.ratelimit.spring.web;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Decision;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitHeaderValuesTests {

	private static final long SECOND = 1_000_000_000L;

	private static final RateLimit PER_MINUTE = RateLimit.tokenBucket(Rate.perMinute(3)).build();

	private static final RateLimit DAILY = RateLimit.fixedWindow(1000, Duration.ofDays(1)).build();

	@Test
	void nothingRecordedMeansNoFields() {
		RateLimitHeaderValues values = new RateLimitHeaderValues();
		assertThat(values.rateLimit()).isNull();
		assertThat(values.policy()).isNull();
	}

	@Test
	void severalLimitsAreMembersOfOneFieldInTheOrderTaken() {
		RateLimitHeaderValues values = new RateLimitHeaderValues()
			.record("orders", PER_MINUTE, new Decision(true, 2, 0, 20 * SECOND))
			.record("daily", DAILY, new Decision(true, 999, 0, 3600 * SECOND));
		assertThat(values.policy()).isEqualTo("\"orders\";q=3;w=60, \"daily\";q=1000;w=86400");
		assertThat(values.rateLimit()).isEqualTo("\"orders\";r=2;t=20, \"daily\";r=999;t=3600");
	}

	@Test
	void aLaterDecisionOfTheSameLimiterReplacesTheEarlierInPlace() {
		RateLimitHeaderValues values = new RateLimitHeaderValues()
			.record("orders", PER_MINUTE, new Decision(true, 2, 0, 20 * SECOND))
			.record("daily", DAILY, new Decision(true, 999, 0, 3600 * SECOND))
			.record("orders", PER_MINUTE, new Decision(false, 0, 5 * SECOND, 60 * SECOND));
		assertThat(values.rateLimit()).isEqualTo("\"orders\";r=0;t=5, \"daily\";r=999;t=3600");
		assertThat(values.policy()).isEqualTo("\"orders\";q=3;w=60, \"daily\";q=1000;w=86400");
	}

	@Test
	void anUnknownLimitHasNoPolicyMember() {
		RateLimitHeaderValues values = new RateLimitHeaderValues().record("custom", null,
				new Decision(false, 0, SECOND, SECOND));
		assertThat(values.policy()).isNull();
		assertThat(values.rateLimit()).isEqualTo("\"custom\";r=0;t=1");
		values.record("orders", PER_MINUTE, new Decision(true, 1, 0, 40 * SECOND));
		assertThat(values.policy()).isEqualTo("\"orders\";q=3;w=60");
	}

}
