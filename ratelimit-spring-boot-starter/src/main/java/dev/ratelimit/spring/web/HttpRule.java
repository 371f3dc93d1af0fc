package dev.ratelimit.spring.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.expression.Expression;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;

/**
 * One HTTP rule, checked and parsed: which requests it applies to, the limiters it takes permits
 * from, the key, and its conditions, and how they are evaluated on a request. Made from
 * {@code ratelimit.http.rules} at start-up; immutable apart from the record of which expressions
 * failed (for logging once), and thread-safe.
 *
 * <p>An expression that fails on a request (a {@code null} dereferenced, a header that does not
 * convert) is taken the way that limits: the rule applies, the request counts, the key is the
 * shared {@link #NULL_KEY}. The first failure of each expression is logged.
 */
public final class HttpRule {

	/** The key under which requests whose key expression gives {@code null} share a limit. */
	public static final String NULL_KEY = "(none)";

	private static final Log logger = LogFactory.getLog(HttpRule.class);

	private static final Pattern CALL = Pattern.compile("(header|pathVariable)\\(\\s*'([^']*)'\\s*\\)");

	private final String name;

	private final List<PathPattern> patterns;

	private final Set<String> methods;

	private final List<String> limiters;

	private final @Nullable Expression key;

	private final long permits;

	private final @Nullable Expression when;

	private final @Nullable Expression skip;

	private final @Nullable Expression countWhen;

	private final boolean afterSecurity;

	private final @Nullable Function<HttpRequestView, @Nullable Object> directKey;

	private final boolean readsPrincipal;

	private final Map<String, Boolean> failed = new ConcurrentHashMap<>();

	private final Map<String, List<String>> prioritized;

	private final @Nullable String priority;

	private final @Nullable Expression priorityExpression;

	/**
	 * Creates a rule.
	 * @param name the rule's name in logs and errors
	 * @param patterns the path patterns, any of which matches; every path when empty
	 * @param methods the HTTP methods, upper case; every method when empty
	 * @param limiters the limiter names, taken together or not at all
	 * @param key the key expression, or {@code null} for one limit shared by all requests
	 * @param permits the permits a request takes from each limiter
	 * @param when the condition for the rule to apply, or {@code null}
	 * @param skip the condition for the rule not to apply, or {@code null}
	 * @param countWhen the condition on the response for a request to be counted after it was
	 * answered, or {@code null} to take permits before
	 * @param afterSecurity whether the rule runs after Spring Security's filters
	 */
	public HttpRule(String name, List<PathPattern> patterns, Set<String> methods, List<String> limiters,
			@Nullable Expression key, long permits, @Nullable Expression when, @Nullable Expression skip,
			@Nullable Expression countWhen, boolean afterSecurity) {
		this(name, patterns, methods, limiters, key, permits, when, skip, countWhen, afterSecurity, Map.of(), null,
				null);
	}

	/**
	 * Creates a rule whose requests take some of its limiters at a priority class.
	 * @param name the rule's name, for logs and errors
	 * @param patterns the paths it matches
	 * @param methods the HTTP methods it matches, empty for all
	 * @param limiters the limiters it takes permits from
	 * @param key the key expression, or {@code null} for one limiter per name
	 * @param permits permits per request
	 * @param when the condition for the rule to apply, or {@code null}
	 * @param skip the condition for the rule not to apply, or {@code null}
	 * @param countWhen the condition on the response for a request to be counted after it was
	 * answered, or {@code null} to take permits before
	 * @param afterSecurity whether the rule runs after Spring Security's filters
	 * @param prioritized the classes of each limiter among {@code limiters} that has priority classes
	 * @param priority the class the requests take them at, or {@code null} for their default
	 * @param priorityExpression what gives each request's class, or {@code null} for the fixed one
	 */
	public HttpRule(String name, List<PathPattern> patterns, Set<String> methods, List<String> limiters,
			@Nullable Expression key, long permits, @Nullable Expression when, @Nullable Expression skip,
			@Nullable Expression countWhen, boolean afterSecurity, Map<String, List<String>> prioritized,
			@Nullable String priority, @Nullable Expression priorityExpression) {
		this.prioritized = Map.copyOf(prioritized);
		this.priority = priority;
		this.priorityExpression = priorityExpression;
		this.name = Objects.requireNonNull(name, "name");
		this.patterns = List.copyOf(patterns);
		this.methods = Set.copyOf(methods);
		this.limiters = List.copyOf(limiters);
		if (this.limiters.isEmpty()) {
			throw new IllegalArgumentException("a rule needs at least one limiter");
		}
		if (permits < 1) {
			throw new IllegalArgumentException("permits must be at least 1");
		}
		this.key = key;
		this.permits = permits;
		this.when = when;
		this.skip = skip;
		this.countWhen = countWhen;
		this.afterSecurity = afterSecurity;
		this.directKey = direct(key);
		this.readsPrincipal = mentions("principal", key, when, skip, countWhen, priorityExpression);
	}

