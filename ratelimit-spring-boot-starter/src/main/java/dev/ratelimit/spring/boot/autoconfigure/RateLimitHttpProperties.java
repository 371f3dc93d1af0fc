package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.ratelimit.spring.web.ClientAddresses;

/**
 * Limits on HTTP requests written in configuration, under {@code ratelimit.http}: rules that a
 * servlet filter applies before the request reaches a controller. Immutable; checked at start-up,
 * where a bad value stops the application with a message that names the property.
 */
@ConfigurationProperties("ratelimit.http")
public class RateLimitHttpProperties {

	/**
	 * Proxies whose forwarding headers (Forwarded, X-Forwarded-For) are believed when finding the
	 * client address: IP addresses and CIDR ranges, for example 10.0.0.0/8 or ::1. The headers of
	 * any other peer are ignored.
	 */
	private final List<String> trustedProxies;

	/**
	 * The header the trusted proxies write, the only one read: x-forwarded-for or forwarded. A
	 * proxy that appends to one passes the other through as the client sent it.
	 */
	private final ClientAddresses.Header forwardedHeader;

	/**
	 * The rules, in order. Every rule that matches a request applies; the limits of the rules of
	 * one phase are taken together or not at all.
	 */
	private final List<Rule> rules;

	public RateLimitHttpProperties(List<String> trustedProxies,
			@DefaultValue("x-forwarded-for") ClientAddresses.Header forwardedHeader, List<Rule> rules) {
		this.trustedProxies = (trustedProxies != null) ? List.copyOf(trustedProxies) : List.of();
		this.forwardedHeader = forwardedHeader;
		this.rules = (rules != null) ? List.copyOf(rules) : List.of();
	}

	public List<String> getTrustedProxies() {
		return this.trustedProxies;
	}

	public ClientAddresses.Header getForwardedHeader() {
		return this.forwardedHeader;
	}

	public List<Rule> getRules() {
		return this.rules;
	}

	/**
	 * When a rule runs relative to Spring Security's filter chain.
	 */
	public enum Phase {

		/**
		 * Before authentication: no principal yet; refuses floods before any authentication
		 * work is done.
		 */
		BEFORE_SECURITY,

		/**
		 * After authentication, so that the key and conditions can use the principal.
		 */
		AFTER_SECURITY

	}

	/**
	 * One rule: which requests, which limiters, which key.
	 */
	public static class Rule {

		/**
		 * Name of the rule in logs and errors. Defaults to its position, rules[0] and so on.
		 */
		private final String name;

		/**
		 * Path patterns (Spring PathPattern syntax, for example /api/** or /tenants/{tenant}/**)
		 * matched against the path within the application. Every path when empty.
		 */
		private final List<String> paths;

		/**
		 * HTTP methods the rule applies to. Every method when empty.
		 */
		private final List<String> methods;

		/**
		 * Limiters the rule takes permits from, declared under ratelimit.limiters (or given the
		 * default limit). Several are taken together or not at all.
		 */
		private final List<String> limiters;

		/**
		 * SpEL expression giving the key, so that each key has its own limit: ip (the client
		 * address), principal?.name, header('X-Api-Key'), pathVariable('tenant'), or any
		 * expression over these and #request. One limit for all requests when not set.
		 */
		private final String key;

		/**
		 * Permits a request takes from each limiter.
		 */
		private final long permits;

		/**
		 * SpEL condition: the rule applies only to requests for which it is true, for example
		 * header('X-Plan') == 'free'.
		 */
		private final String when;

		/**
		 * SpEL condition: requests for which it is true are not limited by this rule, for
		 * example ip == '10.1.2.3' or path.startsWith('/internal/').
		 */
		private final String skip;

		/**
		 * SpEL condition over the response: when set, a request is counted after it was answered
		 * and only if true (for example status == 401, to slow password guessing; status >= 500),
		 * and refused beforehand only while the limit is spent.
		 */
		private final String countWhen;

		/**
		 * Whether the rule runs before or after Spring Security's filters. Defaults to after
		 * when its key or a condition mentions the principal, before otherwise.
		 */
		private final Phase phase;

		/**
		 * Priority class of the rule's requests, for its limiters with priority classes. Their
		 * default class unless set.
		 */
		private final String priority;

		/**
		 * SpEL expression over the request that gives each request's priority class, for example
		 * header('X-Priority'); a value that names no class of a limiter gives the rule's priority,
		 * or the limiter's default class.
		 */
		private final String priorityExpression;

		public Rule(String name, List<String> paths, List<String> methods, List<String> limiters, String key,
				@DefaultValue("1") long permits, String when, String skip, String countWhen, Phase phase,
				String priority, String priorityExpression) {
			this.priority = priority;
			this.priorityExpression = priorityExpression;
			this.name = name;
			this.paths = (paths != null) ? List.copyOf(paths) : List.of();
			this.methods = (methods != null) ? List.copyOf(methods) : List.of();
			this.limiters = (limiters != null) ? List.copyOf(limiters) : List.of();
			this.key = key;
			this.permits = permits;
			this.when = when;
			this.skip = skip;
			this.countWhen = countWhen;
			this.phase = phase;
		}

		public String getName() {
			return this.name;
		}

		public String getPriority() {
			return this.priority;
		}

		public String getPriorityExpression() {
			return this.priorityExpression;
		}

		public List<String> getPaths() {
			return this.paths;
		}

		public List<String> getMethods() {
			return this.methods;
		}

		public List<String> getLimiters() {
			return this.limiters;
		}

		public String getKey() {
			return this.key;
		}

		public long getPermits() {
			return this.permits;
		}

		public String getWhen() {
			return this.when;
		}

		public String getSkip() {
			return this.skip;
		}

		public String getCountWhen() {
			return this.countWhen;
		}

		public Phase getPhase() {
			return this.phase;
		}

	}

}
