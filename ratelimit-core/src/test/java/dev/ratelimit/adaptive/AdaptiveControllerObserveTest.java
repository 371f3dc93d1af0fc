package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

class AdaptiveControllerObserveTest {

	private final ManualClock clock = new ManualClock();

	private final List<Rate> applied = new ArrayList<>();

	private final AdaptiveController controller = AdaptiveController
		.builder("shared", Rate.perSecond(1000), this.applied::add)
		.ticker(this.clock)
		.build();

	@Test
	void aRateAppliedElsewhereIsTakenOnAndRecoveredFrom() {
		this.controller.observe(Rate.perSecond(400));
		assertThat(this.controller.state().rate().perSecond()).isEqualTo(400.0);
		assertThat(this.controller.state().lastReason()).isEqualTo(ChangeReason.SHARED);
		assertThat(this.applied).as("not applied again: it came from the shared limit").isEmpty();
		this.clock.advance(this.controller.config().recoveryInterval());
		this.controller.evaluate();
		assertThat(this.applied).hasSize(1);
		assertThat(this.applied.get(0).perSecond()).isEqualTo(500.0);
	}

	@Test
	void itsOwnChangeComingBackChangesNothing() {
		this.controller.reduce("429");
		Rate reduced = this.controller.state().rate();
		long decreases = this.controller.state().decreases();
		this.controller.observe(reduced);
		assertThat(this.controller.state().decreases()).isEqualTo(decreases);
		assertThat(this.controller.state().lastReason()).isEqualTo(ChangeReason.DECREASE_SIGNAL);
		this.clock.advance(Duration.ofMillis(1));
	}

}
