package dev.ratelimit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import dev.ratelimit.internal.Errors;
import dev.ratelimit.internal.KeyedLimiters;
import dev.ratelimit.internal.Limiters;

/**
 * Named limiters and per-key limiters (say {@code orders} per tenant), created on demand from
 * declared limits.
 *
 * <p>Per-key limiters are bounded: each name holds at most {@code maxKeys} live keys. A key is
 * evicted once it has been idle for {@code keyIdleTimeout} and its limiter is back at full
 * capacity (so eviction never hands a key a fresher limit than it had). When the bound is reached
 * and no key can be evicted, new keys share one overflow limiter of the same limit until room is
 * made, so a flood of distinct keys cannot exhaust memory and is still limited. Thread-safe.
 */
public final class RateLimiterRegistry {

	private final Ticker ticker;

	private final Scheduler scheduler;

	private final ListenerFactory listeners;

	private final RateLimiterBackend defaultBackend;

	private final KeyPolicy defaultKeys;

	private final int maxKeyLength;

	/** The longest key a per-key limiter accepts unless set otherwise, in characters. */
	public static final int DEFAULT_MAX_KEY_LENGTH = 1024;

	private final RateLimit defaultLimit;

	private final Map<String, Definition> definitions = new ConcurrentHashMap<>();

	private final Map<String, RateLimiter> named = new ConcurrentHashMap<>();

	private final Map<String, KeyedLimiters> keyed = new ConcurrentHashMap<>();

	private final Map<String, PriorityRateLimiter> prioritized = new ConcurrentHashMap<>();

	private RateLimiterRegistry(Builder builder) {
		this.ticker = builder.ticker;
		this.scheduler = builder.scheduler;
		this.listeners = builder.listeners;
		this.defaultKeys = new KeyPolicy(builder.maxKeys, builder.keyIdleTimeout);
		this.maxKeyLength = builder.maxKeyLength;
		this.defaultLimit = builder.defaultLimit;
		this.defaultBackend = (builder.backend != null) ? builder.backend : new InMemoryBackend();
	}

	/**
	 * Starts building a registry.
	 * @return the builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Creates a listener for each limiter a registry creates, for example to feed meters.
	 */
	@FunctionalInterface
	public interface ListenerFactory {

		/**
		 * Returns the listener for a limiter.
		 * @param name the limiter's name
		 * @param key the key of a per-key limiter, {@code null} for a named one
		 * @return the listener, {@link RateLimiterListener#NONE} for none
		 */
		RateLimiterListener create(String name, String key);

	}

	/**
	 * A tier of a composite definition: a named limiter shared by every key, or the per-key limiter
	 * of a name.
	 *
	 * @param name the tier's limiter name
	 * @param perKey whether the tier is the per-key limiter of that name
	 */
	public record Tier(String name, boolean perKey) {

		public Tier {
			Objects.requireNonNull(name, "name");
		}

		/**
		 * Returns a tier shared by every key.
		 * @param name the tier's limiter name
		 * @return the tier
		 */
		public static Tier shared(String name) {
			return new Tier(name, false);
		}

		/**
		 * Returns a tier that is the per-key limiter of a name.
		 * @param name the tier's limiter name
		 * @return the tier
		 */
		public static Tier perKey(String name) {
			return new Tier(name, true);
		}

	}

	/**
	 * The bound on a name's per-key limiters.
	 *
	 * @param maxKeys most live keys, positive
	 * @param idleTimeout time a key must be unused (and back at full capacity) before it may be
	 * evicted, positive
	 */
	public record KeyPolicy(int maxKeys, Duration idleTimeout) {

		public KeyPolicy {
			Objects.requireNonNull(idleTimeout, "idleTimeout");
			if (maxKeys <= 0) {
				throw Errors.notPositive("maxKeys", maxKeys);
			}
			if (idleTimeout.isNegative() || idleTimeout.isZero()) {
				throw Errors.notPositive("keyIdleTimeout", idleTimeout);
			}
		}

	}

	private record Definition(RateLimit limit, RateLimiterBackend backend, List<Tier> tiers, KeyPolicy keys,
			Priorities priorities, String defaultClass) {

		Definition(RateLimit limit, RateLimiterBackend backend, List<Tier> tiers, KeyPolicy keys) {
			this(limit, backend, tiers, keys, null, null);
		}

	}

	/**
	 * Declares a limit for a name, in the registry's default backend. Replaces an earlier
	 * declaration only if no limiter of that name has been created yet; to change a live limiter,
	 * use {@link RateLimiter#updateRate(Rate)}.
	 * @param name the name
	 * @param limit the limit
	 * @return this registry
	 */
	public RateLimiterRegistry define(String name, RateLimit limit) {
		return define(name, limit, this.defaultBackend);
	}

