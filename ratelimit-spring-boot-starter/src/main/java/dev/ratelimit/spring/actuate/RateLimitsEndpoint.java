package dev.ratelimit.spring.actuate;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.adaptive.AdaptiveState;
import dev.ratelimit.rules.LimitRule;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.rules.RateLimitRules;

/**
 * {@link Endpoint @Endpoint} that shows the limiters of a {@link RateLimiterRegistry} and changes
 * their rate or resets them at runtime.
 *
 * <p>Reads never create a limiter: a declared name whose shared limiter has not been used yet is
 * described from its declaration, with {@code created} false and no live state, and the per-key
 * limiters of a name are counted and paged without being touched (so reading them does not keep
 * idle keys from being evicted). Writes on one instance change only live limiters: a change to a
 * limiter that does not exist yet would be silently lost. With runtime rules on
 * ({@code ratelimit.rules.enabled}), a write with {@code fleet=true} changes a limiter's rate or
 * capacity on every instance, keys created later included, until a delete clears the rule.
 *
 * <p>Spring Boot exposes the endpoint over HTTP only when it is included in
 * {@code management.endpoints.web.exposure.include}. Thread-safe.
 */
@Endpoint(id = "ratelimits", defaultAccess = Access.READ_ONLY)
public class RateLimitsEndpoint {

	/** Keys per page when the {@code size} parameter is not given. */
	public static final int DEFAULT_PAGE_SIZE = 100;

	/** Most keys one page may ask for, so that one read stays cheap whatever the key count. */
	public static final int MAX_PAGE_SIZE = 1000;

	private final RateLimiterRegistry registry;

	private final @Nullable AdaptiveRateLimiters adaptive;

	private final @Nullable RateLimitRules rules;

	private final Duration publishTimeout;

	/**
	 * Creates the endpoint.
	 * @param registry the registry whose limiters are shown
	 */
	public RateLimitsEndpoint(RateLimiterRegistry registry) {
		this(registry, null);
	}

	/**
	 * Creates the endpoint, showing the adaptive state of adaptive limiters in their details.
	 * @param registry the registry whose limiters are shown
	 * @param adaptive the adaptive controllers, or {@code null}
	 */
	public RateLimitsEndpoint(RateLimiterRegistry registry, @Nullable AdaptiveRateLimiters adaptive) {
		this(registry, adaptive, null, Duration.ofSeconds(10));
	}

	/**
	 * Creates the endpoint, also changing limits on every instance through runtime rules.
	 * @param registry the registry whose limiters are shown
	 * @param adaptive the adaptive controllers, or {@code null}
	 * @param rules the runtime rules shared by the instances, or {@code null} when they are off
	 * @param publishTimeout how long a change waits for the rules to confirm it
	 */
	public RateLimitsEndpoint(RateLimiterRegistry registry, @Nullable AdaptiveRateLimiters adaptive,
			@Nullable RateLimitRules rules, Duration publishTimeout) {
		this.registry = Objects.requireNonNull(registry, "registry");
		this.adaptive = adaptive;
		this.rules = rules;
		this.publishTimeout = Objects.requireNonNull(publishTimeout, "publishTimeout");
	}

	/**
	 * Lists every limiter: each declared name, each shared limiter created so far, and each name
	 * with per-key limiters, sorted by name.
	 * @return the limiters
	 */
	@ReadOperation
	public RateLimitersDescriptor rateLimiters() {
		SortedSet<String> names = new TreeSet<>(this.registry.definedNames());
		this.registry.limiters().forEach((limiter) -> names.add(limiter.name()));
		names.addAll(this.registry.keyedNames());
		List<RateLimiterDescriptor> limiters = new ArrayList<>(names.size());
		for (String name : names) {
			limiters.add(describe(name, summary(name)));
		}
		return new RateLimitersDescriptor(limiters);
	}

