package dev.ratelimit.spring.aop;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.common.KeyValue;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.ObservationHandler;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;
import dev.ratelimit.spring.observation.DefaultRateLimitObservationConvention;
import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.observation.RateLimitObservationConvention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * With an {@link ObservationRegistry} in the application, every acquisition of a
 * {@code @RateLimited} method is one stopped observation, tagged with the limiter, the source and
 * the outcome; the method's own work is not part of it.
 */
class RateLimitedObservationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(
				AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class))
		.withUserConfiguration(ServiceConfiguration.class, ObservationConfiguration.class)
		.withPropertyValues("ratelimit.limiters.orders.rate=1/1h", "ratelimit.limiters.fast.rate=20/1s",
				"ratelimit.limiters.fast.capacity=1", "ratelimit.limiters.fast.wait-timeout=5s",
				"ratelimit.limiters.other.rate=5/1h");

	@Test
	void aPermittedAndARejectedCallAreOneObservationEach() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			Recorded observations = context.getBean(Recorded.class);
			assertThat(service.order()).isEqualTo("ordered");
			assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(service::order);
			List<RateLimitObservationContext> acquisitions = acquisitions(observations);
			assertThat(acquisitions).hasSize(2);
			assertThat(acquisitions).allSatisfy((acquisition) -> {
				assertThat(acquisition.getName()).isEqualTo("ratelimit.acquire");
				assertThat(acquisition.getContextualName()).isEqualTo("ratelimit orders");
				assertThat(acquisition.getLowCardinalityKeyValue("ratelimit.limiter").getValue()).isEqualTo("orders");
				assertThat(acquisition.getLowCardinalityKeyValue("ratelimit.source").getValue()).isEqualTo("method");
				assertThat(acquisition.getHighCardinalityKeyValue("ratelimit.operation").getValue())
					.isEqualTo("Service.order");
			});
			assertThat(acquisitions).extracting((acquisition) -> acquisition.getLowCardinalityKeyValue("ratelimit.outcome"))
				.extracting(KeyValue::getValue)
				.containsExactly("permitted", "rejected");
			observations.assertEveryOneStoppedOnce();
		});
	}

	@Test
	void aCallThatWaitsIsObservedUntilItsPermitIsTaken() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			Recorded observations = context.getBean(Recorded.class);
			service.fast();
			service.fast(); // the bucket of one is empty: this one waits for its permit (20/s: 50 ms after the first)
			List<RateLimitObservationContext> acquisitions = acquisitions(observations);
			assertThat(acquisitions).extracting(RateLimitObservationContext::getOutcome)
				.containsExactly(RateLimitObservationContext.Outcome.PERMITTED,
						RateLimitObservationContext.Outcome.PERMITTED);
			// the second observation ends when the permit is there, not when the wait begins
			long fromFirstToSecondEnd = observations.stoppedAt.get(acquisitions.get(1))
					- observations.startedAt.get(acquisitions.get(0));
			assertThat(fromFirstToSecondEnd).isGreaterThanOrEqualTo(Duration.ofMillis(45).toNanos());
			observations.assertEveryOneStoppedOnce();
		});
	}

	@Test
	void aFluxIsObservedOncePerSubscription() {
		this.contextRunner.run((context) -> {
			Flux<String> feed = context.getBean(Service.class).feed();
			StepVerifier.create(feed).expectNext("a", "b").verifyComplete();
			StepVerifier.create(feed).expectError(RateLimitExceededException.class).verify();
			Recorded observations = context.getBean(Recorded.class);
			assertThat(acquisitions(observations)).extracting(RateLimitObservationContext::getOutcome)
				.containsExactly(RateLimitObservationContext.Outcome.PERMITTED,
						RateLimitObservationContext.Outcome.REJECTED);
			observations.assertEveryOneStoppedOnce();
		});
	}

	@Test
	void aSubscriptionCancelledWhileWaitingIsObservedAsCancelledAndGivesItsPermitBack() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			StepVerifier.create(service.fastReactive()).expectNext("fast").verifyComplete();
			// the bucket of one is empty: this subscription waits, and is cancelled meanwhile
			StepVerifier.create(service.fastReactive()).thenCancel().verify();
			Recorded observations = context.getBean(Recorded.class);
			assertThat(acquisitions(observations)).extracting(RateLimitObservationContext::getOutcome)
				.containsExactly(RateLimitObservationContext.Outcome.PERMITTED,
						RateLimitObservationContext.Outcome.CANCELLED);
			observations.assertEveryOneStoppedOnce();
			// the permit reserved for the cancelled call went back: the next one waits only for the refill
			StepVerifier.create(service.fastReactive()).expectNext("fast").verifyComplete();
		});
	}

	@Test
	void severalLimitsAreOneObservationNamingThemAll() {
		this.contextRunner.run((context) -> {
			context.getBean(Service.class).both();
			assertThat(acquisitions(context.getBean(Recorded.class))).singleElement()
				.satisfies((acquisition) -> {
					assertThat(acquisition.getLimiters()).isEqualTo("other,orders");
					assertThat(acquisition.getLowCardinalityKeyValue("ratelimit.outcome").getValue())
						.isEqualTo("permitted");
				});
		});
	}

	@Test
	void aRejectedFutureIsObservedAsRejected() {
		this.contextRunner.run((context) -> {
			Service service = context.getBean(Service.class);
			assertThat(service.orderLater().join()).isEqualTo("ordered");
			assertThatExceptionOfType(CompletionException.class).isThrownBy(() -> service.orderLater().join())
				.withCauseInstanceOf(RateLimitExceededException.class);
			assertThat(acquisitions(context.getBean(Recorded.class)))
				.extracting(RateLimitObservationContext::getOutcome)
				.containsExactly(RateLimitObservationContext.Outcome.PERMITTED,
						RateLimitObservationContext.Outcome.REJECTED);
		});
	}

	@Test
	void aMonoTakesItsParentFromTheSubscribersContext() {
		this.contextRunner.run((context) -> {
			Recorded observations = context.getBean(Recorded.class);
			Observation parent = Observation.start("request", context.getBean(ObservationRegistry.class));
			StepVerifier
				.create(context.getBean(Service.class).orderReactive()
					.contextWrite(Context.of(dev.ratelimit.spring.observation.RateLimitObservations.REACTOR_CONTEXT_KEY, parent)))
				.expectNext("ordered")
				.verifyComplete();
			parent.stop();
			assertThat(acquisitions(observations)).singleElement().satisfies((acquisition) -> {
				assertThat(acquisition.getParentObservation()).isSameAs(parent);
				assertThat(acquisition.getOutcome()).isEqualTo(RateLimitObservationContext.Outcome.PERMITTED);
			});
			StepVerifier.create(context.getBean(Service.class).orderReactive())
				.expectError(RateLimitExceededException.class)
				.verify();
			assertThat(acquisitions(observations)).last()
				.satisfies((acquisition) -> assertThat(acquisition.getOutcome())
					.isEqualTo(RateLimitObservationContext.Outcome.REJECTED));
		});
	}

	@Test
	void aConventionBeanNamesAndTagsTheObservations() {
		this.contextRunner.withBean(RateLimitObservationConvention.class, Renamed::new).run((context) -> {
			context.getBean(Service.class).order();
			assertThat(acquisitions(context.getBean(Recorded.class))).singleElement()
				.satisfies((acquisition) -> assertThat(acquisition.getName()).isEqualTo("shop.permits"));
		});
	}

	@Test
	void withoutARegistryCallsAreLimitedAsBefore() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
					RateLimitedAnnotationAutoConfiguration.class))
			.withUserConfiguration(ServiceConfiguration.class)
			.withPropertyValues("ratelimit.limiters.orders.rate=1/1h", "ratelimit.limiters.fast.rate=20/1s",
					"ratelimit.limiters.other.rate=5/1h")
			.run((context) -> {
				assertThat(context).doesNotHaveBean(dev.ratelimit.spring.observation.RateLimitObservations.class);
				Service service = context.getBean(Service.class);
				assertThat(service.order()).isEqualTo("ordered");
				assertThatExceptionOfType(RateLimitExceededException.class).isThrownBy(service::order);
			});
	}

	/** The stopped acquisitions, in the order they started. */
	private static List<RateLimitObservationContext> acquisitions(Recorded observations) {
		return observations.started.stream()
			.filter(observations.stopped::contains)
			.filter(RateLimitObservationContext.class::isInstance)
			.map(RateLimitObservationContext.class::cast)
			.toList();
	}

	/** Records the observations started and stopped, and when. */
	static final class Recorded implements ObservationHandler<Observation.Context> {

		final List<Observation.Context> started = new CopyOnWriteArrayList<>();

		final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

		final Map<Observation.Context, Long> startedAt = new ConcurrentHashMap<>();

		final Map<Observation.Context, Long> stoppedAt = new ConcurrentHashMap<>();

		@Override
		public void onStart(Observation.Context context) {
			this.started.add(context);
			this.startedAt.put(context, System.nanoTime());
		}

		@Override
		public void onStop(Observation.Context context) {
			this.stopped.add(context);
			this.stoppedAt.put(context, System.nanoTime());
		}

		@Override
		public boolean supportsContext(Observation.Context context) {
			return true;
		}

		/** Every observation started was stopped, and only once. */
		void assertEveryOneStoppedOnce() {
			assertThat(this.stopped).as("stopped once each").doesNotHaveDuplicates();
			assertThat(this.stopped).as("every started observation stopped")
				.containsExactlyInAnyOrderElementsOf(this.started);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ObservationConfiguration {

		@Bean
		Recorded recorded() {
			return new Recorded();
		}

		@Bean
		ObservationRegistry observationRegistry(Recorded recorded) {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig().observationHandler(recorded);
			return registry;
		}

	}

	static final class Renamed extends DefaultRateLimitObservationConvention {

		@Override
		public String getName() {
			return "shop.permits";
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
		public String order() {
			return "ordered";
		}

		@RateLimited("orders")
		public CompletableFuture<String> orderLater() {
			return CompletableFuture.completedFuture("ordered");
		}

		@RateLimited("orders")
		public Mono<String> orderReactive() {
			return Mono.just("ordered");
		}

		@RateLimited("other")
		@RateLimited("orders")
		public String both() {
			return "both";
		}

		@RateLimited("fast")
		public String fast() {
			return "fast";
		}

		@RateLimited("fast")
		public Mono<String> fastReactive() {
			return Mono.just("fast");
		}

		@RateLimited("orders")
		public Flux<String> feed() {
			return Flux.just("a", "b");
		}

	}

}