	/**
	 * Declares a limit for a name, kept in the given backend.
	 * @param name the name
	 * @param limit the limit
	 * @param backend the backend for this name's limiters
	 * @return this registry
	 */
	public RateLimiterRegistry define(String name, RateLimit limit, RateLimiterBackend backend) {
		return define(name, limit, backend, this.defaultKeys);
	}

	/**
	 * Declares a limit for a name, kept in the given backend, with its own bound on keys.
	 * @param name the name
	 * @param limit the limit
	 * @param backend the backend for this name's limiters, {@code null} for the default
	 * @param keys the bound on this name's per-key limiters
	 * @return this registry
	 */
	public RateLimiterRegistry define(String name, RateLimit limit, RateLimiterBackend backend, KeyPolicy keys) {
		Objects.requireNonNull(limit, "limit");
		Objects.requireNonNull(keys, "keys");
		putDefinition(name,
				new Definition(limit, (backend != null) ? backend : this.defaultBackend, List.of(), keys));
		return this;
	}

	/**
	 * Declares a limit divided among priority classes, in this process's memory: see
	 * {@link PriorityRateLimiter}. {@link #limiter(String)} returns the view of the default class,
	 * {@link #priorities(String)} the whole; it has no per-key limiters.
	 * @param name the name
	 * @param limit a token bucket of one bandwidth, without warm-up
	 * @param priorities the classes
	 * @param defaultClass the class of calls that declare none
	 * @return this registry
	 * @throws IllegalArgumentException for a default class that is not one of the classes
	 */
	public RateLimiterRegistry definePriorities(String name, RateLimit limit, Priorities priorities,
			String defaultClass) {
		Objects.requireNonNull(limit, "limit");
		Objects.requireNonNull(priorities, "priorities");
		priorities.index(defaultClass);
		// the division is checked now (kind of limit, capacity for the shares), not at first use
		PriorityRateLimiter.of(name, limit, priorities);
		putDefinition(name, new Definition(limit, null, List.of(), this.defaultKeys, priorities, defaultClass));
		return this;
	}

	/**
	 * Declares a limit divided among priority classes in a backend that shares it (the Kafka
	 * backend's global limit): on each instance the classes' policy orders the calls within the
	 * instance's share of the rate, and the backend gives higher classes their share across the
	 * fleet first ({@link RateLimiterBackend#createPriorities}).
	 * @param name the name
	 * @param limit a token bucket of one bandwidth, without warm-up
	 * @param priorities the classes
	 * @param defaultClass the class of calls that declare none
	 * @param backend the backend that shares the limit
	 * @return this registry
	 * @throws IllegalArgumentException for a default class that is not one of the classes
	 */
	public RateLimiterRegistry definePriorities(String name, RateLimit limit, Priorities priorities,
			String defaultClass, RateLimiterBackend backend) {
		Objects.requireNonNull(backend, "backend");
		definePriorities(name, limit, priorities, defaultClass);
		this.definitions.put(name, new Definition(limit, backend, List.of(), this.defaultKeys, priorities,
				defaultClass));
		return this;
	}

	/**
	 * Returns whether a name was declared with {@link #definePriorities}.
	 * @param name the name
	 * @return whether its limit is divided among priority classes
	 */
	public boolean hasPriorities(String name) {
		Definition definition = this.definitions.get(name);
		return definition != null && definition.priorities() != null;
	}

	/**
	 * Returns the priority limiter of a name declared with {@link #definePriorities}, created on
	 * first use.
	 * @param name the name
	 * @return the limiter, whose {@link PriorityRateLimiter#forClass(String)} gives each class
	 * @throws IllegalArgumentException if the name has no priorities
	 */
	public PriorityRateLimiter priorities(String name) {
		Objects.requireNonNull(name, "name");
		PriorityRateLimiter limiter = this.prioritized.get(name);
		if (limiter != null) {
			return limiter;
		}
		Definition definition = definition(name);
		if (definition.priorities() == null) {
			throw new IllegalArgumentException("limiter '" + name + "' has no priority classes: declare them "
					+ "(ratelimit.limiters." + name + ".priority.classes, or registry.definePriorities)");
		}
		boolean[] made = new boolean[1];
		PriorityRateLimiter created = this.prioritized.computeIfAbsent(name, (n) -> {
			made[0] = true;
			return (definition.backend() != null)
					? definition.backend().createPriorities(n, definition.limit(), definition.priorities(),
							this.listeners.create(n, null))
					: PriorityRateLimiter.builder(n, definition.limit(), definition.priorities())
						.ticker(this.ticker)
						.scheduler(this.scheduler)
						.listener(this.listeners.create(n, null))
						.build();
		});
		if (made[0] && this.definitions.get(name) != definition) {
			// an update came between reading the declaration and putting the limiter in place
			this.updates.lock();
			try {
				Definition current = this.definitions.get(name);
				if (current != null && current.priorities() != null) {
					created.update(current.limit(), current.priorities());
				}
			}
			finally {
				this.updates.unlock();
			}
		}
		// the name's limiter is its default class, whichever was asked for first: find and reports see it
		this.named.putIfAbsent(name, created.forClass(definition.defaultClass()));
		if (this.switchedOff.contains(name)) {
			this.updates.lock();
			try {
				for (String priorityClass : created.priorities().classes()) {
					switchTo(created.forClass(priorityClass), isEnabled(name));
				}
			}
			finally {
				this.updates.unlock();
			}
		}
		return created;
	}

