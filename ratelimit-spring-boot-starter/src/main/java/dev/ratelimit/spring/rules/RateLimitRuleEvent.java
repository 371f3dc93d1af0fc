package dev.ratelimit.spring.rules;

import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEvent;

import dev.ratelimit.RateLimit;
import dev.ratelimit.rules.LimitRule;

/**
 * Published on each instance for every runtime rule it reads, once it has applied it (or refused
 * to): who made the change, when and why are in {@link #getRule()}. Listen to it to audit changes,
 * for example into Spring Boot's audit events or a chat channel. Published on the rule book's
 * thread: keep a listener short.
 */
public class RateLimitRuleEvent extends ApplicationEvent {

	private static final long serialVersionUID = 1L;

	private final transient LimitRule rule;

	private final transient @Nullable LimitRule previous;

	private final transient @Nullable RateLimit limit;

	private final @Nullable String refusal;

	/**
	 * Creates the event.
	 * @param source the rules that applied it
	 * @param rule the rule read
	 * @param previous the rule in force before, or {@code null}
	 * @param limit the limit now in force on this instance, or {@code null} if the rule was refused
	 * @param refusal why this instance could not apply the rule, or {@code null}
	 */
	public RateLimitRuleEvent(Object source, LimitRule rule, @Nullable LimitRule previous, @Nullable RateLimit limit,
			@Nullable String refusal) {
		super(source);
		this.rule = rule;
		this.previous = previous;
		this.limit = limit;
		this.refusal = refusal;
	}

	/**
	 * The rule: limiter, version, what it sets, author, reason, time and origin.
	 * @return the rule
	 */
	public LimitRule getRule() {
		return this.rule;
	}

	/**
	 * The rule in force before this one.
	 * @return the previous rule, or {@code null}
	 */
	public @Nullable LimitRule getPrevious() {
		return this.previous;
	}

	/**
	 * The limit in force on this instance after the rule.
	 * @return the limit, or {@code null} if the rule was refused here
	 */
	public @Nullable RateLimit getLimit() {
		return this.limit;
	}

	/**
	 * Why this instance could not apply the rule (an unknown limiter, a capacity its algorithm
	 * cannot take): its limiter keeps the limit it had.
	 * @return the reason, or {@code null} when the rule was applied
	 */
	public @Nullable String getRefusal() {
		return this.refusal;
	}

}
