package dev.ratelimit.spring.adaptive;

import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.ConcurrencyControl;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * A concurrency limiter with {@code adaptive.enabled}: every {@code @RateLimited} call through it
 * reports its latency, and a {@code reduce-on} failure is a drop that lowers the bound.
 */
class AdaptiveConcurrencyTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitedAnnotationAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class))
		.withUserConfiguration(ClientConfiguration.class)
		.withPropertyValues("ratelimit.limiters.db.algorithm=concurrency", "ratelimit.limiters.db.max-concurrent=10",
				"ratelimit.limiters.db.adaptive.enabled=true", "ratelimit.limiters.db.adaptive.min-limit=2",
				"ratelimit.limiters.db.adaptive.reduce-on[0]=" + Overloaded.class.getName());

	@Test
	void callsReportTheirLatencyAndOverloadFailuresLowerTheBound() {
		this.contextRunner.run((context) -> {
			Client client = context.getBean(Client.class);
			ConcurrencyControl control = context.getBean(AdaptiveRateLimiters.class)
				.concurrencyControl("db")
				.orElseThrow();
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			for (int i = 0; i < 5; i++) {
				client.query();
			}
			client.queryLater().join();
			assertThat(control.samples()).isEqualTo(6);
			// one call at a time is far below half the bound: it holds
			assertThat(control.limit()).isEqualTo(10);
			for (int i = 0; i < 2; i++) {
				assertThatExceptionOfType(Overloaded.class).isThrownBy(client::overloaded);
			}
			// a failure that is no overload says nothing of the load: no sample, no drop
			assertThatExceptionOfType(IllegalStateException.class).isThrownBy(client::invalid);
			assertThat(control.samples()).isEqualTo(6);
			// 10 x 0.9 x 0.9 = 8.1
			assertThat(control.drops()).isEqualTo(2);
			assertThat(control.limit()).isEqualTo(8);
			assertThat(registry.limiter("db").limit().capacity()).isEqualTo(8);
			assertThat(context.getBean(AdaptiveRateLimiters.class).states()).doesNotContainKey("db");
		});
	}

	@Test
	void rateOnlySettingsOnAConcurrencyLimiterAreRefused() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.db.adaptive.lag-source=orders")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.isInstanceOf(InvalidRateLimitConfigurationException.class)
				.hasMessageContaining("ratelimit.limiters.db.adaptive.lag-source")
				.hasMessageContaining("adapts its bound to the calls' latency"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.db.adaptive.max-limit=1")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.db.adaptive.max-limit")
				.hasMessageContaining("maxLimit must be at least minLimit (2), but was 1"));
		this.contextRunner.withPropertyValues("ratelimit.limiters.db.adaptive.max-limit=5")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.db.adaptive.max-limit")
				.hasMessageContaining("max-concurrent (10), where the adaptive bound starts, is outside"));
		this.contextRunner.withUserConfiguration(WideConfiguration.class)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("adapts its bound down to min-limit 2, below the call's permits"));
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.api.rate=10/1s", "ratelimit.limiters.api.adaptive.enabled=true",
					"ratelimit.limiters.api.adaptive.algorithm=aimd")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("ratelimit.limiters.api.adaptive.algorithm")
				.hasMessageContaining("this limiter has a rate"));
	}

	@Configuration(proxyBeanMethods = false)
	static class ClientConfiguration {

		@Bean
		Client client() {
			return new Client();
		}

	}

	public static class Client {

		@RateLimited("db")
		public void query() {
		}

		@RateLimited("db")
		public CompletableFuture<String> queryLater() {
			return CompletableFuture.completedFuture("done");
		}

		@RateLimited("db")
		public void overloaded() {
			throw new Overloaded();
		}

		@RateLimited("db")
		public void invalid() {
			throw new IllegalStateException("bad request");
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class WideConfiguration {

		@Bean
		Wide wide() {
			return new Wide();
		}

	}

	public static class Wide {

		@RateLimited(value = "db", permits = 3)
		public void call() {
		}

	}

	static class Overloaded extends RuntimeException {

	}

}
