package dev.ratelimit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Who gets a limit's capacity when it is short: priority classes, from the most to the least
 * important, each with an optional reserved minimum share of the rate. Immutable and checked when
 * built; used by {@link PriorityRateLimiter}.
 *
 * <p>The policy is <em>strict priority with reserved minimums</em>:
 * <ul>
 * <li>A class with a minimum share has a bucket of its own of that share of the rate and the
 * capacity. It spends from it first, and the other classes may borrow from it only while it is
 * more than half full, so a class that asks for its share always gets it over time.
 * <li>The rest of the rate and the capacity is shared. A class may take from the shared bucket
 * only while it leaves {@link #headroom()} of the shared capacity per class above it: with three
 * classes and the default headroom of 0.2, the first takes down to empty, the second down to 20%
 * and the third down to 40%. When the third saturates the limit, the shared bucket stays at 40%,
 * and every permit refilled below that goes to the classes above it.
 * <li>The limit as a whole keeps its bound: the buckets' rates and capacities add up to the
 * limit's, so no more than capacity + rate × elapsed permits are ever granted, whatever the mix.
 * </ul>
 *
 * <pre class="code">
 * Priorities priorities = Priorities.of("critical", "normal", "batch").minimumShare("batch", 0.05);
 * </pre>
 */
public final class Priorities {

	/** Most classes a limiter may have: each is a bucket and a view of its own. */
	public static final int MAX_CLASSES = 16;

	private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

	private static final double DEFAULT_HEADROOM = 0.2;

	private final List<String> classes;

	private final Map<String, Double> minimumShares;

	private final double headroom;

	private Priorities(List<String> classes, Map<String, Double> minimumShares, double headroom) {
		this.classes = classes;
		this.minimumShares = minimumShares;
		this.headroom = headroom;
	}

	/**
	 * Classes from the most to the least important, with no minimum shares and the default
	 * headroom: 0.2, or 0.9 / (classes - 1) for more than five classes.
	 * @param classes two or more distinct names, at most {@link #MAX_CLASSES}, each 1 to 64
	 * letters, digits, {@code .}, {@code -} or {@code _}
	 * @return the priorities
	 * @throws IllegalArgumentException for a bad, repeated or missing name, or too many
	 */
	public static Priorities of(String... classes) {
		Objects.requireNonNull(classes, "classes");
		return of(List.of(classes));
	}

	/**
	 * Classes from the most to the least important, with no minimum shares and the default
	 * headroom: 0.2, or 0.9 / (classes - 1) for more than five classes.
	 * @param classes two or more distinct names, as for {@link #of(String...)}
	 * @return the priorities
	 * @throws IllegalArgumentException for a bad, repeated or missing name, or too many
	 */
	public static Priorities of(List<String> classes) {
		Objects.requireNonNull(classes, "classes");
		if (classes.size() < 2 || classes.size() > MAX_CLASSES) {
			throw new IllegalArgumentException("priorities need 2 to " + MAX_CLASSES + " classes, but were given "
					+ classes.size() + ": list them from the most to the least important, for example "
					+ "critical, normal, batch");
		}
		List<String> checked = new ArrayList<>();
		for (String name : classes) {
			if (name == null || !NAME.matcher(name).matches()) {
				throw new IllegalArgumentException("a priority class's name must be 1 to 64 letters, digits, '.', '-' "
						+ "or '_', but was '" + name + "'");
			}
			if (checked.contains(name)) {
				throw new IllegalArgumentException("priority class '" + name + "' is listed twice: each class has "
						+ "one place in the order");
			}
			checked.add(name);
		}
		// 0.2, or less where more classes would leave the last one nothing
		double headroom = Math.min(DEFAULT_HEADROOM, 0.9 / (checked.size() - 1));
		return new Priorities(Collections.unmodifiableList(checked), Map.of(), headroom);
	}

	/**
	 * Returns these priorities with a reserved minimum share of the rate for one class.
	 * @param priorityClass one of the classes
	 * @param share the share of the rate and capacity reserved for it, greater than 0 and less
	 * than 1; the shares of all classes together must stay below 1
	 * @return the priorities
	 * @throws IllegalArgumentException for an unknown class or a share out of range
	 */
	public Priorities minimumShare(String priorityClass, double share) {
		index(priorityClass);
		if (!(share > 0 && share < 1)) {
			throw new IllegalArgumentException("the minimum share of priority class '" + priorityClass
					+ "' must be greater than 0 and less than 1, but was " + share
					+ ": it is a fraction of the rate, for example 0.05 for 5%");
		}
		Map<String, Double> shares = new LinkedHashMap<>(this.minimumShares);
		shares.put(priorityClass, share);
		double total = shares.values().stream().mapToDouble(Double::doubleValue).sum();
		if (total >= 1) {
			throw new IllegalArgumentException("the minimum shares of the priority classes add up to " + total
					+ ", but must stay below 1: some of the rate has to be shared, or there is nothing to "
					+ "prioritize; lower them");
		}
		return new Priorities(this.classes, Collections.unmodifiableMap(shares), this.headroom);
	}

	/**
	 * Returns these priorities with another headroom.
	 * @param headroom the fraction of the shared capacity each class leaves to each class above
	 * it, at least 0; times the number of classes less one, below 1
	 * @return the priorities
	 * @throws IllegalArgumentException if out of range
	 */
	public Priorities headroom(double headroom) {
		if (!(headroom >= 0) || headroom * (this.classes.size() - 1) >= 1) {
			throw new IllegalArgumentException("headroom must be at least 0 and, times the " + (this.classes.size() - 1)
					+ " classes below the first, less than 1, but was " + headroom
					+ ": the last class may take down to that fraction of the shared capacity, so it must leave "
					+ "something to take; for " + this.classes.size() + " classes, at most "
					+ (0.99 / (this.classes.size() - 1)));
		}
		return new Priorities(this.classes, this.minimumShares, headroom);
	}

	/**
	 * Returns the classes, from the most to the least important.
	 * @return the classes, unmodifiable
	 */
	public List<String> classes() {
		return this.classes;
	}

	/**
	 * Returns the reserved minimum share of a class.
	 * @param priorityClass one of the classes
	 * @return its share of the rate, 0 when it has none
	 * @throws IllegalArgumentException for an unknown class
	 */
	public double minimumShare(String priorityClass) {
		index(priorityClass);
		return this.minimumShares.getOrDefault(priorityClass, 0.0);
	}

	/**
	 * Returns the fraction of the shared capacity each class leaves to each class above it.
	 * Default 0.2, or 0.9 / (classes - 1) for more than five classes.
	 * @return the headroom
	 */
	public double headroom() {
		return this.headroom;
	}

	/**
	 * Returns a class's place in the order.
	 * @param priorityClass one of the classes
	 * @return 0 for the most important
	 * @throws IllegalArgumentException for an unknown class, naming the known ones
	 */
	public int index(String priorityClass) {
		int index = this.classes.indexOf(priorityClass);
		if (index < 0) {
			throw new IllegalArgumentException("no priority class named '" + priorityClass + "': the classes are "
					+ this.classes);
		}
		return index;
	}

	@Override
	public boolean equals(Object other) {
		return (other instanceof Priorities that) && that.classes.equals(this.classes)
				&& that.minimumShares.equals(this.minimumShares) && that.headroom == this.headroom;
	}

	@Override
	public int hashCode() {
		return Objects.hash(this.classes, this.minimumShares, this.headroom);
	}

	@Override
	public String toString() {
		return "Priorities" + this.classes + ((this.minimumShares.isEmpty()) ? "" : " minimum " + this.minimumShares)
				+ " headroom " + this.headroom;
	}

}
