package dev.ratelimit.spring.web.servlet;

import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimiterRegistry;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A per-IP rule behind trusted proxies, on a real server whose peer (the test client, 127.0.0.1)
 * is one: the client is the nearest hop of {@code X-Forwarded-For} (the header the proxies are
 * configured to write) that is not a trusted proxy, so a client cannot pick its key by prepending
 * addresses or by sending a {@code Forwarded} field.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = HttpRulesTrustedProxyIntegrationTests.TestApplication.class,
		properties = { "ratelimit.limiters.per-ip.rate=1/1h", "ratelimit.http.trusted-proxies=127.0.0.1,10.0.0.0/8",
				"ratelimit.http.rules[0].paths=/ip", "ratelimit.http.rules[0].limiters=per-ip",
				"ratelimit.http.rules[0].key=ip" })
@AutoConfigureRestTestClient
class HttpRulesTrustedProxyIntegrationTests {

	@Autowired
	private RestTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Test
	void eachForwardedClientHasItsOwnLimit() {
		assertThat(status(Map.of("X-Forwarded-For", "203.0.113.5"))).isEqualTo(HttpStatus.OK);
		assertThat(status(Map.of("X-Forwarded-For", "203.0.113.5"))).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(status(Map.of("X-Forwarded-For", "198.51.100.7"))).isEqualTo(HttpStatus.OK);
		// through a second trusted proxy
		assertThat(status(Map.of("X-Forwarded-For", "192.0.2.9, 10.1.2.3"))).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("per-ip", "192.0.2.9")).isPresent();
		assertThat(status(Map.of("X-Forwarded-For", "2001:db8::1"))).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("per-ip", "2001:db8:0:0:0:0:0:1")).isPresent();
	}

	@Test
	void aForwardedFieldTheClientSentIsNotReadWhenTheProxiesWriteXForwardedFor() {
		// a proxy that appends to X-Forwarded-For passes a client's Forwarded through untouched
		assertThat(status(Map.of("Forwarded", "for=198.51.100.1", "X-Forwarded-For", "192.0.2.77")))
			.isEqualTo(HttpStatus.OK);
		assertThat(status(Map.of("Forwarded", "for=198.51.100.2", "X-Forwarded-For", "192.0.2.77")))
			.isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.registry.find("per-ip", "198.51.100.1")).isEmpty();
	}

	@Test
	void addressesAClientPrependsAreNotBelieved() {
		// 198.18.0.1 is not trusted: what it claims to forward is the client's own invention
		assertThat(status(Map.of("X-Forwarded-For", "192.0.2.200, 198.18.0.1"))).isEqualTo(HttpStatus.OK);
		assertThat(status(Map.of("X-Forwarded-For", "192.0.2.201, 198.18.0.1")))
			.isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.registry.find("per-ip", "192.0.2.200")).isEmpty();
	}

	@Test
	void aHopThatIsNotAnAddressIsKeyedByTheProxyThatReportedIt() {
		assertThat(status(Map.of("X-Forwarded-For", "unknown, 10.9.9.9"))).isEqualTo(HttpStatus.OK);
		assertThat(status(Map.of("X-Forwarded-For", "not-an-address, 10.9.9.9")))
			.isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(this.registry.find("per-ip", "10.9.9.9")).isPresent();
	}

	private HttpStatus status(Map<String, String> headers) {
		return HttpStatus.valueOf(this.client.get()
			.uri("/ip")
			.headers((http) -> headers.forEach(http::set))
			.exchange()
			.returnResult(String.class)
			.getStatus()
			.value());
	}

	@RestController
	static class IpController {

		@GetMapping("/ip")
		String ip() {
			return "ok";
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(IpController.class)
	static class TestApplication {

	}

}
