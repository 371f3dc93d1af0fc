package dev.ratelimit.spring.web.servlet;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.web.ObservationRecorder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rules of {@code ratelimit.http.rules} on a real server, no proxy trusted: keys from the client
 * address (a forged X-Forwarded-For changes nothing), a path variable and a header; skip and when
 * conditions; counting failed logins after the response; several limits taken together or not at
 * all. Each test uses its own limiter, since the context is shared.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, classes = HttpRulesIntegrationTests.TestApplication.class,
		properties = { "ratelimit.limiters.per-ip.rate=2/1h", "ratelimit.limiters.skipping.rate=1/1h",
				"ratelimit.limiters.logins.rate=2/1h", "ratelimit.limiters.tenant.rate=1/1h",
				"ratelimit.limiters.api-key.rate=1/1h", "ratelimit.limiters.all-a.rate=5/1h",
				"ratelimit.limiters.all-b.rate=1/1h", "ratelimit.limiters.free.rate=1/1h",
				"ratelimit.limiters.broken.rate=1/1h", "ratelimit.limiters.unlisted.rate=1/1h",
				"ratelimit.http.rules[0].paths=/ip/**", "ratelimit.http.rules[0].limiters=per-ip",
				"ratelimit.http.rules[0].key=ip",
				"ratelimit.http.rules[1].paths=/skip/**", "ratelimit.http.rules[1].limiters=skipping",
				"ratelimit.http.rules[1].skip=header('X-Internal') == 'yes'",
				"ratelimit.http.rules[2].name=failed-logins", "ratelimit.http.rules[2].paths=/login",
				"ratelimit.http.rules[2].methods=post", "ratelimit.http.rules[2].limiters=logins",
				"ratelimit.http.rules[2].key=ip", "ratelimit.http.rules[2].count-when=status == 401",
				"ratelimit.http.rules[3].paths=/tenants/{tenant}/**", "ratelimit.http.rules[3].limiters=tenant",
				"ratelimit.http.rules[3].key=pathVariable('tenant')",
				"ratelimit.http.rules[4].paths=/keys/**", "ratelimit.http.rules[4].limiters=api-key",
				"ratelimit.http.rules[4].key=header('X-Api-Key')",
				"ratelimit.http.rules[5].paths=/all/**", "ratelimit.http.rules[5].limiters=all-a,all-b",
				"ratelimit.http.rules[6].paths=/plans/**", "ratelimit.http.rules[6].limiters=free",
				"ratelimit.http.rules[6].when=header('X-Plan') == 'free'",
				"ratelimit.http.rules[7].paths=/broken/**", "ratelimit.http.rules[7].limiters=broken",
				"ratelimit.http.rules[7].key=#request.getHeader('X-Missing').length()",
				"ratelimit.http.rules[8].paths=/methods/**", "ratelimit.http.rules[8].methods=DELETE",
				"ratelimit.http.rules[8].limiters=unlisted",
				"ratelimit.limiters.head-get.rate=1/1h", "ratelimit.limiters.dec.rate=1/1h",
				"ratelimit.limiters.five.rate=1/1h",
				"ratelimit.http.rules[9].paths=/head/**", "ratelimit.http.rules[9].methods=GET",
				"ratelimit.http.rules[9].limiters=head-get",
				"ratelimit.http.rules[10].paths=/dec/**", "ratelimit.http.rules[10].limiters=dec",
				"ratelimit.http.rules[10].skip=path.endsWith('.css')",
				"ratelimit.http.rules[11].paths=/five/**", "ratelimit.http.rules[11].limiters=five",
				"ratelimit.http.rules[11].count-when=status >= 500",
				"ratelimit.limiters.observed.rate=1/1h", "ratelimit.http.rules[12].name=observed-rule",
				"ratelimit.http.rules[12].paths=/observed/**", "ratelimit.http.rules[12].limiters=observed",
				"ratelimit.limiters.prio.rate=10/1h", "ratelimit.limiters.prio.priority.classes=critical,batch",
				"ratelimit.http.rules[13].paths=/bulk/**", "ratelimit.http.rules[13].limiters=prio",
				"ratelimit.http.rules[13].priority=batch", "ratelimit.http.rules[14].paths=/admin/**",
				"ratelimit.http.rules[14].limiters=prio", "ratelimit.http.rules[14].priority=critical",
				"ratelimit.limiters.prio2.rate=10/1h", "ratelimit.limiters.prio2.priority.classes=critical,batch",
				"ratelimit.http.rules[15].paths=/chosen/**", "ratelimit.http.rules[15].limiters=prio2",
				"ratelimit.http.rules[15].priority-expression=header('X-Priority')" })
