package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitsEndpoint;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of the
 * {@code ratelimits} actuator endpoint ({@link RateLimitsEndpoint}). Like every endpoint it exists
 * only when it is available, that is, accessible and exposed: by default it is exposed neither
 * over HTTP nor over JMX until the application includes it.
 *
 * <p>The availability condition sits on the bean method rather than on the class, so that it is
 * only looked at once the class condition has found the actuator: its condition class lives in
 * the actuator module.
 */
@AutoConfiguration(after = { RateLimitAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class,
		RateLimitRulesAutoConfiguration.class })
@ConditionalOnClass({ Endpoint.class, ConditionalOnAvailableEndpoint.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
public final class RateLimitEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(RateLimiterRegistry.class)
	@ConditionalOnAvailableEndpoint
	RateLimitsEndpoint rateLimitsEndpoint(RateLimiterRegistry registry,
			org.springframework.beans.factory.ObjectProvider<dev.ratelimit.spring.adaptive.AdaptiveRateLimiters> adaptive,
			org.springframework.beans.factory.ObjectProvider<dev.ratelimit.spring.rules.RateLimitRules> rules,
			org.springframework.beans.factory.ObjectProvider<RateLimitRulesProperties> rulesProperties) {
		RateLimitRulesProperties settings = rulesProperties.getIfAvailable();
		return new RateLimitsEndpoint(registry, adaptive.getIfAvailable(), rules.getIfAvailable(),
				(settings != null) ? settings.getPublishTimeout() : java.time.Duration.ofSeconds(10));
	}

}
