package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.kafka.KafkaClientListener;
import dev.ratelimit.kafka.KafkaRuleBook;
import dev.ratelimit.rules.RuleBook;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.rules.RateLimitRules;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * runtime rules shared through Kafka ({@code ratelimit.rules.enabled=true}): a
 * {@link KafkaRuleBook} on the cluster of {@code ratelimit.kafka.*}, read whole before the
 * application takes traffic, and {@link RateLimitRules} applying it to the limiters.
 */
@AutoConfiguration(after = { RateLimitAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class,
		RateLimitKafkaBackendAutoConfiguration.class },
		afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "ratelimit.rules.enabled")
@EnableConfigurationProperties(RateLimitRulesProperties.class)
public final class RateLimitRulesAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	RateLimitRules rateLimitRules(RateLimiterRegistry registry, RuleBook book,
			ObjectProvider<AdaptiveRateLimiters> adaptive, ApplicationEventPublisher events) {
		return new RateLimitRules(registry, book, adaptive::getIfAvailable, events);
	}

	/** The rule book on Kafka, where Kafka's clients and Boot's Kafka support are. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "org.apache.kafka.clients.admin.Admin",
			"org.springframework.boot.kafka.autoconfigure.KafkaProperties" })
	static class KafkaRuleBookConfiguration {

		@Bean(destroyMethod = "close")
		@ConditionalOnMissingBean
		RuleBook rateLimitRuleBook(RateLimitProperties properties, RateLimitRulesProperties rules,
				ObjectProvider<KafkaConnectionDetails> connectionDetails,
				ObjectProvider<KafkaProperties> kafkaProperties, ObjectProvider<KafkaClientListener> clientListeners,
				Environment environment) {
			if (rules.getLoadTimeout().isNegative()) {
				throw new InvalidRateLimitConfigurationException("ratelimit.rules.load-timeout", rules.getLoadTimeout(),
						"the time must be zero or more", "Set ratelimit.rules.load-timeout to a duration, for example 10s.");
			}
			if (rules.getPublishTimeout().isNegative() || rules.getPublishTimeout().isZero()) {
				throw new InvalidRateLimitConfigurationException("ratelimit.rules.publish-timeout",
						rules.getPublishTimeout(), "the time must be positive",
						"Set ratelimit.rules.publish-timeout to a positive duration, for example 10s.");
			}
			return KafkaRuleBook.start(RateLimitKafkaBackendAutoConfiguration.config(properties.getKafka(),
					connectionDetails.getIfAvailable(), kafkaProperties.getIfAvailable(),
					environment.getProperty("spring.application.name"),
					KafkaClientListener.of(clientListeners.orderedStream().toList())), rules.getLoadTimeout());
		}

	}

	/** Rules asked for without Kafka: start-up fails with the fix rather than run without them. */
	@Configuration(proxyBeanMethods = false)
	@Conditional(KafkaSupportMissing.class)
	static class NoKafkaConfiguration {

		@Bean
		@ConditionalOnMissingBean
		RuleBook rateLimitRuleBook() {
			throw new InvalidRateLimitConfigurationException("ratelimit.rules.enabled", "true",
					"runtime rules are kept in Kafka, and Kafka's clients or Spring Boot's Kafka support are not on "
							+ "the classpath",
					"Add spring-kafka (or org.apache.kafka:kafka-clients with spring-boot-kafka), or set "
							+ "ratelimit.rules.enabled=false.");
		}

	}

	/** Kafka's clients or Spring Boot's Kafka support missing. */
	static final class KafkaSupportMissing extends AnyNestedCondition {

		KafkaSupportMissing() {
			super(ConfigurationPhase.REGISTER_BEAN);
		}

		@ConditionalOnMissingClass("org.apache.kafka.clients.admin.Admin")
		static final class NoClients {

		}

		@ConditionalOnMissingClass("org.springframework.boot.kafka.autoconfigure.KafkaProperties")
		static final class NoBootKafka {

		}

	}

}
