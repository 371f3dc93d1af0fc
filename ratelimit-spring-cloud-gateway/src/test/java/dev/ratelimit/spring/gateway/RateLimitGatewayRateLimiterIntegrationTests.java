package dev.ratelimit.spring.gateway;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * A real gateway route on a real (Netty) server whose {@code RequestRateLimiter} filter takes its
 * permits from this library's limiters: each key the route's resolver gives has its own limit, a
 * refusal is 429 with Retry-After and the RateLimit fields, and a route names its limiter (or
 * takes the one named after it).
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = RateLimitGatewayRateLimiterIntegrationTests.TestApplication.class,
		properties = { "ratelimit.limiters.gateway-hello.rate=2/1h", "ratelimit.limiters.byroute.rate=1/1h",
				"spring.cloud.gateway.server.webflux.routes[0].id=hello",
				"spring.cloud.gateway.server.webflux.routes[0].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[0].predicates[0]=Path=/hello",
				"spring.cloud.gateway.server.webflux.routes[0].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[0].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"spring.cloud.gateway.server.webflux.routes[0].filters[0].args.ratelimit.limiter=gateway-hello",
				"spring.cloud.gateway.server.webflux.routes[1].id=byroute",
				"spring.cloud.gateway.server.webflux.routes[1].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[1].predicates[0]=Path=/byroute",
				"spring.cloud.gateway.server.webflux.routes[1].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[1].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"spring.cloud.gateway.server.webflux.routes[2].id=undeclared",
				"spring.cloud.gateway.server.webflux.routes[2].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[2].predicates[0]=Path=/undeclared",
				"spring.cloud.gateway.server.webflux.routes[2].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[2].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"spring.cloud.gateway.server.webflux.routes[2].filters[0].args.ratelimit.limiter=nowhere",
				"ratelimit.limiters.inflight.algorithm=concurrency", "ratelimit.limiters.inflight.max-concurrent=2",
				"spring.cloud.gateway.server.webflux.routes[3].id=inflight",
				"spring.cloud.gateway.server.webflux.routes[3].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[3].predicates[0]=Path=/inflight",
				"spring.cloud.gateway.server.webflux.routes[3].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[3].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"ratelimit.limiters.observed.rate=1/1h",
				"spring.cloud.gateway.server.webflux.routes[4].id=observed-route",
				"spring.cloud.gateway.server.webflux.routes[4].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[4].predicates[0]=Path=/observed",
				"spring.cloud.gateway.server.webflux.routes[4].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[4].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"spring.cloud.gateway.server.webflux.routes[4].filters[0].args.ratelimit.limiter=observed",
				"ratelimit.limiters.prio.rate=1/1h", "ratelimit.limiters.prio.priority.classes=high,low",
				"spring.cloud.gateway.server.webflux.routes[5].id=prio",
				"spring.cloud.gateway.server.webflux.routes[5].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[5].predicates[0]=Path=/prio",
				"spring.cloud.gateway.server.webflux.routes[5].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[5].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"ratelimit.limiters.bulk.rate=10/1h",
				"spring.cloud.gateway.server.webflux.routes[6].id=bulk",
				"spring.cloud.gateway.server.webflux.routes[6].uri=forward:/backend/hello",
				"spring.cloud.gateway.server.webflux.routes[6].predicates[0]=Path=/bulk",
				"spring.cloud.gateway.server.webflux.routes[6].filters[0].name=RequestRateLimiter",
				"spring.cloud.gateway.server.webflux.routes[6].filters[0].args.key-resolver=#{@clientKeyResolver}",
				"spring.cloud.gateway.server.webflux.routes[6].filters[0].args.ratelimit.permits=4" })
@AutoConfigureWebTestClient
class RateLimitGatewayRateLimiterIntegrationTests {

	@Autowired
	private WebTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Autowired
	private Recorder recorded;

