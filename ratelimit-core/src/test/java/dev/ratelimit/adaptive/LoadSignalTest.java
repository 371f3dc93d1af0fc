package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Load signals, fed by a synthetic source: a CPU signal with warning above 0.85, critical above
 * 0.95, back to normal below 0.75, and a queue signal with warning above 500, on a ceiling of
 * 1000/s and the default fractions (warning 80%, critical 10%, floor 1%).
 */
class LoadSignalTest {

	private static final Duration INTERVAL = Duration.ofSeconds(5);

	private static final LoadThresholds CPU = LoadThresholds.of(0.85, 0.75).withCritical(0.95);

	private final ManualClock clock = new ManualClock();

	private final Recorder recorder = new Recorder();

	private final AdaptiveController controller = AdaptiveController
		.builder("orders", Rate.perSecond(1000), this.recorder)
		.config(AdaptiveConfig.builder()
			.loadSignal("process-cpu", CPU)
			.loadSignal("queue", LoadThresholds.of(500, 100))
			.build())
		.ticker(this.clock)
		.listener(this.recorder)
		.build();

	private String describe() {
		AdaptiveState state = this.controller.state();
		return state.severity() + " " + Recorder.format(state.rate());
	}

	@Test
	void cpuAboveAThresholdCapsTheRateAndRecoversOnlyBelowTheRecoveryReading() {
		List<String> seen = new ArrayList<>();
		for (double cpu : new double[] { 0.5, 0.85, 0.9, 0.8, 0.97, 0.9, 0.76, 0.74 }) {
			this.controller.onLoad("process-cpu", cpu);
			seen.add(cpu + ": " + describe());
			this.clock.advance(Duration.ofSeconds(1));
			this.controller.evaluate();
		}
		// 0.85 is not above 0.85; 0.8 and 0.76 are above the recovery reading: the level stays
		assertThat(seen).containsExactly("0.5: NORMAL 1000/s", "0.85: NORMAL 1000/s", "0.9: WARNING 800/s",
				"0.8: WARNING 800/s", "0.97: CRITICAL 100/s", "0.9: CRITICAL 100/s", "0.76: CRITICAL 100/s",
				"0.74: NORMAL 100/s");
		assertThat(this.recorder.events).containsExactly("LOAD NORMAL -> WARNING", "LOAD 1000/s -> 800/s WARNING",
				"LOAD WARNING -> CRITICAL", "LOAD 800/s -> 100/s CRITICAL", "LOAD CRITICAL -> NORMAL");
		assertThat(this.controller.state().lastDetail()).isEqualTo("load process-cpu 0.97");
		this.recorder.clear();
		// back to normal one second ago: the first step comes a full interval after it
		this.clock.advance(INTERVAL.minusSeconds(2));
		this.controller.evaluate();
		assertThat(this.recorder.events).isEmpty();
		this.clock.advance(Duration.ofSeconds(1));
		this.controller.evaluate();
		assertThat(this.recorder.events).containsExactly("RECOVERY 100/s -> 200/s NORMAL");
	}

	@Test
	void theSeverityIsTheHighestOfEverySourceAndRecoveryWaitsForTheLast() {
		this.controller.onLag(6_000); // WARNING from the lag
		this.controller.onLoad("process-cpu", 0.99); // CRITICAL from the CPU
		this.controller.onLoad("queue", 800); // WARNING from the queue
		assertThat(describe()).isEqualTo("CRITICAL 100/s");
		this.controller.onLoad("process-cpu", 0.1);
		assertThat(describe()).as("lag and queue still warn").isEqualTo("WARNING 100/s");
		this.controller.onLag(10);
		assertThat(describe()).as("the queue still warns").isEqualTo("WARNING 100/s");
		this.clock.advance(INTERVAL.multipliedBy(3));
		this.controller.evaluate();
		assertThat(describe()).as("no recovery while a source warns").isEqualTo("WARNING 100/s");
		this.controller.onLoad("queue", 99);
		assertThat(describe()).isEqualTo("NORMAL 100/s");
		this.clock.advance(INTERVAL.minusNanos(1));
		this.controller.evaluate();
		assertThat(describe()).isEqualTo("NORMAL 100/s");
		this.clock.advanceNanos(1);
		this.controller.evaluate();
		assertThat(describe()).isEqualTo("NORMAL 200/s");
		assertThat(this.recorder.events).containsSubsequence("LAG NORMAL -> WARNING", "LOAD WARNING -> CRITICAL",
				"LOAD CRITICAL -> WARNING", "LOAD WARNING -> NORMAL", "RECOVERY 100/s -> 200/s NORMAL");
	}

