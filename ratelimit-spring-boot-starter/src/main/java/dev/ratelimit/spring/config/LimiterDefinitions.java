package dev.ratelimit.spring.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Priorities;
import dev.ratelimit.PriorityRateLimiter;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry.KeyPolicy;
import dev.ratelimit.RateLimiterRegistry.Tier;
import dev.ratelimit.adaptive.AdaptiveConfig;
import dev.ratelimit.adaptive.LoadThresholds;

/**
 * Maps {@code ratelimit.*} properties to the core's limits, in one place and without Spring, and
 * checks them: every problem becomes an {@link InvalidRateLimitConfigurationException} naming the
 * property, the value, the reason and the fix.
 */
public final class LimiterDefinitions {

	/** The prefix of a named limiter's properties. */
	public static final String PREFIX = "ratelimit.limiters.";

	static final int DEFAULT_MAX_KEYS = 10_000;

	static final Duration DEFAULT_KEY_IDLE_TIMEOUT = Duration.ofMinutes(10);

	private final Map<String, Definition> definitions;

	private final Definition fallback;

	private LimiterDefinitions(Map<String, Definition> definitions, Definition fallback) {
		this.definitions = definitions;
		this.fallback = fallback;
	}

	/**
	 * One limiter, resolved: its limit (or tiers, for a composite) and the settings the Spring
	 * integration needs.
	 *
	 * @param name the limiter name
	 * @param limit the limit, {@code null} for a composite
	 * @param tiers the tiers of a composite, empty otherwise
	 * @param keys the bound on per-key limiters
	 * @param waitTimeout the longest wait of a {@code @RateLimited} call
	 * @param headers whether web responses carry the rate limit headers
	 * @param global whether the limit is shared by every instance through the backend
	 * @param adaptive adaptive control of the rate, {@code null} when off
	 */
	public record Definition(String name, RateLimit limit, List<Tier> tiers, KeyPolicy keys, Duration waitTimeout,
			boolean headers, boolean global, AdaptiveSpec adaptive, PrioritySpec priority) {

		/**
		 * A definition without priority classes.
		 * @param name the name
		 * @param limit the limit, {@code null} for a composite
		 * @param tiers a composite's tiers
		 * @param keys the bound on keys
		 * @param waitTimeout the longest wait of a call
		 * @param headers whether responses carry the rate limit headers
		 * @param global whether the limit is shared by every instance
		 * @param adaptive adaptive control of the rate, {@code null} when off
		 */
		public Definition(String name, RateLimit limit, List<Tier> tiers, KeyPolicy keys, Duration waitTimeout,
				boolean headers, boolean global, AdaptiveSpec adaptive) {
			this(name, limit, tiers, keys, waitTimeout, headers, global, adaptive, null);
		}

		/**
		 * Returns whether this is a composite.
		 * @return whether the definition has tiers
		 */
		public boolean isComposite() {
			return !this.tiers.isEmpty();
		}

	}

	/**
	 * The priority classes of a limiter.
	 *
	 * @param priorities the classes, their reserved shares and headroom
	 * @param defaultClass the class of calls that declare none
	 * @param capacities the most permits one call of each class can take, by class
	 */
	public record PrioritySpec(Priorities priorities, String defaultClass, Map<String, Long> capacities) {
	}

	/**
	 * What a limiter's adaptive control reacts to.
	 *
	 * @param config the controller's parameters
	 * @param utilization whether the limiter's utilization is sampled as a signal
	 * @param reduceOn exceptions that mean "back off"
	 * @param lagSource the consumer group or listener id whose lag sets the severity, or {@code null}
	 * @param loads the load signals and the meters they read, in declared order; their thresholds
	 * are in the config
	 */
	public record AdaptiveSpec(AdaptiveConfig config, boolean utilization, List<Class<? extends Throwable>> reduceOn,
			String lagSource, List<LoadSpec> loads, ConcurrencySpec concurrency) {

		/**
		 * A spec of a rate's control.
		 * @param config the controller's parameters
		 * @param utilization whether the limiter's utilization is sampled as a signal
		 * @param reduceOn exceptions that mean "back off"
		 * @param lagSource the consumer group or listener id whose lag sets the severity, or
		 * {@code null}
		 * @param loads the load signals
		 */
		public AdaptiveSpec(AdaptiveConfig config, boolean utilization, List<Class<? extends Throwable>> reduceOn,
				String lagSource, List<LoadSpec> loads) {
			this(config, utilization, reduceOn, lagSource, loads, null);
		}

		/**
		 * A spec without load signals.
		 * @param config the controller's parameters
		 * @param utilization whether the limiter's utilization is sampled as a signal
		 * @param reduceOn exceptions that mean "back off"
		 * @param lagSource the consumer group or listener id whose lag sets the severity, or
		 * {@code null}
		 */
		public AdaptiveSpec(AdaptiveConfig config, boolean utilization, List<Class<? extends Throwable>> reduceOn,
				String lagSource) {
			this(config, utilization, reduceOn, lagSource, List.of());
		}

	}

