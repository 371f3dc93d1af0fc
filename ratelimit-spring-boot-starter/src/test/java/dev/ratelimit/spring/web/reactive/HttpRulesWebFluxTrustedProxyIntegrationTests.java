package dev.ratelimit.spring.web.reactive;

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
import org.springframework.http.HttpStatusCode;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimiterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A per-IP rule behind a trusted proxy in WebFlux that writes {@code Forwarded}, on a real server
 * whose peer (the test client, 127.0.0.1) is trusted: the client is the nearest hop that is not a
 * trusted proxy, and {@code X-Forwarded-For} is not read.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = HttpRulesWebFluxTrustedProxyIntegrationTests.TestApplication.class,
		properties = { "spring.main.web-application-type=reactive", "ratelimit.limiters.per-ip.rate=1/1h",
				"ratelimit.http.trusted-proxies=127.0.0.1", "ratelimit.http.forwarded-header=forwarded",
				"ratelimit.http.rules[0].paths=/ip",
				"ratelimit.http.rules[0].limiters=per-ip", "ratelimit.http.rules[0].key=ip" })
@AutoConfigureWebTestClient
class HttpRulesWebFluxTrustedProxyIntegrationTests {

	@Autowired
	private WebTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Test
	void eachForwardedClientHasItsOwnLimitAndPrependedAddressesAreNotBelieved() {
		assertThat(status("Forwarded", "for=203.0.113.5")).isEqualTo(HttpStatus.OK);
		assertThat(status("Forwarded", "for=203.0.113.5")).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(status("Forwarded", "for=198.51.100.7;proto=https")).isEqualTo(HttpStatus.OK);
		// 198.18.0.1 is not trusted: the address before it is the client's own invention
		assertThat(status("Forwarded", "for=192.0.2.1, for=198.18.0.1")).isEqualTo(HttpStatus.OK);
		assertThat(status("Forwarded", "for=192.0.2.2, for=198.18.0.1")).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		// X-Forwarded-For is not what these proxies write: never read
		assertThat(status("X-Forwarded-For", "192.0.2.99")).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("per-ip", "192.0.2.99")).isEmpty();
		assertThat(this.registry.find("per-ip", "198.51.100.7")).isPresent();
		assertThat(this.registry.find("per-ip", "192.0.2.1")).isEmpty();
	}

	private HttpStatusCode status(String header, String value) {
		return this.client.get().uri("/ip").header(header, value).exchange().returnResult(String.class).getStatus();
	}

	@RestController
	static class IpController {

		@GetMapping("/ip")
		Mono<String> ip() {
			return Mono.just("ok");
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(IpController.class)
	static class TestApplication {

	}

}
