package dev.ratelimit.rules;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import dev.ratelimit.Priorities;
import dev.ratelimit.Rate;

/**
 * A runtime rule for one limiter name, in force on every instance that reads the same
 * {@link RuleBook}: it replaces the rate, the capacity or both of the configured limit, the minimum
 * shares of its priority classes, or switches the limiter off, until it is cleared. A cleared rule
 * ({@link #isCleared()}: no rate, no capacity, no shares, not switched off) returns the limiter to
 * its configured limit.
 *
 * <p>Rules are changes made by people: each says who made it, when and why, and what the one who
 * made it had configured, so that an audit shows what was overridden and a redeploy with another
 * configured value can be told apart.
 *
 * @param limiter the limiter name, as declared ({@code ratelimit.limiters.<name>})
 * @param version the rule's place in the rule book: higher is newer, unique within the book (for
 * a Kafka rule book, the record's offset plus one); 0 for a draft not yet published
 * @param rate the rate in force, or {@code null} to keep the configured one
 * @param capacity the capacity in force (burst, or permits in flight), or {@code null} to keep the
 * configured one
 * @param enabled {@code false} to switch the limiter off (every call permitted) while the rule is in
 * force, {@code true} or {@code null} to keep it on
 * @param shares for a limiter divided among priority classes, the minimum share of the rate of
 * each class that has one (classes left out have none; an empty map, none at all), replacing the
 * configured shares; {@code null} to keep them
 * @param author who made the change (a user name), never blank
 * @param reason why, as its author wrote it (may be empty)
 * @param at when the change was made, by the clock of the instance that made it
 * @param origin the instance that made it
 * @param configured the configured limit on that instance when the change was made, as text
 * (for example {@code token-bucket[100/1s capacity=100]}), for the audit
 */