	/**
	 * How a concurrency limiter's bound follows the calls' latency.
	 *
	 * @param algorithm gradient or AIMD
	 * @param minLimit the lowest bound, or {@code null} for the default
	 * @param maxLimit the highest bound, or {@code null} for the default
	 * @param timeout the latency above which an AIMD call counts as dropped, or {@code null}
	 */
	public record ConcurrencySpec(dev.ratelimit.adaptive.ConcurrencyControl.Algorithm algorithm, Long minLimit,
			Long maxLimit, Duration timeout) {
	}

	/**
	 * Where a load signal's readings come from.
	 *
	 * @param signal the signal's name, as declared in the controller's config
	 * @param meter the Micrometer meter read
	 * @param tags the tags the meter must have
	 */
	public record LoadSpec(String signal, String meter, Map<String, String> tags) {
	}

	/** The signals whose meter and thresholds need not be given: what Boot's JVM and system metrics offer. */
	private static final Map<String, KnownLoad> KNOWN_LOADS = Map.of(
			"process-cpu", new KnownLoad("process.cpu.usage", Map.of(), 0.85, 0.75),
			"system-cpu", new KnownLoad("system.cpu.usage", Map.of(), 0.85, 0.75),
			"heap-after-gc", new KnownLoad("jvm.memory.usage.after.gc", Map.of("area", "heap", "pool", "long-lived"),
					0.8, 0.7));

	private record KnownLoad(String meter, Map<String, String> tags, double warning, double recovery) {
	}

	/**
	 * Resolves and checks the properties.
	 * @param properties the properties
	 * @return the definitions
	 * @throws InvalidRateLimitConfigurationException for the first bad value
	 */
	public static LimiterDefinitions of(RateLimitProperties properties) {
		RateLimitProperties.Limiter defaults = properties.getDefaults();
		boolean headers = properties.getWeb().isHeaders();
		if (hasPrioritySettings(defaults.getPriority())) {
			throw new InvalidRateLimitConfigurationException("ratelimit.defaults.priority.classes",
					defaults.getPriority().getClasses(),
					"priority classes divide one token bucket of a declared limiter, not the defaults of every limiter",
					"Declare the classes under ratelimit.limiters.<name>.priority.");
		}
		Map<String, Definition> definitions = new LinkedHashMap<>();
		properties.getLimiters().keySet().stream().sorted().forEach((name) -> definitions.put(name,
				resolve(name, PREFIX + name + ".", properties.getLimiters().get(name), defaults, headers)));
		for (Definition definition : definitions.values()) {
			for (int i = 0; i < definition.tiers().size(); i++) {
				String tier = definition.tiers().get(i).name();
				if (!definitions.containsKey(tier)) {
					throw new InvalidRateLimitConfigurationException(
							PREFIX + definition.name() + ".tiers[" + i + "].name", tier,
							"no limiter named '" + tier + "' is declared",
							"Declare ratelimit.limiters." + tier + " or use the name of a declared limiter.");
				}
				Definition declared = definitions.get(tier);
				if (declared.priority() != null && definition.tiers().get(i).perKey()) {
					throw new InvalidRateLimitConfigurationException(
							PREFIX + definition.name() + ".tiers[" + i + "].per-key", true,
							"'" + tier + "' is divided among priority classes and has no per-key limiters",
							"Make the tier shared (per-key: false), or name a limiter without priority classes.");
				}
				if (declared.limit() != null && declared.limit().algorithm() == Algorithm.CONCURRENCY) {
					throw new InvalidRateLimitConfigurationException(
							PREFIX + definition.name() + ".tiers[" + i + "].name", tier,
							"'" + tier + "' is a concurrency limit, whose permits a composite cannot give back when a "
									+ "call ends (every call would keep one)",
							"Take the concurrency limit beside the composite instead: a second @RateLimited on the "
									+ "method, or a second name in an HTTP rule's limiters.");
				}
			}
		}
		Definition fallback = null;
		if (defaults.getRate() != null || defaults.getMaxConcurrent() != null) {
			fallback = resolve("(default)", "ratelimit.defaults.", defaults, defaults, headers);
		}
		return new LimiterDefinitions(Map.copyOf(definitions), fallback);
	}

	/**
	 * Returns the declared definitions.
	 * @return the definitions by name
	 */
	public Map<String, Definition> declared() {
		return this.definitions;
	}

