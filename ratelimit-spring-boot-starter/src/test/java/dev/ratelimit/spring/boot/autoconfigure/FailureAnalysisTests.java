package dev.ratelimit.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.annotation.RateLimited.Mode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * Every bad configuration stops start-up with a report that names the property (or the annotated
 * method), the value, the reason and the fix. These tests start a real application and read the
 * report as a user sees it.
 */
@ExtendWith(OutputCaptureExtension.class)
class FailureAnalysisTests {

	/** Starts the application with the properties; returns the failure report it printed. */
	static String report(CapturedOutput output, Class<?> configuration, String... properties) {
		List<String> args = new ArrayList<>();
		for (String property : properties) {
			args.add("--" + property);
		}
		args.add("--spring.main.banner-mode=off");
		SpringApplication application = new SpringApplication(configuration);
		application.setWebApplicationType(WebApplicationType.NONE);
		assertThatException().isThrownBy(() -> application.run(args.toArray(new String[0])).close());
		String all = output.getAll();
		int start = all.indexOf("APPLICATION FAILED TO START");
		assertThat(start).as("a failure analysis was printed:%n%s", all).isNotNegative();
		return all.substring(start);
	}

	@Test
	void negativeRate(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.rate=-5/s"))
			.contains("Property: ratelimit.limiters.orders.rate")
			.contains("Value: \"-5/s\"")
			.contains("rate '-5/s' is not understood: write permits/period, for example 100/s");
	}

