package dev.ratelimit.spring.boot.autoconfigure;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.stream.StreamSupport;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.context.annotation.Bean;
import org.springframework.util.ClassUtils;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Auto-configurations are loaded only from the imports file, so each must be listed there, and
 * each follows Boot's shape: public final, package-private bean methods.
 */
class AutoConfigurationImportsTests {

	private final List<String> imports = StreamSupport
		.stream(ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()).spliterator(), false)
		.filter((name) -> name.startsWith("dev.ratelimit."))
		.toList();

	@Test
	void everyAutoConfigurationIsImported() {
		assertThat(this.imports).contains(RateLimitAutoConfiguration.class.getName(),
				RateLimitedAnnotationAutoConfiguration.class.getName(),
				RateLimitEndpointAutoConfiguration.class.getName(), RateLimitHealthAutoConfiguration.class.getName(),
				RateLimitMetricsAutoConfiguration.class.getName(), RateLimitKafkaAutoConfiguration.class.getName());
	}

	@Test
	void everyAutoConfigurationIsPublicFinalWithPackagePrivateBeans() {
		assertThat(this.imports).allSatisfy((name) -> {
			Class<?> type = ClassUtils.resolveClassName(name, getClass().getClassLoader());
			assertThat(type).hasAnnotation(AutoConfiguration.class).isPublic().isFinal();
			for (Method method : type.getDeclaredMethods()) {
				if (method.isAnnotationPresent(Bean.class)) {
					assertThat(Modifier.isPublic(method.getModifiers())).as(method.toString()).isFalse();
				}
			}
		});
	}

}