	/**
	 * Returns the priority class this rule's requests take a limiter at.
	 * @param limiter one of the rule's limiters
	 * @return the class, or {@code null} for the limiter's default (or a limiter without classes)
	 */
	public @Nullable String priorityOf(String limiter) {
		return (this.priority != null && this.prioritized.containsKey(limiter)) ? this.priority : null;
	}

	/**
	 * Returns whether an expression chooses the class each request takes a limiter at.
	 * @param limiter one of the rule's limiters
	 * @return {@code true} for a limiter with classes and a rule with a priority expression
	 */
	public boolean choosesPriorityOf(String limiter) {
		return this.priorityExpression != null && this.prioritized.containsKey(limiter);
	}

	/**
	 * Returns the priority classes of one of the rule's limiters.
	 * @param limiter one of the rule's limiters
	 * @return its classes, most important first; empty for a limiter without classes
	 */
	public List<String> classesOf(String limiter) {
		return this.prioritized.getOrDefault(limiter, List.of());
	}

	/**
	 * Returns the priority class a request takes a limiter at: the one its expression gives, when
	 * that is one of the limiter's classes; otherwise the rule's fixed class, or {@code null} for the
	 * limiter's default. A value from the client that names no class, or a failing expression, never
	 * opens a class it did not name.
	 * @param limiter one of the rule's limiters
	 * @param view the request
	 * @return the class, or {@code null} for the limiter's default (or a limiter without classes)
	 */
	public @Nullable String priorityOf(String limiter, HttpRequestView view) {
		List<String> classes = this.prioritized.get(limiter);
		if (classes == null) {
			return null;
		}
		if (this.priorityExpression != null) {
			Object value;
			try {
				value = this.priorityExpression.getValue(view.context());
			}
			catch (RuntimeException ex) {
				failedOnce(this.priorityExpression, ex);
				value = null;
			}
			if (value != null) {
				String named = value.toString();
				for (String priorityClass : classes) {
					if (priorityClass.equals(named)) {
						return priorityClass;
					}
				}
			}
		}
		return this.priority;
	}

