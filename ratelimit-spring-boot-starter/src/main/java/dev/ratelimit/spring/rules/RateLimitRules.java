package dev.ratelimit.spring.rules;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.ApplicationEventPublisher;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Priorities;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.AdaptiveController;
import dev.ratelimit.rules.LimitRule;
import dev.ratelimit.rules.RuleBook;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;

/**
 * Applies the runtime rules of a {@link RuleBook} to the application's limiters, on every instance:
 * a rule's rate and capacity replace the configured ones of its limiter (the shared limiter, every
 * key, keys created later, each priority class, and for an adaptive limiter its ceiling), its class
 * shares those of a limiter divided among priority classes, or the
 * rule switches the limiter off (every call permitted), until the rule is cleared, which returns
 * the limiter to its configured limit, switched on.
 *
 * <p><b>Precedence.</b> A rule in force wins over {@code application.yml}, also after a redeploy
 * with another configured value: the rule names the configured limit it was made over, and an
 * instance configured otherwise logs a warning at start naming both, and keeps the rule until
 * somebody clears it. Clearing returns each instance to its own configured limit.
 *
 * <p>Every rule read is logged and published as a {@link RateLimitRuleEvent} with who made it,
 * when and why. A rule an instance cannot apply (a limiter it does not declare, a capacity its
 * algorithm cannot take, or that a call declared here could not fit) is logged and leaves that limiter as it was; {@link #publish} checks the
 * same on the publishing instance first, so such rules are refused before they are written.
 * Thread-safe.
 */
