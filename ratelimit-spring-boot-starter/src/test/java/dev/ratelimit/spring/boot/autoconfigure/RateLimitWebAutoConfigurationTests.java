package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;

import jakarta.servlet.Servlet;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.codec.autoconfigure.CodecsAutoConfiguration;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.webflux.autoconfigure.WebFluxAutoConfiguration;
import org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.DispatcherHandler;
import org.springframework.web.servlet.DispatcherServlet;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.aop.RateLimitHeadersListener;
import dev.ratelimit.spring.web.reactive.RateLimitExceededWebExceptionHandler;
import dev.ratelimit.spring.web.reactive.RateLimitHeadersWebFilter;
import dev.ratelimit.spring.web.servlet.RateLimitExceededExceptionResolver;
import dev.ratelimit.spring.web.servlet.ServletRateLimitHeadersListener;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitWebAutoConfigurationTests {

	private static final AutoConfigurations RATE_LIMIT = AutoConfigurations.of(RateLimitAutoConfiguration.class,
			RateLimitedAnnotationAutoConfiguration.class, RateLimitWebMvcAutoConfiguration.class,
			RateLimitWebFluxAutoConfiguration.class);

	private final WebApplicationContextRunner servletRunner = new WebApplicationContextRunner()
		.withConfiguration(RATE_LIMIT);

	private final ReactiveWebApplicationContextRunner reactiveRunner = new ReactiveWebApplicationContextRunner()
		.withConfiguration(RATE_LIMIT);

	private final ApplicationContextRunner plainRunner = new ApplicationContextRunner().withConfiguration(RATE_LIMIT);

	@Test
	void whenServletWebApplicationThenMvcBeansAreDeclared() {
		this.servletRunner.run((context) -> assertThat(context).hasSingleBean(RateLimitExceededExceptionResolver.class)
			.hasSingleBean(ServletRateLimitHeadersListener.class)
			.doesNotHaveBean(RateLimitExceededWebExceptionHandler.class)
			.doesNotHaveBean(RateLimitHeadersWebFilter.class));
	}

	@Test
	void whenReactiveWebApplicationThenWebFluxBeansAreDeclared() {
		this.reactiveRunner.run((context) -> assertThat(context)
			.hasSingleBean(RateLimitExceededWebExceptionHandler.class)
			.hasSingleBean(RateLimitHeadersWebFilter.class)
			.doesNotHaveBean(RateLimitExceededExceptionResolver.class)
			.doesNotHaveBean(RateLimitHeadersListener.class));
	}

	@Test
	void whenNotAWebApplicationThenNoWebBeans() {
		this.plainRunner.run((context) -> assertThat(context).hasSingleBean(RateLimiterRegistry.class)
			.doesNotHaveBean(RateLimitExceededExceptionResolver.class)
			.doesNotHaveBean(RateLimitHeadersListener.class)
			.doesNotHaveBean(RateLimitExceededWebExceptionHandler.class)
			.doesNotHaveBean(RateLimitHeadersWebFilter.class));
	}

	@Test
	void whenNeitherServletNorWebFluxIsPresentThenNoWebBeans() {
		this.plainRunner
			.withClassLoader(new FilteredClassLoader(Servlet.class, DispatcherServlet.class, DispatcherHandler.class))
			.run((context) -> assertThat(context).hasSingleBean(RateLimiterRegistry.class)
				.doesNotHaveBean(RateLimitExceededExceptionResolver.class)
				.doesNotHaveBean(RateLimitHeadersListener.class)
				.doesNotHaveBean(RateLimitExceededWebExceptionHandler.class)
				.doesNotHaveBean(RateLimitHeadersWebFilter.class));
	}

	@Test
	void whenSpringMvcIsMissingThenServletApplicationsGetNoMvcBeans() {
		this.servletRunner.withClassLoader(new FilteredClassLoader(DispatcherServlet.class))
			.run((context) -> assertThat(context).hasSingleBean(RateLimiterRegistry.class)
				.doesNotHaveBean(RateLimitExceededExceptionResolver.class)
				.doesNotHaveBean(RateLimitHeadersListener.class));
	}

	@Test
	void whenWebFluxIsMissingThenReactiveApplicationsGetNoWebFluxBeans() {
		this.reactiveRunner.withClassLoader(new FilteredClassLoader(DispatcherHandler.class))
			.run((context) -> assertThat(context).hasSingleBean(RateLimiterRegistry.class)
				.doesNotHaveBean(RateLimitExceededWebExceptionHandler.class)
				.doesNotHaveBean(RateLimitHeadersWebFilter.class));
	}

	@Test
	void whenReactorIsMissingThenReactiveApplicationsGetNoWebFluxBeans() {
		this.reactiveRunner.withClassLoader(new FilteredClassLoader(Mono.class))
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitExceededWebExceptionHandler.class)
				.doesNotHaveBean(RateLimitHeadersWebFilter.class));
	}

	@Test
	void whenRateLimitingIsDisabledThenNoWebBeans() {
		this.servletRunner.withPropertyValues("ratelimit.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitExceededExceptionResolver.class)
				.doesNotHaveBean(RateLimitHeadersListener.class));
		this.reactiveRunner.withPropertyValues("ratelimit.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitExceededWebExceptionHandler.class)
				.doesNotHaveBean(RateLimitHeadersWebFilter.class));
	}

	@Test
	void whenUserDefinesMvcBeansThenAutoConfiguredOnesBackOff() {
		this.servletRunner.withUserConfiguration(UserMvcConfiguration.class).run((context) -> {
			assertThat(context).getBean(RateLimitExceededExceptionResolver.class)
				.isSameAs(context.getBean(UserMvcConfiguration.class).resolver);
			assertThat(context).getBean(ServletRateLimitHeadersListener.class)
				.isSameAs(context.getBean(UserMvcConfiguration.class).listener);
		});
	}

	@Test
	void whenUserDefinesWebFluxBeansThenAutoConfiguredOnesBackOff() {
		this.reactiveRunner.withUserConfiguration(UserWebFluxConfiguration.class).run((context) -> {
			assertThat(context).getBean(RateLimitExceededWebExceptionHandler.class)
				.isSameAs(context.getBean(UserWebFluxConfiguration.class).handler);
			assertThat(context).getBean(RateLimitHeadersWebFilter.class)
				.isSameAs(context.getBean(UserWebFluxConfiguration.class).filter);
		});
	}

	@Test
	void whenHeadersAreDisabledThenMvcAnswersCarryOnlyRetryAfter() {
		mvc().withPropertyValues("ratelimit.web.headers=false", "ratelimit.limiters.orders.rate=1/1h")
			.run((context) -> {
				MockMvcTester mvc = MockMvcTester.from(context);
				assertThat(mvc.get().uri("/orders")).hasStatusOk()
					.doesNotContainHeader("RateLimit")
					.doesNotContainHeader("RateLimit-Policy");
				assertThat(mvc.get().uri("/orders")).hasStatus(429)
					.containsHeader("Retry-After")
					.doesNotContainHeader("RateLimit")
					.doesNotContainHeader("RateLimit-Policy");
			});
	}

	@Test
	void whenHeadersAreDisabledButEnabledForALimiterThenItsAnswersCarryThem() {
		mvc().withPropertyValues("ratelimit.web.headers=false", "ratelimit.limiters.orders.rate=1/1h",
				"ratelimit.limiters.orders.headers=true")
			.run((context) -> {
				MockMvcTester mvc = MockMvcTester.from(context);
				assertThat(mvc.get().uri("/orders")).hasStatusOk().hasHeader("RateLimit-Policy", "\"orders\";q=1;w=3600");
				assertThat(mvc.get().uri("/orders")).hasStatus(429)
					.hasHeader("RateLimit-Policy", "\"orders\";q=1;w=3600");
			});
	}

	@Test
	void whenTheClientAsksForJsonThenTheProblemIsJson() {
		mvc().withPropertyValues("ratelimit.limiters.orders.rate=1/1h").run((context) -> {
			MockMvcTester mvc = MockMvcTester.from(context);
			mvc.get().uri("/orders").exchange();
			assertThat(mvc.get().uri("/orders").accept(MediaType.APPLICATION_JSON)).hasStatus(429)
				.hasContentType(MediaType.APPLICATION_JSON)
				.bodyJson()
				.extractingPath("$.title")
				.isEqualTo("Too Many Requests");
		});
	}

	@Test
	void whenHeadersAreDisabledThenWebFluxAnswersCarryOnlyRetryAfter() {
		this.reactiveRunner
			.withConfiguration(AutoConfigurations.of(WebFluxAutoConfiguration.class, CodecsAutoConfiguration.class,
					JacksonAutoConfiguration.class))
			.withUserConfiguration(ReactiveOrdersController.class)
			.withPropertyValues("ratelimit.web.headers=false", "ratelimit.limiters.orders.rate=1/1h")
			.run((context) -> {
				WebTestClient client = WebTestClient.bindToApplicationContext(context).build();
				client.get()
					.uri("/orders")
					.exchange()
					.expectStatus()
					.isOk()
					.expectHeader()
					.doesNotExist("RateLimit")
					.expectHeader()
					.doesNotExist("RateLimit-Policy");
				client.get()
					.uri("/orders")
					.exchange()
					.expectStatus()
					.isEqualTo(429)
					.expectHeader()
					.exists("Retry-After")
					.expectHeader()
					.doesNotExist("RateLimit")
					.expectHeader()
					.doesNotExist("RateLimit-Policy");
			});
	}

	private WebApplicationContextRunner mvc() {
		return this.servletRunner
			.withConfiguration(AutoConfigurations.of(WebMvcAutoConfiguration.class,
					HttpMessageConvertersAutoConfiguration.class, JacksonAutoConfiguration.class))
			.withUserConfiguration(OrdersController.class);
	}

	@RestController
	static class OrdersController {

		@GetMapping("/orders")
		@RateLimited("orders")
		public String orders() {
			return "orders";
		}

	}

	@RestController
	static class ReactiveOrdersController {

		@GetMapping("/orders")
		@RateLimited("orders")
		public Mono<String> orders() {
			return Mono.just("orders");
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserMvcConfiguration {

		final RateLimitExceededExceptionResolver resolver = new RateLimitExceededExceptionResolver(List::of,
				(name) -> false);

		final ServletRateLimitHeadersListener listener = new ServletRateLimitHeadersListener();

		@Bean
		RateLimitExceededExceptionResolver myResolver() {
			return this.resolver;
		}

		@Bean
		ServletRateLimitHeadersListener myListener() {
			return this.listener;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserWebFluxConfiguration {

		final RateLimitExceededWebExceptionHandler handler = new RateLimitExceededWebExceptionHandler(List::of,
				(name) -> false);

		final RateLimitHeadersWebFilter filter = new RateLimitHeadersWebFilter();

		@Bean
		RateLimitExceededWebExceptionHandler myHandler() {
			return this.handler;
		}

		@Bean
		RateLimitHeadersWebFilter myFilter() {
			return this.filter;
		}

	}

}
