package dev.ratelimit.spring.aot;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.aot.hint.TypeReference;
import org.springframework.beans.factory.aot.BeanFactoryInitializationAotContribution;
import org.springframework.beans.factory.aot.BeanFactoryInitializationAotProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;

/**
 * Registers the exception classes named by {@code reduce-on} ({@code ratelimit.defaults} and every
 * limiter's) for reflection, as they are configured when the application is processed ahead of
 * time: the starter loads them by name when it starts. Registered through
 * {@code META-INF/spring/aot.factories}.
 */
final class ReduceOnAotProcessor implements BeanFactoryInitializationAotProcessor {

	@Override
	public @Nullable BeanFactoryInitializationAotContribution processAheadOfTime(
			ConfigurableListableBeanFactory beanFactory) {
		if (!beanFactory.containsBean(ConfigurableApplicationContext.ENVIRONMENT_BEAN_NAME)) {
			return null;
		}
		Environment environment = beanFactory.getBean(ConfigurableApplicationContext.ENVIRONMENT_BEAN_NAME,
				Environment.class);
		Set<String> types = reduceOn(environment);
		if (types.isEmpty()) {
			return null;
		}
		return (generationContext, code) -> types
			.forEach((type) -> generationContext.getRuntimeHints().reflection().registerType(TypeReference.of(type)));
	}

	static Set<String> reduceOn(Environment environment) {
		// the class names alone, without the application's converters (of rates, for one), which
		// are beans that this build-time step does not create
		Binder binder = Binder.get(environment);
		Set<String> types = new LinkedHashSet<>();
		add(types, binder, "ratelimit.defaults.adaptive.reduce-on");
		Map<String, Object> limiters = binder.bind("ratelimit.limiters", Bindable.mapOf(String.class, Object.class))
			.orElse(Map.of());
		for (String name : limiters.keySet()) {
			add(types, binder, "ratelimit.limiters[" + name + "].adaptive.reduce-on");
		}
		return types;
	}

	private static void add(Set<String> types, Binder binder, String property) {
		binder.bind(property, Bindable.listOf(String.class))
			.orElse(List.of())
			.stream()
			.filter((type) -> type != null && !type.isBlank())
			.map(String::strip)
			.forEach(types::add);
	}

}
