package dev.ratelimit.spring.actuate;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.http.MediaType;
import org.springframework.test.json.JsonCompareMode;
import org.springframework.test.web.servlet.client.RestTestClient;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The endpoint and the health indicator over HTTP, as an application that includes them sees
 * them. Rates are slow enough (a permit per 100 seconds at most) that nothing refills while the
 * test runs, so the JSON is exact. Every test starts from the same limiter state, whatever ran
 * before it in this shared context.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=ratelimits,health",
				"management.endpoint.ratelimits.access=unrestricted",
				"management.endpoint.health.show-details=always", "spring.web.error.include-message=always",
				"ratelimit.limiters.orders.algorithm=sliding-window", "ratelimit.limiters.orders.rate=36/1h",
				"ratelimit.limiters.tenant.rate=5/1h", "ratelimit.limiters.tenant.max-keys=50",
				"ratelimit.limiters.pace.algorithm=leaky-bucket", "ratelimit.limiters.pace.rate=600/1m" })
@AutoConfigureRestTestClient
class RateLimitsEndpointWebTests {

	@Autowired
	private RestTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@BeforeEach
	void sameStateForEveryTest() {
		restore("orders", this.registry.limiter("orders")).tryAcquire(9);
		restore("tenant", this.registry.limiter("tenant", "acme")).tryAcquire(2);
		restore("tenant", this.registry.limiter("tenant", "globex"));
	}

	private RateLimiter restore(String name, RateLimiter limiter) {
		limiter.updateRate(this.registry.definedLimit(name).orElseThrow().rate());
		limiter.reset();
		return limiter;
	}

	@Test
	void listsEveryLimiterAsJson() {
		this.client.get()
			.uri("/actuator/ratelimits")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.json("""
					{"limiters": [
					  {"name": "orders", "created": true, "algorithm": "sliding-window", "rate": "36/h",
					   "permitsPerSecond": 0.01, "capacity": 36, "available": 27, "utilization": 0.25,
					   "backend": "in-memory", "distributed": false, "persistent": false,
					   "details": {"prefetchLimit": 0, "prefetched": 0},
					   "keys": {"count": 0, "maxKeys": 10000}},
					  {"name": "pace", "created": false, "algorithm": "leaky-bucket", "rate": "600/m",
					   "permitsPerSecond": 10.0, "capacity": 600, "details": {},
					   "keys": {"count": 0, "maxKeys": 10000}},
					  {"name": "tenant", "created": false, "algorithm": "token-bucket", "rate": "5/h",
					   "permitsPerSecond": 0.001388888888888889, "capacity": 5, "backend": "in-memory",
					   "distributed": false, "persistent": false, "details": {},
					   "keys": {"count": 2, "maxKeys": 50}}
					]}
					""", JsonCompareMode.STRICT);
	}

	@Test
	void showsOneLimiterWithAPageOfKeysAsJson() {
		this.client.get()
			.uri("/actuator/ratelimits/tenant?offset=0&size=10")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.json("""
					{"name": "tenant", "created": false, "algorithm": "token-bucket", "rate": "5/h",
					 "permitsPerSecond": 0.001388888888888889, "capacity": 5, "backend": "in-memory",
					 "distributed": false, "persistent": false, "details": {},
					 "keys": {"count": 2, "maxKeys": 50, "offset": 0, "size": 10, "items": [
					   {"key": "acme", "rate": "5/h", "available": 3, "utilization": 0.4},
					   {"key": "globex", "rate": "5/h", "available": 5, "utilization": 0.0}
					 ]}}
					""", JsonCompareMode.STRICT);
	}

	@Test
	void unknownLimiterIsNotFound() {
		this.client.get().uri("/actuator/ratelimits/nope").exchange().expectStatus().isNotFound();
	}

	@Test
	void writeChangesTheRateAndResets() {
		this.client.post()
			.uri("/actuator/ratelimits/orders")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"rate\": \"72/1h\"}")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.rate")
			.isEqualTo("72/h")
			.jsonPath("$.capacity")
			.isEqualTo(72)
			.jsonPath("$.available")
			.isEqualTo(63);
		assertThat(this.registry.limiter("orders").limit().rate()).isEqualTo(Rate.perHour(72));
		this.client.get().uri("/actuator/ratelimits/orders").exchange().expectBody().jsonPath("$.rate").isEqualTo("72/h");
		this.client.post()
			.uri("/actuator/ratelimits/orders")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"reset\": true}")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.available")
			.isEqualTo(72);
	}

	@Test
	void writeOfOneKey() {
		this.client.post()
			.uri("/actuator/ratelimits/tenant")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"key\": \"acme\", \"reset\": true}")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.json("""
					{"name": "tenant", "key": "acme", "created": true, "algorithm": "token-bucket", "rate": "5/h",
					 "permitsPerSecond": 0.001388888888888889, "capacity": 5, "available": 5, "utilization": 0.0,
					 "backend": "in-memory", "distributed": false, "persistent": false}
					""", JsonCompareMode.LENIENT);
	}

	@Test
	void badWriteIsABadRequestThatSaysWhy() {
		this.client.post()
			.uri("/actuator/ratelimits/orders")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"rate\": \"lots\"}")
			.exchange()
			.expectStatus()
			.isBadRequest()
			.expectBody()
			.jsonPath("$.message")
			.isEqualTo("rate 'lots' is not understood: write permits/period, for example 100/s, 100/1s, 5000/1m, "
					+ "0.5/s or 10000/1d");
	}

	@Test
	void healthIsUpWithDetails() {
		this.client.get()
			.uri("/actuator/health/ratelimit")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.json("""
					{"status": "UP", "details": {"declared": 3, "limiters": 1, "keys": 2,
					 "backends": {"in-memory": {"status": "UP"}}}}
					""", JsonCompareMode.STRICT);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {

	}

}