	/**
	 * Returns the definition of a name: its declaration, or the defaults when they set a rate.
	 * @param name the name
	 * @return the definition, or {@code null} when the name is unknown and there is no default
	 */
	public Definition find(String name) {
		Definition definition = this.definitions.get(name);
		if (definition != null || this.fallback == null) {
			return definition;
		}
		return new Definition(name, this.fallback.limit(), List.of(), this.fallback.keys(),
				this.fallback.waitTimeout(), this.fallback.headers(), this.fallback.global(), null);
	}

	/**
	 * Returns the most permits a limiter of a name can ever grant at once: its capacity, or the
	 * smallest capacity of its tiers for a composite.
	 * @param name the name
	 * @return the capacity, {@link Long#MAX_VALUE} when unknown (a name that is not declared)
	 */
	public long capacityOf(String name) {
		Definition definition = find(name);
		if (definition == null) {
			return Long.MAX_VALUE;
		}
		if (definition.priority() != null) {
			return capacityOf(name, definition.priority().defaultClass());
		}
		if (definition.limit() != null) {
			return definition.limit().capacity();
		}
		long smallest = Long.MAX_VALUE;
		for (Tier tier : definition.tiers()) {
			Definition declared = this.definitions.get(tier.name());
			if (declared != null && declared.limit() != null) {
				// a tier with priority classes takes its default class's share
				smallest = Math.min(smallest, capacityOf(tier.name()));
			}
		}
		return smallest;
	}

	/**
	 * Returns the most permits one call of a priority class of a limiter can take: the most any
	 * one of the class's sources holds for it.
	 * @param name the name of a limiter with priority classes
	 * @param priorityClass one of its classes
	 * @return the capacity
	 * @throws IllegalArgumentException for a limiter without classes, or an unknown class
	 */
	public long capacityOf(String name, String priorityClass) {
		Definition definition = find(name);
		if (definition == null || definition.priority() == null) {
			throw new IllegalArgumentException("limiter '" + name + "' has no priority classes");
		}
		Long capacity = definition.priority().capacities().get(priorityClass);
		if (capacity == null) {
			throw new IllegalArgumentException("limiter '" + name + "' has no priority class '" + priorityClass + "'");
		}
		return capacity;
	}

	/**
	 * Returns the bound on keys of names that are not declared.
	 * @return the key policy of the defaults
	 */
	public KeyPolicy defaultKeys() {
		return (this.fallback != null) ? this.fallback.keys()
				: new KeyPolicy(DEFAULT_MAX_KEYS, DEFAULT_KEY_IDLE_TIMEOUT);
	}

	/**
	 * Returns the limit used for names that are not declared.
	 * @return the default limit, or {@code null} when undeclared names are errors
	 */
	public RateLimit defaultLimit() {
		return (this.fallback != null) ? this.fallback.limit() : null;
	}

