package dev.ratelimit.spring.web.reactive;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.jayway.jsonpath.JsonPath;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.web.context.reactive.ReactiveWebApplicationContext;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Service;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.bind.annotation.RestControllerAdvice;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.spring.annotation.RateLimited;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring WebFlux on a real (Tomcat reactive) server: permitted {@code Mono} and {@code Flux}
 * calls carry the rate limit fields, a denied one is a 429 with Retry-After, the fields and a
 * problem detail. Each test uses its own limiter, since the context is shared by the tests.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = RateLimitWebFluxIntegrationTests.TestApplication.class,
		properties = { "spring.main.web-application-type=reactive", "ratelimit.limiters.orders.rate=3/1m",
				"ratelimit.limiters.tenant-orders.rate=3/1m", "ratelimit.limiters.feed.rate=2/1m",
				"ratelimit.limiters.checkout.rate=10/1m", "ratelimit.limiters.inventory.rate=5/1m",
				"ratelimit.limiters.left.rate=4/1m", "ratelimit.limiters.right.rate=6/1m",
				"ratelimit.limiters.plain.rate=1/1h", "ratelimit.limiters.handled.rate=1/1h" })
@AutoConfigureWebTestClient
class RateLimitWebFluxIntegrationTests {

	private static final Pattern PERMITTED_ORDERS = Pattern.compile("\"orders\";r=(\\d);t=(\\d+)");

	@Autowired
	private WebTestClient client;

	@Autowired
	private ApplicationContext context;

	@Test
	void runsOnWebFlux() {
		assertThat(this.context).isInstanceOf(ReactiveWebApplicationContext.class);
		assertThat(this.context.getBeansOfType(RateLimitExceededWebExceptionHandler.class)).hasSize(1);
		assertThat(this.context.getBeansOfType(RateLimitHeadersWebFilter.class)).hasSize(1);
	}

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
			assertThat(Long.parseLong(matcher.group(2))).isBetween(1L, 60L);
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
		assertThat(get("/tenant-orders", "a").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		EntityExchangeResult<String> other = get("/tenant-orders", "b");
		assertThat(other.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(other.getResponseHeaders().getFirst("RateLimit")).startsWith("\"tenant-orders\";r=2;t=");
	}

	@Test
	void fluxCallsCarryTheFieldsToo() {
		EntityExchangeResult<String> result = get("/feed", null);
		assertThat(result.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(result.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"feed\";q=2;w=60");
		assertThat(result.getResponseHeaders().getFirst("RateLimit")).startsWith("\"feed\";r=1;t=");
		get("/feed", null);
		assertThat(get("/feed", null).getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
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
	void limitsOfCallsRunningInParallelAreMembersOfTheSameFields() {
		EntityExchangeResult<String> result = get("/parallel", null);
		assertThat(result.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(result.getResponseBody()).isEqualTo("left right");
		// both calls record at once on different threads: either may come first
		assertThat(result.getResponseHeaders().getFirst("RateLimit-Policy").split(", "))
			.containsExactlyInAnyOrder("\"left\";q=4;w=60", "\"right\";q=6;w=60");
		assertThat(result.getResponseHeaders().getFirst("RateLimit").split(", ")).hasSize(2)
			.anySatisfy((member) -> assertThat(member).startsWith("\"left\";r=3;t="))
			.anySatisfy((member) -> assertThat(member).startsWith("\"right\";r=5;t="));
	}

	@Test
	void plainMethodsHaveNoFieldsWhenPermittedButAreAnsweredWith429WhenDenied() {
		EntityExchangeResult<String> permitted = get("/plain", null);
		assertThat(permitted.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(permitted.getResponseHeaders().containsHeader("RateLimit")).isFalse();
		EntityExchangeResult<String> denied = get("/plain", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(denied.getResponseHeaders().getFirst("RateLimit-Policy")).isEqualTo("\"plain\";q=1;w=3600");
		assertThat(denied.getResponseHeaders().getFirst("RateLimit")).startsWith("\"plain\";r=0;t=");
		assertThat(denied.getResponseHeaders().containsHeader("Retry-After")).isTrue();
	}

	@Test
	void theApplicationsOwnExceptionHandlerWins() {
		assertThat(get("/handled", null).getStatus()).isEqualTo(HttpStatus.OK);
		EntityExchangeResult<String> denied = get("/handled", null);
		assertThat(denied.getStatus()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
		assertThat(denied.getResponseBody()).isEqualTo("busy: handled");
		assertThat(denied.getResponseHeaders().containsHeader("Retry-After")).isFalse();
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
			.expectBody(String.class)
			.returnResult();
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
		public Mono<String> orders() {
			return Mono.just("orders");
		}

		@GetMapping("/tenant-orders")
		@RateLimited(name = "tenant-orders", key = "#tenant")
		public Mono<String> tenantOrders(@RequestHeader("X-Tenant") String tenant) {
			return Mono.just(tenant);
		}

		@GetMapping("/feed")
		@RateLimited("feed")
		public Flux<String> feed() {
			return Flux.just("a", "b");
		}

		@GetMapping("/checkout")
		@RateLimited("checkout")
		public Mono<String> checkout() {
			return this.inventory.reserve();
		}

		@GetMapping("/parallel")
		public Mono<String> parallel() {
			return Mono.zip(this.inventory.left().subscribeOn(Schedulers.parallel()),
					this.inventory.right().subscribeOn(Schedulers.boundedElastic()), (a, b) -> a + " " + b);
		}

		@GetMapping("/plain")
		@RateLimited("plain")
		public String plain() {
			return "plain";
		}

	}

	@Service
	static class Inventory {

		@RateLimited("inventory")
		public Mono<String> reserve() {
			return Mono.just("reserved");
		}

		@RateLimited("left")
		public Mono<String> left() {
			return Mono.just("left");
		}

		@RateLimited("right")
		public Mono<String> right() {
			return Mono.just("right");
		}

	}

	@RestController
	static class HandledController {

		@GetMapping("/handled")
		@RateLimited("handled")
		public Mono<String> handled() {
			return Mono.just("handled");
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
