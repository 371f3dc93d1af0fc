package dev.ratelimit.buffer;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one wake-up that the age check and the timed offers of a pool each keep on the scheduler.
 */
class EarliestTimerTest {

	private final ManualClock clock = new ManualClock();

	private final List<Long> ran = new ArrayList<>();

	private final EarliestTimer timer = new EarliestTimer(this.clock, (due) -> {
		this.ran.add(due);
		timer().ran(due);
	});

	private EarliestTimer timer() {
		return this.timer;
	}

	@Test
	void whenALaterWakeUpIsAskedForWhileAnEarlierIsPendingThenNothingMoreIsScheduled() {
		this.timer.atMost(100, this.clock.read());
		this.timer.atMost(500, this.clock.read());
		assertThat(this.clock.pendingTasks()).isEqualTo(1);
		this.clock.advanceNanos(100);
		assertThat(this.ran).containsExactly(this.clock.read());
	}

	@Test
	void whenAnEarlierWakeUpIsAskedForThenItIsScheduledToo() {
		long start = this.clock.read();
		this.timer.atMost(500, start);
		this.timer.atMost(100, start);
		this.clock.advanceNanos(500);
		assertThat(this.ran).containsExactly(start + 100, start + 500);
	}

	@Test
	void whenThePendingWakeUpHasRunThenALaterOneIsScheduledAgain() {
		long start = this.clock.read();
		this.timer.atMost(100, start);
		this.clock.advanceNanos(100);
		this.timer.atMost(100, this.clock.read());
		this.clock.advanceNanos(100);
		assertThat(this.ran).containsExactly(start + 100, start + 200);
	}

	@Test
	void whenTheDelayIsHugeThenItIsClampedSoThatDueTimesCannotOverflow() {
		this.timer.atMost(Long.MAX_VALUE, this.clock.read());
		this.clock.advanceNanos(EarliestTimer.MAX_DELAY_NANOS);
		assertThat(this.ran).containsExactly(this.clock.read());
	}

}