	private static Definition resolve(String name, String prefix, RateLimitProperties.Limiter limiter,
			RateLimitProperties.Limiter defaults, boolean headersByDefault) {
		Duration waitTimeout = pick(limiter, defaults, RateLimitProperties.Limiter::getWaitTimeout);
		if (waitTimeout == null) {
			waitTimeout = Duration.ZERO;
		}
		if (waitTimeout.isNegative()) {
			throw new InvalidRateLimitConfigurationException(prefix + "wait-timeout", waitTimeout,
					"a wait cannot be negative", "Set zero to fail fast, or a positive duration such as 500ms.");
		}
		Integer maxKeys = pick(limiter, defaults, RateLimitProperties.Limiter::getMaxKeys);
		Duration idle = pick(limiter, defaults, RateLimitProperties.Limiter::getKeyIdleTimeout);
		KeyPolicy keys = check(prefix + ((maxKeys != null && maxKeys <= 0) ? "max-keys" : "key-idle-timeout"),
				(maxKeys != null && maxKeys <= 0) ? maxKeys : idle,
				() -> new KeyPolicy((maxKeys != null) ? maxKeys : DEFAULT_MAX_KEYS,
						(idle != null) ? idle : DEFAULT_KEY_IDLE_TIMEOUT));
		Boolean headers = pick(limiter, defaults, RateLimitProperties.Limiter::getHeaders);
		boolean withHeaders = (headers != null) ? headers : headersByDefault;

		if (hasPrioritySettings(limiter.getPriority()) && (!limiter.getTiers().isEmpty() || limiter == defaults)) {
			throw new InvalidRateLimitConfigurationException(prefix + "priority.classes", limiter.getPriority().getClasses(),
					"priority classes divide one token bucket of a declared limiter, and this is "
							+ ((limiter == defaults) ? "the defaults of every limiter" : "a composite"),
					"Declare the classes on a token bucket limiter of its own, under ratelimit.limiters.<name>.priority.");
		}
		if (!limiter.getTiers().isEmpty()) {
			if (limiter.getRate() != null || limiter.getAlgorithm() != null) {
				throw new InvalidRateLimitConfigurationException(prefix + "tiers", describe(limiter.getTiers()),
						"a composite takes its limits from its tiers and has no rate or algorithm of its own",
						"Remove " + prefix + "rate and " + prefix + "algorithm, or remove " + prefix
								+ "tiers and declare a plain limiter.");
			}
			List<Tier> tiers = new ArrayList<>();
			for (int i = 0; i < limiter.getTiers().size(); i++) {
				RateLimitProperties.Tier tier = limiter.getTiers().get(i);
				if (tier.getName() == null || tier.getName().isBlank() || tier.getName().equals(name)) {
					throw new InvalidRateLimitConfigurationException(prefix + "tiers[" + i + "].name", tier.getName(),
							"a tier must name another declared limiter", "Set the name of a declared limiter.");
				}
				tiers.add(new Tier(tier.getName(), tier.isPerKey()));
			}
			if (limiter.getScope() == RateLimitProperties.Scope.GLOBAL) {
				throw new InvalidRateLimitConfigurationException(prefix + "scope", "global",
						"a composite is not shared itself; its tiers are", "Remove " + prefix
								+ "scope and set scope: global on the tiers that should be shared.");
			}
			if (adaptive(prefix, limiter, defaults, null, false) != null) {
				throw new InvalidRateLimitConfigurationException(prefix + "adaptive.enabled", true,
						"a composite has no rate of its own to adapt", "Enable adaptive control on a tier instead.");
			}
			return new Definition(name, null, List.copyOf(tiers), keys, waitTimeout, withHeaders, false, null);
		}

		Algorithm algorithm = pick(limiter, defaults, RateLimitProperties.Limiter::getAlgorithm);
		if (algorithm == null) {
			algorithm = Algorithm.TOKEN_BUCKET;
		}
		RateLimit limit = (algorithm == Algorithm.CONCURRENCY) ? concurrency(prefix, limiter, defaults)
				: rated(prefix, algorithm, limiter, defaults);
		RateLimitProperties.Scope scope = pick(limiter, defaults, RateLimitProperties.Limiter::getScope);
		boolean global = scope == RateLimitProperties.Scope.GLOBAL;
		if (global && (algorithm != Algorithm.TOKEN_BUCKET || limit.bandwidths().size() > 1
				|| !limit.warmup().isZero())) {
			throw new InvalidRateLimitConfigurationException(prefix + "scope", "global",
					"a global limit must be a token bucket with one bandwidth and no warm-up, but this one is " + limit,
					"Make it a plain token bucket (rate and capacity), or keep it local and combine it with a global "
							+ "token bucket in a composite (tiers).");
		}
		AdaptiveSpec adaptive = adaptive(prefix, limiter, defaults, algorithm, global);
		PrioritySpec priority = priority(name, prefix, limiter, limit, global);
		return new Definition(name, limit, List.of(), keys, waitTimeout, withHeaders, global, adaptive, priority);
	}

	private static RateLimit concurrency(String prefix, RateLimitProperties.Limiter limiter,
			RateLimitProperties.Limiter defaults) {
		Long maxConcurrent = pick(limiter, defaults, RateLimitProperties.Limiter::getMaxConcurrent);
		if (maxConcurrent == null) {
			throw new InvalidRateLimitConfigurationException(prefix + "max-concurrent", null,
					"the concurrency algorithm needs the most permits in flight",
					"Set " + prefix + "max-concurrent, for example 16.");
		}
		return check(prefix + "max-concurrent", maxConcurrent, () -> RateLimit.concurrency(maxConcurrent));
	}