	/**
	 * Declares a composite: a limiter that takes permits from every tier or from none. Asked for
	 * with a key, per-key tiers use that key; asked for without one, per-key tiers are not allowed.
	 * @param name the composite's name
	 * @param tiers the tiers, in the order they are tried, each declared on this registry
	 * @return this registry
	 */
	public RateLimiterRegistry defineComposite(String name, List<Tier> tiers) {
		return defineComposite(name, tiers, this.defaultKeys);
	}

	/**
	 * Declares a composite with its own bound on keys.
	 * @param name the composite's name
	 * @param tiers the tiers, in the order they are tried, each declared on this registry
	 * @param keys the bound on the composite's per-key limiters
	 * @return this registry
	 */
	public RateLimiterRegistry defineComposite(String name, List<Tier> tiers, KeyPolicy keys) {
		Objects.requireNonNull(tiers, "tiers");
		Objects.requireNonNull(keys, "keys");
		if (tiers.isEmpty()) {
			throw new IllegalArgumentException("composite '" + name + "' needs at least one tier, but none were given");
		}
		for (Tier tier : tiers) {
			if (tier.name().equals(name)) {
				throw new IllegalArgumentException("composite '" + name + "' cannot be a tier of itself");
			}
		}
		putDefinition(name, new Definition(null, null, List.copyOf(tiers), keys));
		return this;
	}

	/**
	 * Changes the limit of a declared name everywhere at once: limiters created from now on (new
	 * keys, the shared limiter if not created yet) start from it, and every live one (the shared
	 * limiter, each key, the classes of a priority limiter) takes it on, keeping the permits it has
	 * up to the new capacity. A composite that has the name as a tier sees the change through it.
	 * This is how a runtime rule ({@code dev.ratelimit.rules}) reaches a whole name; to return to
	 * the declared limit, update it with that limit again.
	 * @param name a declared name with a limit of its own (not a composite)
	 * @param limit the new limit, of the same algorithm
	 * @throws IllegalArgumentException if the name is not declared, is a composite, the limit uses
	 * another algorithm, or a declared call ({@link #declarePermits}) would take more than the limit
	 * (or, for a priority limiter, its class) could then hold; nothing changes then
	 */
	public void updateLimit(String name, RateLimit limit) {
		Objects.requireNonNull(name, "name");
		Objects.requireNonNull(limit, "limit");
		this.updates.lock();
		try {
			Definition definition = checkedChange(name, limit, null);
			update(name, definition, limit, definition.priorities());
		}
		finally {
			this.updates.unlock();
		}
	}

	/**
	 * Changes the limit of a name divided among priority classes and its classes' minimum shares
	 * together, everywhere at once, as {@link #updateLimit(String, RateLimit)} changes a limit:
	 * the permits held stay, divided anew ({@link PriorityRateLimiter#update}). To return to the
	 * declaration, update with the declared limit and priorities again
	 * ({@link #definedPriorities(String)}).
	 * @param name a name declared with {@link #definePriorities}
	 * @param limit the new limit: a token bucket of one bandwidth without warm-up
	 * @param priorities the same classes, in the same order, with the shares to keep from now on
	 * @throws IllegalArgumentException if the name has no priority classes, the classes differ, the
	 * limit cannot be divided so, or a declared call ({@link #declarePermits}) would take more than
	 * its class could then hold; nothing changes then
	 */
	public void updateLimit(String name, RateLimit limit, Priorities priorities) {
		Objects.requireNonNull(name, "name");
		Objects.requireNonNull(limit, "limit");
		Objects.requireNonNull(priorities, "priorities");
		this.updates.lock();
		try {
			update(name, checkedChange(name, limit, priorities), limit, priorities);
		}
		finally {
			this.updates.unlock();
		}
	}