	/**
	 * Shows one limiter with a page of its live keys. Keys come in no stable order: a page taken
	 * while keys are created or evicted may repeat or miss some; each page is sorted by key.
	 * @param name the limiter name
	 * @param offset keys to skip, zero unless given
	 * @param size most keys to return, {@value #DEFAULT_PAGE_SIZE} unless given, at most
	 * {@value #MAX_PAGE_SIZE}
	 * @param key one key to show instead of a page: its limiter with every detail its backend keeps
	 * (for a global limit, the key's lease, share, debt and regime on this instance)
	 * @return the limiter, or {@code null} (HTTP 404) when no limiter of that name is declared or
	 * in use, or the key asked for is not live
	 */
	@ReadOperation
	public @Nullable RateLimiterDescriptor rateLimiter(@Selector String name, @Nullable Integer offset,
			@Nullable Integer size, @Nullable String key) {
		if (key != null) {
			// never created by a read, nor counted as a use: an idle key stays evictable
			return this.registry.find(name, key)
				.map((limiter) -> describe(name, key, limiter.snapshot(), null))
				.orElse(null);
		}
		int from = (offset != null) ? offset : 0;
		int count = (size != null) ? size : DEFAULT_PAGE_SIZE;
		if (from < 0) {
			throw invalid("offset must be zero or more, but was " + from
					+ ": give the number of keys to skip, for example offset=0 for the first page");
		}
		if (count < 1 || count > MAX_PAGE_SIZE) {
			throw invalid("size must be between 1 and " + MAX_PAGE_SIZE + ", but was " + count
					+ ": ask for at most " + MAX_PAGE_SIZE + " keys and use offset to page through the rest");
		}
		if (!isKnown(name)) {
			return null;
		}
		return describe(name, page(name, from, count));
	}

	/**
	 * Changes the rate of a live limiter, resets it, or both (the rate first, so a reset fills the
	 * limiter to its new capacity), on this instance; or, with {@code fleet=true}, publishes a
	 * runtime rule that changes the rate, the capacity or both on every instance until it is
	 * cleared ({@code ratelimit.rules.enabled}). Without {@code key}, applies to the shared limiter
	 * of the name; with it, to that key's limiter. Per-key limiters are changed one key at a time on
	 * one instance; a fleet rule changes every key of the name, and keys created later.
	 * @param name the limiter name
	 * @param rate the new rate as permits/period, for example {@code 500/1s}, or {@code null} to
	 * keep it
	 * @param capacity the new capacity (burst, or calls in flight), only with {@code fleet=true}
	 * @param enabled {@code false} to switch the limiter off on every instance (every call permitted
	 * until the rule is cleared), only with {@code fleet=true}
	 * @param shares for a limiter divided among priority classes, the minimum share of the rate of
	 * each class that has one, as {@code batch:0.05,normal:0.1} ({@code none} for none), replacing
	 * the configured shares on every instance; only with {@code fleet=true}
	 * @param reset whether to return the limiter to its initial state (full), on this instance only
	 * @param key the key whose limiter to change, or {@code null} for the shared limiter
	 * @param fleet whether to change the limiter on every instance through a runtime rule
	 * @param reason why, recorded with a fleet rule and in its event
	 * @param security who asks, recorded as the rule's author
	 * @return the limiter after the change
	 */
	@WriteOperation
	public RateLimiterDescriptor updateRateLimiter(@Selector String name, @Nullable String rate,
			@Nullable Long capacity, @Nullable Boolean enabled, @Nullable String shares, @Nullable Boolean reset,
			@Nullable String key, @Nullable Boolean fleet, @Nullable String reason,
			@Nullable SecurityContext security) {
		boolean resetting = Boolean.TRUE.equals(reset);
		if (Boolean.TRUE.equals(fleet)) {
			return publishRule(name, rate, capacity, enabled, shares, resetting, key, reason, security);
		}
		if (capacity != null || enabled != null || shares != null) {
			String what = (capacity != null) ? "capacity" : (enabled != null) ? "enabled" : "shares";
			throw invalid(what + " of limiter '" + name + "' is changed on every instance at once: add fleet=true "
					+ "(with ratelimit.rules.enabled=true), or change ratelimit.limiters." + name
					+ ((capacity != null) ? ".capacity" : (shares != null) ? ".priority.minimum-shares" : ""));
		}
		if (rate == null && !resetting) {
			throw invalid("nothing to change for limiter '" + name + "': give rate as permits/period (for example "
					+ "500/1s) to change its rate, reset=true to return it to its initial state, or both");
		}
		Rate parsed = (rate != null) ? parse(rate) : null;
		RateLimiter target = (key != null) ? liveKey(name, key) : liveShared(name);
		if (parsed != null) {
			if (target.limit().algorithm() == Algorithm.CONCURRENCY) {
				throw invalid("limiter '" + name + "' is a concurrency limiter and has no rate to change: "
						+ "reset it with reset=true, or change ratelimit.limiters." + name + ".max-concurrent");
			}
			try {
				target.updateRate(parsed);
			}
			catch (IllegalArgumentException ex) {
				throw invalid("rate " + rate + " cannot be applied to limiter '" + name + "': " + ex.getMessage());
			}
		}
		if (resetting) {
			target.reset();
		}
		return (key != null) ? describe(name, key, target.snapshot(), null) : describe(name, summary(name));
	}

