package dev.ratelimit.spring.aop;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.Priorities;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Priority classes from {@code application.yml} and {@code @RateLimited(priority = ...)}: a limit
 * of 10 an hour (so no refill while a test runs) divided among critical, normal and batch.
 */
class RateLimitedPriorityTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class))
		.withPropertyValues("ratelimit.limiters.api.rate=10/1h",
				"ratelimit.limiters.api.priority.classes=critical,normal,batch",
				"ratelimit.limiters.plain.rate=10/1h");

	@Test
	void batchIsRefusedWhileCriticalStillHasItsHeadroom() {
		this.contextRunner.withUserConfiguration(ServiceConfiguration.class).run((context) -> {
			Service service = context.getBean(Service.class);
			// headroom 0.2 of 10: batch leaves 4 permits, normal 2
			int batch = 0;
			while (call(service::batch)) {
				batch++;
			}
			assertThat(batch).isEqualTo(6);
			assertThat(call(service::unclassified)).as("calls that declare no class are batch").isFalse();
			assertThat(call(service::normal)).isTrue();
			assertThat(call(service::normal)).isTrue();
			assertThat(call(service::normal)).isFalse();
			assertThat(call(service::critical)).isTrue();
			assertThat(call(service::critical)).isTrue();
			assertThat(call(service::critical)).isFalse();
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			assertThat(registry.limiter("api")).isSameAs(registry.priorities("api").forClass("batch"));
		});
	}

	@Test
	void eachCallsClassCanComeFromAnExpressionAndANameThatIsNoClassTakesTheFixedOne() {
		this.contextRunner.withUserConfiguration(ServiceConfiguration.class).run((context) -> {
			Service service = context.getBean(Service.class);
			// "bogus" names no class: the annotation's fixed class, batch
			int batch = 0;
			while (call(() -> service.chosen("bogus"))) {
				batch++;
			}
			assertThat(batch).isEqualTo(6);
			assertThat(call(() -> service.chosen(null))).isFalse();
			assertThat(call(() -> service.chosen("critical"))).isTrue();
		});
	}

	@Test
	void aChangeOfLimitThatADeclaredCallCouldNoLongerFitIsRefused() {
		this.contextRunner.withUserConfiguration(BulkyConfiguration.class).run((context) -> {
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			RateLimit api = registry.definedLimit("api").orElseThrow();
			Priorities classes = registry.definedPriorities("api").orElseThrow();
			// critical's call takes 5: a capacity of 4 could never serve it
			assertThatIllegalArgumentException().isThrownBy(() -> registry.updateLimit("api", api.withCapacity(4)))
				.withMessageContaining("priority class 'critical' of limiter 'api' could take at most 4 permits")
				.withMessageContaining("fewer than the 5 a declared call takes");
			// nor can critical after batch is given 60% of 10
			assertThatIllegalArgumentException()
				.isThrownBy(() -> registry.updateLimit("api", api, classes.minimumShare("batch", 0.6)))
				.withMessageContaining("could take at most 4 permits");
			registry.updateLimit("api", api.withCapacity(6));
			assertThatIllegalArgumentException()
				.isThrownBy(() -> registry.updateLimit("plain", registry.definedLimit("plain").orElseThrow().withCapacity(2)))
				.withMessageContaining("limiter 'plain' would hold 2 permits, fewer than the 3 a declared call takes");
		});
	}

	@Test
	void theDefaultClassCanBeSet() {
		this.contextRunner.withUserConfiguration(ServiceConfiguration.class)
			.withPropertyValues("ratelimit.limiters.api.priority.default-class=critical",
					"ratelimit.limiters.api.priority.minimum-shares.batch=0.3")
			.run((context) -> {
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				assertThat(registry.limiter("api")).isSameAs(registry.priorities("api").forClass("critical"));
				assertThat(registry.priorities("api").priorities().minimumShare("batch")).isEqualTo(0.3);
			});
	}

	@Test
	void badPrioritySettingsFailStartUpNamingThePropertyOrTheAnnotation() {
		this.contextRunner.withUserConfiguration(UnknownClassConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(InvalidRateLimitConfigurationException.class)
				.hasMessageContaining("limiter 'api' has no priority class 'urgent'"));
		this.contextRunner.withUserConfiguration(NoClassesConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("limiter 'plain' has no priority classes"));
		this.contextRunner.withUserConfiguration(KeyedConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("is divided among priority classes and has no per-key limiters"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.priority.minimum-shares.urgent=0.1")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.api.priority.minimum-shares.urgent")
				.hasMessageContaining("no priority class named 'urgent'"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.priority.default-class=urgent")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.api.priority.default-class"));
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.api.algorithm=sliding-window", "ratelimit.limiters.api.rate=10/1s")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.api.priority.classes")
				.hasMessageContaining("cannot take priorities: it is a sliding-window"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.priority.classes=only")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("priorities need 2 to 16 classes, but were given 1"));
		this.contextRunner.withPropertyValues("ratelimit.defaults.priority.classes=a,b")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.defaults.priority.classes"));
		this.contextRunner.withUserConfiguration(TooManyPermitsConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("a call takes 7 permits, more than priority class 'batch' of limiter 'api' can "
						+ "take at once (6)"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.max-keys=10")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.api.max-keys")
				.hasMessageContaining("has no per-key limiters"));
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.both.tiers[0].name=api", "ratelimit.limiters.both.tiers[0].per-key=true",
					"ratelimit.limiters.both.tiers[1].name=plain")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.both.tiers[0].per-key")
				.hasMessageContaining("'api' is divided among priority classes"));
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.both.tiers[0].name=plain",
					"ratelimit.limiters.both.priority.headroom=0.1")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.both.priority.classes")
				.hasMessageContaining("a composite"));
		this.contextRunner.withPropertyValues("ratelimit.defaults.priority.headroom=0.1")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.defaults.priority.classes"));
		// a global limit divided among classes needs the Kafka backend, like any global limit
		this.contextRunner.withPropertyValues("ratelimit.limiters.api.scope=global")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("a global limit needs a shared backend, but ratelimit.backend is in-memory"));
	}

	private static boolean call(Runnable call) {
		try {
			call.run();
			return true;
		}
		catch (RateLimitExceededException ex) {
			return false;
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class ServiceConfiguration {

		@Bean
		Service service() {
			return new Service();
		}

	}

	public static class Service {

		@RateLimited(value = "api", priority = "critical")
		public void critical() {
		}

		@RateLimited(value = "api", priority = "normal")
		public void normal() {
		}

		@RateLimited(value = "api", priority = "batch")
		public void batch() {
		}

		@RateLimited("api")
		public void unclassified() {
		}

		@RateLimited(value = "api", priority = "batch", priorityExpression = "#level")
		public void chosen(String level) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UnknownClassConfiguration {

		@Bean
		UnknownClass service() {
			return new UnknownClass();
		}

	}

	public static class UnknownClass {

		@RateLimited(value = "api", priority = "urgent")
		public void call() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class NoClassesConfiguration {

		@Bean
		NoClasses service() {
			return new NoClasses();
		}

	}

	public static class NoClasses {

		@RateLimited(value = "plain", priority = "critical")
		public void call() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class BulkyConfiguration {

		@Bean
		Bulky service() {
			return new Bulky();
		}

	}

	public static class Bulky {

		@RateLimited(value = "api", priority = "critical", permits = 5)
		public void critical() {
		}

		@RateLimited(value = "plain", permits = 3)
		public void plain() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class TooManyPermitsConfiguration {

		@Bean
		TooManyPermits service() {
			return new TooManyPermits();
		}

	}

	public static class TooManyPermits {

		@RateLimited(value = "api", permits = 7)
		public void call() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class KeyedConfiguration {

		@Bean
		Keyed service() {
			return new Keyed();
		}

	}

	public static class Keyed {

		@RateLimited(value = "api", key = "#tenant")
		public void call(String tenant) {
		}

	}

}
