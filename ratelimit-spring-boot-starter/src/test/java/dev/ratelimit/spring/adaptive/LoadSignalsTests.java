package dev.ratelimit.spring.adaptive;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.AdaptiveState;
import dev.ratelimit.adaptive.LoadThresholds;
import dev.ratelimit.adaptive.Severity;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Load signals declared in {@code application.yml}, read from a meter registry whose meters the
 * test sets (a synthetic source): each evaluation reads them and the controller's severity follows.
 * Evaluations are run by the test ({@link AdaptiveRateLimiters#tick()}), not by the scheduler.
 */
class LoadSignalsTests {

	private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

	private final AtomicReference<Double> cpu = new AtomicReference<>(0.1);

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class))
		.withBean(MeterRegistry.class, () -> this.meters)
		.withPropertyValues("ratelimit.limiters.partner.rate=100/1s", "ratelimit.limiters.partner.adaptive.enabled=true",
				// no recovery step while a test runs
				"ratelimit.limiters.partner.adaptive.recovery-interval=1h");

	LoadSignalsTests() {
		Gauge.builder("process.cpu.usage", this.cpu, AtomicReference::get).register(this.meters);
	}

	@Test
	void aKnownSignalReadsItsMeterWithDefaultThresholds() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.partner.adaptive.load.process-cpu.critical=0.95")
			.run((context) -> {
				AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
				assertThat(adaptive.controller("partner").orElseThrow().config().loadSignals())
					.containsEntry("process-cpu", LoadThresholds.of(0.85, 0.75).withCritical(0.95));
				adaptive.tick();
				assertThat(state(adaptive).loads()).containsEntry("process-cpu",
						new AdaptiveState.Load(0.1, Severity.NORMAL));
				this.cpu.set(0.9);
				adaptive.tick();
				assertThat(state(adaptive).severity()).isEqualTo(Severity.WARNING);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("partner").limit().rate().perSecond())
					.isEqualTo(80.0);
				this.cpu.set(0.96);
				adaptive.tick();
				assertThat(state(adaptive).severity()).isEqualTo(Severity.CRITICAL);
				assertThat(state(adaptive).rate().perSecond()).isEqualTo(10.0);
				this.cpu.set(0.8);
				adaptive.tick();
				assertThat(state(adaptive).severity()).as("above recovery: the level stays").isEqualTo(Severity.CRITICAL);
				this.cpu.set(0.5);
				adaptive.tick();
				assertThat(state(adaptive).severity()).isEqualTo(Severity.NORMAL);
			});
	}

	@Test
	void anyGaugeByNameAndTagsTheHighestOfSeveralCounts() {
		AtomicReference<Double> first = new AtomicReference<>(5.0);
		AtomicReference<Double> second = new AtomicReference<>(50.0);
		Gauge.builder("executor.queued", first, AtomicReference::get).tag("name", "a").register(this.meters);
		Gauge.builder("executor.queued", second, AtomicReference::get).tag("name", "b").register(this.meters);
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.partner.adaptive.load.queue.meter=executor.queued",
					"ratelimit.limiters.partner.adaptive.load.queue.warning=100",
					"ratelimit.limiters.partner.adaptive.load.queue.recovery=10",
					"ratelimit.limiters.partner.adaptive.load.only-a.meter=executor.queued",
					"ratelimit.limiters.partner.adaptive.load.only-a.tags.name=a",
					"ratelimit.limiters.partner.adaptive.load.only-a.warning=100",
					"ratelimit.limiters.partner.adaptive.load.only-a.recovery=10")
			.run((context) -> {
				AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
				second.set(500.0);
				adaptive.tick();
				assertThat(state(adaptive).loads()).containsEntry("queue", new AdaptiveState.Load(500, Severity.WARNING))
					.containsEntry("only-a", new AdaptiveState.Load(5, Severity.NORMAL));
				assertThat(state(adaptive).severity()).isEqualTo(Severity.WARNING);
			});
	}

	@Test
	void aTimerIsReadAsTheMeanLatencyOfTheCallsSinceTheLastReading() {
		Timer timer = Timer.builder("http.client.requests").tag("uri", "/partner").register(this.meters);
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.partner.adaptive.load.latency.meter=http.client.requests",
					"ratelimit.limiters.partner.adaptive.load.latency.tags.uri=/partner",
					"ratelimit.limiters.partner.adaptive.load.latency.warning=0.5",
					"ratelimit.limiters.partner.adaptive.load.latency.recovery=0.2")
			.run((context) -> {
				AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
				// slow calls before the first reading: they set the starting totals only
				record(timer, 10, Duration.ofSeconds(2));
				adaptive.tick();
				assertThat(state(adaptive).loads()).doesNotContainKey("latency");
				record(timer, 4, Duration.ofMillis(700));
				adaptive.tick();
				assertThat(state(adaptive).loads().get("latency").reading()).isCloseTo(0.7,
						org.assertj.core.data.Offset.offset(1e-9));
				assertThat(state(adaptive).severity()).isEqualTo(Severity.WARNING);
				// no calls since: no reading, the level stays
				adaptive.tick();
				assertThat(state(adaptive).severity()).isEqualTo(Severity.WARNING);
				record(timer, 5, Duration.ofMillis(100));
				adaptive.tick();
				assertThat(state(adaptive).loads().get("latency").reading()).isCloseTo(0.1,
						org.assertj.core.data.Offset.offset(1e-9));
				assertThat(state(adaptive).severity()).isEqualTo(Severity.NORMAL);
			});
	}

	@Test
	void aMissingMeterOrAReadingThatIsNotANumberIsNoReading() {
		AtomicReference<Double> queue = new AtomicReference<>(Double.NaN);
		Gauge.builder("app.queue", queue, AtomicReference::get).register(this.meters);
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.partner.adaptive.load.missing.meter=no.such.meter",
					"ratelimit.limiters.partner.adaptive.load.missing.warning=1",
					"ratelimit.limiters.partner.adaptive.load.missing.recovery=0",
					"ratelimit.limiters.partner.adaptive.load.queue.meter=app.queue",
					"ratelimit.limiters.partner.adaptive.load.queue.warning=10",
					"ratelimit.limiters.partner.adaptive.load.queue.recovery=1")
			.run((context) -> {
				AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
				adaptive.tick();
				queue.set(-1.0);
				adaptive.tick();
				queue.set(Double.POSITIVE_INFINITY);
				adaptive.tick();
				assertThat(state(adaptive).loads()).isEmpty();
				assertThat(state(adaptive).severity()).isEqualTo(Severity.NORMAL);
				queue.set(20.0);
				adaptive.tick();
				assertThat(state(adaptive).loads()).containsOnlyKeys("queue");
				assertThat(state(adaptive).severity()).isEqualTo(Severity.WARNING);
			});
	}

	@Test
	void aSignalTheStarterDoesNotKnowNeedsItsMeterAndThresholds() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.partner.adaptive.load.queue.warning=100",
				"ratelimit.limiters.partner.adaptive.load.queue.recovery=10")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(InvalidRateLimitConfigurationException.class)
				.hasMessageContaining("ratelimit.limiters.partner.adaptive.load.queue.meter")
				.hasMessageContaining("load signal 'queue' is not one the starter knows")
				.satisfies((failure) -> assertThat(((InvalidRateLimitConfigurationException) failure).getAction())
					.endsWith("or use a known signal: heap-after-gc, process-cpu, system-cpu.")));
		this.contextRunner.withPropertyValues("ratelimit.limiters.partner.adaptive.load.queue.meter=app.queue",
				"ratelimit.limiters.partner.adaptive.load.queue.recovery=10")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.partner.adaptive.load.queue.warning")
				.hasMessageContaining("needs the reading above which it warns"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.partner.adaptive.load.process-cpu.warning=0.7")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.partner.adaptive.load.process-cpu.recovery")
				.hasMessageContaining("recovery (0.75) must be less than warning (0.7)")
				.satisfies((failure) -> assertThat(((InvalidRateLimitConfigurationException) failure).getAction())
					.isEqualTo("Set ratelimit.limiters.partner.adaptive.load.process-cpu.recovery below "
							+ "ratelimit.limiters.partner.adaptive.load.process-cpu.warning: left out, it is 0.75 for "
							+ "process-cpu.")));
		this.contextRunner.withPropertyValues("ratelimit.limiters.partner.adaptive.load.process-cpu.critical=0.5")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.partner.adaptive.load.process-cpu.critical")
				.hasMessageContaining("critical (0.5) must be at least warning (0.85)"));
	}

	@Test
	void aStepRegistrysTimerIsReadAsItsLastStepsMean() {
		io.micrometer.core.instrument.step.StepRegistryConfig config = new io.micrometer.core.instrument.step.StepRegistryConfig() {
			@Override
			public String prefix() {
				return "test";
			}

			@Override
			public String get(String key) {
				return null;
			}

			@Override
			public Duration step() {
				return Duration.ofMinutes(1);
			}
		};
		io.micrometer.core.instrument.MockClock clock = new io.micrometer.core.instrument.MockClock();
		io.micrometer.core.instrument.step.StepMeterRegistry steps = new io.micrometer.core.instrument.step.StepMeterRegistry(
				config, clock) {
			@Override
			protected void publish() {
			}

			@Override
			protected java.util.concurrent.TimeUnit getBaseTimeUnit() {
				return java.util.concurrent.TimeUnit.SECONDS;
			}
		};
		Timer timer = Timer.builder("http.client.requests").register(steps);
		MeterLoadReadings readings = new MeterLoadReadings(() -> steps);
		dev.ratelimit.spring.config.LimiterDefinitions.LoadSpec latency = new dev.ratelimit.spring.config.LimiterDefinitions.LoadSpec(
				"latency", "http.client.requests", java.util.Map.of());
		record(timer, 2, Duration.ofMillis(100));
		record(timer, 2, Duration.ofMillis(300));
		// within the step: the last completed one had no calls
		assertThat(readings.read("partner", latency)).isNaN();
		clock.add(Duration.ofMinutes(1));
		assertThat(readings.read("partner", latency)).isCloseTo(0.2, org.assertj.core.data.Offset.offset(1e-9));
		record(timer, 1, Duration.ofSeconds(3));
		clock.add(Duration.ofMinutes(1));
		// a running difference across steps would say (3 - 0.8) / (1 - 4): the step's own mean is 3
		assertThat(readings.read("partner", latency)).isCloseTo(3.0, org.assertj.core.data.Offset.offset(1e-9));
	}

	@Test
	void aLoadSignalOnAGlobalLimiterFailsStartUp() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class))
			.withPropertyValues("ratelimit.limiters.drain.scope=global", "ratelimit.limiters.drain.rate=100/1s",
					"ratelimit.limiters.drain.adaptive.enabled=true",
					"ratelimit.limiters.drain.adaptive.load.process-cpu.warning=0.9")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(InvalidRateLimitConfigurationException.class)
				.hasMessageContaining("ratelimit.limiters.drain.adaptive.load.process-cpu")
				.hasMessageContaining("a load signal is this instance's own"));
	}

	private static AdaptiveState state(AdaptiveRateLimiters adaptive) {
		return adaptive.states().get("partner");
	}

	private static void record(Timer timer, int calls, Duration each) {
		for (int i = 0; i < calls; i++) {
			timer.record(each);
		}
	}

}
