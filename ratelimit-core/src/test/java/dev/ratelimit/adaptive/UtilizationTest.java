package dev.ratelimit.adaptive;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Utilization signals with the default watermarks (decrease 10% above 0.9, recovery step below
 * 0.5) on a ceiling of 1000/s.
 */
class UtilizationTest {

	private static final Duration INTERVAL = Duration.ofSeconds(5);

	private final ManualClock clock = new ManualClock();

	private final Recorder recorder = new Recorder();

	private final AdaptiveController controller = AdaptiveController
		.builder("search", Rate.perSecond(1000), this.recorder)
		.ticker(this.clock)
		.listener(this.recorder)
		.build();

	private String rate() {
		return Recorder.perSecond(this.controller.state().rate());
	}

	@Test
	void highUtilizationDecreasesByTenPercent() {
		this.controller.onUtilization(0.95);
		assertThat(this.recorder.events).containsExactly("UTILIZATION 1000/s -> 900/s NORMAL");
		assertThat(this.controller.state().lastDetail()).isEqualTo("utilization 0.95");
		assertThat(this.controller.state().decreases()).isOne();
	}

	@Test
	void utilizationAtTheHighWatermarkIsNotAboveIt() {
		this.controller.onUtilization(0.9);
		assertThat(this.recorder.events).isEmpty();
	}

	@Test
	void overcommittedUtilizationIsAccepted() {
		this.controller.onUtilization(1.3);
		assertThat(rate()).isEqualTo("900");
	}

	@Test
	void highUtilizationHasACooldown() {
		this.controller.onUtilization(0.95);
		this.clock.advance(Duration.ofMillis(999));
		this.controller.onUtilization(0.95);
		assertThat(rate()).isEqualTo("900");
		this.clock.advance(Duration.ofMillis(1));
		this.controller.onUtilization(0.95);
		assertThat(this.recorder.appliedPerSecond()).containsExactly("900", "810");
	}

	@Test
	void itsCooldownIsSeparateFromTheOneOfReduce() {
		this.controller.reduce("429");
		this.controller.onUtilization(0.95);
		this.controller.reduce("429");
		this.controller.onUtilization(0.95);
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "450");
	}

	@Test
	void highUtilizationHoldsRecovery() {
		this.controller.reduce("429");
		this.clock.advance(Duration.ofSeconds(3));
		this.controller.onUtilization(0.95);
		this.clock.advance(Duration.ofSeconds(3));
		this.controller.evaluate();
		assertThat(rate()).isEqualTo("450");
	}

	@Test
	void lowUtilizationTakesARecoveryStepAtOnceWhenDue() {
		this.controller.reduce("429");
		this.controller.onUtilization(0.2);
		assertThat(rate()).isEqualTo("500");
		this.clock.advance(INTERVAL);
		this.controller.onUtilization(0.2);
		assertThat(this.recorder.events).containsExactly("DECREASE_SIGNAL 1000/s -> 500/s NORMAL",
				"UTILIZATION 500/s -> 600/s NORMAL");
		assertThat(this.controller.state().increases()).isOne();
	}

	@Test
	void lowUtilizationAndEvaluateShareTheRecoveryInterval() {
		this.controller.reduce("429");
		this.clock.advance(INTERVAL);
		this.controller.onUtilization(0.2);
		this.controller.evaluate();
		this.controller.onUtilization(0.2);
		assertThat(rate()).isEqualTo("600");
		this.clock.advance(INTERVAL);
		this.controller.evaluate();
		this.controller.onUtilization(0.2);
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "600", "700");
	}

	@Test
	void utilizationBetweenTheWatermarksDoesNothing() {
		this.controller.reduce("429");
		this.clock.advance(INTERVAL);
		this.controller.onUtilization(0.5);
		this.controller.onUtilization(0.7);
		this.controller.onUtilization(0.9);
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500");
	}

	@Test
	void lowUtilizationDoesNotRecoverUnderASeverity() {
		this.controller.onLag(6_000);
		this.clock.advance(INTERVAL);
		this.controller.onUtilization(0.1);
		assertThat(rate()).isEqualTo("800");
	}

	@Test
	void watermarksAndFactorAreConfigurable() {
		AdaptiveController custom = AdaptiveController.builder("search", Rate.perSecond(1000), this.recorder)
			.config(AdaptiveConfig.builder()
				.highUtilization(0.8)
				.lowUtilization(0.3)
				.utilizationDecreaseFactor(0.75)
				.build())
			.ticker(this.clock)
			.build();
		custom.onUtilization(0.85);
		assertThat(custom.state().rate().perSecond()).isEqualTo(750.0);
		this.clock.advance(INTERVAL);
		custom.onUtilization(0.4);
		assertThat(custom.state().rate().perSecond()).isEqualTo(750.0);
		custom.onUtilization(0.29);
		assertThat(custom.state().rate().perSecond()).isEqualTo(850.0);
	}

	@ParameterizedTest
	@ValueSource(doubles = { -0.1, Double.NaN, Double.POSITIVE_INFINITY })
	void rejectsUtilizationThatIsNotAShare(double utilization) {
		assertThatIllegalArgumentException().isThrownBy(() -> this.controller.onUtilization(utilization))
			.withMessage("utilization must be a finite number, zero or more, but was " + utilization
					+ ": report the share of capacity in use, 1.0 when fully used");
	}

	@Test
	void rejectsNegativeUtilizationWithTheExactMessage() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.controller.onUtilization(-0.5))
			.withMessage("utilization must be a finite number, zero or more, but was -0.5: report the share of "
					+ "capacity in use, 1.0 when fully used");
	}

}