	@Test
	void theStateShowsEachSignalsReadingAndLevelInDeclaredOrder() {
		assertThat(this.controller.state().loads()).isEmpty();
		this.controller.onLoad("queue", 900);
		this.controller.onLoad("process-cpu", 0.2);
		AdaptiveState state = this.controller.state();
		assertThat(state.loads()).containsExactly(
				org.assertj.core.api.Assertions.entry("process-cpu", new AdaptiveState.Load(0.2, Severity.NORMAL)),
				org.assertj.core.api.Assertions.entry("queue", new AdaptiveState.Load(900, Severity.WARNING)));
		this.controller.reset();
		assertThat(this.controller.state().loads().get("queue"))
			.isEqualTo(new AdaptiveState.Load(900, Severity.NORMAL));
		assertThat(describe()).isEqualTo("NORMAL 1000/s");
	}

	@Test
	void aLevelSkipsStraightToTheHighestThresholdItIsAbove() {
		AdaptiveController emergency = AdaptiveController.builder("orders", Rate.perSecond(1000), this.recorder)
			.config(AdaptiveConfig.builder()
				.loadSignal("heap", LoadThresholds.of(0.8, 0.7).withCritical(0.9).withEmergency(0.95))
				.build())
			.ticker(this.clock)
			.build();
		emergency.onLoad("heap", 0.96);
		assertThat(emergency.state().severity()).isEqualTo(Severity.EMERGENCY);
		assertThat(emergency.state().rate()).isEqualTo(emergency.state().floor());
	}

	@Test
	void anUndeclaredSignalOrAReadingThatIsNotANumberIsRefusedAndChangesNothing() {
		this.controller.onLoad("process-cpu", 0.9);
		AdaptiveState before = this.controller.state();
		assertThatIllegalArgumentException().isThrownBy(() -> this.controller.onLoad("system-cpu", 0.99))
			.withMessage("no load signal named 'system-cpu': this controller knows [process-cpu, queue]; declare it "
					+ "with AdaptiveConfig.Builder.loadSignal(name, thresholds)");
		assertThatIllegalArgumentException().isThrownBy(() -> this.controller.onLoad("process-cpu", Double.NaN))
			.withMessageStartingWith("a reading of load signal 'process-cpu' must be a finite number, but was NaN");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> this.controller.onLoad("process-cpu", Double.POSITIVE_INFINITY))
			.withMessageContaining("but was Infinity");
		assertThat(this.controller.state()).isEqualTo(before);
	}

	@Test
	void thresholdsAreCheckedWithMessagesThatNameTheFix() {
		assertThatIllegalArgumentException().isThrownBy(() -> LoadThresholds.of(0.8, 0.8))
			.withMessageStartingWith("recovery (0.8) must be less than warning (0.8)")
			.withMessageContaining("lower recovery or raise warning");
		assertThatIllegalArgumentException().isThrownBy(() -> LoadThresholds.of(0.8, 0.5).withCritical(0.7))
			.withMessageStartingWith("critical (0.7) must be at least warning (0.8)");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> LoadThresholds.of(0.8, 0.5).withCritical(0.9).withEmergency(0.85))
			.withMessageStartingWith("emergency (0.85) must be at least critical (0.9)");
		assertThatIllegalArgumentException().isThrownBy(() -> LoadThresholds.of(Double.NaN, 0.5))
			.withMessageStartingWith("warning must be a finite number, but was NaN");
		assertThatIllegalArgumentException().isThrownBy(() -> new LoadThresholds(0.8, Double.NaN, 1, 0.5))
			.withMessageStartingWith("critical (NaN) must be at least warning (0.8)");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdaptiveConfig.builder().loadSignal("cpu usage", LoadThresholds.of(0.8, 0.5)))
			.withMessageStartingWith("a load signal's name must be 1 to 64 characters");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> AdaptiveConfig.builder().loadSignal("x".repeat(65), LoadThresholds.of(0.8, 0.5)));
		assertThat(LoadThresholds.of(0.8, 0.5).critical()).isEqualTo(Double.POSITIVE_INFINITY);
		// an emergency level without a critical one: bounded by the warning level
		LoadThresholds skipping = LoadThresholds.of(0.8, 0.5).withEmergency(0.9);
		assertThat(skipping.levelOf(0.85)).isEqualTo(Severity.WARNING);
		assertThat(skipping.levelOf(0.95)).isEqualTo(Severity.EMERGENCY);
		assertThatIllegalArgumentException().isThrownBy(() -> LoadThresholds.of(0.8, 0.5).withEmergency(0.7))
			.withMessageStartingWith("emergency (0.7) must be at least warning (0.8)");
	}

}