	@Test
	void eachKeyOfARouteHasItsOwnLimitAndARefusalCarriesTheFields() {
		EntityExchangeResult<String> first = get("/hello", "a");
		assertThat(first.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(first.getResponseBody()).isEqualTo("hello");
		assertThat(first.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"gateway-hello\";q=2;w=3600");
		assertThat(first.getResponseHeaders().getFirst("RateLimit")).startsWith("\"gateway-hello\";r=1;t=");
		assertThat(get("/hello", "a").getStatus()).isEqualTo(HttpStatus.OK);
		EntityExchangeResult<String> refused = get("/hello", "a");
		assertThat(refused.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(Long.parseLong(refused.getResponseHeaders().getFirst("Retry-After"))).isBetween(1L, 3600L);
		assertThat(refused.getResponseHeaders().getFirst("RateLimit")).startsWith("\"gateway-hello\";r=0;t=");
		assertThat(get("/hello", "b").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("gateway-hello", "a")).isPresent();
	}

	@Test
	void aChangeOfLimitThatARoutesRequestsCouldNoLongerFitIsRefused() {
		assertThat(get("/bulk", "f").getStatus()).isEqualTo(HttpStatus.OK);
		dev.ratelimit.RateLimit bulk = this.registry.definedLimit("bulk").orElseThrow();
		assertThatIllegalArgumentException().isThrownBy(() -> this.registry.updateLimit("bulk", bulk.withCapacity(3)))
			.withMessageContaining("fewer than the 4 a declared call takes");
		this.registry.checkUpdate("bulk", bulk.withCapacity(4), null);
	}

	@Test
	void aRouteWithoutALimiterTakesTheOneNamedAfterIt() {
		assertThat(get("/byroute", "c").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/byroute", "c").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.registry.find("byroute", "c")).isPresent();
	}

	@Test
	void aHugeKeyGetsItsOwnLimitInsteadOfAnError() {
		String huge = "k".repeat(5_000);
		assertThat(get("/hello", huge).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/hello", huge).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/hello", huge).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void aRouteWhoseLimiterIsNotDeclaredFailsItsRequestsNotTheOtherRoutes() {
		assertThat(get("/undeclared", "d").getStatus().is5xxServerError()).isTrue();
		assertThat(get("/hello", "d").getStatus()).isEqualTo(HttpStatus.OK);
	}

	@Test
	void aRouteOnAConcurrencyLimitFailsRatherThanLeakingItsPermits() {
		assertThat(get("/inflight", "e").getStatus().is5xxServerError()).isTrue();
		assertThat(this.registry.find("inflight", "e")).isEmpty();
	}

	@Test
	void aRouteOnALimiterWithPriorityClassesFailsRatherThanCreatingKeysItCannotHave() {
		assertThat(get("/prio", "g").getStatus().is5xxServerError()).isTrue();
		assertThat(this.registry.keyedNames()).doesNotContain("prio");
	}

	@Test
	void eachRequestsPermitsAreOneObservation() {
		assertThat(get("/observed", "f").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/observed", "f").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.recorded.started).hasSize(2);
		assertThat(this.recorded.stopped).hasSize(2).allSatisfy((context) -> {
			assertThat(context.getSource()).isEqualTo(Source.GATEWAY);
			assertThat(context.getLimiters()).isEqualTo("observed");
			assertThat(context.getOperation()).isEqualTo("observed-route");
			assertThat(context.getPermits()).isEqualTo(1);
			assertThat(context.getParentObservation()).as("the request's observation").isNotNull();
			assertThat(context.getLowCardinalityKeyValue("ratelimit.source").getValue()).isEqualTo("gateway");
		});
		assertThat(this.recorded.stopped).extracting(RateLimitObservationContext::getOutcome)
			.containsExactly(Outcome.PERMITTED, Outcome.REJECTED);
	}

	private EntityExchangeResult<String> get(String path, String client) {
		return this.client.get()
			.uri(path)
			.header("X-Client", client)
			.exchange()
			.expectBody(String.class)
			.returnResult();
	}

	@RestController
	static class Backend {

		@GetMapping("/backend/hello")
		Mono<String> hello() {
			return Mono.just("hello");
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(Backend.class)
	static class TestApplication {

		@Bean
		Recorder recorder() {
			return new Recorder();
		}

		@Bean
		ObservationRegistry observationRegistry(Recorder recorder) {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig().observationHandler(recorder);
			return registry;
		}

		@Bean
		KeyResolver clientKeyResolver() {
			return (exchange) -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-Client"));
		}

	}

	/** Keeps the acquisitions of the route {@code observed-route}. */
	static class Recorder implements ObservationHandler<RateLimitObservationContext> {

		final List<RateLimitObservationContext> started = new CopyOnWriteArrayList<>();

		final List<RateLimitObservationContext> stopped = new CopyOnWriteArrayList<>();

		@Override
		public void onStart(RateLimitObservationContext context) {
			if (context.getOperation().equals("observed-route")) {
				this.started.add(context);
			}
		}

		@Override
		public void onStop(RateLimitObservationContext context) {
			if (context.getOperation().equals("observed-route")) {
				this.stopped.add(context);
			}
		}

		@Override
		public boolean supportsContext(Observation.Context context) {
			return context instanceof RateLimitObservationContext;
		}

	}

}