	/**
	 * Checks a change as {@link #updateLimit(String, RateLimit, Priorities)} (or, for a name
	 * without priority classes, {@link #updateLimit(String, RateLimit)}) would, without making it:
	 * for a change to be refused before it is sent to other instances.
	 * @param name a declared name with a limit of its own
	 * @param limit the new limit
	 * @param priorities the new classes and shares, or {@code null} to keep them
	 * @throws IllegalArgumentException for a change the update would refuse
	 */
	public void checkUpdate(String name, RateLimit limit, Priorities priorities) {
		Objects.requireNonNull(name, "name");
		Objects.requireNonNull(limit, "limit");
		checkedChange(name, limit, priorities);
	}

	/**
	 * Every check a change of a name's limit (and, if given, of its classes' shares) must pass
	 * before anything is changed: the name declared with a limit of its own, the same algorithm,
	 * the same classes, a division that can be made, room for every declared call.
	 * @return the name's declaration
	 */
	private Definition checkedChange(String name, RateLimit limit, Priorities priorities) {
		Definition definition = this.definitions.get(name);
		if (definition == null) {
			throw new IllegalArgumentException("no limiter named '" + name + "' is declared: declare it "
					+ "(ratelimit.limiters." + name + ", or registry.define) before changing its limit");
		}
		if (definition.limit() == null) {
			throw new IllegalArgumentException("limiter '" + name + "' is a composite and has no limit of its "
					+ "own: change the limit of one of its tiers instead");
		}
		if (priorities != null && definition.priorities() == null) {
			throw new IllegalArgumentException("limiter '" + name + "' is not declared with priority classes: "
					+ "declare them (ratelimit.limiters." + name + ".priority.classes, or "
					+ "registry.definePriorities), or change its limit alone");
		}
		if (priorities != null && !priorities.classes().equals(definition.priorities().classes())) {
			throw new IllegalArgumentException("limiter '" + name + "' has the priority classes "
					+ definition.priorities().classes() + ", and a change cannot make them " + priorities.classes()
					+ ": give shares of the same classes");
		}
		if (definition.limit().algorithm() != limit.algorithm()) {
			throw new IllegalArgumentException("limiter '" + name + "' uses " + definition.limit().algorithm().id()
					+ " and cannot switch to " + limit.algorithm().id() + ": give a limit of the same algorithm");
		}
		Priorities divided = (priorities != null) ? priorities : definition.priorities();
		if (divided != null) {
			// fails on a division that cannot be made
			dev.ratelimit.internal.PriorityBuckets.classCapacities(name, limit, divided);
		}
		checkDeclaredPermits(name, limit, divided, definition.defaultClass());
		return definition;
	}

	/**
	 * Returns the priority classes and shares a name is declared with, as the last
	 * {@link #updateLimit(String, RateLimit, Priorities)} left them.
	 * @param name the name
	 * @return its priorities, empty if it has no priority classes
	 */
	public Optional<Priorities> definedPriorities(String name) {
		Definition definition = this.definitions.get(name);
		return (definition != null) ? Optional.ofNullable(definition.priorities()) : Optional.empty();
	}

	/**
	 * Records that a call declared in the application takes this many permits at once from a name
	 * (a method's {@code permits}, a listener's permits per record), so that a later change of the
	 * name's limit that no such call could fit is refused rather than failing those calls.
	 * A call whose class an expression chooses is declared once for each class it may take.
	 * @param name the limiter name (for a composite, each of its tiers is declared)
	 * @param priorityClass the class the call takes from, or {@code null} for the limiter that
	 * {@link #limiter(String)} gives (a divided name's default class)
	 * @param permits the permits one call takes
	 */
	public void declarePermits(String name, String priorityClass, long permits) {
		Objects.requireNonNull(name, "name");
		Definition definition = this.definitions.get(name);
		if (definition != null && definition.limit() == null) {
			// a composite's call takes the permits from each tier
			for (Tier tier : definition.tiers()) {
				declarePermits(tier.name(), null, permits);
			}
			return;
		}
		this.declaredPermits.computeIfAbsent(name, (n) -> new ConcurrentHashMap<>())
			.merge((priorityClass != null) ? priorityClass : "", permits, Math::max);
	}

	/** Per name, per class ({@code ""} for the default class): the most permits one declared call takes. */
	private final Map<String, Map<String, Long>> declaredPermits = new ConcurrentHashMap<>();