	/**
	 * Returns whether any of the expressions mentions a word, such as {@code principal}.
	 * @param word the word
	 * @param expressions the expressions, {@code null} ones ignored
	 * @return whether one mentions it
	 */
	public static boolean mentions(String word, @Nullable Expression... expressions) {
		for (Expression expression : expressions) {
			if (expression != null && expression.getExpressionString().contains(word)) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The common key forms read straight from the view, without SpEL: {@code ip},
	 * {@code principal?.name}, {@code header('...')}, {@code pathVariable('...')}.
	 */
	private static @Nullable Function<HttpRequestView, @Nullable Object> direct(@Nullable Expression key) {
		String text = (key != null) ? key.getExpressionString().trim() : "";
		if (text.equals("ip")) {
			return HttpRequestView::getIp;
		}
		if (text.equals("principal?.name") || text.equals("#principal?.name")) {
			return (view) -> {
				Principal principal = view.getPrincipal();
				return (principal != null) ? principal.getName() : null;
			};
		}
		Matcher call = CALL.matcher(text);
		if (call.matches()) {
			String argument = call.group(2);
			return call.group(1).equals("header") ? (view) -> view.header(argument)
					: (view) -> view.pathVariable(argument);
		}
		return null;
	}

	/**
	 * Returns the path variables of a request the rule's paths and method match.
	 * @param method the request's method
	 * @param path the path within the application
	 * @return the variables (empty when the rule has no patterns), or {@code null} when the rule
	 * does not match
	 */
	public @Nullable Map<String, String> match(String method, PathContainer path) {
		if (!this.methods.isEmpty() && !this.methods.contains(method.toUpperCase(Locale.ROOT))) {
			return null;
		}
		if (this.patterns.isEmpty()) {
			return Map.of();
		}
		for (PathPattern pattern : this.patterns) {
			PathPattern.PathMatchInfo info = pattern.matchAndExtract(path);
			if (info != null) {
				return info.getUriVariables();
			}
		}
		return null;
	}

	/**
	 * Returns whether the rule applies to a request its paths and method matched: {@code when}
	 * holds and {@code skip} does not.
	 * @param view the request
	 * @param variables the path variables {@link #match} gave
	 * @return whether it applies
	 */
	public boolean applies(HttpRequestView view, Map<String, String> variables) {
		view.pathVariables(variables);
		if (this.when != null && !condition(this.when, view, true)) {
			return false;
		}
		return this.skip == null || !condition(this.skip, view, false);
	}

	/**
	 * Returns the request's key, after {@link #applies}.
	 * @param view the request
	 * @param maxKeyLength the longest key the registry takes; a longer one is replaced by its
	 * SHA-256 digest ({@code sha256:<hex>}), so that each still has its own limit
	 * @return the key, {@link #NULL_KEY} for a {@code null} one, or {@code null} when the rule has
	 * no key
	 */
	public @Nullable String key(HttpRequestView view, int maxKeyLength) {
		if (this.key == null) {
			return null;
		}
		Object value;
		try {
			value = (this.directKey != null) ? this.directKey.apply(view) : this.key.getValue(view.context());
		}
		catch (RuntimeException ex) {
			failedOnce(this.key, ex);
			value = null;
		}
		if (value == null) {
			return NULL_KEY;
		}
		String text = value.toString();
		return (text.length() <= maxKeyLength) ? text : digest(text, maxKeyLength);
	}

	/**
	 * Returns whether a request is counted after its response, by {@code count-when}.
	 * @param view the request, answered
	 * @param variables the path variables of this rule's match
	 * @return whether it counts
	 */
	public boolean counts(HttpRequestView view, Map<String, String> variables) {
		view.pathVariables(variables);
		return this.countWhen != null && condition(this.countWhen, view, true);
	}

	/**
	 * Returns the digest a key too long for the registry is replaced by, cut to the registry's
	 * bound when that is shorter than the digest.
	 * @param key the key
	 * @param maxKeyLength the longest key the registry takes
	 * @return {@code sha256:} and the digest in hexadecimal, at most {@code maxKeyLength}
	 * characters
	 */
	public static String digest(String key, int maxKeyLength) {
		String digest = digest(key);
		return (digest.length() <= maxKeyLength) ? digest : digest.substring(0, maxKeyLength);
	}

	/**
	 * Returns the digest a key too long for the registry is replaced by.
	 * @param key the key
	 * @return {@code sha256:} and the digest in hexadecimal
	 */
	public static String digest(String key) {
		try {
			byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
			return "sha256:" + HexFormat.of().formatHex(hash);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("every Java platform has SHA-256", ex);
		}
	}

	/** A condition's value; {@code limiting} when it fails, the value that keeps the limit. */
	private boolean condition(Expression expression, HttpRequestView view, boolean limiting) {
		try {
			return Boolean.TRUE.equals(expression.getValue(view.context(), Boolean.class));
		}
		catch (RuntimeException ex) {
			failedOnce(expression, ex);
			return limiting;
		}
	}

	private void failedOnce(Expression expression, RuntimeException ex) {
		if (this.failed.putIfAbsent(expression.getExpressionString(), Boolean.TRUE) == null) {
			logger.warn("Expression '" + expression.getExpressionString() + "' of HTTP rate limit rule " + this.name
					+ " failed on a request; taken the way that limits (logged once): " + ex.getMessage());
		}
	}

	/**
	 * Returns the rule's name in logs and errors.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Returns the limiter names, taken together or not at all.
	 * @return the names
	 */
	public List<String> limiters() {
		return this.limiters;
	}

	/**
	 * Returns the permits a request takes from each limiter.
	 * @return the permits
	 */
	public long permits() {
		return this.permits;
	}

	/**
	 * Returns the HTTP methods the rule applies to.
	 * @return the methods, upper case; empty for every method
	 */
	public Set<String> methods() {
		return this.methods;
	}

	/**
	 * Returns whether the rule has a key.
	 * @return {@code true} when each key has its own limit
	 */
	public boolean isKeyed() {
		return this.key != null;
	}

	/**
	 * Returns whether requests are counted after their response ({@code count-when}).
	 * @return {@code true} when they are
	 */
	public boolean isCountedAfter() {
		return this.countWhen != null;
	}

	/**
	 * Returns whether the key or a condition reads the principal.
	 * @return {@code true} when one does
	 */
	public boolean readsPrincipal() {
		return this.readsPrincipal;
	}

	/**
	 * Returns whether the rule runs after Spring Security's filters.
	 * @return {@code true} after, {@code false} before
	 */
	public boolean afterSecurity() {
		return this.afterSecurity;
	}

	@Override
	public String toString() {
		return "HttpRule[" + this.name + " -> " + this.limiters + "]";
	}

}
