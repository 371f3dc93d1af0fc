package dev.ratelimit.spring.web.reactive;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.web.HttpRule;
import dev.ratelimit.spring.web.ObservationRecorder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rules of {@code ratelimit.http.rules} in a WebFlux application on a real (Tomcat reactive)
 * server: per-IP keys (a forged X-Forwarded-For from a peer that is not trusted changes nothing),
 * the same 429 as a denied {@code @RateLimited} call, fields on permitted responses, skip, failed
 * logins counted after the response, path variables, all-or-nothing, huge keys and failing
 * expressions. Each test uses its own limiter, since the context is shared.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = HttpRulesWebFluxIntegrationTests.TestApplication.class,
		properties = { "spring.main.web-application-type=reactive", "ratelimit.limiters.per-ip.rate=2/1h",
				"ratelimit.limiters.skipping.rate=1/1h", "ratelimit.limiters.logins.rate=2/1h",
				"ratelimit.limiters.tenant.rate=1/1h", "ratelimit.limiters.api-key.rate=1/1h",
				"ratelimit.limiters.all-a.rate=5/1h", "ratelimit.limiters.all-b.rate=1/1h",
				"ratelimit.limiters.broken.rate=1/1h",
				"ratelimit.http.rules[0].paths=/ip/**", "ratelimit.http.rules[0].limiters=per-ip",
				"ratelimit.http.rules[0].key=ip",
				"ratelimit.http.rules[1].paths=/skip/**", "ratelimit.http.rules[1].limiters=skipping",
				"ratelimit.http.rules[1].skip=header('X-Internal') == 'yes'",
				"ratelimit.http.rules[2].paths=/login", "ratelimit.http.rules[2].methods=post",
				"ratelimit.http.rules[2].limiters=logins", "ratelimit.http.rules[2].key=ip",
				"ratelimit.http.rules[2].count-when=status == 401",
				"ratelimit.http.rules[3].paths=/tenants/{tenant}/**", "ratelimit.http.rules[3].limiters=tenant",
				"ratelimit.http.rules[3].key=pathVariable('tenant')",
				"ratelimit.http.rules[4].paths=/keys/**", "ratelimit.http.rules[4].limiters=api-key",
				"ratelimit.http.rules[4].key=header('X-Api-Key')",
				"ratelimit.http.rules[5].paths=/all/**", "ratelimit.http.rules[5].limiters=all-a,all-b",
				"ratelimit.http.rules[6].paths=/broken/**", "ratelimit.http.rules[6].limiters=broken",
				"ratelimit.http.rules[6].key=#request.headers.getFirst('X-Missing').length()",
				"ratelimit.limiters.logins-error.rate=1/1h", "ratelimit.limiters.five.rate=1/1h",
				"ratelimit.http.rules[7].paths=/login-error", "ratelimit.http.rules[7].limiters=logins-error",
				"ratelimit.http.rules[7].count-when=status == 401",
				"ratelimit.http.rules[8].paths=/five/**", "ratelimit.http.rules[8].limiters=five",
				"ratelimit.http.rules[8].count-when=status >= 500",
				"ratelimit.limiters.observed.rate=1/1h", "ratelimit.http.rules[9].name=observed-rule",
				"ratelimit.http.rules[9].paths=/observed/**", "ratelimit.http.rules[9].limiters=observed" })
@AutoConfigureWebTestClient
class HttpRulesWebFluxIntegrationTests {

	@Autowired
	private WebTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Autowired
	private LoginController logins;

	@Autowired
	private ObservationRecorder observations;

