package dev.ratelimit.spring.gateway;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.cloud.gateway.filter.ratelimit.AbstractRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.boot.autoconfigure.LimiterHeaders;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of a
 * Spring Cloud Gateway {@code RateLimiter} backed by this library's limiters, before the gateway's
 * own, so that its {@code RequestRateLimiter} filter finds it. The bean is primary: with the
 * gateway's {@code RedisRateLimiter} beside it, routes use this one unless they name the other
 * ({@code rate-limiter: "#{@redisRateLimiter}"}).
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		beforeName = "org.springframework.cloud.gateway.config.GatewayAutoConfiguration")
@ConditionalOnClass(AbstractRateLimiter.class)
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@ConditionalOnBooleanProperty(name = "spring.cloud.gateway.server.webflux.enabled", matchIfMissing = true)
public final class RateLimitGatewayAutoConfiguration {

	@Bean
	@Primary
	@ConditionalOnMissingBean
	RateLimitGatewayRateLimiter rateLimitGatewayRateLimiter(RateLimiterRegistry registry,
			LimiterDefinitions definitions, RateLimitProperties properties, ConfigurationService configurationService,
			ObjectProvider<RateLimitObservations> observations) {
		RateLimitGatewayRateLimiter limiter = new RateLimitGatewayRateLimiter(registry, definitions,
				new LimiterHeaders(definitions, properties), properties.getMaxKeyLength(), configurationService);
		limiter.setObservations(observations.getIfUnique());
		return limiter;
	}

}
