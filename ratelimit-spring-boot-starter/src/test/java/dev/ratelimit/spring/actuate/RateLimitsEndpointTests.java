package dev.ratelimit.spring.actuate;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.SecurityContext;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.RateLimiterRegistry.KeyPolicy;
import dev.ratelimit.RateLimiterRegistry.Tier;
import dev.ratelimit.spring.actuate.RateLimitsEndpoint.KeyDescriptor;
import dev.ratelimit.spring.actuate.RateLimitsEndpoint.RateLimiterDescriptor;
import dev.ratelimit.spring.rules.InMemoryRuleBook;
import dev.ratelimit.spring.rules.RateLimitRules;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class RateLimitsEndpointTests {

	private final ManualClock clock = new ManualClock();

	private final RateLimiterRegistry registry = RateLimiterRegistry.builder()
		.ticker(this.clock)
		.scheduler(this.clock)
		.build()
		.define("orders", RateLimit.tokenBucket(Rate.perSecond(10)).capacity(20).build())
		.define("search", RateLimit.slidingWindow(600, Duration.ofMinutes(1)).build())
		.define("db", RateLimit.concurrency(4))
		.define("tenant", RateLimit.tokenBucket(Rate.perMinute(5)).build(), null,
				new KeyPolicy(3, Duration.ofMinutes(1)))
		.defineComposite("checkout", List.of(Tier.perKey("tenant"), Tier.shared("orders")));

	private final RateLimitsEndpoint endpoint = new RateLimitsEndpoint(this.registry);

	@Test
	void listsEveryDeclaredNameFromItsDeclarationWithoutCreatingIt() {
		List<RateLimiterDescriptor> limiters = this.endpoint.rateLimiters().limiters();
		assertThat(limiters).extracting(RateLimiterDescriptor::name)
			.containsExactly("checkout", "db", "orders", "search", "tenant");
		assertThat(limiters).allSatisfy((limiter) -> {
			assertThat(limiter.created()).isFalse();
			assertThat(limiter.available()).isNull();
			assertThat(limiter.utilization()).isNull();
		});
		RateLimiterDescriptor orders = limiters.get(2);
		assertThat(orders.algorithm()).isEqualTo("token-bucket");
		assertThat(orders.rate()).isEqualTo("10/s");
		assertThat(orders.permitsPerSecond()).isEqualTo(10.0);
		assertThat(orders.capacity()).isEqualTo(20);
		assertThat(orders.keys().count()).isZero();
		assertThat(orders.keys().maxKeys()).isEqualTo(10_000);
		assertThat(orders.keys().items()).isNull();
		assertThat(limiters.get(4).keys().maxKeys()).isEqualTo(3);
		assertThat(limiters.get(0).algorithm()).as("a composite has no limit of its own").isNull();
		assertThat(this.registry.limiters()).isEmpty();
		assertThat(this.registry.keyedNames()).isEmpty();
	}

	@Test
	void listShowsTheLiveStateOfCreatedLimiters() {
		assertThat(this.registry.limiter("orders").tryAcquire(5)).isTrue();
		RateLimiterDescriptor orders = find(this.endpoint.rateLimiters().limiters(), "orders");
		assertThat(orders.created()).isTrue();
		assertThat(orders.available()).isEqualTo(15);
		assertThat(orders.utilization()).isEqualTo(0.25);
		assertThat(orders.backend()).isEqualTo("in-memory");
		assertThat(orders.distributed()).isFalse();
		assertThat(orders.persistent()).isFalse();
		assertThat(orders.details()).isEqualTo(this.registry.limiter("orders").snapshot().details());
		assertThat(orders.key()).isNull();
	}

	@Test
	void listsLimitersCreatedFromTheDefaultLimitToo() {
		RateLimiterRegistry withDefault = RateLimiterRegistry.builder()
			.ticker(this.clock)
			.defaultLimit(RateLimit.perSecond(2))
			.build();
		withDefault.limiter("adhoc").tryAcquire();
		withDefault.limiter("perkey", "a");
		assertThat(new RateLimitsEndpoint(withDefault).rateLimiters().limiters())
			.extracting(RateLimiterDescriptor::name)
			.containsExactly("adhoc", "perkey");
	}

	@Test
	void namesUsedOnlyPerKeyShowTheirKeyCountAndBackend() {
		this.registry.limiter("tenant", "a").tryAcquire();
		this.registry.limiter("tenant", "b");
		this.registry.limiter("checkout", "a");
		List<RateLimiterDescriptor> limiters = this.endpoint.rateLimiters().limiters();
		RateLimiterDescriptor tenant = find(limiters, "tenant");
		assertThat(tenant.created()).isFalse();
		assertThat(tenant.keys().count()).isEqualTo(2);
		assertThat(tenant.backend()).isEqualTo("in-memory");
		assertThat(tenant.rate()).isEqualTo("5/m");
		RateLimiterDescriptor checkout = find(limiters, "checkout");
		assertThat(checkout.keys().count()).isOne();
		assertThat(checkout.algorithm()).as("from a key's limiter").isEqualTo("token-bucket");
		assertThat(checkout.rate()).isEqualTo("5/m");
		assertThat(checkout.capacity()).isEqualTo(5);
		assertThat(checkout.created()).isFalse();
	}

	@Test
	void oneLimiterShowsAPageOfItsKeysSortedByKey() {
		this.registry.limiter("tenant", "c").tryAcquire(2);
		this.registry.limiter("tenant", "a").tryAcquire(5);
		this.registry.limiter("tenant", "b");
		RateLimiterDescriptor tenant = this.endpoint.rateLimiter("tenant", null, null, null);
		assertThat(tenant.keys().count()).isEqualTo(3);
		assertThat(tenant.keys().offset()).isZero();
		assertThat(tenant.keys().size()).isEqualTo(RateLimitsEndpoint.DEFAULT_PAGE_SIZE);
		assertThat(tenant.keys().items()).containsExactly(new KeyDescriptor("a", "5/m", 0, 1.0),
				new KeyDescriptor("b", "5/m", 5, 0.0), new KeyDescriptor("c", "5/m", 3, 0.4));
		List<KeyDescriptor> first = this.endpoint.rateLimiter("tenant", 0, 2, null).keys().items();
		List<KeyDescriptor> rest = this.endpoint.rateLimiter("tenant", 2, 2, null).keys().items();
		assertThat(first).hasSize(2);
		assertThat(rest).hasSize(1);
		assertThat(first).doesNotContainAnyElementsOf(rest);
		assertThat(this.endpoint.rateLimiter("tenant", 3, 2, null).keys().items()).isEmpty();
	}

	@Test
	void oneKeyIsShownAloneWithoutBeingCreatedOrTouched() {
		this.registry.limiter("tenant", "acme").tryAcquire(2);
		RateLimiterDescriptor acme = this.endpoint.rateLimiter("tenant", null, null, "acme");
		assertThat(acme.key()).isEqualTo("acme");
		assertThat(acme.available()).isEqualTo(3);
		assertThat(acme.keys()).isNull();
		// a key that is not live is not found, and asking does not create it
		assertThat(this.endpoint.rateLimiter("tenant", null, null, "globex")).isNull();
		assertThat(this.registry.keyCount("tenant")).isOne();
		assertThat(this.endpoint.rateLimiter("nope", null, null, "acme")).isNull();
	}

	@Test
	void unknownNameIsNotFound() {
		assertThat(this.endpoint.rateLimiter("nope", null, null, null)).isNull();
	}

	@Test
	void pageParametersOutOfRangeAreRejectedWithTheFix() {
		assertThatExceptionOfType(InvalidEndpointRequestException.class)
			.isThrownBy(() -> this.endpoint.rateLimiter("tenant", -1, null, null))
			.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo("offset must be zero or more, but was -1: give the "
					+ "number of keys to skip, for example offset=0 for the first page"));
		assertThatExceptionOfType(InvalidEndpointRequestException.class)
			.isThrownBy(() -> this.endpoint.rateLimiter("tenant", 0, 1001, null))
			.satisfies((ex) -> assertThat(ex.getReason()).isEqualTo("size must be between 1 and 1000, but was 1001: "
					+ "ask for at most 1000 keys and use offset to page through the rest"));
		assertThatExceptionOfType(InvalidEndpointRequestException.class)
			.isThrownBy(() -> this.endpoint.rateLimiter("tenant", 0, 0, null));
	}

	@Test
	void writeChangesTheRateOfTheSharedLimiter() {
		RateLimiter orders = this.registry.limiter("orders");
		RateLimiterDescriptor updated = this.endpoint.updateRateLimiter("orders", "500/1s", null, null, null, null, null, null, null, null);
		assertThat(orders.limit().rate()).isEqualTo(Rate.perSecond(500));
		assertThat(orders.limit().capacity()).as("capacity unchanged").isEqualTo(20);
		assertThat(updated.rate()).isEqualTo("500/s");
		assertThat(updated.permitsPerSecond()).isEqualTo(500.0);
		assertThat(this.endpoint.rateLimiter("orders", null, null, null).rate()).isEqualTo("500/s");
	}

	@Test
	void writeResetsTheSharedLimiter() {
		RateLimiter orders = this.registry.limiter("orders");
		assertThat(orders.tryAcquire(20)).isTrue();
		RateLimiterDescriptor reset = this.endpoint.updateRateLimiter("orders", null, null, null, null, true, null, null, null, null);
		assertThat(reset.available()).isEqualTo(20);
		assertThat(orders.tryAcquire(20)).isTrue();
	}

	@Test
	void writeChangesTheRateThenResets() {
		RateLimiter search = this.registry.limiter("search");
		assertThat(search.tryAcquire(600)).isTrue();
		RateLimiterDescriptor updated = this.endpoint.updateRateLimiter("search", "1200/1m", null, null, null, true, null, null, null, null);
		assertThat(updated.capacity()).isEqualTo(1200);
		assertThat(updated.available()).isEqualTo(1200);
	}

	@Test
	void writeWithAKeyChangesOnlyThatKey() {
		RateLimiter a = this.registry.limiter("tenant", "a");
		RateLimiter b = this.registry.limiter("tenant", "b");
		a.tryAcquire(5);
		RateLimiterDescriptor updated = this.endpoint.updateRateLimiter("tenant", "60/1m", null, null, null, true, "a", null, null, null);
		assertThat(a.limit().rate()).isEqualTo(Rate.perMinute(60));
		assertThat(b.limit().rate()).isEqualTo(Rate.perMinute(5));
		assertThat(updated.name()).isEqualTo("tenant");
		assertThat(updated.key()).isEqualTo("a");
		assertThat(updated.rate()).isEqualTo("60/m");
		assertThat(updated.available()).isEqualTo(5);
		assertThat(updated.keys()).isNull();
	}

	@Test
	void writeRejectsRequestsThatChangeNothing() {
		this.registry.limiter("orders");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("orders", null, null, null, null, false, null, null, null, null)))
			.isEqualTo("nothing to change for limiter 'orders': give rate as permits/period (for example 500/1s) "
					+ "to change its rate, reset=true to return it to its initial state, or both");
	}

	@Test
	void writeRejectsABadRateNamingTheFormat() {
		this.registry.limiter("orders");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("orders", "fast", null, null, null, null, null, null, null, null)))
			.isEqualTo("rate 'fast' is not understood: write permits/period, for example 100/s, 100/1s, 5000/1m, "
					+ "0.5/s or 10000/1d");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("orders", "0/1s", null, null, null, null, null, null, null, null)))
			.startsWith("rate '0/1s' is not valid (permits must be positive")
			.endsWith("): write permits/period, for example 500/1s");
		assertThat(this.registry.limiter("orders").limit().rate()).isEqualTo(Rate.perSecond(10));
	}

	@Test
	void writeRejectsLimitersThatAreNotLive() {
		assertThat(reason(() -> this.endpoint.updateRateLimiter("nope", "1/s", null, null, null, null, null, null, null, null)))
			.isEqualTo("no limiter named 'nope' is declared or in use: use a name listed by the ratelimits endpoint");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("orders", "1/s", null, null, null, null, null, null, null, null)))
			.isEqualTo("limiter 'orders' has not been used yet, so there is nothing to change: change "
					+ "ratelimit.limiters.orders to change its declared limit");
		this.registry.limiter("tenant", "a");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("tenant", "1/s", null, null, null, null, null, null, null, null)))
			.isEqualTo("limiter 'tenant' is used per key (1 live keys) and has no shared limiter: give key to "
					+ "change one key's limiter, or change ratelimit.limiters.tenant to change every key");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("tenant", "1/s", null, null, null, null, "zz", null, null, null)))
			.isEqualTo("key 'zz' of limiter 'tenant' is not live (never used, or evicted after being idle at full "
					+ "capacity), so there is nothing to change: a new key starts from the declared limit");
		assertThat(this.registry.limiters()).as("writes create nothing").isEmpty();
		assertThat(this.registry.keyCount("tenant")).isOne();
	}

	@Test
	void writeRejectsARateForAConcurrencyLimiterButResetsIt() {
		this.registry.limiter("db").tryAcquire(3);
		assertThat(reason(() -> this.endpoint.updateRateLimiter("db", "10/s", null, null, null, null, null, null, null, null)))
			.isEqualTo("limiter 'db' is a concurrency limiter and has no rate to change: reset it with reset=true, "
					+ "or change ratelimit.limiters.db.max-concurrent");
		// a reset keeps what is in flight: those permits are released by their holders
		assertThat(this.endpoint.updateRateLimiter("db", null, null, null, null, true, null, null, null, null).available()).isOne();
	}

	@Test
	void writeRejectsARateThatCannotBeApplied() {
		this.registry.limiter("orders");
		assertThat(reason(() -> this.endpoint.updateRateLimiter("orders", "9000000000000000000/1s", null, null, null, null, null, null, null, null)))
			.startsWith("rate 9000000000000000000/1s cannot be applied to limiter 'orders': rate must be at most");
	}

	@Test
	void aFleetChangeIsPublishedAsARuleWithItsAuthorAndReasonAndADeleteClearsIt() {
		InMemoryRuleBook book = new InMemoryRuleBook();
		RateLimitRules rules = new RateLimitRules(this.registry, book, () -> null, (event) -> {
		});
		rules.start();
		RateLimitsEndpoint fleet = new RateLimitsEndpoint(this.registry, null, rules, Duration.ofSeconds(5));
		this.registry.limiter("tenant", "a");

		RateLimiterDescriptor orders = fleet.updateRateLimiter("orders", "50/1s", 5L, null, null, null, null, true,
				"incident 42", security("alice"));

		assertThat(orders.rate()).isEqualTo("50/s");
		assertThat(orders.capacity()).isEqualTo(5);
		assertThat(orders.details().get("rule")).isEqualTo(java.util.Map.of("version", 1L, "inForce", true, "rate",
				"50/s", "capacity", 5L, "author", "alice", "reason", "incident 42", "at", "2026-12-04T12:00:00Z",
				"origin", "this-instance", "configured", "token-bucket[10/s capacity=20]"));
		assertThat(book.rule("orders")).hasValueSatisfying((rule) -> assertThat(rule.author()).isEqualTo("alice"));
		fleet.updateRateLimiter("tenant", "1/1s", null, null, null, null, null, true, null, null);
		assertThat(book.rule("tenant")).hasValueSatisfying((rule) -> {
			assertThat(rule.author()).as("no principal").isEqualTo("anonymous");
			assertThat(rule.reason()).isEmpty();
		});
		assertThat(this.registry.limiter("tenant", "a").limit().rate()).isEqualTo(Rate.parse("1/1s"));

		RateLimiterDescriptor cleared = fleet.clearRule("orders", "over", security("bob"));
		assertThat(cleared.rate()).isEqualTo("10/s");
		assertThat(cleared.capacity()).isEqualTo(20);
		assertThat(cleared.details().get("rule")).isInstanceOfSatisfying(java.util.Map.class,
				(rule) -> assertThat(rule).containsEntry("inForce", false).containsEntry("author", "bob"));
		assertThat(reason(() -> fleet.clearRule("orders", null, null))).contains("has no runtime rule in force");

		RateLimiterDescriptor off = fleet.updateRateLimiter("orders", null, null, false, null, null, null, true, "INC-7",
				security("alice"));
		assertThat(off.details().get("rule")).isInstanceOfSatisfying(java.util.Map.class,
				(rule) -> assertThat(rule).containsEntry("enabled", false).containsEntry("inForce", true));
		assertThat(this.registry.limiter("orders").tryAcquire(20)).isTrue();
		assertThat(this.registry.limiter("orders").tryAcquire(20)).isTrue();
		assertThat(fleet.rateLimiter("orders", null, null, null).details()).containsEntry("enabled", false);
	}

	@Test
	void fleetChangesThatCannotBeMadeAreRefusedWithTheFix() {
		RateLimitRules rules = new RateLimitRules(this.registry, new InMemoryRuleBook(), () -> null, (event) -> {
		});
		rules.start();
		RateLimitsEndpoint fleet = new RateLimitsEndpoint(this.registry, null, rules, Duration.ofSeconds(5));
		assertThat(reason(() -> this.endpoint.updateRateLimiter("orders", "1/s", null, null, null, null, null, true, null, null)))
			.contains("runtime rules are off", "ratelimit.rules.enabled=true");
		assertThat(reason(() -> this.endpoint.clearRule("orders", null, null))).contains("runtime rules are off");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, 5L, null, null, null, null, null, null, null)))
			.contains("is changed on every instance at once: add fleet=true");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, null, false, null, null, null, null, null, null)))
			.contains("enabled of limiter 'orders' is changed on every instance at once: add fleet=true");
		assertThat(reason(() -> fleet.updateRateLimiter("db", null, null, false, null, null, null, true, null, null)))
			.contains("cannot be switched off");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, null, null, null, null, null, true, null, null)))
			.contains("nothing to change");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", "1/s", null, null, null, true, null, true, null, null)))
			.contains("leave out reset");
		assertThat(reason(() -> fleet.updateRateLimiter("tenant", "1/s", null, null, null, null, "a", true, null, null)))
			.contains("leave out key");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, 0L, null, null, null, null, true, null, null)))
			.contains("capacity must be positive");
		assertThat(reason(() -> fleet.updateRateLimiter("search", null, 10L, null, null, null, null, true, null, null)))
			.contains("change the rate instead");
		assertThat(reason(() -> fleet.updateRateLimiter("checkout", "1/s", null, null, null, null, null, true, null, null)))
			.contains("no limiter named 'checkout' with a limit of its own");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", "1/s", null, null, null, null, null, true, "a\nb", null)))
			.contains("reason holds a control character");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", "1/s", null, null, null, null, null, true,
				"x".repeat(1001), null)))
			.contains("reason of 1001 characters is longer than the 1000 allowed");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, null, null, "batch:0.1", null, null, null, null,
				null)))
			.contains("shares of limiter 'orders' is changed on every instance at once", ".priority.minimum-shares");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, null, null, "batch:0.1", null, null, true, null,
				null)))
			.contains("limiter 'orders' has no priority classes");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, null, null, "batch=0.1", null, null, true, null,
				null)))
			.contains("class:share");
		assertThat(reason(() -> fleet.updateRateLimiter("orders", null, null, null, "b:0.1,".repeat(400), null, null,
				true, null, null)))
			.contains("longer than the 2000 allowed");
	}

	private static SecurityContext security(String user) {
		return new SecurityContext() {

			@Override
			public java.security.Principal getPrincipal() {
				return () -> user;
			}

			@Override
			public boolean isUserInRole(String role) {
				return false;
			}

		};
	}

	private static String reason(Runnable call) {
		try {
			call.run();
		}
		catch (InvalidEndpointRequestException ex) {
			assertThat(ex.getMessage()).isEqualTo(ex.getReason());
			return ex.getReason();
		}
		throw new AssertionError("expected an InvalidEndpointRequestException");
	}

	private static RateLimiterDescriptor find(List<RateLimiterDescriptor> limiters, String name) {
		return limiters.stream().filter((limiter) -> limiter.name().equals(name)).findFirst().orElseThrow();
	}

}