	/** Fails if a declared call would take more permits than the limit (or its class) could hold. */
	private void checkDeclaredPermits(String name, RateLimit limit, Priorities priorities, String defaultClass) {
		Map<String, Long> declared = this.declaredPermits.get(name);
		if (declared == null || declared.isEmpty()) {
			return;
		}
		if (priorities == null) {
			long most = declared.values().stream().mapToLong(Long::longValue).max().orElse(0);
			if (most > limit.capacity()) {
				throw new IllegalArgumentException("limiter '" + name + "' would hold " + limit.capacity()
						+ " permits, fewer than the " + most + " a declared call takes at once, so every such call "
						+ "would fail: keep the capacity at " + most + " or more");
			}
			return;
		}
		long[] capacities = dev.ratelimit.internal.PriorityBuckets.classCapacities(name, limit, priorities);
		List<String> classes = priorities.classes();
		for (int i = 0; i < classes.size(); i++) {
			long most = declared.getOrDefault(classes.get(i), 0L);
			if (classes.get(i).equals(defaultClass)) {
				most = Math.max(most, declared.getOrDefault("", 0L));
			}
			if (most > capacities[i]) {
				throw new IllegalArgumentException("priority class '" + classes.get(i) + "' of limiter '" + name
						+ "' could take at most " + capacities[i] + " permits at once under " + limit + " and "
						+ priorities + ", fewer than the " + most + " a declared call takes, so every such call would "
						+ "fail: raise the capacity, or lower the minimum shares of the other classes");
			}
		}
	}

	/**
	 * Puts a new limit (and shares), checked ({@link #checkedChange}), in the declaration, then in
	 * every live limiter; all or nothing.
	 */
	private void update(String name, Definition definition, RateLimit limit, Priorities priorities) {
		// the declaration first, then what is live: a limiter made meanwhile from the old
		// declaration is brought up to date once it is in place (see reconcile)
		Definition updated = new Definition(limit, definition.backend(), definition.tiers(), definition.keys(),
				priorities, definition.defaultClass());
		this.definitions.put(name, updated);
		try {
			applyToLive(name, limit, priorities);
		}
		catch (RuntimeException ex) {
			// all or nothing: the declaration and what took the new limit go back
			this.definitions.put(name, definition);
			try {
				applyToLive(name, definition.limit(), definition.priorities());
			}
			catch (RuntimeException again) {
				ex.addSuppressed(again);
			}
			throw ex;
		}
	}

	/**
	 * Switches every limiter of a declared name off (every call permitted, nothing taken) or back
	 * on: the shared limiter, every key, keys created later, each priority class. For a runtime rule
	 * that lifts a limit at once; switched on, each limiter goes on from the state it had.
	 * @param name a declared name with a limit of its own
	 * @param enabled {@code false} to switch its limiters off
	 * @throws IllegalArgumentException if the name is not declared, is a composite, or is a
	 * concurrency limit (which cannot be switched off: raise it instead)
	 */
	public void enabled(String name, boolean enabled) {
		Objects.requireNonNull(name, "name");
		this.updates.lock();
		try {
			Definition definition = this.definitions.get(name);
			if (definition == null || definition.limit() == null) {
				throw new IllegalArgumentException("no limiter named '" + name + "' with a limit of its own is "
						+ "declared: declare it (ratelimit.limiters." + name + ", or registry.define) first");
			}
			if (definition.limit().algorithm() == Algorithm.CONCURRENCY && !enabled) {
				throw new IllegalArgumentException("limiter '" + name + "' limits calls in flight and cannot be "
						+ "switched off: raise its limit (max-concurrent) instead");
			}
			if (enabled) {
				this.switchedOff.remove(name);
			}
			else {
				this.switchedOff.add(name);
			}
			for (RateLimiter limiter : live(name)) {
				switchTo(limiter, enabled);
			}
		}
		finally {
			this.updates.unlock();
		}
	}

	/**
	 * Whether the limiters of a name are switched on.
	 * @param name the name
	 * @return {@code false} while {@link #enabled(String, boolean)} has switched them off
	 */
	public boolean isEnabled(String name) {
		return !this.switchedOff.contains(name);
	}

	/** Names whose limiters are switched off, kept for the limiters made later. */
	private final java.util.Set<String> switchedOff = ConcurrentHashMap.newKeySet();

	/** Every live limiter of a name: its shared limiter or classes, and its keys. */
	private List<RateLimiter> live(String name) {
		List<RateLimiter> live = new ArrayList<>();
		PriorityRateLimiter divided = this.prioritized.get(name);
		if (divided != null) {
			for (String priorityClass : divided.priorities().classes()) {
				live.add(divided.forClass(priorityClass));
			}
		}
		else {
			RateLimiter shared = this.named.get(name);
			if (shared != null) {
				live.add(shared);
			}
		}
		KeyedLimiters keys = this.keyed.get(name);
		if (keys != null) {
			live.addAll(keys.live());
		}
		return live;
	}

	private static void switchTo(RateLimiter limiter, boolean enabled) {
		if (limiter instanceof dev.ratelimit.internal.AbstractRateLimiter own) {
			own.enabled(enabled);
		}
	}