	private static RateLimit rated(String prefix, Algorithm algorithm, RateLimitProperties.Limiter limiter,
			RateLimitProperties.Limiter defaults) {
		Rate rate = pick(limiter, defaults, RateLimitProperties.Limiter::getRate);
		if (rate == null) {
			throw new InvalidRateLimitConfigurationException(prefix + "rate", null,
					"a " + algorithm.id() + " limiter needs a rate",
					"Set " + prefix + "rate as permits/period, for example 100/1s, 5000/1m or 0.5/s "
							+ "(or ratelimit.defaults.rate for every limiter).");
		}
		Long capacity = pick(limiter, defaults, RateLimitProperties.Limiter::getCapacity);
		switch (algorithm) {
			case FIXED_WINDOW, SLIDING_WINDOW -> {
				if (limiter.getCapacity() != null) {
					throw new InvalidRateLimitConfigurationException(prefix + "capacity", limiter.getCapacity(),
							"a " + algorithm.id() + " has no capacity of its own: the rate's permits are the limit per window",
							"Remove " + prefix + "capacity and write the limit and the window as the rate, "
									+ "for example 1000/1m.");
				}
				Duration window = Duration.ofNanos(rate.periodNanos());
				if (algorithm == Algorithm.FIXED_WINDOW) {
					return check(prefix + "rate", rate, () -> RateLimit.fixedWindow(rate.permits(), window).build());
				}
				Integer slices = pick(limiter, defaults, RateLimitProperties.Limiter::getSlices);
				RateLimit.SlidingWindowBuilder builder = RateLimit.slidingWindow(rate.permits(), window);
				if (slices != null) {
					check(prefix + "slices", slices, () -> builder.slices(slices));
				}
				return check(prefix + "slices", (slices != null) ? slices : 10, builder::build);
			}
			case LEAKY_BUCKET -> {
				RateLimit.LeakyBucketBuilder builder = check(prefix + "rate", rate, () -> RateLimit.leakyBucket(rate));
				if (capacity != null) {
					check(prefix + "capacity", capacity, () -> builder.maxPermits(capacity));
				}
				return builder.build();
			}
			default -> {
				RateLimit.TokenBucketBuilder builder = check(prefix + "rate", rate, () -> RateLimit.tokenBucket(rate));
				if (capacity != null) {
					check(prefix + "capacity", capacity, () -> builder.capacity(capacity));
				}
				Long initial = pick(limiter, defaults, RateLimitProperties.Limiter::getInitialPermits);
				if (initial != null) {
					check(prefix + "initial-permits", initial, () -> builder.initialPermits(initial));
				}
				Duration warmup = pick(limiter, defaults, RateLimitProperties.Limiter::getWarmup);
				if (warmup != null) {
					check(prefix + "warmup", warmup, () -> builder.warmup(warmup));
				}
				List<RateLimitProperties.Bandwidth> bandwidths = limiter.getBandwidths().isEmpty()
						? defaults.getBandwidths() : limiter.getBandwidths();
				for (int i = 0; i < bandwidths.size(); i++) {
					RateLimitProperties.Bandwidth bandwidth = bandwidths.get(i);
					String at = prefix + "bandwidths[" + i + "].";
					if (bandwidth.getRate() == null) {
						throw new InvalidRateLimitConfigurationException(at + "rate", null,
								"a bandwidth needs a rate", "Set " + at + "rate, for example 10000/1d.");
					}
					long bandwidthCapacity = (bandwidth.getCapacity() != null) ? bandwidth.getCapacity()
							: Math.max(1, bandwidth.getRate().permits());
					check(at + "capacity", bandwidthCapacity,
							() -> builder.bandwidth(bandwidthCapacity, bandwidth.getRate()));
				}
				String whole = (initial != null) ? prefix + "initial-permits" : prefix + "warmup";
				return check(whole, (initial != null) ? initial : warmup, builder::build);
			}
		}
	}

