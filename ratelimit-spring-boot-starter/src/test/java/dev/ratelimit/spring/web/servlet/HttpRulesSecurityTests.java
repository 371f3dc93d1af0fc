package dev.ratelimit.spring.web.servlet;

import java.security.Principal;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.test.web.servlet.client.EntityExchangeResult;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.annotation.RateLimited;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * HTTP rules around Spring Security on a real server: a rule that reads the principal runs after
 * authentication and limits each user; a rule that does not runs before it, so a flood is refused
 * before any password is checked; {@code #principal} in a {@code @RateLimited} key names the user.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, classes = HttpRulesSecurityTests.TestApplication.class,
		properties = { "ratelimit.limiters.per-user.rate=1/1h", "ratelimit.limiters.anonymous.rate=2/1h",
				"ratelimit.limiters.annotated.rate=1/1h",
				"ratelimit.http.rules[0].paths=/users/**", "ratelimit.http.rules[0].limiters=per-user",
				"ratelimit.http.rules[0].key=principal?.name",
				"ratelimit.http.rules[1].paths=/flood/**", "ratelimit.http.rules[1].limiters=anonymous",
				"ratelimit.http.rules[1].key=ip" })
@AutoConfigureRestTestClient
class HttpRulesSecurityTests {

	@Autowired
	private RestTestClient client;

	@Autowired
	private RateLimiterRegistry registry;

	@Test
	void aRuleKeyedByThePrincipalLimitsEachUserAfterAuthentication() {
		assertThat(get("/users/me", "alice", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/users/me", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		EntityExchangeResult<String> bob = get("/users/me", "bob", "pw");
		assertThat(bob.getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(bob.getResponseBody()).isEqualTo("bob");
		// refused by security before the rule: not counted
		assertThat(get("/users/me", "carol", "wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(this.registry.find("per-user", "alice")).isPresent();
		assertThat(this.registry.find("per-user", "(none)")).isEmpty();
	}

	@Test
	void aRuleWithoutThePrincipalRefusesAFloodBeforeAnyPasswordIsChecked() {
		assertThat(get("/flood/x", "alice", "wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		assertThat(get("/flood/x", "alice", "wrong").getStatus()).isEqualTo(HttpStatus.UNAUTHORIZED);
		// spent: the third is answered before Spring Security looks at the credentials
		assertThat(get("/flood/x", "alice", "wrong").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/flood/x", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
	}

	@Test
	void aRateLimitedKeyCanNameThePrincipal() {
		assertThat(get("/annotated", "alice", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(get("/annotated", "alice", "pw").getStatus()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
		assertThat(get("/annotated", "bob", "pw").getStatus()).isEqualTo(HttpStatus.OK);
		assertThat(this.registry.find("annotated", "bob")).isPresent();
	}

	private EntityExchangeResult<String> get(String path, String user, String password) {
		return this.client.get()
			.uri(path)
			.headers((headers) -> headers.setBasicAuth(user, password))
			.exchange()
			.returnResult(String.class);
	}

	@RestController
	static class UsersController {

		@GetMapping({ "/users/me", "/flood/x" })
		String me(Principal principal) {
			return principal.getName();
		}

		@GetMapping("/annotated")
		@RateLimited(name = "annotated", key = "#principal.name")
		String annotated() {
			return "ok";
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(UsersController.class)
	static class TestApplication {

		@Bean
		SecurityFilterChain security(HttpSecurity http) throws Exception {
			return http.authorizeHttpRequests((requests) -> requests.anyRequest().authenticated())
				.httpBasic(Customizer.withDefaults())
				.csrf((csrf) -> csrf.disable())
				.build();
		}

		@Bean
		InMemoryUserDetailsManager users() {
			return new InMemoryUserDetailsManager(User.withUsername("alice").password("{noop}pw").roles("USER").build(),
					User.withUsername("bob").password("{noop}pw").roles("USER").build());
		}

	}

}
