package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

/**
 * Decrease, cooldown, recovery, bounds, ceiling changes, reset and the state snapshot, on a
 * recording target with a ceiling of 1000/s.
 */
class AdaptiveControllerTest {

	private static final Duration INTERVAL = Duration.ofSeconds(5);

	private final ManualClock clock = new ManualClock();

	private final Recorder recorder = new Recorder();

	private AdaptiveController controller(UnaryOperator<AdaptiveConfig.Builder> config) {
		return AdaptiveController.builder("orders", Rate.perSecond(1000), this.recorder)
			.config(config.apply(AdaptiveConfig.builder()).build())
			.ticker(this.clock)
			.listener(this.recorder)
			.build();
	}

	private AdaptiveController controller() {
		return controller(UnaryOperator.identity());
	}

	private static String rate(AdaptiveController controller) {
		return Recorder.perSecond(controller.state().rate());
	}

	@Test
	void startsAtTheCeilingWithoutTouchingTheTarget() {
		AdaptiveController controller = controller();
		AdaptiveState state = controller.state();
		assertThat(state.name()).isEqualTo("orders");
		assertThat(state.rate()).isEqualTo(Rate.perSecond(1000));
		assertThat(state.ceiling()).isEqualTo(Rate.perSecond(1000));
		assertThat(state.floor().perSecond()).isEqualTo(10.0);
		assertThat(state.severity()).isEqualTo(Severity.NORMAL);
		assertThat(state.lastReason()).isEqualTo(ChangeReason.CEILING);
		assertThat(state.lastChangeNanos()).isEqualTo(this.clock.read());
		assertThat(state.decreases()).isZero();
		assertThat(state.increases()).isZero();
		assertThat(this.recorder.applied).isEmpty();
		assertThat(this.recorder.events).isEmpty();
	}

	@Test
	void reduceMultipliesTheRateByTheDecreaseFactor() {
		AdaptiveController controller = controller();
		controller.reduce("HTTP 429 from payments");
		assertThat(rate(controller)).isEqualTo("500");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500");
		assertThat(this.recorder.events).containsExactly("DECREASE_SIGNAL 1000/s -> 500/s NORMAL");
		AdaptiveState state = controller.state();
		assertThat(state.lastReason()).isEqualTo(ChangeReason.DECREASE_SIGNAL);
		assertThat(state.lastDetail()).isEqualTo("HTTP 429 from payments");
		assertThat(state.decreases()).isOne();
	}

	@Test
	void decreaseFactorIsConfigurable() {
		AdaptiveController controller = controller((config) -> config.decreaseFactor(0.7));
		controller.reduce("429");
		assertThat(rate(controller)).isEqualTo("700");
	}