	@Test
	void zeroCapacity(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.rate=100/1s",
				"ratelimit.limiters.orders.capacity=0"))
			.contains("Invalid rate limit configuration:")
			.contains("Property: ratelimit.limiters.orders.capacity")
			.contains("Value: \"0\"")
			.contains("Reason: capacity must be positive, but was 0")
			.contains("Update ratelimit.limiters.orders.capacity in your application's configuration.");
	}

	@Test
	void unknownAlgorithm(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.rate=100/1s",
				"ratelimit.limiters.orders.algorithm=fastest"))
			.contains("Property: ratelimit.limiters.orders.algorithm")
			.contains("Value: \"fastest\"")
			.contains("TOKEN_BUCKET")
			.contains("SLIDING_WINDOW");
	}

	@Test
	void missingRate(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.capacity=10"))
			.contains("Property: ratelimit.limiters.orders.rate")
			.contains("Reason: a token-bucket limiter needs a rate")
			.contains("Set ratelimit.limiters.orders.rate as permits/period, for example 100/1s");
	}

	@Test
	void negativeWaitTimeout(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.rate=100/1s",
				"ratelimit.limiters.orders.wait-timeout=-1s"))
			.contains("Property: ratelimit.limiters.orders.wait-timeout")
			.contains("Reason: a wait cannot be negative");
	}

	@Test
	void capacityOnAWindow(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.algorithm=fixed-window",
				"ratelimit.limiters.orders.rate=100/1m", "ratelimit.limiters.orders.capacity=5"))
			.contains("Property: ratelimit.limiters.orders.capacity")
			.contains("a fixed-window has no capacity of its own")
			.contains("write the limit and the window as the rate, for example 1000/1m");
	}

	@Test
	void concurrencyWithoutBound(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.db.algorithm=concurrency"))
			.contains("Property: ratelimit.limiters.db.max-concurrent")
			.contains("the concurrency algorithm needs the most permits in flight");
	}

	@Test
	void unknownTier(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.all.tiers[0].name=nowhere"))
			.contains("Property: ratelimit.limiters.all.tiers[0].name")
			.contains("Value: \"nowhere\"")
			.contains("no limiter named 'nowhere' is declared");
	}

	@Test
	void globalScopeWithoutASharedBackend(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.rate=100/1s",
				"ratelimit.limiters.orders.scope=global"))
			.contains("Property: ratelimit.limiters.orders.scope")
			.contains("a global limit needs a shared backend, but ratelimit.backend is in-memory")
			.contains("Set ratelimit.backend=kafka");
	}

	@Test
	void globalScopeOnAnAlgorithmThatCannotBeShared(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.orders.rate=100/1m",
				"ratelimit.limiters.orders.algorithm=sliding-window", "ratelimit.limiters.orders.scope=global"))
			.contains("Property: ratelimit.limiters.orders.scope")
			.contains("a global limit must be a token bucket with one bandwidth and no warm-up");
	}

	@Test
	void adaptiveReduceOnAnUnknownClass(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.partner.rate=100/1s",
				"ratelimit.limiters.partner.adaptive.enabled=true",
				"ratelimit.limiters.partner.adaptive.reduce-on[0]=com.example.Nope"))
			.contains("Property: ratelimit.limiters.partner.adaptive.reduce-on[0]")
			.contains("no class named 'com.example.Nope' can be loaded");
	}

	@Test
	void adaptiveWithABadFactor(CapturedOutput output) {
		assertThat(report(output, App.class, "ratelimit.limiters.partner.rate=100/1s",
				"ratelimit.limiters.partner.adaptive.enabled=true",
				"ratelimit.limiters.partner.adaptive.decrease-factor=1.5"))
			.contains("Property: ratelimit.limiters.partner.adaptive.decrease-factor")
			.contains("decreaseFactor must be greater than 0 and less than 1, but was 1.5");
	}

	@Test
	void undeclaredNameWithoutDefault(CapturedOutput output) {
		assertThat(report(output, UndeclaredApp.class))
			.contains("Annotation: @RateLimited on FailureAnalysisTests.Undeclared.call()")
			.contains("Value: \"missing\"")
			.contains("no limiter named 'missing' is declared and ratelimit.defaults.rate is not set")
			.contains("ratelimit.limiters.missing.rate=100/1s, or set ratelimit.defaults.rate");
	}

	@Test
	void undeclaredNameIsFineWithADefault(CapturedOutput output) {
		SpringApplication application = new SpringApplication(UndeclaredApp.class);
		application.setWebApplicationType(WebApplicationType.NONE);
		application.run("--ratelimit.defaults.rate=5/1s").close();
		assertThat(output.getAll()).doesNotContain("APPLICATION FAILED TO START");
	}

	@Test
	void keyExpressionThatDoesNotParse(CapturedOutput output) {
		assertThat(report(output, BadKeyApp.class, "ratelimit.limiters.orders.rate=1/1s"))
			.contains("Annotation: @RateLimited on FailureAnalysisTests.BadKey.call(String) (key)")
			.contains("Value: \"#tenant +\"")
			.contains("the key expression does not parse");
	}

	@Test
	void missingFallback(CapturedOutput output) {
		assertThat(report(output, BadFallbackApp.class, "ratelimit.limiters.orders.rate=1/1s"))
			.contains("Annotation: @RateLimited on FailureAnalysisTests.BadFallback.call(String) (fallback)")
			.contains("no method String nowhere(String) (optionally with a trailing RateLimitExceededException "
					+ "parameter) exists in BadFallback");
	}

	@Test
	void morePermitsThanTheCapacity(CapturedOutput output) {
		assertThat(report(output, GreedyApp.class, "ratelimit.limiters.orders.rate=10/1s"))
			.contains("Annotation: @RateLimited on FailureAnalysisTests.Greedy.call() (permits)")
			.contains("Value: \"11\"")
			.contains("more permits than limiter 'orders' can ever hold (10)");
	}

	@Test
	void waitWithoutTimeout(CapturedOutput output) {
		assertThat(report(output, WaitApp.class, "ratelimit.limiters.orders.rate=10/1s"))
			.contains("Annotation: @RateLimited on FailureAnalysisTests.Waiting.call() (mode)")
			.contains("mode WAIT needs a timeout");
	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class App {

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class UndeclaredApp {

		@Bean
		Undeclared undeclared() {
			return new Undeclared();
		}

	}

	static class Undeclared {

		@RateLimited("missing")
		public void call() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class BadKeyApp {

		@Bean
		BadKey badKey() {
			return new BadKey();
		}

	}

	static class BadKey {

		@RateLimited(name = "orders", key = "#tenant +")
		public void call(String tenant) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class BadFallbackApp {

		@Bean
		BadFallback badFallback() {
			return new BadFallback();
		}

	}

	static class BadFallback {

		@RateLimited(name = "orders", fallback = "nowhere")
		public String call(String item) {
			return item;
		}

		public String nowhere(Integer wrongType) {
			return "";
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class GreedyApp {

		@Bean
		Greedy greedy() {
			return new Greedy();
		}

	}

	static class Greedy {

		@RateLimited(name = "orders", permits = 11)
		public void call() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class WaitApp {

		@Bean
		Waiting waiting() {
			return new Waiting();
		}

	}

	static class Waiting {

		@RateLimited(name = "orders", mode = Mode.WAIT)
		public void call() {
		}

	}

}
