package dev.ratelimit.spring.aot;

import java.io.IOException;

import org.junit.jupiter.api.Test;

import org.springframework.aot.generate.ClassNameGenerator;
import org.springframework.aot.generate.DefaultGenerationContext;
import org.springframework.aot.generate.InMemoryGeneratedFiles;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeReference;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.beans.factory.aot.AotServices;
import org.springframework.beans.factory.aot.BeanFactoryInitializationAotContribution;
import org.springframework.beans.factory.aot.BeanFactoryInitializationAotProcessor;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.javapoet.ClassName;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.web.client.HttpClientErrorException;

import dev.ratelimit.spring.actuate.RateLimitsEndpoint;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.aop.RateLimitHeadersListener;
import dev.ratelimit.spring.aop.RateLimitedBeanPostProcessor;
import dev.ratelimit.spring.aop.RateLimitedMethods;
import dev.ratelimit.spring.web.HttpRequestView;
import dev.ratelimit.spring.web.servlet.ServletRequestView;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What ahead-of-time processing learns from the starter, found the way Spring finds it
 * ({@code META-INF/spring/aot.factories}) and checked with {@link RuntimeHintsPredicates}.
 */
class RateLimitAotTests {

	@Test
	void expressionRootsAndEndpointPayloadsAreRegisteredForReflection() throws Exception {
		RuntimeHints hints = new RuntimeHints();
		AotServices.factories()
			.load(RuntimeHintsRegistrar.class)
			.forEach((registrar) -> registrar.registerHints(hints, getClass().getClassLoader()));
		// a key's #root.method, #root.args and #root.target
		Class<?> keyRoot = Class.forName(RateLimitRuntimeHints.KEY_ROOT);
		for (String accessor : new String[] { "method", "args", "target" }) {
			assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(keyRoot.getMethod(accessor)))
				.accepts(hints);
		}
		// an HTTP rule's request.header('X-Tenant'), request.ip, ...
		assertThat(RuntimeHintsPredicates.reflection()
			.onType(HttpRequestView.class)
			.withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(hints);
		assertThat(RuntimeHintsPredicates.reflection()
			.onMethodInvocation(ServletRequestView.class.getMethod("header", String.class))).accepts(hints);
		assertThat(RuntimeHintsPredicates.reflection()
			.onType(TypeReference.of("dev.ratelimit.spring.web.reactive.ServerRequestView"))
			.withMemberCategory(MemberCategory.INVOKE_PUBLIC_METHODS)).accepts(hints);
		// /actuator/ratelimits, as Jackson writes it
		assertThat(RuntimeHintsPredicates.reflection()
			.onMethodInvocation(RateLimitsEndpoint.RateLimiterDescriptor.class.getMethod("name"))).accepts(hints);
		assertThat(RuntimeHintsPredicates.reflection()
			.onMethodInvocation(RateLimitsEndpoint.KeyDescriptor.class.getMethod("utilization"))).accepts(hints);
	}

	@Test
	void reduceOnClassesOfTheConfigurationAreRegisteredForLoadingByName() {
		MockEnvironment environment = new MockEnvironment()
			.withProperty("ratelimit.defaults.adaptive.reduce-on[0]", IOException.class.getName())
			.withProperty("ratelimit.limiters.partner.adaptive.reduce-on[0]",
					HttpClientErrorException.TooManyRequests.class.getName())
			.withProperty("ratelimit.limiters.partner.rate", "10/1s");
		RuntimeHints hints = process(environment);
		assertThat(RuntimeHintsPredicates.reflection().onType(IOException.class)).accepts(hints);
		assertThat(RuntimeHintsPredicates.reflection().onType(HttpClientErrorException.TooManyRequests.class))
			.accepts(hints);
	}

	@Test
	void withoutReduceOnNothingIsContributed() {
		DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
		beanFactory.registerSingleton("environment", new MockEnvironment());
		assertThat(new ReduceOnAotProcessor().processAheadOfTime(beanFactory)).isNull();
	}

	private static RuntimeHints process(MockEnvironment environment) {
		DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
		beanFactory.registerSingleton("environment", environment);
		BeanFactoryInitializationAotContribution contribution = AotServices.factories()
			.load(BeanFactoryInitializationAotProcessor.class)
			.stream()
			.filter(ReduceOnAotProcessor.class::isInstance)
			.findFirst()
			.orElseThrow()
			.processAheadOfTime(beanFactory);
		assertThat(contribution).isNotNull();
		DefaultGenerationContext generation = new DefaultGenerationContext(
				new ClassNameGenerator(ClassName.get("com.example", "Application")), new InMemoryGeneratedFiles());
		contribution.applyTo(generation, null);
		return generation.getRuntimeHints();
	}

	/**
	 * Ahead-of-time processing asks the post-processor which beans become proxies. It answers from
	 * the annotations alone: building the limiters would start their backend (a Kafka backend
	 * connects) in the build.
	 */
	@Test
	void aheadOfTimeAProxyIsForeseenFromTheAnnotationsWithoutBuildingLimiters() {
		DefaultListableBeanFactory beans = new DefaultListableBeanFactory();
		beans.registerBeanDefinition("rateLimitedMethods", new RootBeanDefinition(RateLimitedMethods.class, () -> {
			throw new IllegalStateException("limiters built while processing ahead of time");
		}));
		RateLimitedBeanPostProcessor processor = new RateLimitedBeanPostProcessor(
				beans.getBeanProvider(RateLimitedMethods.class), beans.getBeanProvider(RateLimitHeadersListener.class));
		processor.setBeanFactory(beans);
		System.setProperty("spring.aot.processing", "true");
		try {
			assertThat(processor.determineBeanType(Limited.class, "limited")).isNotEqualTo(Limited.class)
				.isAssignableTo(Limited.class);
			assertThat(processor.determineBeanType(NotLimited.class, "notLimited")).isEqualTo(NotLimited.class);
		}
		finally {
			System.clearProperty("spring.aot.processing");
		}
	}

	public static class Limited {

		@RateLimited(name = "orders")
		public String call() {
			return "called";
		}

	}

	public static class NotLimited {

		public String call() {
			return "called";
		}

	}

}
