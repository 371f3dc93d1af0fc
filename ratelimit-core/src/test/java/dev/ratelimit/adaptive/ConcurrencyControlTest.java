package dev.ratelimit.adaptive;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ratelimit.ConcurrencyLimiter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Adaptive concurrency on a simulated service ({@link QueueModel}: 20 workers, 10 ms a call, offered
 * half again what it serves, twice as slow from second 30): the limit settles near the workers,
 * latency stays near the service time, throughput near what the service can do, before and after
 * the slowdown. Bounds are generous; the figures are in docs/core/adaptive.md.
 */
class ConcurrencyControlTest {

	private static final long TIMEOUT = Duration.ofMillis(100).toNanos();

	@Test
	void theGradientFindsTheServicesConcurrencyAndKeepsItsLatency() {
		ConcurrencyLimiter limiter = ConcurrencyLimiter.of("service", 10);
		ConcurrencyControl control = ConcurrencyControl.builder(limiter).build();
		QueueModel.Result result = QueueModel.run(QueueModel.admission(control), TIMEOUT, 42);
		System.out.print(QueueModel.table(java.util.List.<Object[]>of(new Object[] { "gradient", result })));
		assertThat(result.before().meanLimit()).isBetween(15.0, 45.0);
		assertThat(result.before().meanLatencyMillis()).isLessThan(25.0);
		assertThat(result.before().throughput()).isGreaterThan(1_800.0);
		assertThat(result.after().meanLatencyMillis()).isLessThan(50.0);
		assertThat(result.after().throughput()).isGreaterThan(900.0);
		assertThat(limiter.limit().capacity()).isEqualTo(control.limit());
	}

	@Test
	void aServiceWhoseCallsVaryWidelyIsNotTakenForAQueue() {
		// lognormal and exponential service times: the average of a few calls against the lowest
		// such average, never against the fastest single call, which a long tail would dwarf
		for (QueueModel.Service service : new QueueModel.Service[] { QueueModel.Service.LOGNORMAL,
				QueueModel.Service.EXPONENTIAL, QueueModel.Service.FAST_HITS }) {
			ConcurrencyControl control = ConcurrencyControl.builder(ConcurrencyLimiter.of("service", 10)).build();
			QueueModel.Result result = QueueModel.run(QueueModel.admission(control), TIMEOUT, 42, service);
			assertThat(result.before().meanLimit()).as(service.name()).isGreaterThan(15.0);
			assertThat(result.before().throughput()).as(service.name()).isGreaterThan(1_600.0);
			assertThat(result.before().meanLatencyMillis()).as(service.name()).isLessThan(25.0);
		}
	}

	@Test
	void aimdGrowsAgainAfterABackoffThatLeftAFraction() {
		ConcurrencyLimiter limiter = ConcurrencyLimiter.of("service", 10);
		ConcurrencyControl control = ConcurrencyControl.builder(limiter)
			.algorithm(ConcurrencyControl.Algorithm.AIMD)
			.build();
		control.onDropped();
		control.onDropped();
		// 10 x 0.9 x 0.9 = 8.1: a bound of 8, which calls can fill
		assertThat(control.limit()).isEqualTo(8);
		control.onSample(Duration.ofMillis(10).toNanos(), 8);
		assertThat(control.limit()).isEqualTo(9);
	}

	@Test
	void aimdGrowsWhileInUseAndBacksOffOnTimeouts() {
		ConcurrencyLimiter limiter = ConcurrencyLimiter.of("service", 10);
		ConcurrencyControl control = ConcurrencyControl.builder(limiter)
			.algorithm(ConcurrencyControl.Algorithm.AIMD)
			.timeout(Duration.ofMillis(50))
			.build();
		QueueModel.Result result = QueueModel.run(QueueModel.admission(control), Duration.ofMillis(50).toNanos(), 42);
		assertThat(result.before().throughput()).isGreaterThan(1_800.0);
		assertThat(result.before().p99LatencyMillis()).isLessThan(80.0);
		assertThat(control.drops()).isPositive();
	}

	@Test
	void aDropMultipliesTheLimitByTheBackoffWithinTheFloor() {
		ConcurrencyLimiter limiter = ConcurrencyLimiter.of("service", 10);
		ConcurrencyControl control = ConcurrencyControl.builder(limiter).minLimit(5).maxLimit(50).build();
		control.onDropped();
		assertThat(control.limit()).isEqualTo(9);
		for (int i = 0; i < 20; i++) {
			control.onDropped();
		}
		assertThat(control.limit()).isEqualTo(5);
		assertThat(limiter.limit().capacity()).isEqualTo(5);
		assertThat(control.drops()).isEqualTo(21);
	}

	@Test
	void anIdleServiceDoesNotInflateTheLimit() {
		ConcurrencyLimiter limiter = ConcurrencyLimiter.of("service", 10);
		ConcurrencyControl control = ConcurrencyControl.builder(limiter).build();
		for (int i = 0; i < 10_000; i++) {
			control.onSample(Duration.ofMillis(10).toNanos(), 2);
		}
		assertThat(control.limit()).isEqualTo(10);
	}

	@Test
	void badSettingsAreRefusedNamingThem() {
		ConcurrencyLimiter limiter = ConcurrencyLimiter.of("service", 10);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> ConcurrencyControl.builder(limiter).minLimit(10).maxLimit(5).build())
			.withMessage("maxLimit must be at least minLimit (10), but was 5");
		assertThatIllegalArgumentException().isThrownBy(() -> ConcurrencyControl.builder(limiter).backoffRatio(1).build())
			.withMessageStartingWith("backoffRatio must be greater than 0 and less than 1");
		assertThatIllegalArgumentException().isThrownBy(() -> ConcurrencyControl.builder(limiter).build().onSample(0, 1))
			.withMessageStartingWith("a call's latency must be positive");
	}

}
