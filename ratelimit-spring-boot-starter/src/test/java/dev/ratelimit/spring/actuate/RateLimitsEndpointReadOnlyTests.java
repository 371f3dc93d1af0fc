package dev.ratelimit.spring.actuate;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.client.RestTestClient;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exposing the endpoint over HTTP exposes reading only: changing a rate or resetting a bucket
 * needs {@code management.endpoint.ratelimits.access=unrestricted}, so an anonymous client of an
 * exposed actuator cannot open or drain a limit.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=ratelimits", "ratelimit.limiters.orders.rate=100/1s" })
@AutoConfigureRestTestClient
class RateLimitsEndpointReadOnlyTests {

	@Autowired
	private RestTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Test
	void writesAreRefusedUnlessAllowed() {
		this.client.get().uri("/actuator/ratelimits/orders").exchange().expectStatus().isOk();
		this.client.post()
			.uri("/actuator/ratelimits/orders")
			.contentType(MediaType.APPLICATION_JSON)
			.body("{\"rate\": \"1000000/1s\"}")
			.exchange()
			.expectStatus()
			.is4xxClientError();
		assertThat(this.registry.limiter("orders").limit().rate()).isEqualTo(Rate.perSecond(100));
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {

	}

}