	@Test
	void aForgedForwardedForFromAPeerThatIsNotTrustedDoesNotChangeTheKey() {
		assertThat(get("/ip/a", Map.of("X-Forwarded-For", "203.0.113.1")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/ip/a", Map.of("X-Forwarded-For", "203.0.113.2")).getStatus()).isEqualTo(HttpStatus.OK);
		EntityExchangeResult<String> denied = get("/ip/a", Map.of("X-Forwarded-For", "203.0.113.3"));
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(Long.parseLong(denied.getResponseHeaders().getFirst("Retry-After"))).isBetween(1L, 3600L);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"per-ip\";q=2;w=3600");
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"per-ip\";r=0;t=");
		assertThat(denied.getResponseHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat((Integer) JsonPath.read(denied.getResponseBody(), "$.status")).isEqualTo(429);
		assertThat(this.registry.find("per-ip", "203.0.113.1")).isEmpty();
	}

	@Test
	void aSkippedRequestTakesNothing() {
		for (int i = 0; i < 3; i++) {
			assertThat(get("/skip/x", Map.of("X-Internal", "yes")).getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(get("/skip/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/skip/x", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void onlyFailedLoginsCountAndOnceSpentEveryLoginIsRefusedBeforeTheController() {
		for (int i = 0; i < 3; i++) {
			assertThat(login("right").getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(login("wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(login("wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		int calls = this.logins.calls.get();
		assertThat(login("right").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.logins.calls.get()).as("logins that reached the controller").isEqualTo(calls);
	}

	@Test
	void eachPathVariableHasItsOwnLimitAndPermittedResponsesCarryTheFields() {
		EntityExchangeResult<String> first = get("/tenants/acme/items", Map.of());
		assertThat(first.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(first.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"tenant\";q=1;w=3600");
		assertThat(first.getResponseHeaders().getFirst("RateLimit")).startsWith("\"tenant\";r=0;t=");
		assertThat(get("/tenants/acme/items", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/tenants/globex/items", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
	}

	@Test
	void aHugeHeaderKeyGetsItsOwnLimitInsteadOfAnError() {
		String huge = "k".repeat(5_000);
		assertThat(get("/keys/x", Map.of("X-Api-Key", huge)).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/keys/x", Map.of("X-Api-Key", huge)).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/keys/x", Map.of("X-Api-Key", "short")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("api-key", HttpRule.digest(huge))).isPresent();
	}

	@Test
	void severalLimitsOfARuleAreTakenTogetherOrNotAtAll() {
		assertThat(get("/all/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		EntityExchangeResult<String> denied = get("/all/x", Map.of());
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"all-b\";r=0;t=");
		assertThat(this.registry.limiter("all-a").snapshot().available()).isEqualTo(4);
	}

	@Test
	void aKeyExpressionThatFailsPutsTheRequestUnderTheSharedKeyRatherThanOpeningTheLimit() {
		assertThat(get("/broken/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/broken/y", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.registry.find("broken", HttpRule.NULL_KEY)).isPresent();
	}

	@Test
	void aFailureAnExceptionHandlerAnswersIsCountedWithTheStatusItIsAnsweredWith() {
		assertThat(this.client.post().uri("/login-error").exchange().expectBody(String.class).returnResult().getStatus())
			.isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(this.client.post().uri("/login-error").exchange().expectBody(String.class).returnResult().getStatus())
			.isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void requestsForPathsWithoutAHandlerAreNotServerErrors() {
		for (int i = 0; i < 3; i++) {
			assertThat(get("/five/missing/page", Map.of()).getStatus()).isEqualTo(HttpStatus.NOT_FOUND);
		}
	}

	@Test
	void eachRequestARuleAppliesToIsOneObservationInsideTheRequestsOwn() {
		assertThat(get("/observed/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/observed/x", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.observations.of("observed")).hasSize(2).allSatisfy((acquisition) -> {
			assertThat(acquisition.getName()).isEqualTo("ratelimit.acquire");
			assertThat(acquisition.getLowCardinalityKeyValue("ratelimit.source").getValue()).isEqualTo("http");
			assertThat(acquisition.getHighCardinalityKeyValue("ratelimit.operation").getValue())
				.isEqualTo("observed-rule");
			// WebFlux's server observation of the request, from the Reactor context, is the parent
			assertThat(acquisition.getParentObservation()).isNotNull();
			assertThat(acquisition.getParentObservation().getContextView().getName())
				.isEqualTo("http.server.requests");
		});
		assertThat(this.observations.of("observed")).extracting(RateLimitObservationContext::getOutcome)
			.containsExactly(RateLimitObservationContext.Outcome.PERMITTED, RateLimitObservationContext.Outcome.REJECTED);
	}

	private EntityExchangeResult<String> get(String path, Map<String, String> headers) {
		return this.client.get()
			.uri(path)
			.headers((http) -> headers.forEach(http::set))
			.exchange()
			.expectBody(String.class)
			.returnResult();
	}

	private EntityExchangeResult<String> login(String password) {
		return this.client.post().uri("/login?password=" + password).exchange().expectBody(String.class).returnResult();
	}

	@RestController
	static class AnyController {

		@GetMapping({ "/ip/{x}", "/skip/{x}", "/keys/{x}", "/all/{x}", "/broken/{x}", "/observed/{x}" })
		Mono<String> any(@PathVariable String x) {
			return Mono.just(x);
		}

		@GetMapping("/tenants/{tenant}/items")
		Mono<String> items(@PathVariable String tenant) {
			return Mono.just(tenant);
		}

	}

	@RestController
	static class LoginController {

		final AtomicInteger calls = new AtomicInteger();

		@PostMapping("/login-error")
		Mono<String> loginError() {
			return Mono.error(new ResponseStatusException(HttpStatus.UNAUTHORIZED, "no"));
		}

		@PostMapping("/login")
		Mono<ResponseEntity<String>> login(@RequestParam String password) {
			this.calls.incrementAndGet();
			return Mono.just("right".equals(password) ? ResponseEntity.ok("welcome")
					: ResponseEntity.status(HttpStatus.UNAUTHORIZED).body("no"));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import({ AnyController.class, LoginController.class, ObservationRecorder.class })
	static class TestApplication {

	}

}
