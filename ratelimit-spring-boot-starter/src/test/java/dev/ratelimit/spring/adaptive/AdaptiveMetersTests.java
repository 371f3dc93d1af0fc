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
	void severityIsAGauge() {
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
			});
	}

}
