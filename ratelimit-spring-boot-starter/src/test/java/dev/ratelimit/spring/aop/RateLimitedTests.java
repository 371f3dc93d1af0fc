package dev.ratelimit.spring.aop;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.annotation.RateLimited.Mode;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class RateLimitedTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class))
		.withUserConfiguration(ServiceConfiguration.class)
		.withPropertyValues("ratelimit.limiters.orders.rate=3/1h", "ratelimit.limiters.daily.rate=2/1d",
				"ratelimit.limiters.fast.rate=20/1s", "ratelimit.limiters.fast.capacity=1",
				"ratelimit.limiters.fast.wait-timeout=5s", "ratelimit.limiters.db.algorithm=concurrency",
				"ratelimit.limiters.db.max-concurrent=1", "ratelimit.limiters.sliding.algorithm=sliding-window",
				"ratelimit.limiters.sliding.rate=1/200ms", "ratelimit.limiters.sliding.slices=2");

	@Test
	void failsFastWithRetryAfterOnceTheLimitIsSpent() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			assertThat(AopUtils.isAopProxy(service)).isTrue();
			for (int i = 0; i < 3; i++) {
				assertThat(service.order("x")).isEqualTo("ordered x");
			}
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(() -> service.order("x"))
				.satisfies((ex) -> {
					assertThat(ex.getLimiterName()).isEqualTo("orders");
					assertThat(ex.getRetryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(20));
					assertThat(ex.getDecision().remaining()).isZero();
					assertThat(ex.getLimit().capacity()).isEqualTo(3);
				});
			assertThat(service.calls()).isEqualTo(3);
		});
	}

	@Test
	void eachKeyHasItsOwnLimit() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			for (int i = 0; i < 3; i++) {
				service.perTenant("a");
			}
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(() -> service.perTenant("a"));
			assertThat(service.perTenant("b")).isEqualTo("b");
			assertThat(context.getBean(RateLimiterRegistry.class).keyCount("orders")).isEqualTo(2);
		});
	}

	@Test
	void severalLimitsAreTakenAllOrNothing() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			service.twoLimits();
			service.twoLimits();
			// the daily limit (2) denies; the hourly one (3) keeps the permit it would have given
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(service::twoLimits)
				.satisfies((ex) -> assertThat(ex.getLimiterName()).isEqualTo("daily"));
			assertThat(registry.limiter("orders").snapshot().available()).isEqualTo(1);
		});
	}

	@Test
	void deniedCallsGoToTheFallback() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			for (int i = 0; i < 3; i++) {
				service.withFallback("x");
			}
			assertThat(service.withFallback("x")).isEqualTo("later: x");
			assertThat(service.withFallbackAndCause("y")).isEqualTo("y");
			assertThat(service.withFallbackAndCause("y")).isEqualTo("y");
			assertThat(service.withFallbackAndCause("y")).startsWith("busy y, retry after PT");
		});
	}

	@Test
	void waitsForAPermitWithinTheTimeout() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			// capacity 1 at 20/s: the second and third calls wait about 50 ms each, well within 5 s
			for (int i = 0; i < 3; i++) {
				assertThat(service.waiting()).isEqualTo("done");
			}
			assertThat(service.calls()).isEqualTo(3);
		});
	}

	@Test
	void pollsWhenTheAlgorithmCannotReserve() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			assertThat(service.slidingWait()).isEqualTo("slid");
			assertThat(service.slidingWait()).as("waited for the slice to leave the window").isEqualTo("slid");
		});
	}

	@Test
	void completableFutureFailsWithoutThrowing() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			for (int i = 0; i < 3; i++) {
				assertThat(service.async()).succeedsWithin(Duration.ofSeconds(5)).isEqualTo("async");
			}
			CompletableFuture<String> denied = service.async();
			assertThat(denied).failsWithin(Duration.ofSeconds(5))
				.withThrowableOfType(ExecutionException.class)
				.withCauseInstanceOf(RateLimitExceededException.class);
		});
	}

	@Test
	void completableFutureWaitsWithoutParkingTheCaller() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			CompletableFuture<String> first = service.asyncWaiting();
			CompletableFuture<String> second = service.asyncWaiting();
			CompletableFuture<String> third = service.asyncWaiting();
			assertThat(CompletableFuture.allOf(first, second, third)).succeedsWithin(Duration.ofSeconds(10));
			assertThat(third.join()).isEqualTo("async");
		});
	}

	@Test
	void monoTakesTheLimitOnSubscription() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			Mono<String> mono = service.mono();
			assertThat(service.calls()).as("nothing happens before subscription").isZero();
			for (int i = 0; i < 3; i++) {
				StepVerifier.create(mono).expectNext("mono").verifyComplete();
			}
			StepVerifier.create(mono).expectError(RateLimitExceededException.class).verify(Duration.ofSeconds(5));
		});
	}

	@Test
	void fluxTakesOnePermitPerSubscription() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			for (int i = 0; i < 3; i++) {
				StepVerifier.create(service.flux()).expectNext(1, 2, 3).verifyComplete();
			}
			StepVerifier.create(service.flux()).expectError(RateLimitExceededException.class).verify(Duration.ofSeconds(5));
		});
	}

	@Test
	void monoWaitsOnReactorsTimer() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			StepVerifier.create(Flux.concat(service.monoWaiting(), service.monoWaiting(), service.monoWaiting()))
				.expectNext("mono", "mono", "mono")
				.expectComplete()
				.verify(Duration.ofSeconds(10));
		});
	}

	@Test
	void concurrencyPermitsAreReleasedWhenTheCallEnds() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			ConcurrencyLimiter db = (ConcurrencyLimiter) context.getBean(RateLimiterRegistry.class).limiter("db");
			assertThat(service.query(() -> db.inFlight())).isEqualTo(1L);
			assertThat(db.inFlight()).isZero();
			assertThatExceptionOfType(IllegalStateException.class)
				.isThrownBy(() -> service.query(() -> { throw new IllegalStateException("boom"); }));
			assertThat(db.inFlight()).as("released after a failure too").isZero();
			CompletableFuture<String> pending = new CompletableFuture<>();
			CompletableFuture<String> call = service.queryAsync(pending);
			assertThat(db.inFlight()).isEqualTo(1);
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(() -> service.query(() -> 0L));
			pending.complete("rows");
			assertThat(call).isCompletedWithValue("rows");
			assertThat(db.inFlight()).isZero();
		});
	}

	@Test
	void classLevelAnnotationLimitsPublicMethods() {
		this.contextRunner.run((context) -> {
			ClassLimited limited = context.getBean(ClassLimited.class);
			limited.one();
			limited.two();
			limited.one();
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(limited::two);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class ServiceConfiguration {

		@Bean
		Service service() {
			return new Service();
		}

		@Bean
		ClassLimited classLimited() {
			return new ClassLimited();
		}

	}

	static class Service {

		final AtomicInteger calls = new AtomicInteger();

		public int calls() {
			return this.calls.get();
		}

		@RateLimited("orders")
		public String order(String item) {
			this.calls.incrementAndGet();
			return "ordered " + item;
		}

		@RateLimited(name = "orders", key = "#tenant")
		public String perTenant(String tenant) {
			return tenant;
		}

		@RateLimited("orders")
		@RateLimited("daily")
		public void twoLimits() {
		}

		@RateLimited(name = "orders", fallback = "later")
		public String withFallback(String item) {
			return item;
		}

		String later(String item) {
			return "later: " + item;
		}

		@RateLimited(name = "daily", fallback = "busy")
		public String withFallbackAndCause(String item) {
			return item;
		}

		String busy(String item, RateLimitExceededException ex) {
			return "busy " + item + ", retry after " + ex.getRetryAfter();
		}

		@RateLimited(name = "fast", mode = Mode.WAIT)
		public String waiting() {
			this.calls.incrementAndGet();
			return "done";
		}

		@RateLimited(name = "sliding", mode = Mode.WAIT, timeout = "5s")
		public String slidingWait() {
			return "slid";
		}

		@RateLimited(name = "orders", mode = Mode.FAIL_FAST)
		public CompletableFuture<String> async() {
			return CompletableFuture.completedFuture("async");
		}

		@RateLimited(name = "fast")
		public CompletableFuture<String> asyncWaiting() {
			return CompletableFuture.supplyAsync(() -> "async");
		}

		@RateLimited("orders")
		public Mono<String> mono() {
			return Mono.fromSupplier(() -> {
				this.calls.incrementAndGet();
				return "mono";
			});
		}

		@RateLimited("orders")
		public Flux<Integer> flux() {
			return Flux.just(1, 2, 3);
		}

		@RateLimited("fast")
		public Mono<String> monoWaiting() {
			return Mono.just("mono");
		}

		@RateLimited("db")
		public Long query(java.util.function.Supplier<Long> body) {
			return body.get();
		}

		@RateLimited("db")
		public CompletableFuture<String> queryAsync(CompletableFuture<String> pending) {
			return pending;
		}

	}

	@RateLimited("orders")
	static class ClassLimited {

		public void one() {
		}

		public void two() {
		}

	}

}
