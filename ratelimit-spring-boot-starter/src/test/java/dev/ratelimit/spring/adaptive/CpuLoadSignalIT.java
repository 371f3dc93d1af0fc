package dev.ratelimit.spring.adaptive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.jvm.JvmMetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.system.SystemMetricsAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.AdaptiveState;
import dev.ratelimit.adaptive.Severity;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real CPU load, read from Boot's own {@code process.cpu.usage} meter by the scheduler of the
 * adaptive controllers: threads that spin on every core raise the signal's severity and lower the
 * rate; once they stop, the severity returns to normal and the rate recovers. The thresholds are
 * far apart (warning above 50%, normal below 25%) so that a busy machine cannot fail the test.
 */
class CpuLoadSignalIT {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
				CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class,
				SystemMetricsAutoConfiguration.class, JvmMetricsAutoConfiguration.class,
				RateLimitAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class))
		.withPropertyValues("ratelimit.limiters.partner.rate=100/1s", "ratelimit.limiters.partner.adaptive.enabled=true",
				"ratelimit.limiters.partner.adaptive.recovery-interval=500ms",
				"ratelimit.limiters.partner.adaptive.recovery-step=0.5",
				"ratelimit.limiters.partner.adaptive.load.process-cpu.warning=0.5",
				"ratelimit.limiters.partner.adaptive.load.process-cpu.recovery=0.25",
				"ratelimit.limiters.partner.adaptive.load.heap-after-gc.warning=0.999",
				"ratelimit.limiters.partner.adaptive.load.heap-after-gc.recovery=0.99");

	@Test
	void spinningOnEveryCoreLowersTheRateUntilTheCpuIsQuietAgain() {
		this.contextRunner.run((context) -> {
			AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			await().atMost(Duration.ofSeconds(30))
				.until(() -> adaptive.states().get("partner").loads().containsKey("process-cpu"));
			AtomicBoolean spinning = new AtomicBoolean(true);
			List<Thread> spinners = new ArrayList<>();
			for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
				Thread spinner = new Thread(() -> {
					long sink = 0;
					while (spinning.get()) {
						sink += System.nanoTime() % 7;
					}
					if (sink == 42) {
						System.out.print("");
					}
				}, "spinner-" + i);
				spinner.setDaemon(true);
				spinner.start();
				spinners.add(spinner);
			}
			try {
				await().atMost(Duration.ofSeconds(60))
					.until(() -> adaptive.states().get("partner").severity() == Severity.WARNING);
				AdaptiveState loaded = adaptive.states().get("partner");
				System.out.printf("cpu load: %s at %.3f, rate %s%n", loaded.loads().get("process-cpu").severity(),
						loaded.loads().get("process-cpu").reading(), loaded.rate());
				assertThat(loaded.loads().get("process-cpu").reading()).isGreaterThan(0.5);
				assertThat(registry.limiter("partner").limit().rate().perSecond()).isEqualTo(80.0);
			}
			finally {
				spinning.set(false);
				for (Thread spinner : spinners) {
					spinner.join();
				}
			}
			await().atMost(Duration.ofSeconds(60))
				.until(() -> adaptive.states().get("partner").severity() == Severity.NORMAL);
			await().atMost(Duration.ofSeconds(60))
				.until(() -> registry.limiter("partner").limit().rate().perSecond() == 100.0);
			// the heap after a full collection: a reading once one has happened
			System.gc();
			await().atMost(Duration.ofSeconds(30))
				.until(() -> adaptive.states().get("partner").loads().containsKey("heap-after-gc"));
			assertThat(adaptive.states().get("partner").loads().get("heap-after-gc").reading()).isBetween(0.0, 1.0);
		});
	}

}
