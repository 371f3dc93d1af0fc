package dev.ratelimit.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimiterMetrics;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitMetricsAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitMetricsAutoConfiguration.class, MetricsAutoConfiguration.class,
				SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
		.withPropertyValues("ratelimit.limiters.orders.rate=2/1h");

	@Test
	void limiterEventsBecomeMeters() {
		this.contextRunner.run((context) -> {
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			registry.limiter("orders").tryAcquire();
			registry.limiter("orders").tryAcquire(2);
			MeterRegistry meters = context.getBean(MeterRegistry.class);
			assertThat(meters.get("ratelimit.calls").tags("name", "orders", "result", "permitted").counter().count())
				.isOne();
			assertThat(meters.get("ratelimit.calls").tags("name", "orders", "result", "rejected").counter().count())
				.isOne();
			assertThat(meters.get("ratelimit.permits.available").tag("name", "orders").gauge().value()).isOne();
			assertThat(meters.get("ratelimit.utilization").tag("name", "orders").gauge().value()).isEqualTo(0.5);
		});
	}

	@Test
	void perKeyTagsFollowTheProperties() {
		this.contextRunner
			.withPropertyValues("ratelimit.metrics.per-key-tags=true", "ratelimit.metrics.max-tagged-keys=1")
			.run((context) -> {
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				registry.limiter("orders", "a").tryAcquire();
				registry.limiter("orders", "b").tryAcquire();
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				assertThat(meters.find("ratelimit.calls").counters())
					.extracting((counter) -> counter.getId().getTag("key"))
					.containsOnly("a", RateLimiterMetrics.OTHER_KEYS);
			});
	}

	@Test
	void whenThereIsNoMeterRegistryThenTheListenerFactoryBacksOff() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitMetricsAutoConfiguration.class))
			.withPropertyValues("ratelimit.limiters.orders.rate=2/1h")
			.run((context) -> {
				assertThat(context).doesNotHaveBean(RateLimiterMetrics.class);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders").tryAcquire()).isTrue();
			});
	}

	@Test
	void whenMicrometerIsNotOnTheClasspathThenTheListenerFactoryBacksOff() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitMetricsAutoConfiguration.class))
			.withPropertyValues("ratelimit.limiters.orders.rate=2/1h")
			.withClassLoader(new FilteredClassLoader("io.micrometer"))
			.run((context) -> {
				assertThat(context).hasNotFailed().doesNotHaveBean(RateLimiterMetrics.class);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders").tryAcquire()).isTrue();
			});
	}

	@Test
	void whenRateLimitingIsDisabledThenTheListenerFactoryIsNotCreated() {
		this.contextRunner.withPropertyValues("ratelimit.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(RateLimiterMetrics.class));
	}

	@Test
	void whenTheUserDefinesTheListenerFactoryThenTheAutoConfiguredOneBacksOff() {
		this.contextRunner.withUserConfiguration(UserMetricsConfiguration.class).run((context) -> {
			assertThat(context).getBean(RateLimiterMetrics.class).isSameAs(context.getBean("myMetrics"));
			context.getBean(RateLimiterRegistry.class).limiter("orders").tryAcquire();
			assertThat(context.getBean(MeterRegistry.class).find("ratelimit.calls").counters())
				.as("the user's factory is the one installed")
				.isNotEmpty();
		});
	}

	@Test
	void otherListenerFactoriesStillHearEveryEvent() {
		this.contextRunner.withUserConfiguration(RecordingListenerConfiguration.class).run((context) -> {
			context.getBean(RateLimiterRegistry.class).limiter("orders").tryAcquire();
			assertThat(context.getBean(RecordingListenerConfiguration.class).permitted).containsExactly(1L);
			assertThat(context.getBean(MeterRegistry.class)
				.get("ratelimit.calls")
				.tags("name", "orders", "result", "permitted")
				.counter()
				.count()).isOne();
		});
	}

	@Test
	void aNegativeKeyBoundStopsStartUpNamingTheProperty() {
		this.contextRunner.withPropertyValues("ratelimit.metrics.max-tagged-keys=-1")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(InvalidRateLimitConfigurationException.class)
				.hasMessageStartingWith("ratelimit.metrics.max-tagged-keys = '-1'"));
	}

	@Configuration(proxyBeanMethods = false)
	static class UserMetricsConfiguration {

		@Bean
		RateLimiterMetrics myMetrics(MeterRegistry meterRegistry) {
			return new RateLimiterMetrics(() -> meterRegistry, () -> null, false, 0);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class RecordingListenerConfiguration {

		final List<Long> permitted = new ArrayList<>();

		@Bean
		RateLimiterRegistry.ListenerFactory recordingListenerFactory() {
			return (name, key) -> new RateLimiterListener() {

				@Override
				public void onPermitted(long permits) {
					RecordingListenerConfiguration.this.permitted.add(permits);
				}

			};
		}

	}

}
