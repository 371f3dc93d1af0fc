package dev.ratelimit.spring.actuate;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.ApplicationContext;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application that adds the starter and the actuator and configures nothing else exposes
 * nothing new over HTTP: the endpoint is opt-in, like every endpoint but health.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "ratelimit.limiters.orders.rate=100/1s")
@AutoConfigureRestTestClient
class RateLimitsEndpointDefaultExposureTests {

	@Autowired
	private RestTestClient client;

	@Autowired
	private ApplicationContext context;

	@Test
	void theEndpointIsNotExposedOverHttpByDefault() {
		this.client.get().uri("/actuator/ratelimits").exchange().expectStatus().isNotFound();
		this.client.get().uri("/actuator/health").exchange().expectStatus().isOk();
		assertThat(this.context.getBeanNamesForType(RateLimitsEndpoint.class)).isEmpty();
	}

	@Test
	void healthDoesNotShowComponentsByDefault() {
		this.client.get()
			.uri("/actuator/health")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.status")
			.isEqualTo("UP")
			.jsonPath("$.components")
			.doesNotExist();
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {

	}

}
