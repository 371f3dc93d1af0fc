package dev.ratelimit.spring.web;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.expression.Expression;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;

/**
 * One HTTP rule, checked and parsed: which requests it applies to, the limiters it takes permits
 * from, the key, and its conditions. Made from {@code ratelimit.http.rules} at start-up; immutable
 * and thread-safe.
 *
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
public record HttpRule(String name, List<PathPattern> patterns, Set<String> methods, List<String> limiters,
		@Nullable Expression key, long permits, @Nullable Expression when, @Nullable Expression skip,
		@Nullable Expression countWhen, boolean afterSecurity) {

	/** The key under which requests whose key expression gives {@code null} share a limit. */
	public static final String NULL_KEY = "(none)";

	public HttpRule {
		Objects.requireNonNull(name, "name");
		patterns = List.copyOf(patterns);
		methods = Set.copyOf(methods);
		limiters = List.copyOf(limiters);
		if (limiters.isEmpty()) {
			throw new IllegalArgumentException("a rule needs at least one limiter");
		}
		if (permits < 1) {
			throw new IllegalArgumentException("permits must be at least 1");
		}
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

}
