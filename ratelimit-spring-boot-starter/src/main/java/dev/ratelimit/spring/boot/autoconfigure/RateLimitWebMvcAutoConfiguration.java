package dev.ratelimit.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.Servlet;

import jakarta.servlet.DispatcherType;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.observation.RateLimitObservations;
import dev.ratelimit.spring.web.HttpRule;
import dev.ratelimit.spring.web.servlet.RateLimitExceededExceptionResolver;
import dev.ratelimit.spring.web.servlet.RateLimitRulesFilter;
import dev.ratelimit.spring.web.servlet.ServletRateLimitHeadersListener;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * rate limiting for Spring MVC: a denied call becomes {@code 429 Too Many Requests} with
 * {@code Retry-After} and the IETF {@code RateLimit} / {@code RateLimit-Policy} fields, and
 * permitted {@code @RateLimited} calls carry those fields too; and the rules of
 * {@code ratelimit.http.rules}, applied by a filter right before Spring Security's filter chain
 * and one right after it (orders {@code spring.security.filter.order} - 1 and + 1; -101 and -99
 * by default).
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		afterName = "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration")
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnClass({ Servlet.class, DispatcherServlet.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@EnableConfigurationProperties(RateLimitHttpProperties.class)
public final class RateLimitWebMvcAutoConfiguration {

	/** Spring Security's filter chain order when {@code spring.security.filter.order} is not set. */
	static final int SECURITY_FILTER_ORDER = -100;

	@Bean
	@ConditionalOnMissingBean
	RateLimitExceededExceptionResolver rateLimitExceededExceptionResolver(LimiterDefinitions definitions,
			RateLimitProperties properties, ObjectProvider<RequestMappingHandlerAdapter> adapters) {
		// the converters Spring MVC writes responses with, user customizations included; looked up
		// at the first denial, since the adapter may be created after this resolver
		SingletonSupplier<List<HttpMessageConverter<?>>> converters = SingletonSupplier.of(() -> {
			RequestMappingHandlerAdapter adapter = adapters.getIfUnique();
			if (adapter != null) {
				return adapter.getMessageConverters();
			}
			List<HttpMessageConverter<?>> defaults = new ArrayList<>();
			HttpMessageConverters.forServer().registerDefaults().build().forEach(defaults::add);
			return defaults;
		});
		return new RateLimitExceededExceptionResolver(converters, new LimiterHeaders(definitions, properties));
	}

	@Bean
	@ConditionalOnMissingBean
	ServletRateLimitHeadersListener servletRateLimitHeadersListener() {
		return new ServletRateLimitHeadersListener();
	}

	@Bean
	@ConditionalOnMissingBean
	HttpRuleDefinitions httpRuleDefinitions(RateLimitHttpProperties properties, LimiterDefinitions definitions) {
		return HttpRuleDefinitions.of(properties, definitions);
	}

	@Bean
	@ConditionalOnMissingBean(name = "rateLimitRulesBeforeSecurity")
	FilterRegistrationBean<RateLimitRulesFilter> rateLimitRulesBeforeSecurity(HttpRuleDefinitions rules,
			RateLimiterRegistry registry, RateLimitExceededExceptionResolver denials, LimiterDefinitions definitions,
			RateLimitProperties properties, Environment environment, ObjectProvider<RateLimitObservations> observations) {
		return rulesFilter(false, rules, registry, denials, definitions, properties, environment,
				observations.getIfUnique());
	}

	@Bean
	@ConditionalOnMissingBean(name = "rateLimitRulesAfterSecurity")
	FilterRegistrationBean<RateLimitRulesFilter> rateLimitRulesAfterSecurity(HttpRuleDefinitions rules,
			RateLimiterRegistry registry, RateLimitExceededExceptionResolver denials, LimiterDefinitions definitions,
			RateLimitProperties properties, Environment environment, ObjectProvider<RateLimitObservations> observations) {
		return rulesFilter(true, rules, registry, denials, definitions, properties, environment,
				observations.getIfUnique());
	}

	private static FilterRegistrationBean<RateLimitRulesFilter> rulesFilter(boolean afterSecurity,
			HttpRuleDefinitions rules, RateLimiterRegistry registry, RateLimitExceededExceptionResolver denials,
			LimiterDefinitions definitions, RateLimitProperties properties, Environment environment,
			@Nullable RateLimitObservations observations) {
		List<HttpRule> phase = rules.declared(registry).phase(afterSecurity);
		RateLimitRulesFilter filter = new RateLimitRulesFilter(phase, registry, rules.addresses(), denials,
				new LimiterHeaders(definitions, properties), properties.getMaxKeyLength());
		filter.setObservations(observations);
		FilterRegistrationBean<RateLimitRulesFilter> registration = new FilterRegistrationBean<>(filter);
		int security = environment.getProperty("spring.security.filter.order", Integer.class, SECURITY_FILTER_ORDER);
		registration.setOrder(afterSecurity ? security + 1 : security - 1);
		registration.setName(afterSecurity ? "rateLimitRulesAfterSecurity" : "rateLimitRulesBeforeSecurity");
		registration.setDispatcherTypes(DispatcherType.REQUEST);
		// a phase without rules is not installed at all
		registration.setEnabled(!phase.isEmpty());
		return registration;
	}

}
