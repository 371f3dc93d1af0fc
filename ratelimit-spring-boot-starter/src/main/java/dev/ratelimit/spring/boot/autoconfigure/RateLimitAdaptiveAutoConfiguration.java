package dev.ratelimit.spring.boot.autoconfigure;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.adaptive.LoadReadings;
import dev.ratelimit.spring.adaptive.MeterLoadReadings;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.LimiterDefinitions.AdaptiveSpec;
import dev.ratelimit.spring.config.LimiterDefinitions;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * adaptive control for limiters declared with {@code ratelimit.limiters.<name>.adaptive.enabled}.
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
public final class RateLimitAdaptiveAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	AdaptiveRateLimiters adaptiveRateLimiters(LimiterDefinitions definitions, RateLimiterRegistry registry,
			ApplicationEventPublisher events, ObjectProvider<SimpleAsyncTaskSchedulerBuilder> schedulers,
			ObjectProvider<LoadReadings> loadReadings) {
		Map<String, AdaptiveSpec> specs = new LinkedHashMap<>();
		definitions.declared().values().forEach((definition) -> {
			if (definition.adaptive() != null) {
				specs.put(definition.name(), definition.adaptive());
			}
		});
		LoadReadings loads = loadReadings.getIfAvailable();
		if (loads == null) {
			specs.forEach((name, spec) -> {
				if (!spec.loads().isEmpty()) {
					String property = "ratelimit.limiters." + name + ".adaptive.load." + spec.loads().get(0).signal();
					throw new InvalidRateLimitConfigurationException(property, null,
							"load signals are read from Micrometer's meters, and Micrometer is not on the classpath",
							"Add spring-boot-starter-actuator (or micrometer-core and spring-boot-micrometer-metrics), "
									+ "declare a LoadReadings bean that reads the signals, or remove " + property + ".");
				}
			});
		}
		return new AdaptiveRateLimiters(registry, specs, events, schedulers.getIfAvailable(), loads);
	}

	/**
	 * Reads load signals from the application's meter registry, looked up at each reading, so a
	 * registry created after this bean is found.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
	static class MeterReadingsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		LoadReadings meterLoadReadings(ObjectProvider<io.micrometer.core.instrument.MeterRegistry> meters) {
			return new MeterLoadReadings(meters::getIfAvailable);
		}

	}

	/**
	 * Lets each adaptive controller take on a rate changed elsewhere (another instance's controller,
	 * through the shared backend), so that any instance recovers it.
	 */
	@Bean
	RateLimiterRegistry.ListenerFactory adaptiveRateObserver(ObjectProvider<AdaptiveRateLimiters> adaptive,
			LimiterDefinitions definitions) {
		return (name, key) -> {
			LimiterDefinitions.Definition definition = definitions.declared().get(name);
			if (key != null || definition == null || definition.adaptive() == null
					|| definition.adaptive().concurrency() != null) {
				return RateLimiterListener.NONE;
			}
			return new RateLimiterListener() {

				@Override
				public void onLimitChanged(RateLimit previous, RateLimit current) {
					AdaptiveRateLimiters controllers = adaptive.getIfAvailable();
					if (controllers != null && !previous.rate().equals(current.rate())) {
						controllers.controller(name).ifPresent((controller) -> controller.observe(current.rate()));
					}
				}

			};
		};
	}

}
