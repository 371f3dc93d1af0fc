package dev.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class CompositeTest {

	private final ManualClock clock = new ManualClock();

	private RateLimiter limiter(String name, RateLimit limit) {
		return RateLimiter.builder(name, limit).ticker(this.clock).scheduler(this.clock).build();
	}

	@Test
	void takesFromEveryTier() {
		RateLimiter global = limiter("global", RateLimit.tokenBucket(Rate.perSecond(100)).build());
		RateLimiter topic = limiter("topic", RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiter composite = RateLimiter.composite("orders", List.of(topic, global));
		assertThat(RateLimiterContractTest.drain(composite)).isEqualTo(10);
		assertThat(global.snapshot().available()).isEqualTo(90);
		assertThat(topic.snapshot().available()).isZero();
	}

	/** Every kind of tier, denied by a later one, is left exactly as it was. */
	@ParameterizedTest
	@ValueSource(strings = { "token-bucket", "big-token-bucket", "fixed-window", "sliding-window", "leaky-bucket",
			"concurrency", "two-bandwidths" })
	void aDeniedCompositeLeavesEveryTierAsItWas(String kind) {
		RateLimit limit = switch (kind) {
			case "token-bucket" -> RateLimit.tokenBucket(Rate.perSecond(10)).build();
			case "big-token-bucket" -> RateLimit.tokenBucket(Rate.perSecond(10_000)).build();
			case "fixed-window" -> RateLimit.fixedWindow(10, Duration.ofSeconds(1)).build();
			case "sliding-window" -> RateLimit.slidingWindow(5000, Duration.ofSeconds(1)).build();
			case "leaky-bucket" -> RateLimit.leakyBucket(Rate.perSecond(10)).build();
			case "concurrency" -> RateLimit.concurrency(10);
			default -> RateLimit.tokenBucket(Rate.perSecond(10)).bandwidth(20, Rate.perMinute(20)).build();
		};
		RateLimiter first = limiter("first", limit);
		RateLimiter second = limiter("second", limit);
		RateLimiter denying = limiter("denying", RateLimit.tokenBucket(Rate.perSecond(1)).build());
		// the same history without the composite, to compare with
		RateLimiter firstControl = limiter("first", limit);
		RateLimiter secondControl = limiter("second", limit);
		assertThat(first.tryAcquire()).isTrue(); // some prior state, and for big buckets a prefetch
		assertThat(firstControl.tryAcquire()).isTrue();
		assertThat(denying.tryAcquire()).isTrue();
		RateLimiter composite = RateLimiter.composite("all", List.of(first, second, denying));

		assertThat(composite.tryAcquire()).isFalse();

		for (RateLimiter[] pair : new RateLimiter[][] { { first, firstControl }, { second, secondControl } }) {
			RateLimiterSnapshot tier = pair[0].snapshot();
			RateLimiterSnapshot control = pair[1].snapshot();
			assertThat(tier.available()).isEqualTo(control.available());
			assertThat(tier.utilization()).isEqualTo(control.utilization());
			assertThat(pair[0].decide(1).retryAfterNanos()).isEqualTo(pair[1].decide(1).retryAfterNanos());
			assertThat(RateLimiterContractTest.drain(pair[0])).isEqualTo(RateLimiterContractTest.drain(pair[1]));
		}
	}

	@Test
	void decisionReportsTheTightestTier() {
		RateLimiter perSecond = limiter("second", RateLimit.tokenBucket(Rate.perSecond(5)).build());
		RateLimiter perMinute = limiter("minute", RateLimit.tokenBucket(Rate.perMinute(7)).build());
		RateLimiter composite = RateLimiter.composite("both", List.of(perSecond, perMinute));
		Decision first = composite.decide(5);
		assertThat(first.permitted()).isTrue();
		assertThat(first.remaining()).isZero();
		Decision denied = composite.decide(3);
		assertThat(denied.permitted()).isFalse();
		// the per-second tier has room in 600 ms, the per-minute tier only in 8.57 s
		assertThat(denied.retryAfter()).isEqualTo(Duration.ofNanos(Rate.perMinute(7).nanosFor(1)));
	}

	@Test
	void waitsForTheSlowestTier() {
		RateLimiter perSecond = limiter("second", RateLimit.tokenBucket(Rate.perSecond(10)).build());
		RateLimiter concurrency = limiter("bulkhead", RateLimit.concurrency(100));
		RateLimiter composite = RateLimiter.composite("both", List.of(concurrency, perSecond));
		RateLimiterContractTest.drain(perSecond);
		long inFlight = ((ConcurrencyLimiter) concurrency).inFlight();
		CompletableFuture<Boolean> future = composite.acquireAsync(1, Duration.ofSeconds(1));
		this.clock.advance(Duration.ofMillis(100));
		assertThat(future).isCompletedWithValue(true);
		assertThat(((ConcurrencyLimiter) concurrency).inFlight()).isEqualTo(inFlight + 1);
	}

	@Test
	void capacityIsTheSmallestOfTheTiers() {
		RateLimiter big = limiter("big", RateLimit.tokenBucket(Rate.perSecond(100)).build());
		RateLimiter small = limiter("small", RateLimit.tokenBucket(Rate.perSecond(3)).build());
		RateLimiter composite = RateLimiter.composite("both", List.of(big, small));
		assertThatIllegalArgumentException().isThrownBy(() -> composite.tryAcquire(4))
			.withMessageStartingWith("permits (4) exceed the capacity (3) of limiter 'both'");
	}

	@Test
	void tiersMustBeAbleToGiveBackPermits() {
		RateLimiter foreign = new RateLimiter() {
			@Override
			public String name() {
				return "foreign";
			}

			@Override
			public RateLimit limit() {
				return RateLimit.perSecond(1);
			}

			@Override
			public boolean tryAcquire(long permits) {
				return true;
			}

			@Override
			public boolean acquire(long permits, Duration timeout) {
				return true;
			}

			@Override
			public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
				return CompletableFuture.completedFuture(true);
			}

			@Override
			public Decision decide(long permits) {
				return new Decision(true, 0, 0, 0);
			}

			@Override
			public RateLimiterSnapshot snapshot() {
				return null;
			}

			@Override
			public void updateRate(Rate rate) {
			}

			@Override
			public void reset() {
			}
		};
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RateLimiter.composite("mixed", List.of(RateLimiter.of("ours", RateLimit.perSecond(1)),
					foreign)))
			.withMessage("limiter 'foreign' cannot give back permits, so permits taken from it could not be returned "
					+ "when another limiter denies: create it with RateLimiter.of, RateLimiter.builder or a "
					+ "RateLimiterRegistry, or implement RefundableRateLimiter");
		assertThatIllegalArgumentException().isThrownBy(() -> RateLimiter.composite("none", List.of()))
			.withMessage("a composite limiter needs at least one tier, but none were given");
	}

	@Test
	void aRefundableLimiterOfYourOwnIsATier() {
		CountingLimiter own = new CountingLimiter("own", 5);
		RateLimiter ours = limiter("ours", RateLimit.tokenBucket(Rate.perSecond(3)).build());
		RateLimiter composite = RateLimiter.composite("mixed", List.of(own, ours));

		assertThat(RateLimiterContractTest.drain(composite)).isEqualTo(3);
		// the fourth call took one of its permits, and got it back when ours denied
		assertThat(own.available).hasValue(2);

		this.clock.advance(Duration.ofSeconds(1));
		assertThat(RateLimiterContractTest.drain(composite)).isEqualTo(2);
		assertThat(own.available).hasValue(0);
		// when it denies, ours is given back what it gave first
		RateLimiter reversed = RateLimiter.composite("reversed", List.of(ours, own));
		long oursBefore = ours.snapshot().available();
		assertThat(reversed.tryAcquire()).isFalse();
		assertThat(ours.snapshot().available()).isEqualTo(oursBefore);
	}

	@Test
	void aWaitOnARefundableLimiterOfYourOwnComesFromItsSnapshot() {
		CountingLimiter own = new CountingLimiter("own", 60);
		own.available.set(0);
		RateLimiter composite = RateLimiter.composite("mixed",
				List.of(limiter("ours", RateLimit.tokenBucket(Rate.perSecond(10)).build()), own));
		Decision denied = composite.decide(2);
		assertThat(denied.permitted()).isFalse();
		// 60 per minute: two permits in two seconds
		assertThat(denied.retryAfter()).isEqualTo(Duration.ofSeconds(2));
		assertThat(composite.snapshot().details()).extractingByKey("tierOrder").isEqualTo(List.of("ours", "own"));
	}

	@Test
	void aLimiterOfYourOwnThatDeniesWithPermitsLeftIsAskedAgainAfterThePermitsTime() {
		CountingLimiter own = new CountingLimiter("own", 60);
		own.refusing = true;
		RateLimiter composite = RateLimiter.composite("mixed", List.of(own));
		Decision denied = composite.decide(1);
		assertThat(denied.permitted()).isFalse();
		// its snapshot shows 60 left: the wait is one permit at 60 a minute, not a busy poll
		assertThat(denied.retryAfter()).isEqualTo(Duration.ofSeconds(1));
	}

}
