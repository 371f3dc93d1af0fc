package dev.ratelimit.spring.web.reactive;

import java.security.Principal;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.core.userdetails.MapReactiveUserDetailsService;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.annotation.RateLimited;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP rules around Spring Security in a WebFlux application on a real server: a rule that reads
 * the principal runs after authentication and limits each user; a rule that does not runs before
 * it, so a flood is refused before any password is checked; the key of a reactive
 * {@code @RateLimited} method reads {@code #principal} and {@code #request}.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		classes = HttpRulesWebFluxSecurityTests.TestApplication.class,
		properties = { "spring.main.web-application-type=reactive", "ratelimit.limiters.per-user.rate=1/1h",
				"ratelimit.limiters.anonymous.rate=2/1h", "ratelimit.limiters.annotated.rate=1/1h",
				"ratelimit.http.rules[0].paths=/users/**", "ratelimit.http.rules[0].limiters=per-user",
				"ratelimit.http.rules[0].key=principal?.name",
				"ratelimit.http.rules[1].paths=/flood/**", "ratelimit.http.rules[1].limiters=anonymous",
				"ratelimit.http.rules[1].key=ip", "ratelimit.limiters.ranked.rate=10/1h",
				"ratelimit.limiters.ranked.priority.classes=vip,batch" })
@AutoConfigureWebTestClient
class HttpRulesWebFluxSecurityTests {

	@Autowired
	private WebTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Test
	void aRuleKeyedByThePrincipalLimitsEachUserAfterAuthentication() {
		assertThat(get("/users/me", "alice", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/users/me", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		EntityExchangeResult<String> bob = get("/users/me", "bob", "pw");
		assertThat(bob.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(bob.getResponseBody()).isEqualTo("bob");
		assertThat(get("/users/me", "carol", "wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(this.registry.find("per-user", "alice")).isPresent();
		assertThat(this.registry.find("per-user", "(none)")).isEmpty();
	}

	@Test
	void aRuleWithoutThePrincipalRefusesAFloodBeforeAnyPasswordIsChecked() {
		assertThat(get("/flood/x", "alice", "wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(get("/flood/x", "alice", "wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(get("/flood/x", "alice", "wrong").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/flood/x", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void aReactiveRateLimitedKeyCanNameThePrincipalAndTheRequest() {
		assertThat(get("/annotated", "alice", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/annotated", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		EntityExchangeResult<String> bob = get("/annotated", "bob", "pw");
		assertThat(bob.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(bob.getResponseBody()).isEqualTo("GET");
		assertThat(this.registry.find("annotated", "bob:/annotated")).isPresent();
	}

	@Test
	void aReactiveRateLimitedPriorityExpressionReadsThePrincipal() {
		// batch leaves 2 of the 10 to vip: bob, batch, gets 8; alice, vip by her name, the last 2
		for (int i = 0; i < 8; i++) {
			assertThat(get("/ranked", "bob", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		}
		assertThat(get("/ranked", "bob", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/ranked", "alice", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/ranked", "alice", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/ranked", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	private EntityExchangeResult<String> get(String path, String user, String password) {
		return this.client.get()
			.uri(path)
			.headers((headers) -> headers.setBasicAuth(user, password))
			.exchange()
			.expectBody(String.class)
			.returnResult();
	}

	@RestController
	static class UsersController {

		@GetMapping({ "/users/me", "/flood/x" })
		Mono<String> me(Mono<Principal> principal) {
			return principal.map(Principal::getName);
		}

		@GetMapping("/ranked")
		@RateLimited(name = "ranked", priority = "batch",
				priorityExpression = "#principal?.name == 'alice' ? 'vip' : 'batch'")
		Mono<String> ranked() {
			return Mono.just("ranked");
		}

		@GetMapping("/annotated")
		@RateLimited(name = "annotated", key = "#principal.name + ':' + #request.path.value()")
		Mono<String> annotated(ServerHttpRequest exchangeRequest) {
			return Mono.just(exchangeRequest.getMethod().name());
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(UsersController.class)
	static class TestApplication {

		@Bean
		SecurityWebFilterChain security(ServerHttpSecurity http) {
			return http.authorizeExchange((exchanges) -> exchanges.anyExchange().authenticated())
				.httpBasic(Customizer.withDefaults())
				.csrf((csrf) -> csrf.disable())
				.build();
		}

		@Bean
		MapReactiveUserDetailsService users() {
			return new MapReactiveUserDetailsService(
					User.withUsername("alice").password("{noop}pw").roles("USER").build(),
					User.withUsername("bob").password("{noop}pw").roles("USER").build());
		}

	}

}
