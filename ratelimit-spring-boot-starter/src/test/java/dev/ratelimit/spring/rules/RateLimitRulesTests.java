package dev.ratelimit.spring.rules;

import java.time.Duration;
import java.util.Map;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ApplicationListener;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.rules.LimitRule;
import dev.ratelimit.rules.RuleBook;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitRulesAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * What the starter does with runtime rules: each is applied to its limiter as a whole, logged and
 * published as an event; a clear returns to the configured limit; a rule an instance cannot apply
 * leaves its limiter alone, and the same rule is refused before it is published.
 */
@ExtendWith(OutputCaptureExtension.class)
class RateLimitRulesTests {

	private static final Duration TIMEOUT = Duration.ofSeconds(5);

	private final ApplicationContextRunner withoutBook = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitAdaptiveAutoConfiguration.class, RateLimitRulesAutoConfiguration.class))
		.withBean(Events.class, Events::new)
		.withPropertyValues("ratelimit.rules.enabled=true", "ratelimit.limiters.orders.rate=100/1s",
				"ratelimit.limiters.orders.capacity=100", "ratelimit.limiters.tenant.rate=10/1s",
				"ratelimit.limiters.jobs.algorithm=concurrency", "ratelimit.limiters.jobs.max-concurrent=10",
				"ratelimit.limiters.search.algorithm=fixed-window", "ratelimit.limiters.search.rate=600/1m",
				"ratelimit.limiters.partner.rate=100/1s", "ratelimit.limiters.partner.adaptive.enabled=true",
				"ratelimit.limiters.tiered.rate=100/1s", "ratelimit.limiters.tiered.capacity=100",
				"ratelimit.limiters.tiered.priority.classes=critical,batch");

	private final ApplicationContextRunner contextRunner = this.withoutBook.withBean(InMemoryRuleBook.class,
			InMemoryRuleBook::new);

	@Test
	void aRuleChangesTheLimiterAsAWholeAndAClearReturnsToTheConfiguredLimit() {
		this.contextRunner.run((context) -> {
			RateLimitRules rules = context.getBean(RateLimitRules.class);
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			RateLimit configured = registry.limiter("orders").limit();
			registry.limiter("tenant", "acme");

			LimitRule rule = rules.publish("orders", Rate.parse("40/1s"), 20L, "alice", "incident 42", TIMEOUT);
			rules.publish("tenant", Rate.parse("1/1s"), null, "alice", "", TIMEOUT);

			assertThat(rule.configured()).isEqualTo(configured.toString());
			assertThat(registry.limiter("orders").limit()).isEqualTo(configured.withRate(Rate.parse("40/1s"))
				.withCapacity(20));
			assertThat(registry.limiter("tenant", "acme").limit().rate()).isEqualTo(Rate.parse("1/1s"));
			assertThat(registry.limiter("tenant", "globex").limit().rate()).as("a key created later")
				.isEqualTo(Rate.parse("1/1s"));
			assertThat(rules.applied("orders")).hasValueSatisfying((applied) -> {
				assertThat(applied.rule()).isEqualTo(rule);
				assertThat(applied.refusal()).isNull();
			});
			Events events = context.getBean(Events.class);
			assertThat(events.received).first().satisfies((event) -> {
				assertThat(event.getRule().author()).isEqualTo("alice");
				assertThat(event.getRule().reason()).isEqualTo("incident 42");
				assertThat(event.getLimit().capacity()).isEqualTo(20);
				assertThat(event.getRefusal()).isNull();
			});

			LimitRule cleared = rules.clear("orders", "bob", "over", TIMEOUT);
			assertThat(cleared.isCleared()).isTrue();
			assertThat(registry.limiter("orders").limit()).isEqualTo(configured);
			assertThatIllegalArgumentException().isThrownBy(() -> rules.clear("orders", "bob", "", TIMEOUT))
				.withMessageContaining("has no runtime rule in force");
		});
	}

	@Test
	void aRuleSwitchesALimiterOffOnEveryKeyUntilItIsCleared() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.tenant.capacity=1").run((context) -> {
			RateLimitRules rules = context.getBean(RateLimitRules.class);
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			assertThat(registry.limiter("tenant", "acme").tryAcquire()).isTrue();
			assertThat(registry.limiter("tenant", "acme").tryAcquire()).isFalse();

			LimitRule off = rules.publish("tenant", null, null, false, "alice", "INC-7: the limit is wrong", TIMEOUT);

			assertThat(off.switchesOff()).isTrue();
			assertThat(registry.limiter("tenant", "acme").tryAcquire()).isTrue();
			assertThat(registry.limiter("tenant", "acme").tryAcquire()).isTrue();
			assertThat(context.getBean(Events.class).received).last()
				.satisfies((event) -> assertThat(event.getRule().describeChange()).isEqualTo("switched off"));
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("jobs", null, null, false, "alice", "", TIMEOUT))
				.withMessageContaining("cannot be switched off");

			rules.clear("tenant", "alice", "INC-7 resolved", TIMEOUT);
			assertThat(registry.isEnabled("tenant")).isTrue();
			assertThat(registry.limiter("tenant", "acme").tryAcquire()).isFalse();
		});
	}

	@Test
	void rulesThatCannotApplyAreRefusedBeforeTheyArePublished() {
		this.contextRunner.run((context) -> {
			RateLimitRules rules = context.getBean(RateLimitRules.class);
			InMemoryRuleBook book = context.getBean(InMemoryRuleBook.class);
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("nope", Rate.parse("1/1s"), null, "alice", "", TIMEOUT))
				.withMessageContaining("no limiter named 'nope'");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("jobs", Rate.parse("1/1s"), null, "alice", "", TIMEOUT))
				.withMessageContaining("is a concurrency limiter and has no rate: give a capacity");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("search", null, 50L, "alice", "", TIMEOUT))
				.withMessageContaining("change the rate instead");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("orders", null, null, null, Map.of("batch", 0.1), "alice", "", TIMEOUT))
				.withMessageContaining("limiter 'orders' has no priority classes");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("tiered", null, null, null, Map.of("bulk", 0.1), "alice", "", TIMEOUT))
				.withMessageContaining("has no priority class 'bulk': its classes are [critical, batch]");
			assertThatIllegalArgumentException()
				.isThrownBy(() -> rules.publish("tiered", null, 1L, null, Map.of("batch", 0.5), "alice", "", TIMEOUT))
				.withMessageContaining("too small to give each reserved minimum share at least one permit");
			assertThat(book.rules()).isEmpty();
			rules.publish("jobs", null, 3L, "alice", "", TIMEOUT);
			assertThat(context.getBean(RateLimiterRegistry.class).limiter("jobs").snapshot().capacity()).isEqualTo(3);
			rules.publish("tiered", Rate.parse("10/1s"), null, "alice", "", TIMEOUT);
			assertThat(context.getBean(RateLimiterRegistry.class).priorities("tiered").limit().rate())
				.isEqualTo(Rate.parse("10/1s"));
		});
	}

	@Test
	void aRuleChangesTheClassSharesAndCapacityOfAPriorityLimiterUntilItIsCleared() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.tiered.priority.minimum-shares.critical=0.1")
			.run((context) -> {
				RateLimitRules rules = context.getBean(RateLimitRules.class);
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				RateLimiter batch = registry.priorities("tiered").forClass("batch");
				assertThat(batch.snapshot().details()).containsEntry("minimumShares", Map.of("critical", 0.1));

				LimitRule rule = rules.publish("tiered", null, 400L, null, Map.of("batch", 0.25), "alice",
						"the nightly batch is behind", TIMEOUT);

				assertThat(rule.describeChange()).isEqualTo("capacity 400, minimum shares batch:0.25");
				assertThat(registry.priorities("tiered").limit().capacity()).isEqualTo(400);
				assertThat(registry.priorities("tiered").priorities().minimumShare("batch")).isEqualTo(0.25);
				assertThat(registry.priorities("tiered").priorities().minimumShare("critical"))
					.as("shares the rule leaves out are none").isZero();
				assertThat(batch.snapshot().details()).containsEntry("minimumShares", Map.of("batch", 0.25));
				assertThat(context.getBean(Events.class).received).last()
					.satisfies((event) -> assertThat(event.getRefusal()).isNull());

				rules.clear("tiered", "alice", "caught up", TIMEOUT);
				assertThat(registry.priorities("tiered").limit().capacity()).isEqualTo(100);
				assertThat(registry.priorities("tiered").priorities().minimumShare("critical")).isEqualTo(0.1);
				assertThat(registry.priorities("tiered").priorities().minimumShare("batch")).isZero();
			});
	}

	@Test
	void aRuleFromElsewhereThatCannotApplyHereLeavesTheLimiterAloneAndSaysWhy(CapturedOutput output) {
		this.contextRunner.run((context) -> {
			InMemoryRuleBook book = context.getBean(InMemoryRuleBook.class);
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			RateLimit before = registry.limiter("search").limit();

			book.arrive(new LimitRule("search", 0, null, 5L, null, null, "mallory", "", Instant.EPOCH, "elsewhere", ""));
			book.arrive(new LimitRule("unknown", 0, Rate.parse("1/1s"), null, null, null, "mallory", "", Instant.EPOCH,
					"elsewhere", ""));

			assertThat(registry.limiter("search").limit()).isEqualTo(before);
			assertThat(context.getBean(RateLimitRules.class).applied("search"))
				.hasValueSatisfying((applied) -> assertThat(applied.refusal()).contains("change the rate instead"));
			assertThat(context.getBean(Events.class).received).extracting(RateLimitRuleEvent::getRefusal)
				.allSatisfy((refusal) -> assertThat(refusal).isNotNull());
			assertThat(output).contains("Runtime rule version 1 for limiter 'search' (capacity 5, by mallory")
				.contains("is not applied on this instance");
		});
	}

	@Test
	void anAdaptiveLimitersRuleMovesItsCeilingAndAReductionInForceStays() {
		this.contextRunner.run((context) -> {
			RateLimitRules rules = context.getBean(RateLimitRules.class);
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
			adaptive.reduce("partner", "test");
			assertThat(registry.limiter("partner").limit().rate().perSecond()).isEqualTo(50.0);

			rules.publish("partner", Rate.parse("200/1s"), null, "alice", "", TIMEOUT);

			assertThat(adaptive.controller("partner").get().state().ceiling()).isEqualTo(Rate.parse("200/1s"));
			assertThat(registry.limiter("partner").limit().rate().perSecond()).as("the reduction is not undone")
				.isEqualTo(50.0);
			rules.publish("partner", Rate.parse("20/1s"), null, "alice", "", TIMEOUT);
			assertThat(registry.limiter("partner").limit().rate().perSecond()).isLessThanOrEqualTo(20.0);
		});
	}

	@Test
	void rulesInForceAtStartAreAppliedBeforeTrafficAndAnotherConfiguredValueIsWarnedAbout(CapturedOutput output) {
		InMemoryRuleBook book = new InMemoryRuleBook();
		book.arrive(LimitRule.change("orders", Rate.parse("30/1s"), null, "alice", "incident 42")
			.published(0, Instant.EPOCH, "elsewhere", "token-bucket[50/s capacity=100]"));
		this.withoutBook.withBean(RuleBook.class, () -> book).run((context) -> {
			assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders").limit().rate())
				.isEqualTo(Rate.parse("30/1s"));
			assertThat(output).contains("Limiter 'orders' is configured here as token-bucket[100/s capacity=100] but "
					+ "runtime rule version 1 was made over token-bucket[50/s capacity=100]; the rule stays in force");
		});
	}

	@Test
	void rulesAskedForWithoutKafkaFailStartUpWithTheFix() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
					RateLimitRulesAutoConfiguration.class))
			.withClassLoader(new FilteredClassLoader("org.apache.kafka"))
			.withPropertyValues("ratelimit.rules.enabled=true", "ratelimit.limiters.orders.rate=100/1s")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("runtime rules are kept in Kafka, and Kafka's clients or Spring Boot's Kafka "
						+ "support are not on the classpath"));
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
					RateLimitRulesAutoConfiguration.class))
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.kafka"))
			.withPropertyValues("ratelimit.rules.enabled=true", "ratelimit.limiters.orders.rate=100/1s")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Spring Boot's Kafka support are not on the classpath"));
	}

	@Test
	void eventListenerMethodsHearOfTheRulesInForceAtStart() {
		InMemoryRuleBook book = new InMemoryRuleBook();
		book.arrive(LimitRule.change("orders", Rate.parse("30/1s"), null, "alice", "")
			.published(0, Instant.EPOCH, "elsewhere", ""));
		this.withoutBook.withBean(RuleBook.class, () -> book)
			.withBean(Annotated.class, Annotated::new)
			.run((context) -> assertThat(context.getBean(Annotated.class).heard).hasSize(1));
	}

	static final class Annotated {

		final List<RateLimitRuleEvent> heard = new CopyOnWriteArrayList<>();

		@org.springframework.context.event.EventListener
		void on(RateLimitRuleEvent event) {
			this.heard.add(event);
		}

	}

	@Test
	void rulesAreOffUnlessEnabled() {
		this.contextRunner.withPropertyValues("ratelimit.rules.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(RateLimitRules.class));
	}

	static final class Events implements ApplicationListener<RateLimitRuleEvent> {

		final List<RateLimitRuleEvent> received = new CopyOnWriteArrayList<>();

		@Override
		public void onApplicationEvent(RateLimitRuleEvent event) {
			this.received.add(event);
		}

	}

}
