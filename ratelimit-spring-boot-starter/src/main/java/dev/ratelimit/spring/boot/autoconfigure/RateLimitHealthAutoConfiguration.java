package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.context.annotation.Bean;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.actuate.RateLimitHealthIndicator;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of the
 * {@code ratelimit} health indicator ({@link RateLimitHealthIndicator}), which aggregates every
 * {@link RateLimitBackendHealth} bean. Turned off with {@code management.health.ratelimit.enabled=false}.
 *
 * <p>Ordered before Boot's {@code HealthContributorAutoConfiguration}, as Boot's own indicators
 * are, so the indicator is defined before the health contributors are collected. The enablement
 * condition sits on the bean method, so that it is only looked at once the class condition has
 * found the health module, where its condition class lives.
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		beforeName = "org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration")
@ConditionalOnClass({ Health.class, ConditionalOnEnabledHealthIndicator.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
public final class RateLimitHealthAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(value = RateLimitHealthIndicator.class, name = "ratelimitHealthIndicator")
	@ConditionalOnBean(RateLimiterRegistry.class)
	@ConditionalOnEnabledHealthIndicator("ratelimit")
	RateLimitHealthIndicator ratelimitHealthIndicator(RateLimiterRegistry registry,
			ObjectProvider<RateLimitBackendHealth> backends) {
		return new RateLimitHealthIndicator(registry, backends.orderedStream().toList());
	}

}
