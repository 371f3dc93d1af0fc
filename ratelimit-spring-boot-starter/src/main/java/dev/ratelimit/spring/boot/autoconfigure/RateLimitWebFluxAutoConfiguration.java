package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;

import reactor.core.publisher.Mono;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.reactive.DispatcherHandler;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.observation.RateLimitObservations;
import dev.ratelimit.spring.web.reactive.RateLimitExceededWebExceptionHandler;
import dev.ratelimit.spring.web.reactive.RateLimitHeadersWebFilter;
import dev.ratelimit.spring.web.reactive.RateLimitRulesWebFilter;
import dev.ratelimit.spring.web.reactive.RateLimitedExchangeWebFilter;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * rate limiting for Spring WebFlux: a denied call becomes {@code 429 Too Many Requests} with
 * {@code Retry-After} and the IETF {@code RateLimit} / {@code RateLimit-Policy} fields, and
 * permitted {@code @RateLimited} calls returning {@code Mono} or {@code Flux} carry those fields
 * too; and the rules of {@code ratelimit.http.rules}, applied by a web filter right before Spring
 * Security's {@code WebFilterChainProxy} and one right after it (orders -101 and -99).
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		afterName = { "org.springframework.boot.webflux.autoconfigure.WebFluxAutoConfiguration",
				"org.springframework.boot.webflux.autoconfigure.error.ErrorWebFluxAutoConfiguration" })
@ConditionalOnWebApplication(type = Type.REACTIVE)
@ConditionalOnClass({ DispatcherHandler.class, Mono.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@EnableConfigurationProperties(RateLimitHttpProperties.class)
public final class RateLimitWebFluxAutoConfiguration {

	/** The order of Spring Security's {@code WebFilterChainProxy} in a WebFlux application. */
	static final int SECURITY_WEB_FILTER_ORDER = -100;

	@Bean
	@ConditionalOnMissingBean
	RateLimitExceededWebExceptionHandler rateLimitExceededWebExceptionHandler(LimiterDefinitions definitions,
			RateLimitProperties properties, ObjectProvider<ServerCodecConfigurer> codecs) {
		// the codecs WebFlux writes responses with, user customizations included
		SingletonSupplier<List<HttpMessageWriter<?>>> writers = SingletonSupplier
			.of(() -> codecs.getIfAvailable(ServerCodecConfigurer::create).getWriters());
		return new RateLimitExceededWebExceptionHandler(writers, new LimiterHeaders(definitions, properties));
	}

	@Bean
	@ConditionalOnMissingBean
	RateLimitHeadersWebFilter rateLimitHeadersWebFilter() {
		return new RateLimitHeadersWebFilter();
	}

	@Bean
	@ConditionalOnMissingBean
	RateLimitedExchangeWebFilter rateLimitedExchangeWebFilter() {
		return new RateLimitedExchangeWebFilter();
	}

	@Bean
	@ConditionalOnMissingBean
	HttpRuleDefinitions httpRuleDefinitions(RateLimitHttpProperties properties, LimiterDefinitions definitions) {
		return HttpRuleDefinitions.of(properties, definitions);
	}

	@Bean
	@ConditionalOnMissingBean(name = "rateLimitRulesBeforeSecurity")
	RateLimitRulesWebFilter rateLimitRulesBeforeSecurity(HttpRuleDefinitions rules, RateLimiterRegistry registry,
			LimiterDefinitions definitions, RateLimitProperties properties,
			ObjectProvider<RateLimitObservations> observations) {
		RateLimitRulesWebFilter filter = new RateLimitRulesWebFilter(rules.declared(registry).phase(false), registry, rules.addresses(),
				new LimiterHeaders(definitions, properties), properties.getMaxKeyLength(), SECURITY_WEB_FILTER_ORDER - 1);
		filter.setObservations(observations.getIfUnique());
		return filter;
	}

	@Bean
	@ConditionalOnMissingBean(name = "rateLimitRulesAfterSecurity")
	RateLimitRulesWebFilter rateLimitRulesAfterSecurity(HttpRuleDefinitions rules, RateLimiterRegistry registry,
			LimiterDefinitions definitions, RateLimitProperties properties,
			ObjectProvider<RateLimitObservations> observations) {
		RateLimitRulesWebFilter filter = new RateLimitRulesWebFilter(rules.declared(registry).phase(true), registry, rules.addresses(),
				new LimiterHeaders(definitions, properties), properties.getMaxKeyLength(), SECURITY_WEB_FILTER_ORDER + 1);
		filter.setObservations(observations.getIfUnique());
		return filter;
	}

}
