package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Severity from consumer lag, with the default thresholds (warning above 5,000, critical above
 * 10,000, emergency above 20,000, back to normal below 1,000) on a ceiling of 1000/s.
 */
class LagSeverityTest {

	private static final Duration INTERVAL = Duration.ofSeconds(5);

	private final ManualClock clock = new ManualClock();

	private final Recorder recorder = new Recorder();

	private AdaptiveController controller(UnaryOperator<AdaptiveConfig.Builder> config) {
		return AdaptiveController.builder("events", Rate.perSecond(1000), this.recorder)
			.config(config.apply(AdaptiveConfig.builder()).build())
			.ticker(this.clock)
			.listener(this.recorder)
			.build();
	}

	private AdaptiveController controller() {
		return controller(UnaryOperator.identity());
	}

	private static String describe(AdaptiveController controller) {
		AdaptiveState state = controller.state();
		return state.severity() + " " + Recorder.format(state.rate());
	}

	@Test
	void severityStepsDownWithTheLagThenRecoversStepwise() {
		AdaptiveController controller = controller();
		List<String> seen = new ArrayList<>();
		for (long lag : new long[] { 0, 6_000, 12_000, 25_000, 15_000, 3_000, 500 }) {
			controller.onLag(lag);
			seen.add("lag " + lag + ": " + describe(controller));
			// evaluate between reports: no recovery while the severity is above normal
			this.clock.advance(Duration.ofSeconds(1));
			controller.evaluate();
		}
		assertThat(seen).containsExactly("lag 0: NORMAL 1000/s", "lag 6000: WARNING 800/s",
				"lag 12000: CRITICAL 100/s", "lag 25000: EMERGENCY 10/s", "lag 15000: EMERGENCY 10/s",
				"lag 3000: EMERGENCY 10/s", "lag 500: NORMAL 10/s");
		assertThat(this.recorder.events).containsExactly("LAG NORMAL -> WARNING", "LAG 1000/s -> 800/s WARNING",
				"LAG WARNING -> CRITICAL", "LAG 800/s -> 100/s CRITICAL", "LAG CRITICAL -> EMERGENCY",
				"LAG 100/s -> 10/s EMERGENCY", "LAG EMERGENCY -> NORMAL");
		this.recorder.clear();
		// back to normal one second ago: the first step comes a full interval after it
		this.clock.advance(INTERVAL.minusSeconds(2));
		controller.evaluate();
		assertThat(this.recorder.events).isEmpty();
		for (int i = 0; i < 12; i++) {
			this.clock.advance(INTERVAL);
			controller.onLag(200);
			controller.evaluate();
		}
		assertThat(this.recorder.appliedPerSecond()).containsExactly("110", "210", "310", "410", "510", "610", "710",
				"810", "910", "1000");
		assertThat(this.recorder.events).first().isEqualTo("RECOVERY 10/s -> 110/s NORMAL");
		assertThat(this.recorder.events).last().isEqualTo("RECOVERY 910/s -> 1000/s NORMAL");
		AdaptiveState state = controller.state();
		assertThat(state.lag()).isEqualTo(200);
		assertThat(state.decreases()).isEqualTo(3);
		assertThat(state.increases()).isEqualTo(10);
	}

