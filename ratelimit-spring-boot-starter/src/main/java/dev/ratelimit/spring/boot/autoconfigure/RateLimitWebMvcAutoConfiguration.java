package dev.ratelimit.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.Servlet;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.context.annotation.Bean;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.util.function.SingletonSupplier;
import org.springframework.web.servlet.DispatcherServlet;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

import dev.ratelimit.spring.web.servlet.RateLimitExceededExceptionResolver;
import dev.ratelimit.spring.web.servlet.ServletRateLimitHeadersListener;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * rate limiting for Spring MVC: a denied call becomes {@code 429 Too Many Requests} with
 * {@code Retry-After} and the IETF {@code RateLimit} / {@code RateLimit-Policy} fields, and
 * permitted {@code @RateLimited} calls carry those fields too.
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		afterName = "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration")
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnClass({ Servlet.class, DispatcherServlet.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
public final class RateLimitWebMvcAutoConfiguration {

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

}
