package dev.ratelimit.spring.aop;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.aop.RateLimitHeadersListener.AppliedLimit;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reactive calls report their decisions to a listener found in the subscriber's Reactor context,
 * which is how WebFlux scopes a listener to an exchange.
 */
class RateLimitedReactiveListenerTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class))
		.withUserConfiguration(ServiceConfiguration.class)
		.withPropertyValues("ratelimit.limiters.orders.rate=3/1h", "ratelimit.limiters.fast.rate=20/1s",
				"ratelimit.limiters.fast.capacity=1", "ratelimit.limiters.fast.wait-timeout=5s",
				"ratelimit.limiters.quiet.rate=3/1h", "ratelimit.limiters.quiet.headers=false");

	@Test
	void monoReportsToTheListenerOfItsContext() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			Heard heard = new Heard();
			StepVerifier.create(service.order().contextWrite(heard.context())).expectNext("ordered").verifyComplete();
			assertThat(heard.calls).singleElement().satisfies((limits) -> {
				assertThat(limits).singleElement().satisfies((limit) -> {
					assertThat(limit.name()).isEqualTo("orders");
					assertThat(limit.limit().capacity()).isEqualTo(3);
					assertThat(limit.decision().remaining()).isEqualTo(2);
				});
			});
		});
	}

	@Test
	void fluxReportsToTheListenerOfItsContext() {
		this.contextRunner.run((context) -> {
			Heard heard = new Heard();
			StepVerifier.create(context.getBean(Service.class).feed().contextWrite(heard.context()))
				.expectNext("a", "b")
				.verifyComplete();
			assertThat(heard.calls).hasSize(1);
		});
	}

	@Test
	void withoutAListenerInTheContextNothingIsReported() {
		this.contextRunner.run((context) -> {
			Heard heard = new Heard();
			StepVerifier.create(context.getBean(Service.class).order()).expectNext("ordered").verifyComplete();
			assertThat(heard.calls).isEmpty();
		});
	}

	@Test
	void limitsWithoutHeadersAreNotReported() {
		this.contextRunner.run((context) -> {
			Heard heard = new Heard();
			StepVerifier.create(context.getBean(Service.class).quiet().contextWrite(heard.context()))
				.expectNext("quiet")
				.verifyComplete();
			assertThat(heard.calls).isEmpty();
		});
	}

	@Test
	void aCallThatWaitedIsReportedWithAnUnknownReset() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			Heard heard = new Heard();
			StepVerifier.create(service.fast().contextWrite(heard.context())).expectNext("fast").verifyComplete();
			// the bucket of one is empty now: the second call waits for its permit (1/20 s)
			StepVerifier.create(service.fast().contextWrite(heard.context())).expectNext("fast").verifyComplete();
			assertThat(heard.calls).hasSize(2);
			assertThat(heard.calls.get(1)).singleElement()
				.satisfies((limit) -> assertThat(limit.decision().resetNanos()).isEqualTo(Long.MAX_VALUE));
		});
	}

	static final class Heard implements RateLimitHeadersListener {

		final List<List<AppliedLimit>> calls = new CopyOnWriteArrayList<>();

		Context context() {
			return Context.of(RateLimitHeadersListener.class, this);
		}

		@Override
		public boolean isActive() {
			return true;
		}

		@Override
		public void onPermitted(List<AppliedLimit> limits) {
			this.calls.add(limits);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ServiceConfiguration {

		@Bean
		Service service() {
			return new Service();
		}

	}

	static class Service {

		@RateLimited("orders")
		public Mono<String> order() {
			return Mono.just("ordered");
		}

		@RateLimited("orders")
		public Flux<String> feed() {
			return Flux.just("a", "b");
		}

		@RateLimited("quiet")
		public Mono<String> quiet() {
			return Mono.just("quiet");
		}

		@RateLimited("fast")
		public Mono<String> fast() {
			return Mono.just("fast");
		}

	}

}