	/**
	 * Clears the runtime rule of a limiter: every instance returns to its configured limit
	 * ({@code ratelimit.rules.enabled}).
	 * @param name the limiter name
	 * @param reason why, recorded with the change and in its event
	 * @param security who asks, recorded as the change's author
	 * @return the limiter after the change
	 */
	@DeleteOperation
	public RateLimiterDescriptor clearRule(@Selector String name, @Nullable String reason,
			@Nullable SecurityContext security) {
		RateLimitRules fleetRules = fleetRules(name);
		try {
			fleetRules.clear(name, author(security), text("reason", reason), this.publishTimeout);
		}
		catch (IllegalArgumentException ex) {
			throw invalid(ex.getMessage());
		}
		return describe(name, summary(name));
	}

	private RateLimiterDescriptor publishRule(String name, @Nullable String rate, @Nullable Long capacity,
			@Nullable Boolean enabled, @Nullable String shares, boolean resetting, @Nullable String key, @Nullable String reason,
			@Nullable SecurityContext security) {
		RateLimitRules fleetRules = fleetRules(name);
		if (key != null || resetting) {
			throw invalid("a fleet rule changes limiter '" + name + "' as a whole on every instance: leave out "
					+ ((key != null) ? "key" : "reset") + ", or leave out fleet to change this instance only");
		}
		if (rate == null && capacity == null && shares == null && !Boolean.FALSE.equals(enabled)) {
			throw invalid("nothing to change for limiter '" + name + "': give rate as permits/period (for example "
					+ "500/1s), capacity, shares (class:share,...), enabled=false to switch it off, or a mix; to "
					+ "return to the configured limit, send DELETE to this address");
		}
		java.util.Map<String, Double> parsedShares = null;
		if (shares != null) {
			if (shares.length() > 2000) {
				throw invalid("shares of " + shares.length() + " characters is longer than the 2000 allowed");
			}
			try {
				parsedShares = LimitRule.parseShares(shares);
			}
			catch (IllegalArgumentException ex) {
				throw invalid(ex.getMessage());
			}
		}
		Rate parsed = (rate != null) ? parse(rate) : null;
		if (capacity != null && capacity <= 0) {
			throw invalid("capacity must be positive, but was " + capacity + ": give the most permits limiter '" + name
					+ "' may hold");
		}
		try {
			fleetRules.publish(name, parsed, capacity, enabled, parsedShares, author(security), text("reason", reason),
					this.publishTimeout);
		}
		catch (IllegalArgumentException ex) {
			throw invalid(ex.getMessage());
		}
		return describe(name, summary(name));
	}

	private RateLimitRules fleetRules(String name) {
		if (this.rules == null) {
			throw invalid("runtime rules are off, so limiter '" + name + "' cannot be changed on every instance: set "
					+ "ratelimit.rules.enabled=true (rules are kept in Kafka), or leave out fleet to change this "
					+ "instance only");
		}
		return this.rules;
	}

	private static String author(@Nullable SecurityContext security) {
		java.security.Principal principal = (security != null) ? security.getPrincipal() : null;
		String author = (principal != null) ? principal.getName() : null;
		if (author == null || author.isBlank()) {
			return "anonymous";
		}
		// a principal's name is not the caller's to shorten: kept to what a rule carries, on one line
		StringBuilder kept = new StringBuilder();
		for (int i = 0; i < author.length() && kept.length() < LimitRule.MAX_TEXT_LENGTH; i++) {
			char c = author.charAt(i);
			kept.append(Character.isISOControl(c) ? '?' : c);
		}
		return kept.toString();
	}

