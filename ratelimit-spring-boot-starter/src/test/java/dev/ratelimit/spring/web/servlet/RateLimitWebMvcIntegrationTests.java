package dev.ratelimit.spring.web.servlet;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
import org.springframework.stereotype.Service;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.spring.annotation.RateLimited;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring MVC on a real server: permitted calls carry the rate limit fields, a denied one is a 429
 * with Retry-After, the fields and a problem detail. Each test uses its own limiter, since the
 * context (and so the limiters) is shared by the tests.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = RateLimitWebMvcIntegrationTests.TestApplication.class,
		properties = { "ratelimit.limiters.orders.rate=3/1m", "ratelimit.limiters.tenant-orders.rate=3/1m",
				"ratelimit.limiters.search.rate=1/1h", "ratelimit.limiters.checkout.rate=10/1m",
				"ratelimit.limiters.inventory.rate=5/1m", "ratelimit.limiters.burst.rate=2/1m",
				"ratelimit.limiters.daily.algorithm=fixed-window", "ratelimit.limiters.daily.rate=100/1d",
				"ratelimit.limiters.handled.rate=1/1h", "ratelimit.limiters.quiet.rate=1/1h",
				"ratelimit.limiters.quiet.headers=false", "ratelimit.limiters.html.rate=1/1h" })
@AutoConfigureRestTestClient
class RateLimitWebMvcIntegrationTests {

	private static final Pattern PERMITTED_ORDERS = Pattern.compile("\"orders\";r=(\\d);t=(\\d+)");

	@Autowired
	private RestTestClient client;

