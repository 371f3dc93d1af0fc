package dev.ratelimit.spring.boot.autoconfigure;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.aop.RateLimitedBeanPostProcessor;
import dev.ratelimit.spring.aop.RateLimitedMethods;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner().withConfiguration(
			AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class));

	@Test
	void declaresEveryConfiguredLimiter() {
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.orders.rate=100/1s", "ratelimit.limiters.orders.capacity=200",
					"ratelimit.limiters.orders.bandwidths[0].rate=10000/1d",
					"ratelimit.limiters.search.algorithm=sliding-window", "ratelimit.limiters.search.rate=600/1m",
					"ratelimit.limiters.search.slices=6", "ratelimit.limiters.pace.algorithm=leaky-bucket",
					"ratelimit.limiters.pace.rate=0.5/s", "ratelimit.limiters.db.algorithm=concurrency",
					"ratelimit.limiters.db.max-concurrent=8")
			.run((context) -> {
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				RateLimiter orders = registry.limiter("orders");
				assertThat(orders.limit()).isEqualTo(RateLimit.tokenBucket(Rate.perSecond(100))
					.capacity(200)
					.bandwidth(10_000, Rate.perDay(10_000))
					.build());
				assertThat(registry.limiter("search").limit())
					.isEqualTo(RateLimit.slidingWindow(600, Duration.ofMinutes(1)).slices(6).build());
				assertThat(registry.limiter("pace").limit()).isEqualTo(RateLimit.leakyBucket(Rate.perSecond(0.5)).build());
				assertThat(registry.limiter("db").limit().algorithm()).isEqualTo(Algorithm.CONCURRENCY);
				assertThat(registry.keyPolicy("orders").maxKeys()).isEqualTo(10_000);
			});
	}

	@Test
	void keysAreBoundedInLengthByDefaultAndByProperty() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.rate=10/1s").run((context) -> {
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			assertThat(registry.limiter("api", "k".repeat(1024))).isNotNull();
			org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
				.isThrownBy(() -> registry.limiter("api", "k".repeat(1025)))
				.withMessageContaining("ratelimit.max-key-length");
		});
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.rate=10/1s", "ratelimit.max-key-length=8")
			.run((context) -> org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
				.isThrownBy(() -> context.getBean(RateLimiterRegistry.class).limiter("api", "123456789")));
	}

	@Test
	void limitersInheritTheDefaults() {
		this.contextRunner
			.withPropertyValues("ratelimit.defaults.rate=10/1s", "ratelimit.defaults.max-keys=50",
					"ratelimit.defaults.wait-timeout=250ms", "ratelimit.limiters.orders.capacity=30")
			.run((context) -> {
				LimiterDefinitions definitions = context.getBean(LimiterDefinitions.class);
				assertThat(definitions.find("orders").limit())
					.isEqualTo(RateLimit.tokenBucket(Rate.perSecond(10)).capacity(30).build());
				assertThat(definitions.find("orders").waitTimeout()).isEqualTo(Duration.ofMillis(250));
				assertThat(definitions.find("orders").keys().maxKeys()).isEqualTo(50);
				// a default rate serves names that are not declared
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("other").limit())
					.isEqualTo(RateLimit.perSecond(10));
			});
	}

	@Test
	void compositesAreDeclaredFromTiers() {
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.global.rate=5/1s", "ratelimit.limiters.tenant.rate=3/1s",
					"ratelimit.limiters.checkout.tiers[0].name=tenant", "ratelimit.limiters.checkout.tiers[0].per-key=true",
					"ratelimit.limiters.checkout.tiers[1].name=global")
			.run((context) -> {
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				RateLimiter a = registry.limiter("checkout", "a");
				int admitted = 0;
				while (a.tryAcquire()) {
					admitted++;
				}
				assertThat(admitted).isEqualTo(3);
				assertThat(registry.limiter("global").snapshot().available()).isEqualTo(2);
			});
	}

	@Test
	void userRegistryBacksOff() {
		this.contextRunner.withUserConfiguration(UserRegistryConfiguration.class)
			.withPropertyValues("ratelimit.limiters.orders.rate=100/1s")
			.run((context) -> assertThat(context.getBean(RateLimiterRegistry.class))
				.isSameAs(context.getBean(UserRegistryConfiguration.class).registry));
	}

	@Test
	void userDefinitionsAndMethodsBackOff() {
		this.contextRunner.withUserConfiguration(UserDefinitionsConfiguration.class).run((context) -> {
			assertThat(context).getBean(LimiterDefinitions.class).isSameAs(UserDefinitionsConfiguration.DEFINITIONS);
			assertThat(context).hasSingleBean(RateLimitedMethods.class);
		});
	}

	@Test
	void disabledMeansNoLimiterAndNoProxy() {
		this.contextRunner.withPropertyValues("ratelimit.enabled=false", "ratelimit.limiters.orders.rate=100/1s")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimiterRegistry.class)
				.doesNotHaveBean(RateLimitedBeanPostProcessor.class)
				.doesNotHaveBean(RateLimitProperties.class));
	}

	@Configuration(proxyBeanMethods = false)
	static class UserRegistryConfiguration {

		final RateLimiterRegistry registry = RateLimiterRegistry.builder().build();

		@Bean
		RateLimiterRegistry myRegistry() {
			return this.registry;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserDefinitionsConfiguration {

		static final LimiterDefinitions DEFINITIONS = LimiterDefinitions
			.of(new RateLimitProperties(true, RateLimitProperties.Backend.IN_MEMORY,
					new RateLimitProperties.Limiter(null, null, null, null, null, null, null, null, null, null, null, null,
							null, null, null, null),
					null, new RateLimitProperties.Web(true), new RateLimitProperties.Metrics(false, 100), null));

		@Bean
		LimiterDefinitions myDefinitions() {
			return DEFINITIONS;
		}

	}

}