	/** A value from a request for a rule: on one line, within the rule's bounds. */
	private static String text(String field, @Nullable String value) {
		if (value == null) {
			return "";
		}
		int max = field.equals("reason") ? LimitRule.MAX_REASON_LENGTH : LimitRule.MAX_TEXT_LENGTH;
		if (value.length() > max) {
			throw invalid(field + " of " + value.length() + " characters is longer than the " + max + " allowed: "
					+ "shorten it");
		}
		for (int i = 0; i < value.length(); i++) {
			if (Character.isISOControl(value.charAt(i))) {
				throw invalid(field + " holds a control character at index " + i + ": write it on one line");
			}
		}
		return value;
	}

	private boolean isKnown(String name) {
		return this.registry.definedNames().contains(name) || this.registry.find(name).isPresent()
				|| this.registry.keyedNames().contains(name);
	}

	private RateLimiter liveShared(String name) {
		Optional<RateLimiter> shared = this.registry.find(name);
		if (shared.isPresent()) {
			return shared.get();
		}
		if (!isKnown(name)) {
			throw invalid("no limiter named '" + name + "' is declared or in use: use a name listed by the "
					+ "ratelimits endpoint");
		}
		int keys = this.registry.keyCount(name);
		if (keys > 0) {
			throw invalid("limiter '" + name + "' is used per key (" + keys + " live keys) and has no shared limiter: "
					+ "give key to change one key's limiter, or change ratelimit.limiters." + name
					+ " to change every key");
		}
		throw invalid("limiter '" + name + "' has not been used yet, so there is nothing to change: change "
				+ "ratelimit.limiters." + name + " to change its declared limit");
	}

	private RateLimiter liveKey(String name, String key) {
		for (Map.Entry<String, RateLimiter> entry : this.registry.keys(name, 0, Integer.MAX_VALUE)) {
			if (entry.getKey().equals(key)) {
				return entry.getValue();
			}
		}
		throw invalid("key '" + key + "' of limiter '" + name + "' is not live (never used, or evicted after being "
				+ "idle at full capacity), so there is nothing to change: a new key starts from the declared limit");
	}

	private static Rate parse(String rate) {
		try {
			return Rate.parse(rate);
		}
		catch (IllegalArgumentException ex) {
			// the core's parse error already names the value and the format; its range errors do not
			String message = ex.getMessage();
			throw invalid(message.startsWith("rate '") ? message
					: "rate '" + rate + "' is not valid (" + message + "): write permits/period, for example 500/1s");
		}
	}

	private KeysDescriptor summary(String name) {
		return new KeysDescriptor(this.registry.keyCount(name), maxKeys(name), null, null, null);
	}

	private KeysDescriptor page(String name, int offset, int size) {
		List<KeyDescriptor> items = new ArrayList<>();
		for (Map.Entry<String, RateLimiter> entry : this.registry.keys(name, offset, size)) {
			RateLimiterSnapshot snapshot = entry.getValue().snapshot();
			items.add(new KeyDescriptor(entry.getKey(), snapshot.rate().toString(), snapshot.available(),
					snapshot.utilization()));
		}
		items.sort(Comparator.comparing(KeyDescriptor::key));
		return new KeysDescriptor(this.registry.keyCount(name), maxKeys(name), offset, size, items);
	}

	private int maxKeys(String name) {
		try {
			return this.registry.keyPolicy(name).maxKeys();
		}
		catch (IllegalArgumentException ex) {
			return 0; // a created limiter of a name that is no longer resolvable: no keys allowed
		}
	}

	private RateLimiterDescriptor describe(String name, KeysDescriptor keys) {
		Optional<RateLimiter> shared = this.registry.find(name);
		if (shared.isPresent()) {
			RateLimiterDescriptor descriptor = describe(name, null, shared.get().snapshot(), keys);
			return withRule(name, withAdaptiveState(name, descriptor));
		}
		// Not created: describe the declaration, with backend facts from a live key if there is
		// one, rather than create a limiter (and its meters, and maybe a remote lease) on a read.
		RateLimit limit = declaredLimit(name);
		List<Map.Entry<String, RateLimiter>> anyKey = this.registry.keys(name, 0, 1);
		RateLimiterSnapshot keySnapshot = anyKey.isEmpty() ? null : anyKey.get(0).getValue().snapshot();
		String algorithm = null;
		Rate rate = null;
		Long capacity = null;
		if (limit != null) {
			algorithm = limit.algorithm().id();
			rate = limit.rate();
			capacity = limit.capacity();
		}
		else if (keySnapshot != null) {
			algorithm = keySnapshot.algorithm().id();
			rate = keySnapshot.rate();
			capacity = keySnapshot.capacity();
		}
		return withRule(name, new RateLimiterDescriptor(name, null, false, algorithm,
				(rate != null) ? rate.toString() : null, (rate != null) ? rate.perSecond() : null, capacity, null, null,
				(keySnapshot != null) ? keySnapshot.backend() : null,
				(keySnapshot != null) ? keySnapshot.distributed() : null,
				(keySnapshot != null) ? keySnapshot.persistent() : null, keyedDetails(name), keys));
	}