@AutoConfigureRestTestClient
class HttpRulesIntegrationTests {

	@Autowired
	private RestTestClient client;

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
		EntityExchangeResult<String> denied = get("/ip/a",
				Map.of("X-Forwarded-For", "203.0.113.3", "Forwarded", "for=203.0.113.4"));
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		// the same answer as a denied @RateLimited call
		assertThat(Long.parseLong(denied.getResponseHeaders().getFirst("Retry-After"))).isBetween(1L, 3600L);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"per-ip\";q=2;w=3600");
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"per-ip\";r=0;t=");
		assertThat(denied.getResponseHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat((Integer) JsonPath.read(denied.getResponseBody(), "$.status")).isEqualTo(429);
		assertThat((String) JsonPath.read(denied.getResponseBody(), "$.instance")).isEqualTo("/ip/a");
		assertThat(this.registry.find("per-ip", "127.0.0.1")).isPresent();
		assertThat(this.registry.find("per-ip", "203.0.113.1")).isEmpty();
	}

	@Test
	void aSkippedRequestTakesNothing() {
		for (int i = 0; i < 3; i++) {
			assertThat(get("/skip/x", Map.of("X-Internal", "yes")).getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(get("/skip/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/skip/x", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/skip/x", Map.of("X-Internal", "yes")).getStatus()).isEqualTo(HttpStatus.OK);
	}

	@Test
	void onlyFailedLoginsCountAndOnceSpentEveryLoginIsRefusedBeforeTheController() {
		for (int i = 0; i < 3; i++) {
			assertThat(login("right").getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(login("wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(login("wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		int calls = this.logins.calls.get();
		EntityExchangeResult<String> refused = login("right");
		assertThat(refused.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(refused.getResponseHeaders().getFirst("Retry-After")).isNotNull();
		assertThat(login("wrong").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.logins.calls.get()).as("logins that reached the controller").isEqualTo(calls);
	}

	@Test
	void eachPathVariableHasItsOwnLimitAndPermittedResponsesCarryTheFields() {
		EntityExchangeResult<String> first = get("/tenants/acme/items", Map.of());
		assertThat(first.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(first.getResponseBody()).isEqualTo("acme");
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
		assertThat(get("/keys/x", Map.of("X-Api-Key", huge + "2")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/keys/x", Map.of("X-Api-Key", "short")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("api-key", dev.ratelimit.spring.web.HttpRule.digest(huge))).isPresent();
	}

	@Test
	void severalLimitsOfARuleAreTakenTogetherOrNotAtAll() {
		EntityExchangeResult<String> first = get("/all/x", Map.of());
		assertThat(first.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(first.getResponseHeaders().getFirst("RateLimit-Policy"))
			.isEqualTo("\"all-a\";q=5;w=3600, \"all-b\";q=1;w=3600");
		EntityExchangeResult<String> denied = get("/all/x", Map.of());
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"all-b\";r=0;t=");
		assertThat(this.registry.limiter("all-a").snapshot().available()).as("all-a after the refused request")
			.isEqualTo(4);
	}

	@Test
	void aRuleAppliesOnlyWhenItsConditionHolds() {
		for (int i = 0; i < 3; i++) {
			assertThat(get("/plans/x", Map.of("X-Plan", "paid")).getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(get("/plans/x", Map.of("X-Plan", "free")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/plans/x", Map.of("X-Plan", "free")).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void aKeyExpressionThatFailsPutsTheRequestUnderTheSharedKeyRatherThanOpeningTheLimit() {
		assertThat(get("/broken/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/broken/y", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.registry.find("broken", "(none)")).isPresent();
	}

	@Test
	void aRuleForOtherMethodsLeavesTheRequestAlone() {
		for (int i = 0; i < 3; i++) {
			assertThat(get("/methods/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(this.registry.find("unlisted")).isEmpty();
	}

	@Test
	void aGetRuleAlsoLimitsHeadWhichTheGetHandlerAnswers() {
		assertThat(get("/head/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(this.client.head().uri("/head/x").exchange().returnResult(String.class).getStatus())
			.isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void conditionsSeeThePathAsItIsRoutedNotAsSent() {
		assertThat(get("/dec/a.css", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/dec/a.css", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		// routed as /dec/b: not a stylesheet, whatever its parameter says
		assertThat(get("/dec/b;.css", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/dec/c;.css", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void requestsForPathsWithoutAHandlerAreNotServerErrors() {
		for (int i = 0; i < 3; i++) {
			assertThat(get("/five/missing/page", Map.of()).getStatus()).isEqualTo(HttpStatus.NOT_FOUND);
		}
		assertThat(get("/five/x", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
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
			// Boot's server observation of the request is the parent
			assertThat(acquisition.getParentObservation()).isNotNull();
			assertThat(acquisition.getParentObservation().getContextView().getName())
				.isEqualTo("http.server.requests");
		});
		assertThat(this.observations.of("observed")).extracting(RateLimitObservationContext::getOutcome)
			.containsExactly(RateLimitObservationContext.Outcome.PERMITTED, RateLimitObservationContext.Outcome.REJECTED);
	}

	@Test
	void aRuleTakesItsLimitersAtItsPriorityClass() {
		// 10 an hour between critical and batch: batch leaves 2 permits to critical
		for (int i = 0; i < 8; i++) {
			assertThat(get("/bulk/" + i, Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(get("/bulk/8", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/admin/0", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/admin/1", Map.of()).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/admin/2", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void aRequestsPriorityComesFromItsHeaderAndAValueThatNamesNoClassTakesTheDefault() {
		for (int i = 0; i < 8; i++) {
			assertThat(get("/chosen/" + i, Map.of("X-Priority", "batch")).getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(get("/chosen/8", Map.of("X-Priority", "batch")).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		// a client naming no class, or none at all, gets the default class: batch, spent
		assertThat(get("/chosen/9", Map.of("X-Priority", "root")).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/chosen/10", Map.of()).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/chosen/11", Map.of("X-Priority", "critical")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/chosen/12", Map.of("X-Priority", "critical")).getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/chosen/13", Map.of("X-Priority", "critical")).getStatus())
			.isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	private EntityExchangeResult<String> get(String path, Map<String, String> headers) {
		return this.client.get()
			.uri(path)
			.headers((http) -> headers.forEach(http::set))
			.exchange()
			.returnResult(String.class);
	}

	private EntityExchangeResult<String> login(String password) {
		return this.client.post().uri("/login?password=" + password).exchange().returnResult(String.class);
	}

	@RestController
	static class AnyController {

		@GetMapping({ "/ip/{x}", "/skip/{x}", "/keys/{x}", "/all/{x}", "/plans/{x}", "/broken/{x}", "/methods/{x}",
				"/head/{x}", "/dec/{x}", "/five/{x}", "/observed/{x}", "/bulk/{x}", "/admin/{x}", "/chosen/{x}" })
		String any(@PathVariable String x) {
			return x;
		}

		@GetMapping("/tenants/{tenant}/items")
		String items(@PathVariable String tenant) {
			return tenant;
		}

	}

	@RestController
	static class LoginController {

		final AtomicInteger calls = new AtomicInteger();

		@PostMapping("/login")
		ResponseEntity<String> login(@RequestParam String password) {
			this.calls.incrementAndGet();
			return "right".equals(password) ? ResponseEntity.ok("welcome")
					: ResponseEntity.status(HttpStatus.UNAUTHORIZED).body("no");
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import({ AnyController.class, LoginController.class, ObservationRecorder.class })
	static class TestApplication {

	}

}