	private static AdaptiveSpec adaptive(String prefix, RateLimitProperties.Limiter limiter,
			RateLimitProperties.Limiter defaults, Algorithm algorithm, boolean global) {
		// a concurrency limiter adapts only when asked for itself: the defaults' adaptive settings
		// are those of rates
		RateLimitProperties.Adaptive adaptive = (limiter.getAdaptive() != null) ? limiter.getAdaptive()
				: (algorithm == Algorithm.CONCURRENCY) ? null : defaults.getAdaptive();
		if (adaptive == null || !Boolean.TRUE.equals(adaptive.getEnabled())) {
			return null;
		}
		String at = prefix + "adaptive.";
		if (algorithm == Algorithm.CONCURRENCY) {
			Long maxConcurrent = pick(limiter, defaults, RateLimitProperties.Limiter::getMaxConcurrent);
			return concurrencySpec(at, adaptive, (maxConcurrent != null) ? maxConcurrent : 1);
		}
		for (Object[] only : new Object[][] { { "algorithm", adaptive.getAlgorithm() },
				{ "min-limit", adaptive.getMinLimit() }, { "max-limit", adaptive.getMaxLimit() },
				{ "timeout", adaptive.getTimeout() } }) {
			if (only[1] != null) {
				throw new InvalidRateLimitConfigurationException(at + only[0], only[1],
						"it sets how a concurrency limit follows latency, and this limiter has a rate",
						"Remove " + at + only[0] + ", or make the limiter algorithm: concurrency.");
			}
		}
		AdaptiveConfig.Builder config = AdaptiveConfig.builder();
		set(at + "floor-fraction", adaptive.getFloorFraction(), config::floorFraction);
		set(at + "decrease-factor", adaptive.getDecreaseFactor(), config::decreaseFactor);
		set(at + "decrease-cooldown", adaptive.getDecreaseCooldown(), config::decreaseCooldown);
		set(at + "recovery-interval", adaptive.getRecoveryInterval(), config::recoveryInterval);
		set(at + "recovery-step", adaptive.getRecoveryStep(), config::recoveryStep);
		set(at + "warning-lag", adaptive.getWarningLag(), config::warningLag);
		set(at + "critical-lag", adaptive.getCriticalLag(), config::criticalLag);
		set(at + "emergency-lag", adaptive.getEmergencyLag(), config::emergencyLag);
		set(at + "recovery-lag", adaptive.getRecoveryLag(), config::recoveryLag);
		set(at + "warning-fraction", adaptive.getWarningFraction(), config::warningFraction);
		set(at + "critical-fraction", adaptive.getCriticalFraction(), config::criticalFraction);
		set(at + "high-utilization", adaptive.getHighUtilization(), config::highUtilization);
		set(at + "low-utilization", adaptive.getLowUtilization(), config::lowUtilization);
		set(at + "utilization-decrease-factor", adaptive.getUtilizationDecreaseFactor(),
				config::utilizationDecreaseFactor);
		if (global && !adaptive.getLoad().isEmpty()) {
			String first = adaptive.getLoad().keySet().iterator().next();
			throw new InvalidRateLimitConfigurationException(at + "load." + first, null,
					"a load signal is this instance's own, and a global limit's rate is shared by every instance: an "
							+ "instance under load would lower it for all, and a calm one raise it again, so the rate "
							+ "would swing between them",
					"Put the load signals on a local limiter (for example one that paces this instance's own work), "
							+ "or remove " + at + "load.");
		}
		List<LoadSpec> loads = new ArrayList<>();
		adaptive.getLoad().forEach((signal, load) -> loads.add(load(at + "load." + signal + ".", signal, load, config)));
		AdaptiveConfig built;
		try {
			built = config.build();
		}
		catch (IllegalArgumentException ex) {
			throw namedAfterItsField(at, ex);
		}
		List<Class<? extends Throwable>> reduceOn = new ArrayList<>();
		for (int i = 0; i < adaptive.getReduceOn().size(); i++) {
			String type = adaptive.getReduceOn().get(i);
			reduceOn.add(throwable(at + "reduce-on[" + i + "]", type));
		}
		return new AdaptiveSpec(built, Boolean.TRUE.equals(adaptive.getUtilization()), List.copyOf(reduceOn),
				adaptive.getLagSource(), List.copyOf(loads));
	}

	private static boolean hasPrioritySettings(RateLimitProperties.Priority priority) {
		return priority != null && (!priority.getClasses().isEmpty() || !priority.getMinimumShares().isEmpty()
				|| priority.getHeadroom() != null || priority.getDefaultClass() != null);
	}

	private static PrioritySpec priority(String name, String prefix, RateLimitProperties.Limiter limiter,
			RateLimit limit, boolean global) {
		RateLimitProperties.Priority priority = limiter.getPriority();
		if (!hasPrioritySettings(priority)) {
			return null;
		}
		String at = prefix + "priority.";
		if (limiter.getMaxKeys() != null || limiter.getKeyIdleTimeout() != null) {
			String property = prefix + ((limiter.getMaxKeys() != null) ? "max-keys" : "key-idle-timeout");
			throw new InvalidRateLimitConfigurationException(property, null,
					"a limiter divided among priority classes has no per-key limiters, so this setting would do nothing",
					"Remove " + property + ", or the priority classes.");
		}
		if (priority.getClasses().isEmpty()) {
			throw new InvalidRateLimitConfigurationException(at + "classes", null,
					"priority settings need the classes they apply to",
					"Set " + at + "classes, from the most to the least important, for example [critical, normal, batch].");
		}
		Priorities priorities = check(at + "classes", priority.getClasses(), () -> Priorities.of(priority.getClasses()));
		for (Map.Entry<String, Double> share : priority.getMinimumShares().entrySet()) {
			Priorities current = priorities;
			priorities = check(at + "minimum-shares." + share.getKey(), share.getValue(),
					() -> current.minimumShare(share.getKey(), share.getValue()));
		}
		if (priority.getHeadroom() != null) {
			Priorities current = priorities;
			priorities = check(at + "headroom", priority.getHeadroom(), () -> current.headroom(priority.getHeadroom()));
		}
		List<String> classes = priorities.classes();
		String defaultClass = (priority.getDefaultClass() != null) ? priority.getDefaultClass()
				: classes.get(classes.size() - 1);
		Priorities checked = priorities;
		check(at + "default-class", defaultClass, () -> checked.index(defaultClass));
		// the division itself: the kind of limit, and a capacity that holds every reserved share; what
		// it gives each class is kept for the checks of the calls' permits
		PriorityRateLimiter division = check(at + "classes", classes, () -> PriorityRateLimiter.of(name, limit, checked));
		Map<String, Long> capacities = new LinkedHashMap<>();
		classes.forEach((priorityClass) -> capacities.put(priorityClass,
				division.forClass(priorityClass).limit().capacity()));
		return new PrioritySpec(priorities, defaultClass, Map.copyOf(capacities));
	}

