package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

class PacerTest {

	private final ManualClock clock = new ManualClock();

	private final RateLimiter pacer = RateLimiter.builder("pacer", RateLimit.leakyBucket(Rate.perSecond(5)).build())
		.ticker(this.clock)
		.scheduler(this.clock)
		.build();

	@Test
	void admitsOneRequestPerSlotWithNoBurst() {
		assertThat(this.pacer.tryAcquire()).isTrue();
		assertThat(this.pacer.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(199));
		assertThat(this.pacer.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(this.pacer.tryAcquire()).isTrue();
	}

	@Test
	void idleTimeDoesNotBuildABurst() {
		this.clock.advance(Duration.ofMinutes(10));
		assertThat(this.pacer.tryAcquire()).isTrue();
		assertThat(this.pacer.tryAcquire()).isFalse();
	}

	@Test
	void waitersAreSpacedEvenlyInArrivalOrder() {
		List<CompletableFuture<Boolean>> waiters = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			waiters.add(this.pacer.acquireAsync(1, Duration.ofSeconds(2)));
		}
		assertThat(waiters.get(0)).isCompletedWithValue(true);
		for (int slot = 1; slot < 5; slot++) {
			assertThat(waiters.get(slot)).isNotDone();
			this.clock.advance(Duration.ofMillis(200));
			assertThat(waiters.get(slot)).isCompletedWithValue(true);
			if (slot + 1 < 5) {
				assertThat(waiters.get(slot + 1)).isNotDone();
			}
		}
	}

	@Test
	void aRequestForSeveralPermitsBooksSeveralSlots() {
		assertThat(this.pacer.tryAcquire(3)).isTrue();
		assertThat(this.pacer.decide(1).retryAfter()).isEqualTo(Duration.ofMillis(600));
	}

	@Test
	void permitsBookedBeforeARateChangeAreSpacedAtTheNewRate() {
		assertThat(this.pacer.tryAcquire(5)).isTrue(); // 5 slots: one second at 5/s
		this.pacer.updateRate(Rate.perSecond(1));
		this.clock.advance(Duration.ofMillis(4999));
		assertThat(this.pacer.tryAcquire()).isFalse();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(this.pacer.tryAcquire()).isTrue();
		this.clock.advance(Duration.ofMillis(999));
		assertThat(this.pacer.tryAcquire()).isFalse();
	}

}
