package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.actuate.RateLimitHealthIndicator;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitHealthAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitHealthAutoConfiguration.class, HealthContributorAutoConfiguration.class))
		.withPropertyValues("ratelimit.limiters.orders.rate=100/1s");

	@Test
	void healthIndicatorIsNamedRatelimitAndIsUp() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasSingleBean(RateLimitHealthIndicator.class).hasBean("ratelimitHealthIndicator");
			assertThat(context.getBean(RateLimitHealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
		});
	}

	@Test
	void backendHealthBeansAreAggregated() {
		this.contextRunner.withUserConfiguration(DegradedBackendConfiguration.class)
			.run((context) -> assertThat(context.getBean(RateLimitHealthIndicator.class).health().getStatus())
				.isEqualTo(RateLimitHealthIndicator.DEGRADED));
	}

	@Test
	void degradedCountsInTheOverallStatusOnceItIsInTheStatusOrder() {
		ApplicationContextRunner withEndpoint = this.contextRunner
			.withConfiguration(AutoConfigurations.of(EndpointAutoConfiguration.class,
					HealthContributorRegistryAutoConfiguration.class, HealthEndpointAutoConfiguration.class))
			.withUserConfiguration(DegradedBackendConfiguration.class);
		withEndpoint.run((context) -> assertThat(context.getBean(HealthEndpoint.class).health().getStatus())
			.as("Boot's default order does not know DEGRADED")
			.isEqualTo(Status.UP));
		withEndpoint.withPropertyValues("management.endpoint.health.status.order=down,out-of-service,degraded,up,unknown")
			.run((context) -> assertThat(context.getBean(HealthEndpoint.class).health().getStatus())
				.isEqualTo(RateLimitHealthIndicator.DEGRADED));
	}

	@Test
	void whenTheHealthIndicatorIsDisabledThenItIsNotCreated() {
		this.contextRunner.withPropertyValues("management.health.ratelimit.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitHealthIndicator.class));
	}

	@Test
	void whenHealthIndicatorsAreDisabledByDefaultThenItIsNotCreated() {
		this.contextRunner.withPropertyValues("management.health.defaults.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitHealthIndicator.class));
	}

	@Test
	void whenRateLimitingIsDisabledThenItIsNotCreated() {
		this.contextRunner.withPropertyValues("ratelimit.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(RateLimitHealthIndicator.class));
	}

	@Test
	void whenTheUserDefinesARatelimitHealthIndicatorThenTheAutoConfiguredOneBacksOff() {
		this.contextRunner.withUserConfiguration(UserIndicatorConfiguration.class)
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitHealthIndicator.class)
				.hasBean("ratelimitHealthIndicator"));
	}

	@Test
	void whenTheUserDefinesARateLimitHealthIndicatorOfAnyNameThenTheAutoConfiguredOneBacksOff() {
		this.contextRunner.withUserConfiguration(UserRateLimitIndicatorConfiguration.class)
			.run((context) -> assertThat(context).getBean(RateLimitHealthIndicator.class)
				.isSameAs(context.getBean("myIndicator")));
	}

	@Test
	void whenTheHealthModuleIsNotOnTheClasspathThenRateLimitingStillWorks() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitHealthAutoConfiguration.class))
			.withPropertyValues("ratelimit.limiters.orders.rate=100/1s")
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.health"))
			.run((context) -> {
				assertThat(context).hasNotFailed().doesNotHaveBean(RateLimitHealthIndicator.class);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders").tryAcquire()).isTrue();
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class DegradedBackendConfiguration {

		@Bean
		RateLimitBackendHealth kafkaHealth() {
			return new RateLimitBackendHealth() {

				@Override
				public String backend() {
					return "kafka";
				}

				@Override
				public Report report() {
					return Report.degraded(Map.of("policy", "local-share"));
				}

			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserIndicatorConfiguration {

		@Bean
		HealthIndicator ratelimitHealthIndicator() {
			return () -> Health.up().build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserRateLimitIndicatorConfiguration {

		@Bean
		RateLimitHealthIndicator myIndicator(RateLimiterRegistry registry) {
			return new RateLimitHealthIndicator(registry, List.of());
		}

	}

}
