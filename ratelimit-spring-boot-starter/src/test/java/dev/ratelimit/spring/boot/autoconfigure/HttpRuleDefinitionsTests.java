package dev.ratelimit.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.Priorities;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.web.HttpRule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@code ratelimit.http} is checked at start-up: each bad value names its property, the reason
 * and the fix; the phase of a rule follows from whether it reads the principal.
 */
@ExtendWith(OutputCaptureExtension.class)
class HttpRuleDefinitionsTests {

	private static final Map<String, String> LIMITERS = Map.of("ratelimit.limiters.api.rate", "10/1s",
			"ratelimit.limiters.tenants.tiers[0].name", "per-tenant", "ratelimit.limiters.tenants.tiers[0].per-key",
			"true", "ratelimit.limiters.per-tenant.rate", "5/1s", "ratelimit.limiters.inflight.max-concurrent", "4",
			"ratelimit.limiters.inflight.algorithm", "concurrency", "ratelimit.limiters.prio.rate", "10/1s",
			"ratelimit.limiters.prio.priority.classes", "critical,batch");

	@Test
	void aRulesPriorityMustBeAClassOfItsLimitersWithoutAKeyAndWithinTheClasssCapacity() {
		assertThat(failure("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].priority=urgent"))
			.returns("ratelimit.http.rules[0].priority", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo("limiter 'prio' has no priority class 'urgent'"));
		assertThat(failure("ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].priority=critical"))
			.returns("ratelimit.http.rules[0].priority", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo("none of the rule's limiters has priority classes"));
		assertThat(failure("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].key=ip"))
			.returns("ratelimit.http.rules[0].limiters[0]", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).contains("has no per-key limiters"));
		// batch leaves 2 of the 10 to critical: 9 permits at once are more than it can take
		assertThat(failure("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].priority=batch",
				"ratelimit.http.rules[0].permits=9"))
			.returns("ratelimit.http.rules[0].limiters[0]", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).contains("more than priority class 'batch' of limiter "
					+ "'prio' can take at once (8)"));
		// critical takes 9 at once: the default class's smaller capacity does not count
		definitions("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].priority=critical",
				"ratelimit.http.rules[0].permits=9");
		HttpRuleDefinitions rules = definitions("ratelimit.http.rules[0].limiters=prio,api",
				"ratelimit.http.rules[0].priority=critical");
		assertThat(rules.rules().get(0).priorityOf("prio")).isEqualTo("critical");
		assertThat(rules.rules().get(0).priorityOf("api")).isNull();
	}

	@Test
	void eachRulesPermitsAreDeclaredAtTheClassItTakesSoThatALimitTheyCouldNotFitIsRefused() {
		RateLimit ten = RateLimit.tokenBucket(Rate.parse("10/1s")).capacity(10).build();
		Priorities classes = Priorities.of("critical", "batch");
		RateLimiterRegistry fixed = registry(ten, classes);
		definitions("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].priority=critical",
				"ratelimit.http.rules[0].permits=9").declared(fixed);
		assertThatIllegalArgumentException().isThrownBy(() -> fixed.checkUpdate("prio", ten.withCapacity(8), null))
			.withMessageContaining("priority class 'critical' of limiter 'prio' could take at most 8 permits");
		fixed.checkUpdate("prio", ten.withCapacity(9), null);
		// without a class, the default one: batch, which leaves critical its headroom
		RateLimiterRegistry unclassified = registry(ten, classes);
		definitions("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].permits=5").declared(unclassified);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> unclassified.checkUpdate("prio", ten.withCapacity(12), classes.minimumShare("critical", 0.6)))
			.withMessageContaining("priority class 'batch' of limiter 'prio' could take at most 4 permits");
		unclassified.checkUpdate("prio", ten.withCapacity(6), null);
		// critical could then take only 3 at once, but no call of critical is declared
		unclassified.checkUpdate("prio", ten, classes.minimumShare("batch", 0.7));
		// chosen by an expression: every class
		RateLimiterRegistry chosen = registry(ten, classes);
		definitions("ratelimit.http.rules[0].limiters=prio", "ratelimit.http.rules[0].permits=6",
				"ratelimit.http.rules[0].priority-expression=header('X-Priority')").declared(chosen);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> chosen.checkUpdate("prio", ten, classes.minimumShare("batch", 0.5)))
			.withMessageContaining("priority class 'critical' of limiter 'prio' could take at most 5 permits");
		chosen.checkUpdate("prio", ten, classes.minimumShare("batch", 0.1));
	}

	private static RateLimiterRegistry registry(RateLimit limit, Priorities classes) {
		return RateLimiterRegistry.builder().build().definePriorities("prio", limit, classes, "batch");
	}

	@Test
	void rulesAreMadeWithTheirPhase() {
		HttpRuleDefinitions rules = definitions("ratelimit.http.rules[0].paths=/api/**",
				"ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].key=ip",
				"ratelimit.http.rules[1].limiters=api", "ratelimit.http.rules[1].key=principal?.name",
				"ratelimit.http.rules[1].methods=get,Post", "ratelimit.http.rules[2].limiters=api",
				"ratelimit.http.rules[2].key=ip", "ratelimit.http.rules[2].phase=after-security",
				"ratelimit.http.trusted-proxies=10.0.0.0/8");
		assertThat(rules.rules()).extracting(HttpRule::name).containsExactly("rules[0]", "rules[1]", "rules[2]");
		assertThat(rules.phase(false)).extracting(HttpRule::name).containsExactly("rules[0]");
		assertThat(rules.phase(true)).extracting(HttpRule::name).containsExactly("rules[1]", "rules[2]");
		assertThat(rules.rules().get(1).methods()).containsExactlyInAnyOrder("GET", "HEAD", "POST");
		assertThat(rules.addresses().trustsAny()).isTrue();
	}

	@Test
	void aBadPathPattern() {
		assertThat(failure("ratelimit.http.rules[0].paths=/ok,/api/**/x", "ratelimit.http.rules[0].limiters=api"))
			.returns("ratelimit.http.rules[0].paths[1]", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).startsWith("the path pattern does not parse"))
			.satisfies((ex) -> assertThat(ex.getAction()).contains("/api/**"));
	}

	@Test
	void aPathWithoutALeadingSlash() {
		assertThat(failure("ratelimit.http.rules[0].paths=api/**", "ratelimit.http.rules[0].limiters=api"))
			.returns("ratelimit.http.rules[0].paths[0]", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getAction()).isEqualTo("Write /api/**."));
	}

	@Test
	void aPrincipalRuleForcedBeforeSecurity() {
		assertThat(failure("ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].key=principal?.name",
				"ratelimit.http.rules[0].phase=before-security"))
			.returns("ratelimit.http.rules[0].phase", InvalidRateLimitConfigurationException::getProperty);
	}

	@Test
	void anUnknownLimiter() {
		assertThat(failure("ratelimit.http.rules[0].limiters=api,nope"))
			.returns("ratelimit.http.rules[0].limiters[1]", InvalidRateLimitConfigurationException::getProperty)
			.returns("nope", InvalidRateLimitConfigurationException::getValue)
			.satisfies((ex) -> assertThat(ex.getAction()).contains("ratelimit.limiters.nope.rate=100/1s"));
	}

	@Test
	void noLimiter() {
		assertThat(failure("ratelimit.http.rules[0].paths=/api/**"))
			.returns("ratelimit.http.rules[0].limiters", InvalidRateLimitConfigurationException::getProperty);
	}

	@Test
	void aKeyThatDoesNotParse() {
		assertThat(failure("ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].key=header('x'"))
			.returns("ratelimit.http.rules[0].key", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).startsWith("the expression does not parse"));
	}

	@Test
	void aConditionThatDoesNotParse() {
		assertThat(failure("ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].count-when=status =="))
			.returns("ratelimit.http.rules[0].count-when", InvalidRateLimitConfigurationException::getProperty);
	}

	@Test
	void anUnknownMethod() {
		assertThat(failure("ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].methods=GET,FETCH"))
			.returns("ratelimit.http.rules[0].methods[1]", InvalidRateLimitConfigurationException::getProperty);
	}

	@Test
	void aPerKeyLimiterWithoutAKey() {
		assertThat(failure("ratelimit.http.rules[0].limiters=tenants"))
			.satisfies((ex) -> assertThat(ex.getReason()).contains("per-key tiers"));
	}

	@Test
	void morePermitsThanTheCapacity() {
		assertThat(failure("ratelimit.http.rules[0].limiters=api", "ratelimit.http.rules[0].permits=11"))
			.satisfies((ex) -> assertThat(ex.getReason()).contains("more than limiter 'api' can ever hold (10)"));
	}

	@Test
	void morePermitsThanTheSmallestTierOfACompositeHolds() {
		assertThat(failure("ratelimit.http.rules[0].limiters=tenants", "ratelimit.http.rules[0].key=ip",
				"ratelimit.http.rules[0].permits=6"))
			.satisfies((ex) -> assertThat(ex.getReason()).contains("more than limiter 'tenants' can ever hold (5)"));
	}

	@Test
	void aConcurrencyLimitAsATierOfAComposite() {
		assertThatExceptionOfType(InvalidRateLimitConfigurationException.class)
			.isThrownBy(() -> definitions("ratelimit.limiters.both.tiers[0].name=api",
					"ratelimit.limiters.both.tiers[1].name=inflight"))
			.returns("ratelimit.limiters.both.tiers[1].name", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getReason()).contains("concurrency limit"));
	}

	@Test
	void aConcurrencyLimitCountedAfterTheResponse() {
		assertThat(failure("ratelimit.http.rules[0].limiters=inflight",
				"ratelimit.http.rules[0].count-when=status == 401"))
			.satisfies((ex) -> assertThat(ex.getReason()).contains("concurrency limit"));
	}

	@Test
	void aTrustedProxyThatIsNotAnAddress() {
		assertThat(failure("ratelimit.http.trusted-proxies=10.0.0.0/8,proxy.internal"))
			.returns("ratelimit.http.trusted-proxies[1]", InvalidRateLimitConfigurationException::getProperty)
			.satisfies((ex) -> assertThat(ex.getAction()).contains("not looked up"));
	}

	@Test
	void aServletApplicationWithABadRuleFailsToStartWithTheReport(CapturedOutput output) {
		List<String> args = new ArrayList<>(List.of("--server.port=0", "--spring.main.banner-mode=off",
				"--ratelimit.limiters.api.rate=10/1s", "--ratelimit.http.rules[0].paths=/api/{id",
				"--ratelimit.http.rules[0].limiters=api"));
		SpringApplication application = new SpringApplication(App.class);
		application.setWebApplicationType(WebApplicationType.SERVLET);
		assertThatException().isThrownBy(() -> application.run(args.toArray(new String[0])).close());
		String all = output.getAll();
		assertThat(all).contains("APPLICATION FAILED TO START")
			.contains("Property: ratelimit.http.rules[0].paths[0]")
			.contains("Value: \"/api/{id\"")
			.contains("Write a Spring PathPattern");
	}

	private static HttpRuleDefinitions definitions(String... properties) {
		Map<String, String> map = new java.util.HashMap<>(LIMITERS);
		for (String property : properties) {
			int equals = property.indexOf('=');
			map.put(property.substring(0, equals), property.substring(equals + 1));
		}
		ApplicationConversionService conversion = new ApplicationConversionService();
		conversion.addConverter(new StringToRateConverter());
		Binder binder = new Binder(List.of(new MapConfigurationPropertySource(map)), null, conversion);
		RateLimitProperties limits = binder.bindOrCreate("ratelimit", RateLimitProperties.class);
		RateLimitHttpProperties http = binder.bindOrCreate("ratelimit.http", RateLimitHttpProperties.class);
		return HttpRuleDefinitions.of(http, LimiterDefinitions.of(limits));
	}

	private static InvalidRateLimitConfigurationException failure(String... properties) {
		return assertThatExceptionOfType(InvalidRateLimitConfigurationException.class)
			.isThrownBy(() -> definitions(properties))
			.actual();
	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class App {

	}

}