	private static AdaptiveSpec concurrencySpec(String at, RateLimitProperties.Adaptive adaptive, long maxConcurrent) {
		for (Object[] rateOnly : new Object[][] { { "lag-source", adaptive.getLagSource() },
				{ "utilization", Boolean.TRUE.equals(adaptive.getUtilization()) ? true : null },
				{ "load", adaptive.getLoad().isEmpty() ? null : adaptive.getLoad().keySet() } }) {
			if (rateOnly[1] != null) {
				throw new InvalidRateLimitConfigurationException(at + rateOnly[0], rateOnly[1],
						"a concurrency limiter adapts its bound to the calls' latency, not to this signal",
						"Remove " + at + rateOnly[0] + ", or put it on a limiter with a rate.");
			}
		}
		dev.ratelimit.adaptive.ConcurrencyControl.Algorithm algorithm = (adaptive.getAlgorithm() != null)
				? adaptive.getAlgorithm() : dev.ratelimit.adaptive.ConcurrencyControl.Algorithm.GRADIENT;
		// checked by the control's own builder, on a limiter of the same bound
		ConcurrencySpec spec = new ConcurrencySpec(algorithm, adaptive.getMinLimit(), adaptive.getMaxLimit(),
				adaptive.getTimeout());
		try {
			concurrencyControl(dev.ratelimit.ConcurrencyLimiter.of("check", maxConcurrent), spec).build();
		}
		catch (IllegalArgumentException ex) {
			throw namedAfterItsField(at, ex);
		}
		// the control starts from max-concurrent: a range that leaves it out would move it silently
		long min = (spec.minLimit() != null) ? spec.minLimit() : 1;
		long max = (spec.maxLimit() != null) ? spec.maxLimit() : Math.max(1000, maxConcurrent);
		if (maxConcurrent < min || maxConcurrent > max) {
			String property = (maxConcurrent < min) ? at + "min-limit" : at + "max-limit";
			throw new InvalidRateLimitConfigurationException(property, (maxConcurrent < min) ? min : max,
					"max-concurrent (" + maxConcurrent + "), where the adaptive bound starts, is outside min-limit "
							+ min + " .. max-limit " + max,
					"Set " + property + " so that the range holds max-concurrent.");
		}
		List<Class<? extends Throwable>> reduceOn = new ArrayList<>();
		for (int i = 0; i < adaptive.getReduceOn().size(); i++) {
			reduceOn.add(throwable(at + "reduce-on[" + i + "]", adaptive.getReduceOn().get(i)));
		}
		return new AdaptiveSpec(AdaptiveConfig.defaults(), false, List.copyOf(reduceOn), null, List.of(), spec);
	}

	/**
	 * A control builder for a concurrency limiter, with a spec's settings.
	 * @param limiter the concurrency limiter
	 * @param spec the settings
	 * @return the builder
	 */
	public static dev.ratelimit.adaptive.ConcurrencyControl.Builder concurrencyControl(
			dev.ratelimit.ConcurrencyLimiter limiter, ConcurrencySpec spec) {
		dev.ratelimit.adaptive.ConcurrencyControl.Builder builder = dev.ratelimit.adaptive.ConcurrencyControl
			.builder(limiter)
			.algorithm(spec.algorithm());
		if (spec.minLimit() != null) {
			builder.minLimit(spec.minLimit());
		}
		// a ceiling below the bound it starts from would move it at once: at least that
		builder.maxLimit((spec.maxLimit() != null) ? spec.maxLimit() : Math.max(1000, limiter.limit().capacity()));
		if (spec.timeout() != null) {
			builder.timeout(spec.timeout());
		}
		return builder;
	}