	@Test
	void permittedCallsCarryTheFieldsAndTheFourthIsTooManyRequests() {
		for (int call = 1; call <= 3; call++) {
			EntityExchangeResult<String> result = get("/orders", null);
			assertThat(result.getStatus()).isEqualTo(HttpStatus.OK);
			assertThat(result.getResponseBody()).isEqualTo("orders");
			assertThat(result.getResponseHeaders().get("RateLimit-Policy")).containsExactly("\"orders\";q=3;w=60");
			String rateLimit = result.getResponseHeaders().getFirst("RateLimit");
			Matcher matcher = PERMITTED_ORDERS.matcher(rateLimit);
			assertThat(matcher.matches()).as(rateLimit).isTrue();
			assertThat(Integer.parseInt(matcher.group(1))).isEqualTo(3 - call);
			// 3/1m refills one permit in 20 s; t is the time until all are back
			assertThat(Long.parseLong(matcher.group(2))).isBetween(1L, 60L);
			assertThat(result.getResponseHeaders().containsHeader("Retry-After")).isFalse();
		}
		EntityExchangeResult<String> denied = get("/orders", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		long retryAfter = Long.parseLong(denied.getResponseHeaders().getFirst("Retry-After"));
		assertThat(retryAfter).isBetween(1L, 60L);
		assertThat(denied.getResponseHeaders().get("RateLimit-Policy")).containsExactly("\"orders\";q=3;w=60");
		assertThat(denied.getResponseHeaders().get("RateLimit")).containsExactly("\"orders\";r=0;t=" + retryAfter);
		assertThat(denied.getResponseHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
		String body = denied.getResponseBody();
		assertThat((Integer) JsonPath.read(body, "$.status")).isEqualTo(429);
		assertThat((String) JsonPath.read(body, "$.title")).isEqualTo("Too Many Requests");
		assertThat((String) JsonPath.read(body, "$.detail"))
			.isEqualTo("Rate limit 'orders' exceeded; retry after " + retryAfter + " seconds");
		assertThat((String) JsonPath.read(body, "$.instance")).isEqualTo("/orders");
	}

	@Test
	void eachTenantHasItsOwnLimit() {
		for (int call = 1; call <= 3; call++) {
			assertThat(get("/tenant-orders", "a").getStatus()).isEqualTo(HttpStatus.OK);
		}
		EntityExchangeResult<String> denied = get("/tenant-orders", "a");
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"tenant-orders\";r=0;t=");
		EntityExchangeResult<String> other = get("/tenant-orders", "b");
		assertThat(other.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(other.getResponseBody()).isEqualTo("b");
		assertThat(other.getResponseHeaders().getFirst("RateLimit")).startsWith("\"tenant-orders\";r=2;t=");
	}

	@Test
	void aDenialByAServiceTheControllerCallsIsTooManyRequests() {
		assertThat(get("/search", null).getStatus()).isEqualTo(HttpStatus.OK);
		EntityExchangeResult<String> denied = get("/search", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"search\";q=1;w=3600");
		assertThat(Long.parseLong(denied.getResponseHeaders().getFirst("Retry-After"))).isBetween(1L, 3600L);
	}

	@Test
	void limitsOfNestedCallsAreMembersOfTheSameFields() {
		EntityExchangeResult<String> result = get("/checkout", null);
		assertThat(result.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(result.getResponseHeaders().get("RateLimit-Policy"))
			.containsExactly("\"checkout\";q=10;w=60, \"inventory\";q=5;w=60");
		assertThat(result.getResponseHeaders().get("RateLimit")).singleElement()
			.asString()
			.matches("\"checkout\";r=9;t=\\d+, \"inventory\";r=4;t=\\d+");
	}

	@Test
	void severalLimitsOnOneMethodAreMembersOfOneField() {
		EntityExchangeResult<String> result = get("/two", null);
		assertThat(result.getResponseHeaders().get("RateLimit-Policy"))
			.containsExactly("\"burst\";q=2;w=60, \"daily\";q=100;w=86400");
		assertThat(result.getResponseHeaders().get("RateLimit")).singleElement()
			.asString()
			.matches("\"burst\";r=1;t=\\d+, \"daily\";r=99;t=\\d+");
		get("/two", null);
		EntityExchangeResult<String> denied = get("/two", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().get("RateLimit-Policy")).containsExactly("\"burst\";q=2;w=60");
	}

	@Test
	void theApplicationsOwnExceptionHandlerWins() {
		assertThat(get("/handled", null).getStatus()).isEqualTo(HttpStatus.OK);
		EntityExchangeResult<String> denied = get("/handled", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
		assertThat(denied.getResponseBody()).isEqualTo("busy: handled");
		assertThat(denied.getResponseHeaders().containsHeader("Retry-After")).isFalse();
	}

	@Test
	void aLimiterWithoutHeadersStillAnswersWithRetryAfter() {
		EntityExchangeResult<String> permitted = get("/quiet", null);
		assertThat(permitted.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(permitted.getResponseHeaders().containsHeader("RateLimit")).isFalse();
		assertThat(permitted.getResponseHeaders().containsHeader("RateLimit-Policy")).isFalse();
		EntityExchangeResult<String> denied = get("/quiet", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().containsHeader("Retry-After")).isTrue();
		assertThat(denied.getResponseHeaders().containsHeader("RateLimit")).isFalse();
		assertThat(denied.getResponseHeaders().containsHeader("RateLimit-Policy")).isFalse();
	}

	@Test
	void aClientThatAcceptsNoProblemTypeGetsTheStatusAndFieldsWithoutBody() {
		get("/html", null);
		EntityExchangeResult<String> denied = this.client.get()
			.uri("/html")
			.accept(MediaType.TEXT_HTML)
			.exchange()
			.returnResult(String.class);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"html\";r=0;t=");
		assertThat(denied.getResponseBody()).isNull();
	}

	private EntityExchangeResult<String> get(String path, String tenant) {
		return this.client.get()
			.uri(path)
			.headers((headers) -> {
				if (tenant != null) {
					headers.set("X-Tenant", tenant);
				}
			})
			.exchange()
			.returnResult(String.class);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import({ OrdersController.class, HandledController.class, HandledAdvice.class, Inventory.class })
	static class TestApplication {

	}

	@RestController
	static class OrdersController {

		private final Inventory inventory;

		OrdersController(Inventory inventory) {
			this.inventory = inventory;
		}

		@GetMapping("/orders")
		@RateLimited("orders")
		public String orders() {
			return "orders";
		}

		@GetMapping("/tenant-orders")
		@RateLimited(name = "tenant-orders", key = "#tenant")
		public String tenantOrders(@RequestHeader("X-Tenant") String tenant) {
			return tenant;
		}

		@GetMapping("/search")
		public String search() {
			return this.inventory.search();
		}

		@GetMapping("/checkout")
		@RateLimited("checkout")
		public String checkout() {
			return this.inventory.reserve();
		}

		@GetMapping("/two")
		@RateLimited("burst")
		@RateLimited("daily")
		public String two() {
			return "two";
		}

		@GetMapping("/quiet")
		@RateLimited("quiet")
		public String quiet() {
			return "quiet";
		}

		@GetMapping("/html")
		@RateLimited("html")
		public String html() {
			return "html";
		}

	}

	@Service
	static class Inventory {

		@RateLimited("search")
		public String search() {
			return "found";
		}

		@RateLimited("inventory")
		public String reserve() {
			return "reserved";
		}

	}

	@RestController
	static class HandledController {

		@GetMapping("/handled")
		@RateLimited("handled")
		public String handled() {
			return "handled";
		}

	}

	@RestControllerAdvice(assignableTypes = HandledController.class)
	static class HandledAdvice {

		@ExceptionHandler
		ResponseEntity<String> busy(RateLimitExceededException ex) {
			return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body("busy: " + ex.getLimiterName());
		}

	}

}
