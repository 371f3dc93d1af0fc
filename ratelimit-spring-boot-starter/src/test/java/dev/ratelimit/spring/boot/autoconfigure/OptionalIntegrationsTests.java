package dev.ratelimit.spring.boot.autoconfigure;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.aop.RateLimitedMethods;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * An application with none of the optional integrations on its classpath (no web, actuator,
 * Micrometer, Kafka or Reactor) still starts with every auto-configuration of the starter, and
 * {@code @RateLimited} works.
 */
class OptionalIntegrationsTests {

	private static final FilteredClassLoader NOTHING_OPTIONAL = new FilteredClassLoader("org.springframework.web",
			"org.springframework.http", "jakarta.servlet", "org.springframework.boot.actuate",
			"org.springframework.boot.health", "io.micrometer", "org.springframework.kafka", "org.apache.kafka",
			"reactor.", "org.reactivestreams");

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitKafkaBackendAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class,
				RateLimitAdaptiveAutoConfiguration.class, RateLimitWebMvcAutoConfiguration.class,
				RateLimitWebFluxAutoConfiguration.class, RateLimitEndpointAutoConfiguration.class,
				RateLimitMetricsAutoConfiguration.class, RateLimitHealthAutoConfiguration.class))
		.withClassLoader(NOTHING_OPTIONAL)
		.withUserConfiguration(ServiceConfiguration.class)
		.withPropertyValues("ratelimit.limiters.orders.rate=2/1h", "ratelimit.limiters.orders.adaptive.enabled=true");

	@Test
	void startsWithoutAnyOptionalIntegrationAndLimitsCalls() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasNotFailed()
				.hasSingleBean(RateLimiterRegistry.class)
				.hasSingleBean(RateLimitedMethods.class)
				.hasSingleBean(AdaptiveRateLimiters.class);
			Service service = context.getBean(Service.class);
			service.call();
			service.call();
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(service::call);
		});
	}

	@Test
	void theKafkaBackendNeedsTheKafkaClasses() {
		this.contextRunner.withPropertyValues("ratelimit.backend=kafka", "ratelimit.limiters.orders.scope=global")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.backend is kafka, but the Kafka backend could not be set up: "
						+ "kafka-clients and kafka-streams must be on the classpath"));
	}

	@Test
	void loadSignalsNeedMicrometerAndSayHowToAddIt() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.orders.adaptive.load.process-cpu.warning=0.9")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(InvalidRateLimitConfigurationException.class)
				.hasMessageContaining("ratelimit.limiters.orders.adaptive.load.process-cpu")
				.hasMessageContaining("load signals are read from Micrometer's meters, and Micrometer is not on the "
						+ "classpath")
				.satisfies((failure) -> assertThat(((InvalidRateLimitConfigurationException) failure).getAction())
					.startsWith("Add spring-boot-starter-actuator")));
	}

	@Configuration(proxyBeanMethods = false)
	static class ServiceConfiguration {

		@Bean
		Service service() {
			return new Service();
		}

	}

	public static class Service {

		@RateLimited("orders")
		public void call() {
		}

	}

}
