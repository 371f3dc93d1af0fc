package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Properties that hold for any config, ceiling, sequence of signals and clock advances: the rate
 * stays within [floor, ceiling], the target always holds the rate the controller reports, levels
 * cap the rate, only recovery, ceiling changes and resets raise it, and recovery steps are at
 * least an interval apart.
 *
 * <p>Each seed is one reproducible random run; a failure names the seed and the steps so far.
 */
class AdaptiveControllerRandomTest {

	private static final int STEPS = 300;

	static LongStream seeds() {
		return LongStream.range(0, 400);
	}

	@ParameterizedTest(name = "seed {0}")
	@MethodSource("seeds")
	void invariantsHoldForAnySequenceOfSignals(long seed) {
		Random random = new Random(seed);
		AdaptiveConfig config = randomConfig(random);
		ManualClock clock = new ManualClock();
		Recorder recorder = new Recorder();
		List<Long> increaseTimes = new ArrayList<>();
		AdaptiveListener timing = new AdaptiveListener() {
			@Override
			public void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
				recorder.onRateChanged(previous, current, severity, reason);
				if (reason == ChangeReason.RECOVERY || reason == ChangeReason.UTILIZATION
						&& current.perSecond() > previous.perSecond()) {
					increaseTimes.add(clock.read());
				}
			}
		};
		Rate initialCeiling = randomRate(random);
		AdaptiveController controller = AdaptiveController.builder("random", initialCeiling, recorder)
			.config(config)
			.ticker(clock)
			.listener(timing)
			.build();
		List<String> log = new ArrayList<>();
		log.add(config + " ceiling " + initialCeiling);
		for (int i = 0; i < STEPS; i++) {
			AdaptiveState before = controller.state();
			String step = randomStep(random, controller, clock, config);
			log.add(step);
			AdaptiveState after = controller.state();
			String context = "seed " + seed + ", steps:\n" + String.join("\n", log);
			checkInvariants(before, after, step, recorder, initialCeiling, config, context);
		}
		long intervalNanos = config.recoveryInterval().toNanos();
		for (int i = 1; i < increaseTimes.size(); i++) {
			assertThat(increaseTimes.get(i) - increaseTimes.get(i - 1)).as("seed %d: recovery steps too close", seed)
				.isGreaterThanOrEqualTo(intervalNanos);
		}
	}

	private static void checkInvariants(AdaptiveState before, AdaptiveState after, String step, Recorder recorder,
			Rate initialCeiling, AdaptiveConfig config, String context) {
		double rate = after.rate().perSecond();
		assertThat(rate).as(context).isBetween(after.floor().perSecond(), after.ceiling().perSecond());
		Rate held = recorder.applied.isEmpty() ? initialCeiling : recorder.applied.get(recorder.applied.size() - 1);
		assertThat(held).as("target out of step; " + context).isEqualTo(after.rate());
		double ceiling = after.ceiling().perSecond();
		switch (after.severity()) {
			case EMERGENCY -> assertThat(after.rate()).as(context).isEqualTo(after.floor());
			case CRITICAL -> assertThat(rate).as(context)
				.isLessThanOrEqualTo(cap(ceiling, config.criticalFraction(), config.floorFraction()));
			case WARNING -> assertThat(rate).as(context)
				.isLessThanOrEqualTo(cap(ceiling, config.warningFraction(), config.floorFraction()));
			case NORMAL -> {
			}
		}
		boolean mayRaise = step.startsWith("evaluate") || step.startsWith("utilization") || step.startsWith("ceiling")
				|| step.startsWith("reset");
		if (!mayRaise) {
			assertThat(rate).as("%s raised the rate; %s", step, context)
				.isLessThanOrEqualTo(before.rate().perSecond());
		}
		after.loads().values().forEach((load) -> assertThat(after.severity())
			.as("severity below a load signal's level; " + context)
			.isGreaterThanOrEqualTo(load.severity()));
		boolean loadsNormal = after.loads().values().stream().allMatch((load) -> load.severity() == Severity.NORMAL);
		if (step.startsWith("load")) {
			LoadThresholds thresholds = config.loadSignals().get("cpu");
			AdaptiveState.Load load = after.loads().get("cpu");
			if (load.reading() > thresholds.warning()) {
				assertThat(load.severity()).as(context).isNotEqualTo(Severity.NORMAL);
			}
			if (load.reading() < thresholds.recovery()) {
				assertThat(load.severity()).as(context).isEqualTo(Severity.NORMAL);
			}
			if (load.reading() >= thresholds.recovery()) {
				assertThat(after.severity()).as("severity went down above recovery; " + context)
					.isGreaterThanOrEqualTo(before.severity());
			}
		}
		if (step.startsWith("lag")) {
			long lag = after.lag();
			if (lag > config.warningLag()) {
				assertThat(after.severity()).as(context).isNotEqualTo(Severity.NORMAL);
			}
			if (lag < config.recoveryLag() && loadsNormal) {
				assertThat(after.severity()).as(context).isEqualTo(Severity.NORMAL);
			}
			if (lag >= config.recoveryLag()) {
				assertThat(after.severity()).as("severity went down above recoveryLag; " + context)
					.isGreaterThanOrEqualTo(before.severity());
			}
		}
		assertThat(after.decreases()).as(context).isGreaterThanOrEqualTo(before.decreases());
		assertThat(after.increases()).as(context).isGreaterThanOrEqualTo(before.increases());
	}

	/** The highest rate a level allows, with the same 1% tolerance Rate.scaled rounds within. */
	private static double cap(double ceiling, double fraction, double floorFraction) {
		return ceiling * Math.max(fraction, floorFraction) * 1.01;
	}

	private static String randomStep(Random random, AdaptiveController controller, ManualClock clock,
			AdaptiveConfig config) {
		int pick = random.nextInt(100);
		if (pick < 20) {
			controller.reduce("429");
			return "reduce";
		}
		if (pick < 30) {
			LoadThresholds cpu = config.loadSignals().get("cpu");
			double[] near = { cpu.recovery(), cpu.warning(), cpu.critical(), cpu.emergency() };
			double reading = Math.min(1.5, near[random.nextInt(near.length)]) + (random.nextInt(3) - 1) * 0.001;
			if (random.nextInt(4) == 0) {
				reading = random.nextDouble() * 1.2;
			}
			controller.onLoad("cpu", reading);
			return "load cpu " + reading;
		}
		if (pick < 40) {
			long lag = randomLag(random, config);
			controller.onLag(lag);
			return "lag " + lag;
		}
		if (pick < 55) {
			double utilization = Math.round(random.nextDouble() * 1.3 * 1000) / 1000.0;
			controller.onUtilization(utilization);
			return "utilization " + utilization;
		}
		if (pick < 75) {
			controller.evaluate();
			return "evaluate";
		}
		if (pick < 95) {
			long nanos = (long) (random.nextDouble() * 2 * config.recoveryInterval().toNanos());
			clock.advanceNanos(nanos);
			return "advance " + Duration.ofNanos(nanos);
		}
		if (pick < 98) {
			Rate ceiling = randomRate(random);
			controller.ceiling(ceiling);
			return "ceiling " + ceiling;
		}
		controller.reset();
		return "reset";
	}

	/** Mostly lags at and next to the thresholds, where mistakes hide. */
	private static long randomLag(Random random, AdaptiveConfig config) {
		long[] thresholds = { 0, config.recoveryLag(), config.warningLag(), config.criticalLag(),
				config.emergencyLag() };
		if (random.nextInt(4) == 0) {
			return random.nextInt(3 * (int) Math.min(Integer.MAX_VALUE / 3, config.emergencyLag())) - 10;
		}
		return thresholds[random.nextInt(thresholds.length)] + random.nextInt(3) - 1;
	}

	private static Rate randomRate(Random random) {
		return switch (random.nextInt(3)) {
			case 0 -> Rate.perSecond(1 + random.nextInt(100_000));
			case 1 -> Rate.perSecond(Math.round(random.nextDouble() * 1000 * 1000) / 1000.0 + 0.001);
			default -> Rate.of(1 + random.nextInt(10_000), Duration.ofMinutes(1 + random.nextInt(60)));
		};
	}

	private static AdaptiveConfig randomConfig(Random random) {
		long recoveryLag = 1 + random.nextInt(2_000);
		long warningLag = recoveryLag + 1 + random.nextInt(5_000);
		long criticalLag = warningLag + random.nextInt(5_000);
		long emergencyLag = criticalLag + random.nextInt(10_000);
		double warningFraction = fraction(random);
		double lowUtilization = random.nextDouble() * 0.8;
		double recovery = random.nextDouble() * 0.8;
		double warning = recovery + 0.001 + random.nextDouble() * 0.2;
		double critical = (random.nextInt(4) == 0) ? Double.POSITIVE_INFINITY : warning + random.nextDouble() * 0.1;
		double emergency = (random.nextInt(2) == 0) ? Double.POSITIVE_INFINITY : critical + random.nextDouble() * 0.1;
		return AdaptiveConfig.builder()
			.loadSignal("cpu", new LoadThresholds(warning, critical, emergency, recovery))
			.floorFraction(Math.max(0.000001, fraction(random) / 4))
			.decreaseFactor(0.05 + random.nextDouble() * 0.9)
			.decreaseCooldown(Duration.ofMillis(random.nextInt(3_000)))
			.recoveryInterval(Duration.ofMillis(1 + random.nextInt(10_000)))
			.recoveryStep(fraction(random))
			.recoveryLag(recoveryLag)
			.warningLag(warningLag)
			.criticalLag(criticalLag)
			.emergencyLag(emergencyLag)
			.warningFraction(warningFraction)
			.criticalFraction(Math.max(0.000001, warningFraction * random.nextDouble()))
			.lowUtilization(lowUtilization)
			.highUtilization(lowUtilization + 0.01 + random.nextDouble() * (0.99 - lowUtilization))
			.utilizationDecreaseFactor(0.05 + random.nextDouble() * 0.9)
			.build();
	}

	private static double fraction(Random random) {
		return Math.max(0.000001, Math.round(random.nextDouble() * 1000) / 1000.0);
	}

}
