package dev.ratelimit.rules;

/**
 * Hears of each rule a {@link RuleBook} reads, in the book's order.
 */
@FunctionalInterface
public interface RuleListener {

	/**
	 * A rule was read: it is now in force (or, when {@link LimitRule#isCleared() cleared}, the
	 * configured limit is). Exceptions are logged by the book and do not stop it.
	 * @param rule the rule
	 * @param previous the rule in force before, or {@code null}
	 */
	void onRule(LimitRule rule, LimitRule previous);

}
