package dev.ratelimit.spring.boot.autoconfigure;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.jackson.JacksonEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.jmx.JmxEndpointAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jmx.JmxAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitsEndpoint;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitEndpointAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitEndpointAutoConfiguration.class, EndpointAutoConfiguration.class))
		.withPropertyValues("ratelimit.limiters.orders.rate=100/1s");

	@Test
	void whenTheEndpointIsNotExposedThenItIsNotCreated() {
		// Boot exposes only health by default, over HTTP and over JMX
		this.contextRunner.run((context) -> assertThat(context).hasNotFailed()
			.doesNotHaveBean(RateLimitsEndpoint.class));
	}

	@Test
	void whenTheEndpointIsExposedOverHttpThenItIsCreated() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=ratelimits")
			.run((context) -> assertThat(context).hasSingleBean(RateLimitsEndpoint.class));
	}

	@Test
	void whenTheEndpointIsExposedOverJmxThenItIsRegisteredAsAnMBean() {
		this.contextRunner
			.withConfiguration(AutoConfigurations.of(JmxAutoConfiguration.class, JmxEndpointAutoConfiguration.class,
					JacksonEndpointAutoConfiguration.class))
			.withPropertyValues("spring.jmx.enabled=true", "management.endpoints.jmx.exposure.include=ratelimits")
			.run((context) -> {
				assertThat(context).hasSingleBean(RateLimitsEndpoint.class);
				MBeanServer server = ManagementFactory.getPlatformMBeanServer();
				ObjectName name = new ObjectName("org.springframework.boot:type=Endpoint,name=Ratelimits");
				Object result = server.invoke(name, "rateLimiters", new Object[0], new String[0]);
				assertThat(result).isInstanceOf(Map.class);
				List<?> limiters = (List<?>) ((Map<?, ?>) result).get("limiters");
				assertThat(limiters).hasSize(1);
				@SuppressWarnings("unchecked")
				Map<String, Object> orders = (Map<String, Object>) limiters.get(0);
				assertThat(orders).containsEntry("name", "orders")
					.containsEntry("created", false)
					.containsEntry("rate", "100/s")
					.containsEntry("available", null);
			});
	}

	@Test
	void whenAccessToTheEndpointIsNoneThenItIsNotCreated() {
		this.contextRunner
			.withPropertyValues("management.endpoints.web.exposure.include=ratelimits",
					"management.endpoint.ratelimits.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitsEndpoint.class));
	}

	@Test
	void whenRateLimitingIsDisabledThenTheEndpointIsNotCreated() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=ratelimits",
				"ratelimit.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(RateLimitsEndpoint.class));
	}

	@Test
	void whenTheUserDefinesAnEndpointThenTheAutoConfiguredOneBacksOff() {
		this.contextRunner.withPropertyValues("management.endpoints.web.exposure.include=ratelimits")
			.withUserConfiguration(UserEndpointConfiguration.class)
			.run((context) -> assertThat(context).getBean(RateLimitsEndpoint.class)
				.isSameAs(context.getBean("myEndpoint")));
	}

	@Test
	void whenTheActuatorIsNotOnTheClasspathThenRateLimitingStillWorks() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitEndpointAutoConfiguration.class))
			.withPropertyValues("ratelimit.limiters.orders.rate=100/1s")
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate"))
			.withPropertyValues("management.endpoints.web.exposure.include=ratelimits")
			.run((context) -> {
				assertThat(context).hasNotFailed().doesNotHaveBean(RateLimitsEndpoint.class);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders").tryAcquire()).isTrue();
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class UserEndpointConfiguration {

		@Bean
		RateLimitsEndpoint myEndpoint(RateLimiterRegistry registry) {
			return new RateLimitsEndpoint(registry);
		}

	}

}