	/** Adds the runtime rule last read for the name, and what it did here, to the details. */
	private RateLimiterDescriptor withRule(String name, RateLimiterDescriptor descriptor) {
		if (this.rules == null) {
			return descriptor;
		}
		Optional<RateLimitRules.Applied> applied = this.rules.applied(name);
		if (applied.isEmpty()) {
			return descriptor;
		}
		LimitRule rule = applied.get().rule();
		Map<String, Object> details = new java.util.LinkedHashMap<>();
		details.put("version", rule.version());
		details.put("inForce", !rule.isCleared() && applied.get().refusal() == null);
		if (rule.rate() != null) {
			details.put("rate", rule.rate().toString());
		}
		if (rule.capacity() != null) {
			details.put("capacity", rule.capacity());
		}
		if (rule.shares() != null) {
			details.put("shares", rule.shares());
		}
		if (rule.switchesOff()) {
			details.put("enabled", false);
		}
		details.put("author", rule.author());
		details.put("reason", rule.reason());
		details.put("at", rule.at().toString());
		details.put("origin", rule.origin());
		if (applied.get().configured() != null) {
			details.put("configured", applied.get().configured().toString());
		}
		if (applied.get().refusal() != null) {
			details.put("refusal", applied.get().refusal());
		}
		return withDetail(descriptor, "rule", details);
	}

	/** What the backend knows of a name's keys as a whole (a global per-key limit's regimes, debt, records). */
	private Map<String, Object> keyedDetails(String name) {
		Map<String, Object> keyed = this.registry.keyedDetails(name);
		return keyed.isEmpty() ? Map.of() : Map.of("keys", keyed);
	}

	/** Adds the adaptive controller's state (rate, ceiling, floor, severity, last change) to the details. */
	private RateLimiterDescriptor withAdaptiveState(String name, RateLimiterDescriptor descriptor) {
		if (this.adaptive == null) {
			return descriptor;
		}
		java.util.Optional<dev.ratelimit.adaptive.ConcurrencyControl> concurrency = this.adaptive
			.concurrencyControl(name);
		if (concurrency.isPresent()) {
			Map<String, Object> adaptive = new java.util.LinkedHashMap<>();
			adaptive.put("algorithm", concurrency.get().algorithm().name());
			adaptive.put("limit", concurrency.get().limit());
			adaptive.put("samples", concurrency.get().samples());
			adaptive.put("drops", concurrency.get().drops());
			return withAdaptive(descriptor, adaptive);
		}
		return this.adaptive.controller(name).map((controller) -> {
			AdaptiveState state = controller.state();
			Map<String, Object> adaptive = new java.util.LinkedHashMap<>();
			adaptive.put("rate", state.rate().toString());
			adaptive.put("ceiling", state.ceiling().toString());
			adaptive.put("floor", state.floor().toString());
			adaptive.put("severity", state.severity().name());
			adaptive.put("lag", state.lag());
			if (!state.loads().isEmpty()) {
				Map<String, Object> loads = new java.util.LinkedHashMap<>();
				state.loads().forEach((signal, load) -> loads.put(signal,
						Map.of("reading", load.reading(), "severity", load.severity().name())));
				adaptive.put("loads", loads);
			}
			adaptive.put("lastReason", state.lastReason().name());
			adaptive.put("lastDetail", String.valueOf(state.lastDetail()));
			adaptive.put("decreases", state.decreases());
			adaptive.put("increases", state.increases());
			return withAdaptive(descriptor, adaptive);
		}).orElse(descriptor);
	}

