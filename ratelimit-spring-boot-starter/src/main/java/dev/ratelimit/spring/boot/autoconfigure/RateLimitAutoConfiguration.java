package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;

import io.micrometer.observation.ObservationRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.ConfigurationPropertiesBinding;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

import dev.ratelimit.RateLimiterBackend;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.observation.RateLimitObservationConvention;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * rate limiting: binds {@code ratelimit.*}, checks it, and declares every limiter in a
 * {@link RateLimiterRegistry}.
 */
@AutoConfiguration(afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@EnableConfigurationProperties(RateLimitProperties.class)
public final class RateLimitAutoConfiguration {

	/**
	 * An observation per permit acquisition ({@code @RateLimited} methods, HTTP rules) where the
	 * application has an {@link ObservationRegistry}, named and tagged by its
	 * {@link RateLimitObservationConvention} bean, if any.
	 * @param registry where observations go
	 * @param convention the application's convention, if it declares one
	 * @return the observations
	 */
	@Bean
	@ConditionalOnBean(ObservationRegistry.class)
	@ConditionalOnMissingBean
	RateLimitObservations rateLimitObservations(ObservationRegistry registry,
			ObjectProvider<RateLimitObservationConvention> convention) {
		return new RateLimitObservations(registry, convention.getIfUnique());
	}

	@Bean
	@ConfigurationPropertiesBinding
	static StringToRateConverter rateLimitStringToRateConverter() {
		return new StringToRateConverter();
	}

	@Bean
	@ConditionalOnMissingBean
	LimiterDefinitions rateLimiterDefinitions(RateLimitProperties properties) {
		return LimiterDefinitions.of(properties);
	}

	/**
	 * Declares every limiter: local ones in memory, global ones in the shared backend (the only
	 * {@link RateLimiterBackend} bean, provided by the Kafka backend's auto-configuration).
	 */
	@Bean
	@ConditionalOnMissingBean
	RateLimiterRegistry rateLimiterRegistry(LimiterDefinitions definitions, RateLimitProperties properties,
			ObjectProvider<RateLimiterRegistry.ListenerFactory> listenerFactories,
			ObjectProvider<RateLimiterBackend> backends) {
		List<RateLimiterRegistry.ListenerFactory> factories = listenerFactories.orderedStream().toList();
		RateLimiterRegistry.Builder builder = RateLimiterRegistry.builder()
			.listeners((name, key) -> CompositeRateLimiterListener
				.of(factories.stream().map((factory) -> factory.create(name, key)).toList()))
			.maxKeys(definitions.defaultKeys().maxKeys())
			.keyIdleTimeout(definitions.defaultKeys().idleTimeout())
			.maxKeyLength(properties.getMaxKeyLength());
		RateLimiterBackend shared = backends.getIfUnique();
		if (definitions.defaultLimit() != null) {
			builder.defaultLimit(definitions.defaultLimit());
		}
		RateLimiterRegistry registry = builder.build();
		definitions.declared().values().forEach((definition) -> {
			if (definition.isComposite()) {
				registry.defineComposite(definition.name(), definition.tiers(), definition.keys());
			}
			else if (definition.global()) {
				if (shared == null) {
					boolean kafka = properties.getBackend() == RateLimitProperties.Backend.KAFKA;
					throw new InvalidRateLimitConfigurationException(
							LimiterDefinitions.PREFIX + definition.name() + ".scope", "global",
							kafka ? "ratelimit.backend is kafka, but the Kafka backend could not be set up: kafka-clients "
									+ "and kafka-streams must be on the classpath"
									: "a global limit needs a shared backend, but ratelimit.backend is in-memory",
							kafka ? "Add org.apache.kafka:kafka-streams (and spring-kafka) to the application."
									: "Set ratelimit.backend=kafka (with kafka-clients and kafka-streams on the classpath), "
											+ "or make the limiter local.");
				}
				if (definition.priority() != null) {
					// each instance orders its classes within its share; the authority fills the shares class by class
					registry.definePriorities(definition.name(), definition.limit(), definition.priority().priorities(),
							definition.priority().defaultClass(), shared);
				}
				else {
					registry.define(definition.name(), definition.limit(), shared, definition.keys());
				}
			}
			else if (definition.priority() != null) {
				registry.definePriorities(definition.name(), definition.limit(), definition.priority().priorities(),
						definition.priority().defaultClass());
			}
			else {
				registry.define(definition.name(), definition.limit(), null, definition.keys());
			}
		});
		return registry;
	}

}