public class RateLimitRules implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(RateLimitRules.class);

	private final RateLimiterRegistry registry;

	private final RuleBook book;

	private final Supplier<@Nullable AdaptiveRateLimiters> adaptive;

	private final ApplicationEventPublisher events;

	/** The configured limit of each declared name with a limit of its own, as it was before any rule. */
	private final Map<String, RateLimit> configured = new ConcurrentHashMap<>();

	/** The configured classes and shares of each limiter divided among priority classes. */
	private final Map<String, Priorities> configuredPriorities = new ConcurrentHashMap<>();

	private final Map<String, Applied> applied = new ConcurrentHashMap<>();

	private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();

	/**
	 * Creates the rules; {@link #start()} applies those in force and each later one as it is read.
	 * @param registry the limiters
	 * @param book the rules
	 * @param adaptive the adaptive controllers, looked up when a rule is applied
	 * @param events where {@link RateLimitRuleEvent}s go
	 */
	public RateLimitRules(RateLimiterRegistry registry, RuleBook book, Supplier<@Nullable AdaptiveRateLimiters> adaptive,
			ApplicationEventPublisher events) {
		this.registry = Objects.requireNonNull(registry, "registry");
		this.book = Objects.requireNonNull(book, "book");
		this.adaptive = Objects.requireNonNull(adaptive, "adaptive");
		this.events = Objects.requireNonNull(events, "events");
		for (String name : registry.definedNames()) {
			registry.definedLimit(name).ifPresent((limit) -> this.configured.put(name, limit));
			registry.definedPriorities(name).ifPresent((priorities) -> this.configuredPriorities.put(name, priorities));
		}
	}

	/**
	 * Applies the rules in force, then each rule as it is read. In an application context this
	 * runs once every singleton is made, before the web server and the listener containers start:
	 * the rules are in force before traffic, and every event listener hears of them.
	 */
	public void start() {
		if (this.started.compareAndSet(false, true)) {
			this.book.addListener(this::onRule);
		}
	}

	@Override
	public void afterSingletonsInstantiated() {
		start();
	}

	/**
	 * Publishes a rule for a limiter to every instance, and waits until this instance has applied
	 * it.
	 * @param name the limiter name
	 * @param rate the rate, or {@code null} to keep the configured one
	 * @param capacity the capacity, or {@code null} to keep the configured one
	 * @param author who makes the change
	 * @param reason why
	 * @param timeout how long to wait for Kafka
	 * @return the rule as published, with its version
	 * @throws IllegalArgumentException if the rule cannot apply to the limiter; nothing is written
	 * @throws IllegalStateException if the rule could not be written or read back in time
	 */
	public LimitRule publish(String name, @Nullable Rate rate, @Nullable Long capacity, String author, String reason,
			Duration timeout) {
		return publish(name, rate, capacity, null, author, reason, timeout);
	}

	/**
	 * Publishes a rule for a limiter to every instance, which may also switch the limiter off
	 * (every call permitted while the rule is in force), and waits until this instance has applied
	 * it.
	 * @param name the limiter name
	 * @param rate the rate, or {@code null} to keep the configured one
	 * @param capacity the capacity, or {@code null} to keep the configured one
	 * @param enabled {@code false} to switch the limiter off, {@code null} or {@code true} to keep it on
	 * @param author who makes the change
	 * @param reason why
	 * @param timeout how long to wait for Kafka
	 * @return the rule as published, with its version
	 * @throws IllegalArgumentException if the rule cannot apply to the limiter; nothing is written
	 * @throws IllegalStateException if the rule could not be written or read back in time
	 */
	public LimitRule publish(String name, @Nullable Rate rate, @Nullable Long capacity, @Nullable Boolean enabled,
			String author, String reason, Duration timeout) {
		return publish(name, rate, capacity, enabled, null, author, reason, timeout);
	}

	/**
	 * Publishes a rule for a limiter to every instance, which may also set the minimum shares of
	 * its priority classes, and waits until this instance has applied it.
	 * @param name the limiter name
	 * @param rate the rate, or {@code null} to keep the configured one
	 * @param capacity the capacity, or {@code null} to keep the configured one
	 * @param enabled {@code false} to switch the limiter off, {@code null} or {@code true} to keep it on
	 * @param shares the minimum share of each priority class that has one (an empty map for none),
	 * replacing the configured shares, or {@code null} to keep them
	 * @param author who makes the change
	 * @param reason why
	 * @param timeout how long to wait for Kafka
	 * @return the rule as published, with its version
	 * @throws IllegalArgumentException if the rule cannot apply to the limiter; nothing is written
	 * @throws IllegalStateException if the rule could not be written or read back in time
	 */
	public LimitRule publish(String name, @Nullable Rate rate, @Nullable Long capacity, @Nullable Boolean enabled,
			@Nullable Map<String, Double> shares, String author, String reason, Duration timeout) {
		LimitRule draft = LimitRule.change(name, rate, capacity, enabled, shares, author, reason);
		RateLimit configured = configured(name);
		String refusal = refusal(draft, configured);
		if (refusal != null) {
			throw new IllegalArgumentException(refusal);
		}
		return await(this.book.publish(draft, configured.toString()), name, timeout);
	}

	/**
	 * Clears the rule of a limiter on every instance, each returning to its configured limit, and
	 * waits until this instance has.
	 * @param name the limiter name
	 * @param author who makes the change
	 * @param reason why
	 * @param timeout how long to wait for Kafka
	 * @return the clearing rule as published
	 * @throws IllegalArgumentException if the limiter has no rule in force
	 */
	public LimitRule clear(String name, String author, String reason, Duration timeout) {
		if (this.book.rule(name).isEmpty()) {
			throw new IllegalArgumentException("limiter '" + name + "' has no runtime rule in force, so there is "
					+ "nothing to clear: it runs on its configured limit");
		}
		// a rule for a name no longer declared here can be cleared too, so it does not stay for ever
		RateLimit configured = this.configured.get(name);
		return await(this.book.publish(LimitRule.clear(name, author, reason),
				(configured != null) ? configured.toString() : ""), name, timeout);
	}

	/**
	 * What the last rule read for a limiter did on this instance.
	 * @param name the limiter name
	 * @return the rule and its outcome, empty if no rule was read for the limiter since start
	 */
	public Optional<Applied> applied(String name) {
		return Optional.ofNullable(this.applied.get(name));
	}

	/**
	 * Whether every rule in force at start has been read.
	 * @return the rule book's state
	 */
	public boolean isLoaded() {
		return this.book.isLoaded();
	}

	private RateLimit configured(String name) {
		RateLimit limit = this.configured.get(name);
		if (limit == null) {
			throw new IllegalArgumentException("no limiter named '" + name + "' with a limit of its own is declared "
					+ "here (a composite's rules go to its tiers): use a name listed by the ratelimits endpoint");
		}
		return limit;
	}

	private static LimitRule await(java.util.concurrent.CompletableFuture<LimitRule> published, String name,
			Duration timeout) {
		try {
			return published.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while publishing the rule for limiter '" + name + "'", ex);
		}
		catch (ExecutionException ex) {
			throw new IllegalStateException(ex.getCause().getMessage(), ex.getCause());
		}
		catch (TimeoutException ex) {
			throw new IllegalStateException("the rule for limiter '" + name + "' was not confirmed by Kafka within "
					+ timeout + ": it may still reach every instance; read the limiter again to see", ex);
		}
	}

	/** Why a rule cannot apply to this instance's limiter, or {@code null}. */
	private @Nullable String refusal(LimitRule rule, @Nullable RateLimit configured) {
		if (configured == null) {
			return "no limiter named '" + rule.limiter() + "' with a limit of its own is declared here";
		}
		AdaptiveRateLimiters controls = this.adaptive.get();
		if (!rule.isCleared() && controls != null && controls.concurrencyControl(rule.limiter()).isPresent()) {
			return "limiter '" + rule.limiter() + "' is an adaptive concurrency limiter whose limit follows latency: "
					+ "change ratelimit.limiters." + rule.limiter() + ".adaptive.min-limit and max-limit instead";
		}
		if (rule.switchesOff() && configured.algorithm() == Algorithm.CONCURRENCY) {
			return "limiter '" + rule.limiter() + "' limits calls in flight and cannot be switched off: give a larger "
					+ "capacity instead";
		}
		if (rule.rate() != null && configured.algorithm() == Algorithm.CONCURRENCY) {
			return "limiter '" + rule.limiter() + "' is a concurrency limiter and has no rate: give a capacity "
					+ "(the most calls in flight) instead";
		}
		Priorities divided = this.configuredPriorities.get(rule.limiter());
		if (rule.shares() != null && divided == null) {
			return "limiter '" + rule.limiter() + "' has no priority classes, so it has no class shares to change";
		}
		try {
			this.registry.checkUpdate(rule.limiter(), effective(rule, configured),
					(divided != null) ? rule.sharesOver(divided) : null);
			return null;
		}
		catch (IllegalArgumentException ex) {
			return "the rule cannot apply to limiter '" + rule.limiter() + "': " + ex.getMessage();
		}
	}

	private static RateLimit effective(LimitRule rule, RateLimit configured) {
		RateLimit limit = configured;
		if (rule.rate() != null) {
			limit = limit.withRate(rule.rate());
		}
		if (rule.capacity() != null) {
			limit = limit.withCapacity(rule.capacity());
		}
		return limit;
	}

	private void onRule(LimitRule rule, @Nullable LimitRule previous) {
		RateLimit configured = this.configured.get(rule.limiter());
		String refusal = refusal(rule, configured);
		RateLimit limit = null;
		if (refusal == null && configured != null) {
			limit = effective(rule, configured);
			try {
				Priorities divided = this.configuredPriorities.get(rule.limiter());
				apply(rule.limiter(), limit, (divided != null) ? rule.sharesOver(divided) : null, rule);
			}
			catch (RuntimeException ex) {
				refusal = "limiter '" + rule.limiter() + "' could not take the rule: " + ex.getMessage();
				limit = null;
			}
		}
		if (configured != null) {
			// only declared names: rules for others must not grow this map
			this.applied.put(rule.limiter(), new Applied(rule, configured, limit, refusal));
		}
		if (refusal != null) {
			logger.warn("Runtime rule version " + rule.version() + " for limiter '" + rule.limiter() + "' ("
					+ rule.describeChange() + ", by " + rule.author() + " at " + rule.at() + ") is not applied on this "
					+ "instance: " + refusal);
		}
		else {
			logger.info("Limiter '" + rule.limiter() + "': runtime rule version " + rule.version() + " ("
					+ rule.describeChange() + ") by " + rule.author() + " at " + rule.at() + " from " + rule.origin()
					+ (rule.reason().isEmpty() ? "" : ", reason: " + rule.reason()) + "; limit now " + limit);
			if (!rule.isCleared() && configured != null && !rule.configured().isEmpty()
					&& !rule.configured().equals(cut(configured.toString()))) {
				logger.warn("Limiter '" + rule.limiter() + "' is configured here as " + configured
						+ " but runtime rule version " + rule.version() + " was made over " + rule.configured()
						+ "; the rule stays in force until it is cleared (DELETE /actuator/ratelimits/"
						+ rule.limiter() + "), which returns every instance to its configured limit");
			}
		}
		this.events.publishEvent(new RateLimitRuleEvent(this, rule, previous, limit, refusal));
	}

	/** A configured limit as a rule records it (cut to the length a rule may carry). */
	private static String cut(String configured) {
		return (configured.length() > LimitRule.MAX_TEXT_LENGTH) ? configured.substring(0, LimitRule.MAX_TEXT_LENGTH)
				: configured;
	}

	private void apply(String name, RateLimit limit, @Nullable Priorities priorities, LimitRule rule) {
		AdaptiveRateLimiters controls = this.adaptive.get();
		Optional<AdaptiveController> controller = (controls != null) ? controls.controller(name) : Optional.empty();
		if (controller.isPresent()) {
			// the controller owns the rate: the rule moves its ceiling (a reduction in force stays),
			// then the capacity changes at whatever rate the controller has set
			controller.get().ceiling(limit.rate());
			Rate current = this.registry.limiter(name).limit().rate();
			update(name, limit.withRate(current), priorities);
		}
		else {
			update(name, limit, priorities);
		}
		this.registry.enabled(name, !rule.switchesOff());
	}

	private void update(String name, RateLimit limit, @Nullable Priorities priorities) {
		if (priorities != null) {
			this.registry.updateLimit(name, limit, priorities);
		}
		else {
			this.registry.updateLimit(name, limit);
		}
	}

	/**
	 * The last rule read for a limiter and what it did on this instance.
	 *
	 * @param rule the rule
	 * @param configured the limiter's configured limit here, or {@code null} if it is not declared
	 * @param limit the limit the rule put in force, or {@code null} if it was refused
	 * @param refusal why it was refused, or {@code null}
	 */
	public record Applied(LimitRule rule, @Nullable RateLimit configured, @Nullable RateLimit limit,
			@Nullable String refusal) {

	}

}
