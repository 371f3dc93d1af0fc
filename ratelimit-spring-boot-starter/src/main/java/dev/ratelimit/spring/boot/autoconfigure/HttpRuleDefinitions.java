package dev.ratelimit.spring.boot.autoconfigure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelCompilerMode;
import org.springframework.expression.spel.SpelParserConfiguration;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.StringUtils;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import org.springframework.web.util.pattern.PatternParseException;

import dev.ratelimit.Algorithm;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitHttpProperties.Phase;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.LimiterDefinitions.Definition;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRule;

/**
 * Checks {@code ratelimit.http} and makes its rules: every pattern, limiter name, expression and
 * proxy address is checked at start-up, and the first bad one stops the application with an
 * {@link InvalidRateLimitConfigurationException} that names the property and the fix.
 *
 * @param rules the rules, in order
 * @param addresses how client addresses are found
 */
public record HttpRuleDefinitions(List<HttpRule> rules, ClientAddresses addresses) {

	/** Expressions are compiled to bytecode once they have run a few times, where SpEL can. */
	private static final SpelExpressionParser PARSER = new SpelExpressionParser(
			new SpelParserConfiguration(SpelCompilerMode.MIXED, HttpRuleDefinitions.class.getClassLoader()));

	private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
			"TRACE");

	/**
	 * Checks and makes the rules.
	 * @param properties the properties
	 * @param limiters the declared limiters
	 * @return the rules
	 * @throws InvalidRateLimitConfigurationException for the first bad value
	 */
	public static HttpRuleDefinitions of(RateLimitHttpProperties properties, LimiterDefinitions limiters) {
		ClientAddresses addresses;
		List<String> proxies = properties.getTrustedProxies();
		for (int i = 0; i < proxies.size(); i++) {
			try {
				ClientAddresses.trusting(List.of(proxies.get(i)));
			}
			catch (IllegalArgumentException ex) {
				throw new InvalidRateLimitConfigurationException("ratelimit.http.trusted-proxies[" + i + "]",
						proxies.get(i), ex.getMessage(),
						"Give an IP address literal (10.0.0.7, ::1) or a range (10.0.0.0/8, fd00::/8); host names are "
								+ "not looked up.");
			}
		}
		addresses = ClientAddresses.trusting(proxies, properties.getForwardedHeader());
		List<HttpRule> rules = new ArrayList<>();
		for (int i = 0; i < properties.getRules().size(); i++) {
			rules.add(rule(properties.getRules().get(i), "ratelimit.http.rules[" + i + "]", i, limiters));
		}
		return new HttpRuleDefinitions(List.copyOf(rules), addresses);
	}

	/**
	 * Returns the rules of one phase.
	 * @param afterSecurity whether the rules after Spring Security's filters are wanted
	 * @return those rules, in order
	 */
	public List<HttpRule> phase(boolean afterSecurity) {
		return this.rules.stream().filter((rule) -> rule.afterSecurity() == afterSecurity).toList();
	}

	/**
	 * Tells the registry how many permits each rule's requests take from each limiter, so that a
	 * runtime rule no request could then fit is refused: at the rule's class, the limiter's
	 * default class, or, when an expression chooses, every class.
	 * @param registry the registry of the rules' limiters
	 * @return these definitions
	 */
	public HttpRuleDefinitions declared(RateLimiterRegistry registry) {
		for (HttpRule rule : this.rules) {
			for (String limiter : rule.limiters()) {
				if (rule.choosesPriorityOf(limiter)) {
					for (String priorityClass : rule.classesOf(limiter)) {
						registry.declarePermits(limiter, priorityClass, rule.permits());
					}
				}
				else {
					registry.declarePermits(limiter, rule.priorityOf(limiter), rule.permits());
				}
			}
		}
		return this;
	}

	private static HttpRule rule(RateLimitHttpProperties.Rule rule, String prefix, int index,
			LimiterDefinitions limiters) {
		String name = StringUtils.hasText(rule.getName()) ? rule.getName() : "rules[" + index + "]";
		List<PathPattern> patterns = new ArrayList<>();
		for (int j = 0; j < rule.getPaths().size(); j++) {
			String path = rule.getPaths().get(j);
			if (!path.startsWith("/")) {
				throw new InvalidRateLimitConfigurationException(prefix + ".paths[" + j + "]", path,
						"a path pattern must start with /, or it never matches", "Write /" + path + ".");
			}
			try {
				patterns.add(PathPatternParser.defaultInstance.parse(path));
			}
			catch (PatternParseException ex) {
				throw new InvalidRateLimitConfigurationException(prefix + ".paths[" + j + "]", path,
						"the path pattern does not parse: " + ex.toDetailedString().replace('\n', ' '),
						"Write a Spring PathPattern, for example /api/** or /tenants/{tenant}/orders; ** only at "
								+ "the end.");
			}
		}
		Set<String> methods = new LinkedHashSet<>();
		for (int j = 0; j < rule.getMethods().size(); j++) {
			String method = rule.getMethods().get(j).trim().toUpperCase(Locale.ROOT);
			if (!METHODS.contains(method)) {
				throw new InvalidRateLimitConfigurationException(prefix + ".methods[" + j + "]",
						rule.getMethods().get(j), "not an HTTP method", "Use one of " + METHODS + ".");
			}
			methods.add(method);
		}
		if (methods.contains("GET")) {
			methods.add("HEAD"); // Spring MVC and WebFlux answer HEAD with the GET handler
		}
		Expression key = expression(rule.getKey(), prefix + ".key",
				"for example ip, principal?.name, header('X-Api-Key') or pathVariable('tenant')");
		if (rule.getLimiters().isEmpty()) {
			throw new InvalidRateLimitConfigurationException(prefix + ".limiters", null,
					"the rule names no limiter", "Name at least one limiter declared under ratelimit.limiters, "
							+ "for example " + prefix + ".limiters=api.");
		}
		if (rule.getPermits() < 1) {
			throw new InvalidRateLimitConfigurationException(prefix + ".permits", rule.getPermits(),
					"permits must be at least 1", "Set permits to 1 or more.");
		}
		Expression countWhen = expression(rule.getCountWhen(), prefix + ".count-when",
				"for example status == 401 or status >= 500");
		for (int j = 0; j < rule.getLimiters().size(); j++) {
			checkLimiter(rule, rule.getLimiters().get(j), prefix + ".limiters[" + j + "]", key != null,
					countWhen != null, limiters);
		}
		Expression when = expression(rule.getWhen(), prefix + ".when", "for example header('X-Plan') == 'free'");
		Expression skip = expression(rule.getSkip(), prefix + ".skip", "for example path.startsWith('/internal/')");
		Expression priorityExpression = expression(rule.getPriorityExpression(), prefix + ".priority-expression",
				"for example header('X-Priority')");
		boolean readsPrincipal = HttpRule.mentions("principal", key, when, skip, countWhen, priorityExpression);
		if (rule.getPhase() == Phase.BEFORE_SECURITY && readsPrincipal) {
			throw new InvalidRateLimitConfigurationException(prefix + ".phase", "before-security",
					"the rule reads the principal, which is never there before Spring Security has run: every "
							+ "request would be anonymous",
					"Remove phase (a rule that reads the principal runs after security), or set it to after-security.");
		}
		boolean afterSecurity = (rule.getPhase() != null) ? rule.getPhase() == Phase.AFTER_SECURITY : readsPrincipal;
		Map<String, List<String>> prioritized = new LinkedHashMap<>();
		for (String limiter : rule.getLimiters()) {
			Definition definition = limiters.find(limiter);
			if (definition != null && definition.priority() != null) {
				prioritized.put(limiter, definition.priority().priorities().classes());
				if (priorityExpression != null) {
					// any class may come out: every one must hold a request's permits
					for (String priorityClass : definition.priority().priorities().classes()) {
						if (rule.getPermits() > limiters.capacityOf(limiter, priorityClass)) {
							throw new InvalidRateLimitConfigurationException(prefix + ".permits", rule.getPermits(),
									"the rule takes " + rule.getPermits() + " permits, more than priority class '"
											+ priorityClass + "' of limiter '" + limiter + "' can take at once ("
											+ limiters.capacityOf(limiter, priorityClass)
											+ "), and the priority expression may choose it",
									"Lower the rule's permits, or raise the capacity of ratelimit.limiters." + limiter + ".");
						}
					}
				}
				if (rule.getPriority() != null && !definition.priority().priorities().classes().contains(rule.getPriority())) {
					throw new InvalidRateLimitConfigurationException(prefix + ".priority", rule.getPriority(),
							"limiter '" + limiter + "' has no priority class '" + rule.getPriority() + "'",
							"Use one of " + definition.priority().priorities().classes() + ".");
				}
			}
		}
		if (priorityExpression != null && prioritized.isEmpty()) {
			throw new InvalidRateLimitConfigurationException(prefix + ".priority-expression",
					rule.getPriorityExpression(), "none of the rule's limiters has priority classes",
					"Declare them, for example ratelimit.limiters." + rule.getLimiters().get(0)
							+ ".priority.classes=critical,normal,batch, or remove " + prefix + ".priority-expression.");
		}
		if (rule.getPriority() != null && prioritized.isEmpty()) {
			throw new InvalidRateLimitConfigurationException(prefix + ".priority", rule.getPriority(),
					"none of the rule's limiters has priority classes",
					"Declare them, for example ratelimit.limiters." + rule.getLimiters().get(0)
							+ ".priority.classes=critical,normal,batch, or remove " + prefix + ".priority.");
		}
		return new HttpRule(name, patterns, methods, rule.getLimiters(), key, rule.getPermits(), when, skip,
				countWhen, afterSecurity, prioritized, rule.getPriority(), priorityExpression);
	}

	private static void checkLimiter(RateLimitHttpProperties.Rule rule, String name, String property, boolean keyed,
			boolean counted, LimiterDefinitions limiters) {
		Definition definition = limiters.find(name);
		if (definition == null) {
			throw new InvalidRateLimitConfigurationException(property, name,
					"no limiter named '" + name + "' is declared and ratelimit.defaults.rate is not set",
					"Declare it, for example ratelimit.limiters." + name + ".rate=100/1s, or set "
							+ "ratelimit.defaults.rate to give undeclared names a default limit.");
		}
		if (keyed && definition.priority() != null) {
			throw new InvalidRateLimitConfigurationException(property, name,
					"limiter '" + name + "' is divided among priority classes and has no per-key limiters, so a rule "
							+ "with a key cannot use it",
					"Remove the rule's key, or name a limiter without priority classes.");
		}
		if (!keyed && definition.tiers().stream().anyMatch((tier) -> tier.perKey())) {
			throw new InvalidRateLimitConfigurationException(property, name,
					"limiter '" + name + "' has per-key tiers, so the rule needs a key",
					"Add a key to the rule, for example key: ip.");
		}
		if (definition.priority() != null && rule.getPriority() != null
				&& !definition.priority().priorities().classes().contains(rule.getPriority())) {
			return; // an unknown class: reported as such once every limiter of the rule is checked
		}
		// a limiter with priority classes: what one call of the class the rule takes can take
		String priority = (definition.priority() == null) ? null
				: (rule.getPriority() != null) ? rule.getPriority() : definition.priority().defaultClass();
		long capacity = (priority != null) ? limiters.capacityOf(name, priority) : limiters.capacityOf(name);
		if (rule.getPermits() > capacity) {
			throw new InvalidRateLimitConfigurationException(property, name,
					"the rule takes " + rule.getPermits() + " permits, more than "
							+ ((priority != null) ? "priority class '" + priority + "' of limiter '" + name
									+ "' can take at once (" : "limiter '" + name + "' can ever hold (")
							+ capacity + "), so every request would be refused",
					"Lower the rule's permits, or raise the capacity of ratelimit.limiters." + name
							+ " (of its smallest tier for a composite).");
		}
		if (counted && definition.limit() != null && definition.limit().algorithm() == Algorithm.CONCURRENCY) {
			throw new InvalidRateLimitConfigurationException(property, name,
					"a concurrency limit cannot be counted after the response (count-when): it holds permits while "
							+ "a request runs",
					"Use a rate limit (token-bucket or a window) for count-when, or remove count-when.");
		}
	}

	private static @Nullable Expression expression(@Nullable String text, String property, String example) {
		if (!StringUtils.hasText(text)) {
			return null;
		}
		try {
			return PARSER.parseExpression(text);
		}
		catch (ParseException ex) {
			throw new InvalidRateLimitConfigurationException(property, text,
					"the expression does not parse: " + ex.getMessage(),
					"Write a SpEL expression over the request, " + example + ".");
		}
	}

}