	private static LoadSpec load(String at, String signal, RateLimitProperties.Load load,
			AdaptiveConfig.Builder config) {
		KnownLoad known = KNOWN_LOADS.get(signal);
		String meter = (load.getMeter() != null) ? load.getMeter() : (known != null) ? known.meter() : null;
		if (meter == null || meter.isBlank()) {
			throw new InvalidRateLimitConfigurationException(at + "meter", meter,
					"load signal '" + signal + "' is not one the starter knows, so it needs the meter it reads",
					"Set " + at + "meter to a Micrometer gauge or timer, for example executor.queued, or use a known "
							+ "signal: " + String.join(", ", KNOWN_LOADS.keySet().stream().sorted().toList()) + ".");
		}
		Map<String, String> tags = (load.getMeter() == null && known != null && load.getTags().isEmpty())
				? known.tags() : Map.copyOf(load.getTags());
		Double warning = (load.getWarning() != null) ? load.getWarning() : (known != null) ? known.warning() : null;
		Double recovery = (load.getRecovery() != null) ? load.getRecovery() : (known != null) ? known.recovery() : null;
		if (warning == null) {
			throw new InvalidRateLimitConfigurationException(at + "warning", null,
					"load signal '" + signal + "' needs the reading above which it warns",
					"Set " + at + "warning in the meter's unit, for example 500 for a queue of 500 tasks.");
		}
		if (recovery == null) {
			throw new InvalidRateLimitConfigurationException(at + "recovery", null,
					"load signal '" + signal + "' needs the reading below which it returns to normal",
					"Set " + at + "recovery in the meter's unit, below " + at + "warning.");
		}
		double critical = (load.getCritical() != null) ? load.getCritical() : Double.POSITIVE_INFINITY;
		double emergency = (load.getEmergency() != null) ? load.getEmergency() : Double.POSITIVE_INFINITY;
		try {
			config.loadSignal(signal, new LoadThresholds(warning, critical, emergency, recovery));
		}
		catch (IllegalArgumentException ex) {
			// the message starts with the threshold's name, or is about the signal's name
			String field = ex.getMessage().split("[^A-Za-z]", 2)[0];
			String property = switch (field) {
				case "warning", "critical", "emergency", "recovery" -> at + field;
				default -> at.substring(0, at.length() - 1);
			};
			String action = "Update " + property + " in your application's configuration.";
			if ("recovery".equals(field) && load.getRecovery() == null) {
				action = "Set " + property + " below " + at + "warning: left out, it is " + recovery + " for "
						+ signal + ".";
			}
			throw new InvalidRateLimitConfigurationException(property, null, ex.getMessage(), action);
		}
		return new LoadSpec(signal, meter, tags);
	}

	/**
	 * A core builder's refusal, whose message starts with the parameter's name ({@code maxLimit
	 * must be ...}), as a failure of the property under {@code at} it came from ({@code max-limit}).
	 */
	private static InvalidRateLimitConfigurationException namedAfterItsField(String at, IllegalArgumentException ex) {
		String field = ex.getMessage().split("[^A-Za-z]", 2)[0];
		String property = at + field.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
		return new InvalidRateLimitConfigurationException(property, null, ex.getMessage(),
				"Update " + property + " in your application's configuration.");
	}

	private static <T> void set(String property, T value, java.util.function.Consumer<T> setter) {
		if (value != null) {
			check(property, value, () -> {
				setter.accept(value);
				return value;
			});
		}
	}

	private static Class<? extends Throwable> throwable(String property, String name) {
		try {
			Class<?> type = Class.forName(name, false, Thread.currentThread().getContextClassLoader());
			if (!Throwable.class.isAssignableFrom(type)) {
				throw new InvalidRateLimitConfigurationException(property, name, "'" + name + "' is not an exception",
						"Name an exception class, for example "
								+ "org.springframework.web.client.HttpClientErrorException$TooManyRequests.");
			}
			return type.asSubclass(Throwable.class);
		}
		catch (ClassNotFoundException | LinkageError ex) {
			throw new InvalidRateLimitConfigurationException(property, name, "no class named '" + name + "' can be loaded",
					"Write the fully qualified class name, with $ before a nested class name.");
		}
	}

	private static <T> T pick(RateLimitProperties.Limiter limiter, RateLimitProperties.Limiter defaults,
			Function<RateLimitProperties.Limiter, T> value) {
		T own = value.apply(limiter);
		return (own != null) ? own : value.apply(defaults);
	}

	/** Runs a core builder step; the core's message becomes the reason, with the property named. */
	private static <T> T check(String property, Object value, Supplier<T> step) {
		try {
			return step.get();
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidRateLimitConfigurationException(property, value, ex.getMessage(),
					"Update " + property + " in your application's configuration.");
		}
	}

	private static String describe(List<RateLimitProperties.Tier> tiers) {
		return tiers.stream().map(RateLimitProperties.Tier::getName).toList().toString().toLowerCase(Locale.ROOT);
	}

}
