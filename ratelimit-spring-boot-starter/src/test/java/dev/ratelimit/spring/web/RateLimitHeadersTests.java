package dev.ratelimit.spring.web;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Decision;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitHeadersTests {

	private static final long SECOND = 1_000_000_000L;

	@Test
	void tokenBucketQuotaIsTheCapacityAndWindowTheTimeToRefillIt() {
		assertThat(RateLimitHeaders.policy("orders", RateLimit.tokenBucket(Rate.perMinute(3)).build()))
			.isEqualTo("\"orders\";q=3;w=60");
		assertThat(RateLimitHeaders.policy("api", RateLimit.tokenBucket(Rate.perSecond(100)).capacity(200).build()))
			.isEqualTo("\"api\";q=200;w=2");
	}

	@Test
	void tokenBucketWindowIsRoundedUp() {
		// 15 permits at 10/s take 1.5 s
		assertThat(RateLimitHeaders.windowSeconds(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(15).build()))
			.isEqualTo(2);
		// one permit at 0.5/s takes 2 s
		assertThat(RateLimitHeaders.policy("slow", RateLimit.perSecond(0.5))).isEqualTo("\"slow\";q=1;w=2");
		// a burst refilled in less than a second still has a window of one
		assertThat(RateLimitHeaders.windowSeconds(RateLimit.tokenBucket(Rate.perSecond(1000)).capacity(1).build()))
			.isEqualTo(1);
	}

	@Test
	void tokenBucketWithSeveralBandwidthsIsDescribedByTheTightestOne() {
		RateLimit perSecondAndDaily = RateLimit.tokenBucket(Rate.perSecond(100))
			.capacity(200)
			.bandwidth(10_000, Rate.perDay(10_000))
			.build();
		assertThat(RateLimitHeaders.policy("api", perSecondAndDaily)).isEqualTo("\"api\";q=200;w=2");
		RateLimit dailyTighter = RateLimit.tokenBucket(Rate.perSecond(100)).bandwidth(50, Rate.perDay(50)).build();
		assertThat(RateLimitHeaders.policy("api", dailyTighter)).isEqualTo("\"api\";q=50;w=86400");
	}

	@Test
	void windowsReportTheirLimitAndLength() {
		assertThat(RateLimitHeaders.policy("fixed", RateLimit.fixedWindow(100, Duration.ofMinutes(1)).build()))
			.isEqualTo("\"fixed\";q=100;w=60");
		assertThat(RateLimitHeaders
			.policy("sliding", RateLimit.slidingWindow(600, Duration.ofHours(1)).slices(6).build()))
			.isEqualTo("\"sliding\";q=600;w=3600");
		assertThat(RateLimitHeaders.windowSeconds(RateLimit.fixedWindow(10, Duration.ofMillis(1500)).build()))
			.isEqualTo(2);
		assertThat(RateLimitHeaders.windowSeconds(RateLimit.slidingWindow(10, Duration.ofMillis(200)).slices(2).build()))
			.isEqualTo(1);
	}

	@Test
	void leakyBucketReportsThePermitsOfOnePeriod() {
		assertThat(RateLimitHeaders.policy("pace", RateLimit.leakyBucket(Rate.perSecond(5)).build()))
			.isEqualTo("\"pace\";q=5;w=1");
		assertThat(RateLimitHeaders.policy("pace", RateLimit.leakyBucket(Rate.perMinute(30)).maxPermits(10).build()))
			.isEqualTo("\"pace\";q=10;w=20");
	}

	@Test
	void concurrencyHasAQuotaButNoWindow() {
		assertThat(RateLimitHeaders.policy("db", RateLimit.concurrency(16))).isEqualTo("\"db\";q=16");
		assertThat(RateLimitHeaders.windowSeconds(RateLimit.concurrency(16))).isZero();
	}

	@Test
	void permittedCallReportsRemainingAndSecondsUntilFullRoundedUp() {
		assertThat(RateLimitHeaders.rateLimit("orders", new Decision(true, 2, 0, 20 * SECOND)))
			.isEqualTo("\"orders\";r=2;t=20");
		assertThat(RateLimitHeaders.rateLimit("orders", new Decision(true, 2, 0, 19 * SECOND + 1)))
			.isEqualTo("\"orders\";r=2;t=20");
		assertThat(RateLimitHeaders.rateLimit("orders", new Decision(true, 3, 0, 0))).isEqualTo("\"orders\";r=3;t=0");
	}

	@Test
	void unknownResetIsLeftOut() {
		// a concurrency limit with permits in flight, or a decision after a wait
		assertThat(RateLimitHeaders.rateLimit("db", new Decision(true, 7, 0, Long.MAX_VALUE)))
			.isEqualTo("\"db\";r=7");
		assertThat(RateLimitHeaders.rateLimit("db", new Decision(false, 0, Long.MAX_VALUE, Long.MAX_VALUE)))
			.isEqualTo("\"db\";r=0");
	}

	@Test
	void denialResetIsTheRetryAfter() {
		Decision denied = new Decision(false, 0, 2 * SECOND + 100_000_000L, 60 * SECOND);
		assertThat(RateLimitHeaders.rateLimit("orders", denied)).isEqualTo("\"orders\";r=0;t=3");
		assertThat(RateLimitHeaders.retryAfterSeconds(denied)).isEqualTo(3);
	}

	@Test
	void retryAfterIsWholeSecondsRoundedUpAndAtLeastOne() {
		assertThat(RateLimitHeaders.retryAfterSeconds(new Decision(false, 0, 1, 0))).isEqualTo(1);
		assertThat(RateLimitHeaders.retryAfterSeconds(new Decision(false, 0, SECOND, 0))).isEqualTo(1);
		assertThat(RateLimitHeaders.retryAfterSeconds(new Decision(false, 0, SECOND + 1, 0))).isEqualTo(2);
		assertThat(RateLimitHeaders.retryAfterSeconds(new Decision(false, 0, 3 * SECOND, 0))).isEqualTo(3);
		assertThat(RateLimitHeaders.rateLimit("orders", new Decision(false, 0, 1, 0))).isEqualTo("\"orders\";r=0;t=1");
	}

	@Test
	void retryAfterIsUnknownForConcurrencyAndForPermittedCalls() {
		assertThat(RateLimitHeaders.retryAfterSeconds(new Decision(false, 0, Long.MAX_VALUE, Long.MAX_VALUE)))
			.isEqualTo(-1);
		assertThat(RateLimitHeaders.retryAfterSeconds(new Decision(true, 1, 0, 0))).isEqualTo(-1);
	}

	@Test
	void deniedRequestForSeveralPermitsReportsWhatRemains() {
		assertThat(RateLimitHeaders.rateLimit("bulk", new Decision(false, 2, 5 * SECOND, 10 * SECOND)))
			.isEqualTo("\"bulk\";r=2;t=5");
	}

	@Test
	void namesAreStructuredFieldStrings() {
		RateLimit limit = RateLimit.concurrency(1);
		assertThat(RateLimitHeaders.policy("a\"b\\c", limit)).isEqualTo("\"a\\\"b\\\\c\";q=1");
		assertThat(RateLimitHeaders.policy("caf\u00e9\n", limit)).isEqualTo("\"caf??\";q=1");
	}

}