	@Test
	void aBurstOfSignalsWithinTheCooldownIsOneStep() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		for (int i = 0; i < 9; i++) {
			this.clock.advance(Duration.ofMillis(100));
			controller.reduce("429");
		}
		assertThat(rate(controller)).isEqualTo("500");
		assertThat(controller.state().decreases()).isOne();
		// 900 ms after the first: still within the 1 s cooldown
		this.clock.advance(Duration.ofMillis(99));
		controller.reduce("429");
		assertThat(rate(controller)).isEqualTo("500");
		this.clock.advance(Duration.ofMillis(1));
		controller.reduce("429");
		assertThat(rate(controller)).isEqualTo("250");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "250");
	}

	@Test
	void theCooldownCountsFromTheLastDecreaseNotTheLastSignal() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		// signals every 600 ms: absorbed ones do not push the next decrease further away
		this.clock.advance(Duration.ofMillis(600));
		controller.reduce("429");
		this.clock.advance(Duration.ofMillis(600));
		controller.reduce("429");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "250");
	}

	@Test
	void zeroCooldownDecreasesOnEverySignal() {
		AdaptiveController controller = controller((config) -> config.decreaseCooldown(Duration.ZERO));
		controller.reduce("429");
		controller.reduce("429");
		controller.reduce("429");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "250", "125");
	}

	@Test
	void neverGoesBelowTheFloor() {
		AdaptiveController controller = controller((config) -> config.decreaseCooldown(Duration.ZERO));
		for (int i = 0; i < 20; i++) {
			controller.reduce("429");
		}
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "250", "125", "62.5", "31.25", "15.625",
				"10");
		assertThat(controller.state().rate()).isEqualTo(controller.state().floor());
		assertThat(controller.state().decreases()).isEqualTo(7);
	}

	@Test
	void floorIsAFractionOfTheCeiling() {
		AdaptiveController controller = controller(
				(config) -> config.floorFraction(0.3).decreaseCooldown(Duration.ZERO));
		controller.reduce("429");
		controller.reduce("429");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "300");
		assertThat(controller.state().floor().perSecond()).isEqualTo(300.0);
	}

	@Test
	void recoversStepwiseToTheCeilingAtEachInterval() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		assertThat(rate(controller)).isEqualTo("500");
		for (int i = 0; i < 8; i++) {
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "600", "700", "800", "900", "1000");
		assertThat(this.recorder.events).containsExactly("DECREASE_SIGNAL 1000/s -> 500/s NORMAL",
				"RECOVERY 500/s -> 600/s NORMAL", "RECOVERY 600/s -> 700/s NORMAL", "RECOVERY 700/s -> 800/s NORMAL",
				"RECOVERY 800/s -> 900/s NORMAL", "RECOVERY 900/s -> 1000/s NORMAL");
		assertThat(controller.state().rate()).isEqualTo(Rate.perSecond(1000));
		assertThat(controller.state().increases()).isEqualTo(5);
		assertThat(controller.state().lastReason()).isEqualTo(ChangeReason.RECOVERY);
	}

	@Test
	void recoveryWaitsAFullIntervalSinceTheLastChange() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		this.clock.advance(INTERVAL.minusNanos(1));
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("500");
		this.clock.advanceNanos(1);
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
		// the step itself restarts the wait
		this.clock.advance(Duration.ofSeconds(1));
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
	}

	@Test
	void aLateEvaluateTakesOneStepOnly() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		this.clock.advance(Duration.ofMinutes(10));
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
	}

	@Test
	void recoveryStepIsConfigurable() {
		AdaptiveController controller = controller((config) -> config.recoveryStep(0.3));
		controller.reduce("429");
		for (int i = 0; i < 3; i++) {
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		// 500 + 300 = 800, then capped at the ceiling
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "800", "1000");
	}

	@Test
	void recoveryIntervalIsConfigurable() {
		AdaptiveController controller = controller((config) -> config.recoveryInterval(Duration.ofSeconds(30)));
		controller.reduce("429");
		this.clock.advance(Duration.ofSeconds(29));
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("500");
		this.clock.advance(Duration.ofSeconds(1));
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
	}

	@Test
	void recoveryFromTheFloorNeverOvershootsTheCeiling() {
		AdaptiveController controller = controller((config) -> config.decreaseCooldown(Duration.ZERO));
		for (int i = 0; i < 10; i++) {
			controller.reduce("429");
		}
		this.recorder.clear();
		for (int i = 0; i < 12; i++) {
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		assertThat(this.recorder.appliedPerSecond()).containsExactly("110", "210", "310", "410", "510", "610", "710",
				"810", "910", "1000");
	}

	@Test
	void evaluateAtTheCeilingDoesNothing() {
		AdaptiveController controller = controller();
		this.clock.advance(Duration.ofMinutes(1));
		controller.evaluate();
		assertThat(this.recorder.applied).isEmpty();
		assertThat(this.recorder.events).isEmpty();
		assertThat(controller.state().increases()).isZero();
	}

	@Test
	void everySignalEvenAnAbsorbedOneHoldsRecovery() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		this.clock.advance(Duration.ofMillis(500));
		controller.reduce("429 already in flight");
		this.clock.advance(INTERVAL.minusMillis(500));
		controller.evaluate();
		// five seconds after the decrease, but only 4.5 since the last signal
		assertThat(rate(controller)).isEqualTo("500");
		this.clock.advance(Duration.ofMillis(500));
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
	}

	@Test
	void persistentSignalsKeepDecreasingOncePerCooldown() {
		AdaptiveController controller = controller();
		for (int i = 0; i <= 30; i++) {
			controller.reduce("429");
			controller.evaluate();
			this.clock.advance(Duration.ofMillis(100));
		}
		// decreases at 0, 1, 2 and 3 s; evaluate never recovers while signals keep coming
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "250", "125", "62.5");
	}

	@Test
	void raisingTheCeilingAtTheCeilingFollowsIt() {
		AdaptiveController controller = controller();
		controller.ceiling(Rate.perSecond(2000));
		assertThat(rate(controller)).isEqualTo("2000");
		assertThat(controller.state().ceiling()).isEqualTo(Rate.perSecond(2000));
		assertThat(controller.state().floor().perSecond()).isEqualTo(20.0);
		assertThat(this.recorder.appliedPerSecond()).containsExactly("2000");
		assertThat(this.recorder.events).containsExactly("CEILING 1000/s -> 2000/s NORMAL");
		assertThat(controller.state().lastReason()).isEqualTo(ChangeReason.CEILING);
	}

	@Test
	void raisingTheCeilingWhenReducedKeepsTheRateAndRecoversToTheNewCeiling() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		controller.ceiling(Rate.perSecond(2000));
		assertThat(rate(controller)).isEqualTo("500");
		for (int i = 0; i < 10; i++) {
			this.clock.advance(INTERVAL);
			controller.evaluate();
		}
		// steps are a tenth of the new ceiling
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "700", "900", "1100", "1300", "1500",
				"1700", "1900", "2000");
	}

	@Test
	void loweringTheCeilingBelowTheRateClampsIt() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		controller.ceiling(Rate.perSecond(400));
		assertThat(rate(controller)).isEqualTo("400");
		assertThat(controller.state().floor().perSecond()).isEqualTo(4.0);
		this.clock.advance(INTERVAL);
		controller.evaluate();
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "400");
	}

	@Test
	void loweringTheCeilingAboveTheRateKeepsIt() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		controller.ceiling(Rate.perSecond(800));
		assertThat(rate(controller)).isEqualTo("500");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500");
		this.clock.advance(INTERVAL);
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("580");
	}

	@Test
	void settingTheSameCeilingChangesNothing() {
		AdaptiveController controller = controller();
		controller.ceiling(Rate.perSecond(1000));
		assertThat(this.recorder.applied).isEmpty();
		assertThat(this.recorder.events).isEmpty();
	}

	@Test
	void aNewCeilingKeepsTheSeverityCap() {
		AdaptiveController controller = controller();
		controller.onLag(6_000);
		assertThat(rate(controller)).isEqualTo("800");
		controller.ceiling(Rate.perSecond(500));
		// WARNING allows 80% of the new ceiling, not the new ceiling itself
		assertThat(rate(controller)).isEqualTo("400");
		assertThat(controller.state().severity()).isEqualTo(Severity.WARNING);
	}

	@Test
	void resetReturnsToNormalAtTheCeiling() {
		AdaptiveController controller = controller();
		controller.onLag(25_000);
		controller.reduce("429");
		this.recorder.clear();
		controller.reset();
		AdaptiveState state = controller.state();
		assertThat(state.severity()).isEqualTo(Severity.NORMAL);
		assertThat(state.rate()).isEqualTo(Rate.perSecond(1000));
		assertThat(state.lastReason()).isEqualTo(ChangeReason.RESET);
		assertThat(this.recorder.appliedPerSecond()).containsExactly("1000");
		assertThat(this.recorder.events).containsExactly("RESET EMERGENCY -> NORMAL",
				"RESET 10/s -> 1000/s NORMAL");
		// counts are monotonic, for counters
		assertThat(state.decreases()).isOne();
	}

	@Test
	void resetForgetsTheCooldown() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		controller.reset();
		controller.reduce("429");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500", "1000", "500");
	}

	@Test
	void resetAtTheCeilingStillAppliesTheCeilingToTheTarget() {
		AdaptiveController controller = controller();
		controller.reset();
		assertThat(this.recorder.appliedPerSecond()).containsExactly("1000");
		assertThat(this.recorder.events).isEmpty();
		assertThat(controller.state().lastReason()).isEqualTo(ChangeReason.CEILING);
	}

	@Test
	void recoveryAfterResetWaitsAnInterval() {
		AdaptiveController controller = controller();
		controller.reset();
		controller.reduce("429");
		this.clock.advance(INTERVAL);
		controller.evaluate();
		assertThat(rate(controller)).isEqualTo("600");
	}

	@Test
	void stateRecordsTheTimeOfTheLastChange() {
		AdaptiveController controller = controller();
		long start = this.clock.read();
		this.clock.advance(Duration.ofSeconds(3));
		controller.reduce("429");
		assertThat(controller.state().lastChangeNanos() - start).isEqualTo(Duration.ofSeconds(3).toNanos());
		this.clock.advance(Duration.ofMillis(500));
		controller.reduce("absorbed by the cooldown");
		assertThat(controller.state().lastChangeNanos() - start).isEqualTo(Duration.ofSeconds(3).toNanos());
		assertThat(controller.state().lastDetail()).isEqualTo("429");
	}

	@Test
	void aFailingTargetLeavesTheControllerAsItWas() {
		boolean[] fail = { true };
		AdaptiveController controller = AdaptiveController.builder("orders", Rate.perSecond(1000), (rate) -> {
			if (fail[0]) {
				throw new IllegalStateException("broker unavailable");
			}
			this.recorder.apply(rate);
		}).ticker(this.clock).listener(this.recorder).build();
		AdaptiveState before = controller.state();
		assertThatIllegalStateException().isThrownBy(() -> controller.reduce("429"))
			.withMessage("broker unavailable");
		assertThat(controller.state()).isEqualTo(before);
		assertThat(this.recorder.events).isEmpty();
		// the failed attempt did not start the cooldown, so the next signal retries
		fail[0] = false;
		controller.reduce("429");
		assertThat(this.recorder.appliedPerSecond()).containsExactly("500");
	}

	@Test
	void theListenerSeesTheNewStateAlready() {
		AdaptiveState[] seen = new AdaptiveState[1];
		AdaptiveController[] holder = new AdaptiveController[1];
		holder[0] = AdaptiveController.builder("orders", Rate.perSecond(1000), this.recorder)
			.ticker(this.clock)
			.listener(new AdaptiveListener() {
				@Override
				public void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
					seen[0] = holder[0].state();
				}
			})
			.build();
		holder[0].reduce("429");
		assertThat(seen[0].rate().perSecond()).isEqualTo(500.0);
		assertThat(seen[0].lastDetail()).isEqualTo("429");
	}

	@Test
	void keepsItsRateInWholePermitsOfTheCeilingPeriodWhenItCan() {
		// a per-minute limit stays per minute: a window keeps its length
		AdaptiveController controller = AdaptiveController
			.builder("daily", Rate.perMinute(6000), this.recorder)
			.ticker(this.clock)
			.build();
		controller.reduce("429");
		assertThat(controller.state().rate()).isEqualTo(Rate.perMinute(3000));
	}

	@Test
	void toStringShowsTheEssentials() {
		AdaptiveController controller = controller();
		controller.reduce("429");
		assertThat(controller).hasToString("AdaptiveController[orders, rate=500/s, ceiling=1000/s, severity=NORMAL]");
	}

	@Test
	void exposesNameAndConfig() {
		AdaptiveConfig config = AdaptiveConfig.builder().decreaseFactor(0.8).build();
		AdaptiveController controller = AdaptiveController.builder("orders", Rate.perSecond(10), this.recorder)
			.config(config)
			.build();
		assertThat(controller.name()).isEqualTo("orders");
		assertThat(controller.config()).isSameAs(config);
	}

	@Test
	void rejectsNulls() {
		AdaptiveController controller = controller();
		assertThatNullPointerException().isThrownBy(() -> controller.reduce(null)).withMessage("reason");
		assertThatNullPointerException().isThrownBy(() -> controller.ceiling(null)).withMessage("ceiling");
		assertThatNullPointerException()
			.isThrownBy(() -> AdaptiveController.builder(null, Rate.perSecond(1), this.recorder))
			.withMessage("name");
		assertThatNullPointerException()
			.isThrownBy(() -> AdaptiveController.builder("x", null, this.recorder))
			.withMessage("ceiling");
		assertThatNullPointerException()
			.isThrownBy(() -> AdaptiveController.builder("x", Rate.perSecond(1), null))
			.withMessage("target");
		assertThatNullPointerException().isThrownBy(() -> AdaptiveController.builder(null)).withMessage("limiter");
	}

}