	/** Serializes {@link #updateLimit}: two changes at once must not leave live limiters on different limits. */
	private final java.util.concurrent.locks.ReentrantLock updates = new java.util.concurrent.locks.ReentrantLock();

	private void applyToLive(String name, RateLimit limit, Priorities priorities) {
		PriorityRateLimiter divided = this.prioritized.get(name);
		if (divided != null) {
			divided.update(limit, priorities);
		}
		else {
			RateLimiter shared = this.named.get(name);
			if (shared != null) {
				update(shared, limit);
			}
		}
		KeyedLimiters keys = this.keyed.get(name);
		if (keys != null) {
			for (RateLimiter limiter : keys.live()) {
				update(limiter, limit);
			}
		}
	}

	/**
	 * Brings a limiter just put in place up to date with its name's declaration, which an
	 * {@link #updateLimit} may have changed after the limiter was made from the one before.
	 */
	private void reconcile(String name, RateLimiter limiter) {
		if (this.switchedOff.contains(name)) {
			this.updates.lock();
			try {
				switchTo(limiter, isEnabled(name));
			}
			finally {
				this.updates.unlock();
			}
		}
		Definition definition = this.definitions.get(name);
		if (definition == null || definition.limit() == null || definition.priorities() != null) {
			return;
		}
		if (!limiter.limit().equals(definition.limit())) {
			this.updates.lock();
			try {
				Definition current = this.definitions.get(name);
				if (current != null && current.limit() != null && !limiter.limit().equals(current.limit())) {
					update(limiter, current.limit());
				}
			}
			finally {
				this.updates.unlock();
			}
		}
	}

	private static void update(RateLimiter limiter, RateLimit limit) {
		if (limiter instanceof dev.ratelimit.internal.AbstractRateLimiter own) {
			own.updateLimit(limit);
		}
		else if (limiter.snapshot().capacity() == limit.capacity()) {
			limiter.updateRate(limit.rate());
		}
		else {
			throw new IllegalArgumentException("limiter '" + limiter + "' cannot take a new capacity: change its rate");
		}
	}

	private void putDefinition(String name, Definition definition) {
		Objects.requireNonNull(name, "name");
		if (this.named.containsKey(name) || this.keyed.containsKey(name) || this.prioritized.containsKey(name)) {
			throw new IllegalStateException("limiter '" + name
					+ "' is already in use and cannot be redefined: change its rate with updateRate instead");
		}
		this.definitions.put(name, definition);
	}

	/**
	 * Returns the named limiter, created on first use from its declaration or the default limit.
	 * @param name the name
	 * @return the limiter
	 * @throws IllegalArgumentException if the name is not declared and there is no default limit
	 */
	public RateLimiter limiter(String name) {
		Objects.requireNonNull(name, "name");
		RateLimiter limiter = this.named.get(name);
		if (limiter != null) {
			return limiter;
		}
		// not computeIfAbsent: a composite creates its tiers in this same map
		RateLimiter created = create(name, null);
		RateLimiter raced = this.named.putIfAbsent(name, created);
		if (raced != null) {
			return raced;
		}
		reconcile(name, created);
		return created;
	}

	/**
	 * Returns the limiter of a name for one key, created on first use.
	 * @param name the name
	 * @param key the key, for example a tenant id
	 * @return the limiter for that key (the shared overflow limiter when the key bound is reached)
	 */
	public RateLimiter limiter(String name, String key) {
		Objects.requireNonNull(name, "name");
		Objects.requireNonNull(key, "key");
		if (key.length() > this.maxKeyLength) {
			throw new IllegalArgumentException("key of " + key.length() + " characters for limiter '" + name
					+ "' is longer than the " + this.maxKeyLength + " allowed: derive a shorter key (for example a "
					+ "hash of it), or raise the bound (ratelimit.max-key-length, RateLimiterRegistry.Builder.maxKeyLength)");
		}
		KeyedLimiters keys = this.keyed.get(name);
		if (keys == null) {
			Definition definition = definition(name); // fails early for an unknown name
			if (definition.priorities() != null) {
				throw new IllegalArgumentException("limiter '" + name + "' is divided among priority classes and "
						+ "has no per-key limiters: ask for it without a key");
			}
			KeyPolicy policy = definition.keys();
			keys = this.keyed.computeIfAbsent(name, (n) -> {
				KeyedLimiters created = new KeyedLimiters(policy.maxKeys(), policy.idleTimeout().toNanos(),
						this.ticker, this.scheduler, (k) -> create(n, k), (limiter) -> released(n, limiter));
				created.onInserted((limiter) -> reconcile(n, limiter));
				return created;
			});
		}
		return keys.get(key);
	}

