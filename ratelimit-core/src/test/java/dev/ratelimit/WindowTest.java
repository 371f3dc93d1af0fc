package dev.ratelimit;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

class WindowTest {

	private final ManualClock clock = new ManualClock();

	private RateLimiter limiter(RateLimit limit) {
		return RateLimiter.builder("window", limit).ticker(this.clock).scheduler(this.clock).build();
	}

	@Test
	void fixedWindowRestartsTheCountAtEachBoundary() {
		RateLimiter limiter = limiter(RateLimit.fixedWindow(5, Duration.ofSeconds(1)).build());
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
		this.clock.advance(Duration.ofMillis(999));
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
	}

	@Test
	void fixedWindowDoesNotCarryUnusedPermitsOver() {
		RateLimiter limiter = limiter(RateLimit.fixedWindow(5, Duration.ofSeconds(1)).build());
		this.clock.advance(Duration.ofSeconds(10));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
	}

	@Test
	void fixedWindowAllowsTwiceTheLimitAcrossABoundary() {
		// the known weakness of fixed windows, which the sliding window removes
		RateLimiter limiter = limiter(RateLimit.fixedWindow(5, Duration.ofSeconds(1)).build());
		this.clock.advance(Duration.ofMillis(990));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
		this.clock.advance(Duration.ofMillis(20));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
	}

	@Test
	void slidingWindowCountsTheLastWindowAcrossBoundaries() {
		RateLimiter limiter = limiter(RateLimit.slidingWindow(5, Duration.ofSeconds(1)).slices(10).build());
		this.clock.advance(Duration.ofMillis(990));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
		this.clock.advance(Duration.ofMillis(20));
		assertThat(limiter.tryAcquire()).as("still within the last second").isFalse();
		Decision denied = limiter.decide(1);
		// the 5 permits sit in slice 9 (900..1000 ms); they leave when slice 19 starts, at 1,900 ms
		assertThat(denied.retryAfter()).isEqualTo(Duration.ofMillis(1900 - 1010));
		this.clock.advance(denied.retryAfter());
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(5);
	}

	@Test
	void slidingWindowFreesPermitsSliceBySlice() {
		RateLimiter limiter = limiter(RateLimit.slidingWindow(4, Duration.ofSeconds(4)).slices(4).build());
		for (int second = 0; second < 4; second++) {
			assertThat(limiter.tryAcquire()).isTrue();
			this.clock.advance(Duration.ofSeconds(1));
		}
		assertThat(limiter.tryAcquire()).as("the first slice just left the window").isTrue();
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofSeconds(1));
		assertThat(limiter.tryAcquire()).isTrue();
		assertThat(limiter.tryAcquire()).isFalse();
	}

	@Test
	void slidingWindowSkipsIdleSlices() {
		RateLimiter limiter = limiter(RateLimit.slidingWindow(10, Duration.ofSeconds(1)).slices(10).build());
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(10);
		this.clock.advance(Duration.ofHours(1));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(10);
		assertThat(limiter.decide(1).reset()).isEqualTo(Duration.ofSeconds(1));
	}

	@Test
	void slidingWindowRateUpdateRemembersWhatWasAdmitted() {
		RateLimiter limiter = limiter(RateLimit.slidingWindow(10, Duration.ofSeconds(1)).slices(10).build());
		assertThat(limiter.tryAcquire(6)).isTrue();
		limiter.updateRate(Rate.of(8, Duration.ofSeconds(1)));
		assertThat(limiter.limit().capacity()).isEqualTo(8);
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(2);
	}

	@Test
	void fixedWindowRateUpdateKeepsTheWindowLength() {
		RateLimiter limiter = limiter(RateLimit.fixedWindow(10, Duration.ofSeconds(1)).build());
		limiter.updateRate(Rate.of(180, Duration.ofMinutes(1)));
		assertThat(limiter.limit().rate()).isEqualTo(Rate.of(3, Duration.ofSeconds(1)));
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(3);
		this.clock.advance(Duration.ofMillis(999));
		assertThat(limiter.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(limiter.tryAcquire()).isTrue();
		// a rate below one permit per window rounds up to one
		limiter.updateRate(Rate.of(1, Duration.ofHours(1)));
		assertThat(limiter.limit().capacity()).isEqualTo(1);
	}

	@Test
	void largeWindowsPrefetchAtMostOnePercent() {
		RateLimiter limiter = limiter(RateLimit.slidingWindow(10_000, Duration.ofSeconds(1)).build());
		assertThat(limiter.tryAcquire()).isTrue();
		assertThat(limiter.snapshot().details()).containsEntry("prefetched", 100L);
		assertThat(RateLimiterContractTest.drain(limiter)).isEqualTo(9_999);
	}

}
