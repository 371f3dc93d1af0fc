package dev.ratelimit.spring.rules;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import dev.ratelimit.rules.LimitRule;
import dev.ratelimit.rules.RuleBook;
import dev.ratelimit.rules.RuleListener;

/**
 * A rule book of one instance, for tests of what is done with rules: it keeps them in memory and
 * tells its listeners at once, in the order published. Rules can also be "read" as if another
 * instance had published them ({@link #arrive}). What Kafka adds is tested against a broker.
 */
public final class InMemoryRuleBook implements RuleBook {

	private final Map<String, LimitRule> rules = new ConcurrentHashMap<>();

	private final List<RuleListener> listeners = new CopyOnWriteArrayList<>();

	private final AtomicLong versions = new AtomicLong();

	@Override
	public CompletableFuture<LimitRule> publish(LimitRule draft, String configured) {
		return CompletableFuture.completedFuture(
				arrive(draft.published(0, Instant.parse("2026-12-04T12:00:00Z"), "this-instance", configured)));
	}

	/** A rule read from the book, as if published elsewhere; its version is the book's next. */
	public LimitRule arrive(LimitRule rule) {
		LimitRule versioned = rule.published(this.versions.incrementAndGet(), rule.at(), rule.origin(),
				rule.configured());
		LimitRule previous = versioned.isCleared() ? this.rules.remove(versioned.limiter())
				: this.rules.put(versioned.limiter(), versioned);
		this.listeners.forEach((listener) -> listener.onRule(versioned, previous));
		return versioned;
	}

	@Override
	public Optional<LimitRule> rule(String limiter) {
		return Optional.ofNullable(this.rules.get(limiter));
	}

	@Override
	public Map<String, LimitRule> rules() {
		return Map.copyOf(this.rules);
	}

	@Override
	public void addListener(RuleListener listener) {
		this.rules.values().forEach((rule) -> listener.onRule(rule, null));
		this.listeners.add(listener);
	}

	@Override
	public boolean isLoaded() {
		return true;
	}

	@Override
	public void close() {
	}

}