	/**
	 * Returns the named limiter if it has been created.
	 * @param name the name
	 * @return the limiter, if any
	 */
	public Optional<RateLimiter> find(String name) {
		return Optional.ofNullable(this.named.get(name));
	}

	/**
	 * Returns the limiter of a name for one key if that key is live, without creating it or counting
	 * the look as a use (a report keeps no idle key from being evicted).
	 * @param name the name
	 * @param key the key
	 * @return the key's limiter, if the key is live
	 */
	public Optional<RateLimiter> find(String name, String key) {
		KeyedLimiters keys = this.keyed.get(name);
		return (keys != null) ? Optional.ofNullable(keys.peek(key)) : Optional.empty();
	}

	/**
	 * Returns what the backend of a declared name knows of its per-key limiters as a whole (see
	 * {@link RateLimiterBackend#keyedDetails(String)}); empty for a composite or an unknown name.
	 * @param name the name
	 * @return the facts by name
	 */
	public Map<String, Object> keyedDetails(String name) {
		Definition definition = this.definitions.get(name);
		if (definition == null || definition.backend() == null) {
			return Map.of();
		}
		return definition.backend().keyedDetails(name);
	}

	/**
	 * Returns whether a name is declared, or would be served by the default limit.
	 * @param name the name
	 * @return whether {@link #limiter(String)} would succeed
	 */
	public boolean isDefined(String name) {
		return this.definitions.containsKey(name) || this.defaultLimit != null;
	}

	/**
	 * Returns the declared names.
	 * @return the names, in no particular order
	 */
	public Collection<String> definedNames() {
		return Collections.unmodifiableSet(this.definitions.keySet());
	}

	/**
	 * Returns the named limiters created so far.
	 * @return the limiters, in no particular order
	 */
	public Collection<RateLimiter> limiters() {
		return Collections.unmodifiableCollection(this.named.values());
	}

	/**
	 * Returns the names that have per-key limiters.
	 * @return the names
	 */
	public Collection<String> keyedNames() {
		return Collections.unmodifiableSet(this.keyed.keySet());
	}

	/**
	 * Returns the live keys of a name, in no particular order, at most {@code limit} of them after
	 * skipping {@code offset}.
	 * @param name the name
	 * @param offset keys to skip
	 * @param limit most keys to return
	 * @return the keys with their limiters
	 */
	public List<Map.Entry<String, RateLimiter>> keys(String name, int offset, int limit) {
		KeyedLimiters keys = this.keyed.get(name);
		return (keys != null) ? keys.page(offset, limit) : List.of();
	}

	/**
	 * Returns how many live keys a name has.
	 * @param name the name
	 * @return the number of keys
	 */
	public int keyCount(String name) {
		KeyedLimiters keys = this.keyed.get(name);
		return (keys != null) ? keys.size() : 0;
	}

	/**
	 * Returns the bound on a name's per-key limiters.
	 * @param name the name
	 * @return the bound
	 */
	public KeyPolicy keyPolicy(String name) {
		return definition(name).keys();
	}

	/**
	 * Returns the limit a name is declared with (or the default limit), empty for a composite.
	 * @param name the name
	 * @return the limit, if the name is not a composite
	 */
	public Optional<RateLimit> definedLimit(String name) {
		return Optional.ofNullable(definition(name).limit());
	}

	/**
	 * Evicts every idle key at full capacity now, rather than when the bound is reached.
	 * @return the number of keys evicted
	 */
	public int evictIdleKeys() {
		int evicted = 0;
		for (KeyedLimiters keys : this.keyed.values()) {
			evicted += keys.evictIdle();
		}
		return evicted;
	}

	/** A per-key limiter evicted at rest: its backend may forget it too. */
	private void released(String name, RateLimiter limiter) {
		Definition definition = definition(name);
		if (definition.backend() != null) {
			definition.backend().release(limiter);
		}
	}

	private Definition definition(String name) {
		Definition definition = this.definitions.get(name);
		if (definition != null) {
			return definition;
		}
		if (this.defaultLimit != null) {
			return new Definition(this.defaultLimit, this.defaultBackend, List.of(), this.defaultKeys);
		}
		throw new IllegalArgumentException("no limit is defined for '" + name
				+ "': define it (ratelimit.limiters." + name + " in application properties, or registry.define) "
				+ "or set a default limit");
	}

