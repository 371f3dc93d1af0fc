package dev.ratelimit.rules;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The runtime rules of an application's limiters, shared by all its instances: a rule published by
 * one instance is delivered to every instance's {@link RuleListener}s, in the same order everywhere,
 * and is still in force for instances started later, until it is cleared.
 *
 * <p>A rule book only keeps and delivers rules; applying them is its listeners' job (the Spring
 * Boot starter applies them to the application's limiters, with
 * {@link dev.ratelimit.RateLimiterRegistry#updateLimit(String, dev.ratelimit.RateLimit)}).
 * Thread-safe.
 */
public interface RuleBook extends AutoCloseable {

	/**
	 * Publishes a rule (a {@link LimitRule#change change} or a {@link LimitRule#clear clear}),
	 * stamped with its version, the time, this instance and the configured limit it overrides.
	 * @param draft the rule to publish
	 * @param configured the limiter's configured limit on this instance, as text, for the audit
	 * @return the rule as published, completed once this instance's listeners have had it
	 * @throws IllegalArgumentException if the draft is not valid
	 */
	CompletableFuture<LimitRule> publish(LimitRule draft, String configured);

	/**
	 * The rule in force for a limiter, as this instance has read it.
	 * @param limiter the limiter name
	 * @return the rule, empty when none is in force (never set, or cleared)
	 */
	Optional<LimitRule> rule(String limiter);

	/**
	 * Every rule in force, by limiter name.
	 * @return a copy
	 */
	Map<String, LimitRule> rules();

	/**
	 * Adds a listener. It is told of every rule in force now, then of each rule read after, on the
	 * rule book's thread: keep it short.
	 * @param listener the listener
	 */
	void addListener(RuleListener listener);

	/**
	 * Whether the rules published before this instance started have all been read.
	 * @return {@code true} once the book is up to date with what it held at start
	 */
	boolean isLoaded();

	/** Stops reading and publishing. */
	@Override
	void close();

}
