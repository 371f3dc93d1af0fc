package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class AllOrNothingTest {

	private final ManualClock clock = new ManualClock();

	private final List<String> heard = new ArrayList<>();

	private RateLimiter limiter(String name, long perSecond) {
		return RateLimiter.builder(name, RateLimit.tokenBucket(Rate.perSecond(perSecond)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.listener(new RateLimiterListener() {
				@Override
				public void onPermitted(long permits) {
					AllOrNothingTest.this.heard.add(name + " permitted " + permits);
				}

				@Override
				public void onRejected(long permits) {
					AllOrNothingTest.this.heard.add(name + " rejected " + permits);
				}
			})
			.build();
	}

	@Test
	void eachLimiterTakesItsOwnCount() {
		RateLimiter requests = limiter("requests", 10);
		RateLimiter bytes = limiter("bytes", 1000);
		AllOrNothing.Outcome outcome = AllOrNothing.decide(List.of(requests, bytes), new long[] { 1, 600 }, true);

		assertThat(outcome.permitted()).isTrue();
		assertThat(outcome.denying()).isEqualTo(-1);
		assertThat(outcome.each()).extracting(Decision::remaining).containsExactly(9L, 400L);
		assertThat(outcome.decision().remaining()).isEqualTo(9);
		assertThat(this.heard).containsExactly("requests permitted 1", "bytes permitted 600");
	}

	@Test
	void aDenialGivesBackWhatTheEarlierLimitersGave() {
		RateLimiter requests = limiter("requests", 10);
		RateLimiter bytes = limiter("bytes", 1000);
		assertThat(AllOrNothing.decide(List.of(requests, bytes), new long[] { 1, 600 }, false).permitted()).isTrue();
		this.heard.clear();

		AllOrNothing.Outcome outcome = AllOrNothing.decide(List.of(requests, bytes), new long[] { 1, 600 }, false);

		assertThat(outcome.permitted()).isFalse();
		assertThat(outcome.denying()).isEqualTo(1);
		assertThat(outcome.each()).isNull();
		// 200 bytes missing at 1,000 a second
		assertThat(outcome.decision().retryAfter()).isEqualTo(Duration.ofMillis(200));
		assertThat(outcome.decision().remaining()).isEqualTo(400);
		assertThat(requests.snapshot().available()).isEqualTo(9);
		assertThat(this.heard).containsExactly("bytes rejected 600");
	}

	@Test
	void aReservationWaitsForTheSlowestAndCanBeGivenBack() {
		RateLimiter requests = limiter("requests", 10);
		RateLimiter bytes = limiter("bytes", 1000);
		List<RateLimiter> both = List.of(requests, bytes);
		assertThat(AllOrNothing.decide(both, new long[] { 10, 500 }, false).permitted()).isTrue();

		AllOrNothing.Reservation reservation = AllOrNothing.reserve(both, new long[] { 2, 100 },
				Duration.ofSeconds(1).toNanos());
		assertThat(reservation.reserved()).isTrue();
		// two requests take 200 ms to refill; the bytes were there
		assertThat(reservation.waitNanos()).isEqualTo(Duration.ofMillis(200).toNanos());

		AllOrNothing.refund(both, new long[] { 2, 100 });
		assertThat(requests.snapshot().available()).isZero();
		assertThat(bytes.snapshot().available()).isEqualTo(500);

		AllOrNothing.Reservation tooLong = AllOrNothing.reserve(both, new long[] { 2, 100 },
				Duration.ofMillis(100).toNanos());
		assertThat(tooLong.reserved()).isFalse();
		assertThat(tooLong.denying()).isZero();
		assertThat(tooLong.denial().retryAfter()).isEqualTo(Duration.ofMillis(200));
		assertThat(bytes.snapshot().available()).isEqualTo(500);
	}

	@Test
	void aDenialIsDescribedWithoutTakingAnything() {
		RateLimiter requests = limiter("requests", 10);
		assertThat(RateLimiterContractTest.drain(requests)).isEqualTo(10);
		Decision denial = AllOrNothing.denial(requests, 3);
		assertThat(denial.permitted()).isFalse();
		assertThat(denial.retryAfter()).isEqualTo(Duration.ofMillis(300));
		this.clock.advance(Duration.ofMillis(300));
		assertThat(requests.tryAcquire(3)).isTrue();
	}

	@Test
	void aRefundableLimiterOfYourOwnTakesPart() {
		CountingLimiter own = new CountingLimiter("own", 5);
		RateLimiter requests = limiter("requests", 10);
		AllOrNothing.Outcome permitted = AllOrNothing.decide(List.of(own, requests), new long[] { 4, 1 }, true);
		assertThat(permitted.permitted()).isTrue();
		assertThat(permitted.each()).extracting(Decision::remaining).containsExactly(1L, 9L);

		AllOrNothing.Outcome denied = AllOrNothing.decide(List.of(requests, own), new long[] { 1, 2 }, false);
		assertThat(denied.denying()).isEqualTo(1);
		assertThat(requests.snapshot().available()).isEqualTo(9);
		assertThat(own.available).hasValue(1);
		AllOrNothing.refund(List.of(own), new long[] { 4 });
		assertThat(own.available).hasValue(5);
	}

	@Test
	void badArgumentsAreNamed() {
		RateLimiter requests = limiter("requests", 10);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AllOrNothing.decide(List.of(requests), new long[] { 1, 1 }, false))
			.withMessage("one permit count per limiter is needed: 1 limiters, 2 counts");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AllOrNothing.decide(List.of(requests), new long[] { 11 }, false))
			.withMessageStartingWith("permits (11) exceed the capacity (10) of limiter 'requests'");
		assertThat(requests.snapshot().available()).isEqualTo(10);
	}

	@Test
	void refundGivesBackToOneLimiter() {
		RateLimiter requests = limiter("requests", 10);
		assertThat(requests.tryAcquire(4)).isTrue();
		((RefundableRateLimiter) requests).refund(4);
		assertThat(requests.snapshot().available()).isEqualTo(10);
		assertThatIllegalArgumentException().isThrownBy(() -> ((RefundableRateLimiter) requests).refund(0))
			.withMessageContaining("'requests'");
	}

}