	@Test
	void doesNotFlapWhenTheLagOscillatesAroundTheWarningThreshold() {
		AdaptiveController controller = controller();
		for (int i = 0; i < 50; i++) {
			controller.onLag((i % 2 == 0) ? 5_100 : 4_900);
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		assertThat(this.recorder.events).containsExactly("LAG NORMAL -> WARNING", "LAG 1000/s -> 800/s WARNING");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("800");
		assertThat(controller.state().severity()).isEqualTo(Severity.WARNING);
	}

	@Test
	void doesNotFlapWhenTheLagOscillatesAroundTheCriticalThreshold() {
		AdaptiveController controller = controller();
		for (int i = 0; i < 50; i++) {
			controller.onLag((i % 2 == 0) ? 10_100 : 9_900);
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		assertThat(this.recorder.events).containsExactly("LAG NORMAL -> CRITICAL", "LAG 1000/s -> 100/s CRITICAL");
	}

	@Test
	void doesNotFlapWhenTheLagOscillatesAroundTheRecoveryThreshold() {
		AdaptiveController controller = controller();
		controller.onLag(6_000);
		for (int i = 0; i < 50; i++) {
			controller.onLag((i % 2 == 0) ? 900 : 1_100);
		}
		assertThat(this.recorder.events).containsExactly("LAG NORMAL -> WARNING", "LAG 1000/s -> 800/s WARNING",
				"LAG WARNING -> NORMAL");
	}

	@Test
	void thresholdsAreStrict() {
		AdaptiveController controller = controller();
		controller.onLag(5_000);
		assertThat(controller.state().severity()).isEqualTo(Severity.NORMAL);
		controller.onLag(5_001);
		assertThat(controller.state().severity()).isEqualTo(Severity.WARNING);
		controller.onLag(1_000);
		assertThat(controller.state().severity()).isEqualTo(Severity.WARNING);
		controller.onLag(999);
		assertThat(controller.state().severity()).isEqualTo(Severity.NORMAL);
	}

	@Test
	void escalationSkipsLevelsAtOnce() {
		AdaptiveController controller = controller();
		controller.onLag(30_000);
		assertThat(this.recorder.events).containsExactly("LAG NORMAL -> EMERGENCY", "LAG 1000/s -> 10/s EMERGENCY");
	}

	@Test
	void deEscalationGoesStraightToNormalNotThroughTheLevels() {
		AdaptiveController controller = controller();
		controller.onLag(30_000);
		controller.onLag(12_000);
		controller.onLag(6_000);
		assertThat(controller.state().severity()).isEqualTo(Severity.EMERGENCY);
		controller.onLag(0);
		assertThat(controller.state().severity()).isEqualTo(Severity.NORMAL);
	}

	@Test
	void severityNeverRaisesTheRate() {
		AdaptiveController controller = controller((config) -> config.decreaseCooldown(Duration.ZERO));
		controller.reduce("429");
		controller.reduce("429");
		controller.reduce("429");
		assertThat(Recorder.perSecond(controller.state().rate())).isEqualTo("125");
		this.recorder.clear();
		controller.onLag(6_000);
		controller.onLag(12_000);
		assertThat(this.recorder.events).containsExactly("LAG NORMAL -> WARNING", "LAG WARNING -> CRITICAL",
				"LAG 125/s -> 100/s CRITICAL");
		controller.onLag(0);
		assertThat(Recorder.perSecond(controller.state().rate())).isEqualTo("100");
	}

	@Test
	void otherSignalsStillDecreaseUnderASeverity() {
		AdaptiveController controller = controller();
		controller.onLag(6_000);
		controller.reduce("429");
		assertThat(describe(controller)).isEqualTo("WARNING 400/s");
		// a repeated lag report does not lift the rate back to the level's cap
		controller.onLag(7_000);
		assertThat(describe(controller)).isEqualTo("WARNING 400/s");
	}

	@Test
	void noRecoveryWhileTheSeverityIsAboveNormal() {
		AdaptiveController controller = controller();
		controller.onLag(6_000);
		for (int i = 0; i < 10; i++) {
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		assertThat(describe(controller)).isEqualTo("WARNING 800/s");
	}

	@Test
	void levelsAndThresholdsAreConfigurable() {
		AdaptiveController controller = controller((config) -> config.warningLag(100)
			.criticalLag(200)
			.emergencyLag(300)
			.recoveryLag(50)
			.warningFraction(0.5)
			.criticalFraction(0.25)
			.floorFraction(0.05));
		List<String> seen = new ArrayList<>();
		for (long lag : new long[] { 101, 201, 301, 60, 49 }) {
			controller.onLag(lag);
			seen.add(describe(controller));
		}
		assertThat(seen).containsExactly("WARNING 500/s", "CRITICAL 250/s", "EMERGENCY 50/s", "EMERGENCY 50/s",
				"NORMAL 50/s");
	}

	@Test
	void equalThresholdsSkipALevel() {
		AdaptiveController controller = controller((config) -> config.criticalLag(20_000));
		controller.onLag(15_000);
		assertThat(controller.state().severity()).isEqualTo(Severity.WARNING);
		controller.onLag(20_001);
		assertThat(controller.state().severity()).isEqualTo(Severity.EMERGENCY);
	}

	@Test
	void theFloorWinsOverALevelBelowIt() {
		AdaptiveController controller = controller((config) -> config.floorFraction(0.2));
		controller.onLag(12_000);
		assertThat(describe(controller)).isEqualTo("CRITICAL 200/s");
	}

	@Test
	void negativeLagCountsAsNone() {
		AdaptiveController controller = controller();
		controller.onLag(6_000);
		controller.onLag(-3);
		assertThat(controller.state().severity()).isEqualTo(Severity.NORMAL);
		assertThat(controller.state().lag()).isZero();
	}

	@Test
	void stateKeepsTheLastLagAndTheCauseOfTheChange() {
		AdaptiveController controller = controller();
		controller.onLag(12_345);
		AdaptiveState state = controller.state();
		assertThat(state.lag()).isEqualTo(12_345);
		assertThat(state.lastReason()).isEqualTo(ChangeReason.LAG);
		assertThat(state.lastDetail()).isEqualTo("lag 12345");
		controller.onLag(11_000);
		assertThat(controller.state().lag()).isEqualTo(11_000);
		assertThat(controller.state().lastDetail()).isEqualTo("lag 12345");
	}

	@Test
	void returningToNormalRestartsTheRecoveryWait() {
		AdaptiveController controller = controller();
		controller.onLag(6_000);
		this.clock.advance(Duration.ofMinutes(1));
		controller.onLag(0);
		controller.evaluate();
		assertThat(describe(controller)).isEqualTo("NORMAL 800/s");
		this.clock.advance(INTERVAL);
		controller.evaluate();
		assertThat(describe(controller)).isEqualTo("NORMAL 900/s");
	}

}