	private static RateLimiterDescriptor withAdaptive(RateLimiterDescriptor descriptor, Map<String, Object> adaptive) {
		return withDetail(descriptor, "adaptive", adaptive);
	}

	private static RateLimiterDescriptor withDetail(RateLimiterDescriptor descriptor, String detail,
			Map<String, Object> value) {
		Map<String, Object> details = new java.util.LinkedHashMap<>(descriptor.details());
		details.put(detail, value);
		return new RateLimiterDescriptor(descriptor.name(), descriptor.key(), descriptor.created(),
				descriptor.algorithm(), descriptor.rate(), descriptor.permitsPerSecond(), descriptor.capacity(),
				descriptor.available(), descriptor.utilization(), descriptor.backend(), descriptor.distributed(),
				descriptor.persistent(), details, descriptor.keys());
	}

	private static RateLimiterDescriptor describe(String name, @Nullable String key, RateLimiterSnapshot snapshot,
			@Nullable KeysDescriptor keys) {
		return new RateLimiterDescriptor(name, key, true, snapshot.algorithm().id(), snapshot.rate().toString(),
				snapshot.rate().perSecond(), snapshot.capacity(), snapshot.available(), snapshot.utilization(),
				snapshot.backend(), snapshot.distributed(), snapshot.persistent(), snapshot.details(), keys);
	}

	private @Nullable RateLimit declaredLimit(String name) {
		try {
			return this.registry.definedLimit(name).orElse(null);
		}
		catch (IllegalArgumentException ex) {
			return null; // only keys of a name that is no longer declared
		}
	}

	private static InvalidEndpointRequestException invalid(String message) {
		return new InvalidEndpointRequestException(message, message);
	}

	/**
	 * Every limiter, sorted by name.
	 *
	 * @param limiters the limiters
	 */
	public record RateLimitersDescriptor(List<RateLimiterDescriptor> limiters) implements OperationResponseBody {

	}

	/**
	 * One limiter. Values a limiter not yet created does not have are {@code null} and left out of
	 * the JSON.
	 *
	 * @param name the limiter name (without key)
	 * @param key the key, for a per-key limiter
	 * @param created whether the limiter exists: {@code false} for a declared name whose shared
	 * limiter has not been used (it may still have per-key limiters)
	 * @param algorithm the algorithm id, for example {@code token-bucket}
	 * @param rate the current rate as permits/period, for example {@code 100/s}
	 * @param permitsPerSecond the current rate in permits per second
	 * @param capacity the capacity (burst, window limit, or permits in flight)
	 * @param available permits that could be taken now
	 * @param utilization share of the capacity in use, from 0 (idle) to 1 (exhausted)
	 * @param backend where the state lives, for example {@code in-memory}
	 * @param distributed whether the limit is shared by several instances
	 * @param persistent whether the state survives a restart
	 * @param details backend-specific facts (tiers of a composite, lease state)
	 * @param keys the name's per-key limiters
	 */
	public record RateLimiterDescriptor(String name, @Nullable String key, boolean created,
			@Nullable String algorithm, @Nullable String rate, @Nullable Double permitsPerSecond,
			@Nullable Long capacity, @Nullable Long available, @Nullable Double utilization, @Nullable String backend,
			@Nullable Boolean distributed, @Nullable Boolean persistent, Map<String, Object> details,
			@Nullable KeysDescriptor keys) implements OperationResponseBody {

	}

	/**
	 * The per-key limiters of a name: their count and bound and, when one limiter is shown, a page
	 * of them.
	 *
	 * @param count live keys
	 * @param maxKeys most live keys before new keys share an overflow limiter
	 * @param offset keys skipped before this page
	 * @param size most keys asked for
	 * @param items the keys of this page, sorted by key
	 */
	public record KeysDescriptor(int count, int maxKeys, @Nullable Integer offset, @Nullable Integer size,
			@Nullable List<KeyDescriptor> items) {

	}

	/**
	 * One key's limiter.
	 *
	 * @param key the key
	 * @param rate its current rate as permits/period
	 * @param available permits that could be taken now
	 * @param utilization share of the capacity in use, from 0 (idle) to 1 (exhausted)
	 */
	public record KeyDescriptor(String key, String rate, long available, double utilization) {

	}

}
