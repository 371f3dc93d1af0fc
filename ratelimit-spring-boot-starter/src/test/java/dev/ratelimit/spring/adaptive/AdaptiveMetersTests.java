package dev.ratelimit.spring.adaptive;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitMetricsAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

class AdaptiveMetersTests {

	@Test
	void severityIsAGaugeAndOneHotSeries() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
					RateLimitAdaptiveAutoConfiguration.class, RateLimitMetricsAutoConfiguration.class))
			.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.withPropertyValues("ratelimit.limiters.producer.rate=1000/1s",
					"ratelimit.limiters.producer.adaptive.enabled=true",
					"ratelimit.limiters.producer.adaptive.lag-source=downstream")
			.run((context) -> {
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				context.getBean("rateLimitStateMeters", io.micrometer.core.instrument.binder.MeterBinder.class)
					.bindTo(meters);
				assertThat(meters.get("ratelimit.adaptive.severity").tag("name", "producer").gauge().value()).isZero();
				context.getBean(AdaptiveRateLimiters.class).onLag("downstream", 12_000);
				assertThat(meters.get("ratelimit.adaptive.severity").tag("name", "producer").gauge().value())
					.isEqualTo(2.0);
				// one-hot: 1 for the current severity only
				assertThat(meters.get("ratelimit.adaptive.state").tag("name", "producer").gauges())
					.extracting((gauge) -> gauge.getId().getTag("severity") + "=" + gauge.value())
					.containsExactlyInAnyOrder("normal=0.0", "warning=0.0", "critical=1.0", "emergency=0.0");
			});
	}

	@Test
	void eachBackendStateIsAGaugeAndOneHotSeries() {
		java.util.concurrent.atomic.AtomicReference<dev.ratelimit.spring.actuate.RateLimitBackendHealth.Report> report = new java.util.concurrent.atomic.AtomicReference<>(
				dev.ratelimit.spring.actuate.RateLimitBackendHealth.Report.up(java.util.Map.of()));
		dev.ratelimit.spring.actuate.RateLimitBackendHealth backend = new dev.ratelimit.spring.actuate.RateLimitBackendHealth() {

			@Override
			public String backend() {
				return "kafka";
			}

			@Override
			public Report report() {
				Report current = report.get();
				if (current == null) {
					throw new IllegalStateException("no state yet");
				}
				return current;
			}

		};
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitMetricsAutoConfiguration.class))
			.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.withBean(dev.ratelimit.spring.actuate.RateLimitBackendHealth.class, () -> backend)
			.run((context) -> {
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				context.getBean("rateLimitStateMeters", io.micrometer.core.instrument.binder.MeterBinder.class)
					.bindTo(meters);
				assertThat(states(meters)).containsExactlyInAnyOrder("up=1.0", "degraded=0.0", "down=0.0");
				assertThat(meters.get("ratelimit.backend.status").tag("backend", "kafka").gauge().value()).isZero();
				report.set(new dev.ratelimit.spring.actuate.RateLimitBackendHealth.Report(
						dev.ratelimit.spring.actuate.RateLimitBackendHealth.State.DEGRADED, java.util.Map.of()));
				assertThat(states(meters)).containsExactlyInAnyOrder("up=0.0", "degraded=1.0", "down=0.0");
				assertThat(meters.get("ratelimit.backend.status").tag("backend", "kafka").gauge().value()).isEqualTo(1.0);
				report.set(null); // a backend that cannot say is down, and the scrape goes on
				assertThat(states(meters)).containsExactlyInAnyOrder("up=0.0", "degraded=0.0", "down=1.0");
			});
	}

	private static java.util.List<String> states(MeterRegistry meters) {
		return meters.get("ratelimit.backend.state")
			.tag("backend", "kafka")
			.gauges()
			.stream()
			.map((gauge) -> gauge.getId().getTag("state") + "=" + gauge.value())
			.toList();
	}

}