	private RateLimiter create(String name, String key) {
		Definition definition = definition(name);
		if (definition.priorities() != null) {
			if (key != null) {
				throw new IllegalArgumentException("limiter '" + name + "' is divided among priority classes and "
						+ "has no per-key limiters: ask for it without a key");
			}
			return priorities(name).forClass(definition.defaultClass());
		}
		RateLimiterListener listener = this.listeners.create(name, key);
		String limiterName = (key != null) ? name + "[" + key + "]" : name;
		if (!definition.tiers().isEmpty()) {
			List<RateLimiter> tiers = new ArrayList<>();
			for (Tier tier : definition.tiers()) {
				if (tier.perKey() && key == null) {
					throw new IllegalArgumentException("composite '" + name + "' has per-key tier '" + tier.name()
							+ "' and must be asked for with a key");
				}
				tiers.add(tier.perKey() ? limiter(tier.name(), key) : limiter(tier.name()));
			}
			return Limiters.composite(limiterName, tiers, this.ticker, this.scheduler, listener);
		}
		return definition.backend().create(limiterName, key, definition.limit(), listener);
	}

	/** The in-memory backend on the registry's clock. */
	private final class InMemoryBackend implements RateLimiterBackend {

		@Override
		public String id() {
			return "in-memory";
		}

		@Override
		public RateLimiter create(String name, String key, RateLimit limit, RateLimiterListener listener) {
			return Limiters.create(name, limit, RateLimiterRegistry.this.ticker, RateLimiterRegistry.this.scheduler,
					listener);
		}

	}

	/** Builds a registry. */
	public static final class Builder {

		private Ticker ticker = Ticker.coarse();

		private Scheduler scheduler = Scheduler.system();

		private ListenerFactory listeners = (name, key) -> RateLimiterListener.NONE;

		private RateLimiterBackend backend;

		private int maxKeys = 10_000;

		private int maxKeyLength = DEFAULT_MAX_KEY_LENGTH;

		private Duration keyIdleTimeout = Duration.ofMinutes(10);

		private RateLimit defaultLimit;

		private Builder() {
		}

		/**
		 * Sets the ticker of in-memory limiters and of key idleness.
		 * @param ticker the ticker
		 * @return this builder
		 */
		public Builder ticker(Ticker ticker) {
			this.ticker = Objects.requireNonNull(ticker, "ticker");
			return this;
		}

		/**
		 * Sets the scheduler of in-memory limiters.
		 * @param scheduler the scheduler
		 * @return this builder
		 */
		public Builder scheduler(Scheduler scheduler) {
			this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
			return this;
		}

		/**
		 * Sets the factory of listeners, one per limiter.
		 * @param listeners the factory
		 * @return this builder
		 */
		public Builder listeners(ListenerFactory listeners) {
			this.listeners = Objects.requireNonNull(listeners, "listeners");
			return this;
		}

		/**
		 * Sets the backend for names defined without one. In-memory unless set.
		 * @param backend the backend
		 * @return this builder
		 */
		public Builder backend(RateLimiterBackend backend) {
			this.backend = Objects.requireNonNull(backend, "backend");
			return this;
		}

		/**
		 * Sets the longest key a per-key limiter accepts, in characters (1,024 unless set): a key
		 * comes from requests, so its length is bounded before it is kept or sent anywhere.
		 * @param maxKeyLength positive
		 * @return this builder
		 */
		public Builder maxKeyLength(int maxKeyLength) {
			if (maxKeyLength <= 0) {
				throw Errors.notPositive("maxKeyLength", maxKeyLength);
			}
			this.maxKeyLength = maxKeyLength;
			return this;
		}

		/**
		 * Sets the most live keys per name (10,000 unless set).
		 * @param maxKeys positive
		 * @return this builder
		 */
		public Builder maxKeys(int maxKeys) {
			if (maxKeys <= 0) {
				throw Errors.notPositive("maxKeys", maxKeys);
			}
			this.maxKeys = maxKeys;
			return this;
		}

		/**
		 * Sets how long a key must be unused before it may be evicted (10 minutes unless set).
		 * @param keyIdleTimeout positive
		 * @return this builder
		 */
		public Builder keyIdleTimeout(Duration keyIdleTimeout) {
			Objects.requireNonNull(keyIdleTimeout, "keyIdleTimeout");
			if (keyIdleTimeout.isNegative() || keyIdleTimeout.isZero()) {
				throw Errors.notPositive("keyIdleTimeout", keyIdleTimeout);
			}
			this.keyIdleTimeout = keyIdleTimeout;
			return this;
		}

		/**
		 * Sets the limit for names that are not declared. Without one, asking for an undeclared
		 * name fails.
		 * @param defaultLimit the default limit
		 * @return this builder
		 */
		public Builder defaultLimit(RateLimit defaultLimit) {
			this.defaultLimit = Objects.requireNonNull(defaultLimit, "defaultLimit");
			return this;
		}

		/**
		 * Builds the registry.
		 * @return the registry
		 */
		public RateLimiterRegistry build() {
			return new RateLimiterRegistry(this);
		}

	}

}