public record LimitRule(String limiter, long version, Rate rate, Long capacity, Boolean enabled,
		Map<String, Double> shares, String author, String reason, Instant at, String origin, String configured) {

	private static final Pattern CLASS_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

	/** Longest limiter name a rule may carry. */
	public static final int MAX_NAME_LENGTH = 200;

	/** Longest author, origin or configured text a rule may carry. */
	public static final int MAX_TEXT_LENGTH = 200;

	/** Longest reason a rule may carry. */
	public static final int MAX_REASON_LENGTH = 1000;

	/**
	 * Checks the rule.
	 * @throws IllegalArgumentException naming the field out of its bounds
	 */
	public LimitRule {
		checkText("limiter", limiter, MAX_NAME_LENGTH, false);
		if (version < 0) {
			throw new IllegalArgumentException("version must be zero or more, but was " + version);
		}
		if (capacity != null && capacity <= 0) {
			throw new IllegalArgumentException("capacity must be positive, but was " + capacity
					+ ": give the most permits the limiter may hold, or leave it out to keep the configured one");
		}
		shares = checkShares(shares);
		checkText("author", author, MAX_TEXT_LENGTH, false);
		checkText("reason", reason, MAX_REASON_LENGTH, true);
		Objects.requireNonNull(at, "at");
		checkText("origin", origin, MAX_TEXT_LENGTH, false);
		checkText("configured", configured, MAX_TEXT_LENGTH, true);
	}

	/**
	 * A rule that sets the rate, the capacity or both, not yet published (version 0).
	 * @param limiter the limiter name
	 * @param rate the rate, or {@code null} to keep the configured one
	 * @param capacity the capacity, or {@code null} to keep the configured one
	 * @param author who makes the change
	 * @param reason why
	 * @return the draft
	 * @throws IllegalArgumentException if neither rate nor capacity is given, or a field is out of
	 * its bounds
	 */
	public static LimitRule change(String limiter, Rate rate, Long capacity, String author, String reason) {
		return change(limiter, rate, capacity, null, author, reason);
	}

	/**
	 * A rule that sets the rate, the capacity, switches the limiter off, or a mix, not yet
	 * published (version 0).
	 * @param limiter the limiter name
	 * @param rate the rate, or {@code null} to keep the configured one
	 * @param capacity the capacity, or {@code null} to keep the configured one
	 * @param enabled {@code false} to switch the limiter off, {@code null} (or {@code true}) to keep
	 * it on
	 * @param author who makes the change
	 * @param reason why
	 * @return the draft
	 * @throws IllegalArgumentException if it changes nothing, or a field is out of its bounds
	 */
	public static LimitRule change(String limiter, Rate rate, Long capacity, Boolean enabled, String author,
			String reason) {
		return change(limiter, rate, capacity, enabled, null, author, reason);
	}

	/**
	 * A rule that sets the rate, the capacity, the minimum shares of the priority classes,
	 * switches the limiter off, or a mix, not yet published (version 0).
	 * @param limiter the limiter name
	 * @param rate the rate, or {@code null} to keep the configured one
	 * @param capacity the capacity, or {@code null} to keep the configured one
	 * @param enabled {@code false} to switch the limiter off, {@code null} (or {@code true}) to keep
	 * it on
	 * @param shares the minimum share of each class that has one (an empty map for none), or
	 * {@code null} to keep the configured shares
	 * @param author who makes the change
	 * @param reason why
	 * @return the draft
	 * @throws IllegalArgumentException if it changes nothing, or a field is out of its bounds
	 */
	public static LimitRule change(String limiter, Rate rate, Long capacity, Boolean enabled,
			Map<String, Double> shares, String author, String reason) {
		if (rate == null && capacity == null && shares == null && !Boolean.FALSE.equals(enabled)) {
			throw new IllegalArgumentException("a rule for limiter '" + limiter + "' changes nothing: give a rate, "
					+ "a capacity, class shares, enabled=false, or a mix, or clear the rule to return to the "
					+ "configured limit");
		}
		return new LimitRule(limiter, 0, rate, capacity, Boolean.FALSE.equals(enabled) ? Boolean.FALSE : null, shares,
				author, reason, Instant.EPOCH, "-", "");
	}

	/**
	 * A rule that clears the one in force: the limiter returns to its configured limit.
	 * @param limiter the limiter name
	 * @param author who makes the change
	 * @param reason why
	 * @return the draft
	 */
	public static LimitRule clear(String limiter, String author, String reason) {
		return new LimitRule(limiter, 0, null, null, null, null, author, reason, Instant.EPOCH, "-", "");
	}

	/**
	 * Whether this rule returns the limiter to its configured limit.
	 * @return {@code true} when it sets no rate, capacity or shares and does not switch it off
	 */
	public boolean isCleared() {
		return this.rate == null && this.capacity == null && this.shares == null && !Boolean.FALSE.equals(this.enabled);
	}

	/**
	 * The priority classes' minimum shares, if the rule sets them.
	 * @return the share of each class that has one, in the rule's order
	 */
	public Optional<Map<String, Double>> sharesOverride() {
		return Optional.ofNullable(this.shares);
	}

	/**
	 * These shares applied to a limiter's classes: every class the rule names gets its share,
	 * every other class none.
	 * @param declared the limiter's classes (their configured shares are replaced)
	 * @return the priorities in force under this rule, or {@code declared} if it sets no shares
	 * @throws IllegalArgumentException naming a class the limiter does not have
	 */
	public Priorities sharesOver(Priorities declared) {
		if (this.shares == null) {
			return declared;
		}
		Priorities priorities = Priorities.of(declared.classes()).headroom(declared.headroom());
		for (Map.Entry<String, Double> share : this.shares.entrySet()) {
			if (!declared.classes().contains(share.getKey())) {
				throw new IllegalArgumentException("limiter '" + this.limiter + "' has no priority class '"
						+ share.getKey() + "': its classes are " + declared.classes());
			}
			priorities = priorities.minimumShare(share.getKey(), share.getValue());
		}
		return priorities;
	}

	/**
	 * Whether the rule switches the limiter off.
	 * @return {@code true} when every call passes while the rule is in force
	 */
	public boolean switchesOff() {
		return Boolean.FALSE.equals(this.enabled);
	}

	/**
	 * The rate, if the rule sets one.
	 * @return the rate
	 */
	public Optional<Rate> rateOverride() {
		return Optional.ofNullable(this.rate);
	}

	/**
	 * The capacity, if the rule sets one.
	 * @return the capacity
	 */
	public Optional<Long> capacityOverride() {
		return Optional.ofNullable(this.capacity);
	}

	/**
	 * The same rule as published: its version, time, origin and the configured limit it overrides.
	 * @param version its place in the book
	 * @param at when it was made
	 * @param origin the instance that made it
	 * @param configured the configured limit there, as text
	 * @return the published rule
	 */
	public LimitRule published(long version, Instant at, String origin, String configured) {
		return new LimitRule(this.limiter, version, this.rate, this.capacity, this.enabled, this.shares, this.author,
				this.reason, at, origin, configured);
	}

	/** What the rule does, for logs: {@code rate 50/1s, capacity 50}, {@code switched off} or {@code cleared}. */
	public String describeChange() {
		if (isCleared()) {
			return "cleared";
		}
		StringBuilder text = new StringBuilder();
		if (this.rate != null) {
			text.append("rate ").append(this.rate);
		}
		if (this.capacity != null) {
			text.append((text.length() > 0) ? ", " : "").append("capacity ").append(this.capacity);
		}
		if (this.shares != null) {
			text.append((text.length() > 0) ? ", " : "").append("minimum shares ").append(describeShares(this.shares));
		}
		if (switchesOff()) {
			text.append((text.length() > 0) ? ", " : "").append("switched off");
		}
		return text.toString();
	}

	/**
	 * Shares as a rule writes them: {@code batch:0.05,normal:0.1}, or {@code none}.
	 * @param shares the shares
	 * @return the text
	 */
	public static String describeShares(Map<String, Double> shares) {
		if (shares.isEmpty()) {
			return "none";
		}
		StringBuilder text = new StringBuilder();
		shares.forEach((priorityClass, share) -> text.append((text.length() > 0) ? "," : "")
			.append(priorityClass)
			.append(':')
			.append(share));
		return text.toString();
	}

	/**
	 * Reads shares as {@link #describeShares(Map)} writes them.
	 * @param text {@code class:share,...} or {@code none}
	 * @return the shares, in the order written
	 * @throws IllegalArgumentException naming what is wrong
	 */
	public static Map<String, Double> parseShares(String text) {
		Objects.requireNonNull(text, "shares");
		String trimmed = text.strip();
		Map<String, Double> shares = new LinkedHashMap<>();
		if (trimmed.equals("none")) {
			return shares;
		}
		for (String part : trimmed.split(",", -1)) {
			int colon = part.indexOf(':');
			if (colon <= 0) {
				throw new IllegalArgumentException("shares must be written class:share,... (for example "
						+ "batch:0.05,normal:0.1) or none, but '" + cut(part) + "' is not");
			}
			String priorityClass = part.substring(0, colon).strip();
			double share;
			try {
				share = Double.parseDouble(part.substring(colon + 1).strip());
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException("the share of class '" + cut(priorityClass)
						+ "' is not a number: write a fraction of the rate, for example 0.05");
			}
			if (shares.put(priorityClass, share) != null) {
				throw new IllegalArgumentException("class '" + cut(priorityClass) + "' is given a share twice");
			}
		}
		return shares;
	}

	private static String cut(String value) {
		return (value.length() > 64) ? value.substring(0, 64) + "..." : value;
	}

	private static Map<String, Double> checkShares(Map<String, Double> shares) {
		if (shares == null) {
			return null;
		}
		if (shares.size() > Priorities.MAX_CLASSES) {
			throw new IllegalArgumentException("shares name " + shares.size() + " classes, more than the "
					+ Priorities.MAX_CLASSES + " a limiter may have");
		}
		double total = 0;
		for (Map.Entry<String, Double> share : shares.entrySet()) {
			String priorityClass = Objects.requireNonNull(share.getKey(), "class");
			if (!CLASS_NAME.matcher(priorityClass).matches()) {
				throw new IllegalArgumentException("'" + cut(priorityClass) + "' is not a priority class name: "
						+ "1 to 64 letters, digits, '.', '_' or '-'");
			}
			Double value = share.getValue();
			if (value == null || !(value > 0 && value < 1)) {
				throw new IllegalArgumentException("the minimum share of class '" + priorityClass
						+ "' must be greater than 0 and less than 1, but was " + value
						+ ": it is a fraction of the rate, for example 0.05 for 5%");
			}
			total += value;
		}
		if (total >= 1) {
			throw new IllegalArgumentException("the minimum shares add up to " + total + ", but must stay below 1: "
					+ "some of the rate has to be shared; lower them");
		}
		return Collections.unmodifiableMap(new LinkedHashMap<>(shares));
	}

	private static void checkText(String field, String value, int max, boolean mayBeEmpty) {
		Objects.requireNonNull(value, field);
		if (!mayBeEmpty && value.isBlank()) {
			throw new IllegalArgumentException(field + " must not be blank");
		}
		if (value.length() > max) {
			throw new IllegalArgumentException(field + " of " + value.length() + " characters is longer than the "
					+ max + " allowed: shorten it");
		}
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			if (Character.isISOControl(c)) {
				throw new IllegalArgumentException(field + " holds a control character (code " + (int) c
						+ ") at index " + i + ": write it on one line of printable text");
			}
		}
	}

}
