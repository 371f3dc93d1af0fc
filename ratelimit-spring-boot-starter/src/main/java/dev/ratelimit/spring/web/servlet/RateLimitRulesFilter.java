package dev.ratelimit.spring.web.servlet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.expression.BeanResolver;
import org.springframework.expression.ConstructorResolver;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;
import org.springframework.expression.IndexAccessor;
import org.springframework.expression.MethodResolver;
import org.springframework.expression.OperatorOverloader;
import org.springframework.expression.PropertyAccessor;
import org.springframework.expression.TypeComparator;
import org.springframework.expression.TypeConverter;
import org.springframework.expression.TypeLocator;
import org.springframework.expression.TypedValue;
import org.springframework.expression.spel.support.SimpleEvaluationContext;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.RequestPath;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.Decision;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.internal.AllOrNothing;
import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRule;

/**
 * Applies the rules of {@code ratelimit.http.rules} of one phase (before or after Spring
 * Security) to each request, before it reaches a servlet: every rule whose paths, methods and
 * conditions match takes its permits, all of them together or none, and a request without them is
 * answered {@code 429 Too Many Requests} exactly as a denied {@code @RateLimited} call is
 * ({@code Retry-After}, the {@code RateLimit} fields, a problem body). A permitted request carries
 * the {@code RateLimit} fields of the limiters that have them enabled.
 *
 * <p>A rule with {@code count-when} refuses a request only while its limit is spent, and takes
 * its permits after the response, if the condition holds then. Concurrency limiters are released
 * when the response is complete (asynchronous requests included).
 *
 * <p>Expressions see a {@link ServletRequestView}. One that fails on a request (a {@code null}
 * dereferenced, a header that does not convert) is taken the way that limits: the rule applies,
 * the request counts, a key that fails is the shared {@link HttpRule#NULL_KEY}; the first failure
 * of each rule is logged. A key longer than the registry allows is replaced by its SHA-256 digest,
 * so that a client sending a huge header gets its own limit rather than an error. Thread-safe.
 */
public final class RateLimitRulesFilter extends OncePerRequestFilter {

	private static final Log logger = LogFactory.getLog(RateLimitRulesFilter.class);

	private final List<HttpRule> rules;

	/** Per rule, in order: how its key is read. */
	private final KeyReader[] keys;

	/** Shared by every evaluation: accessors and resolvers, never a request's objects. */
	private final SimpleEvaluationContext shared = SimpleEvaluationContext.forReadOnlyDataBinding()
		.withInstanceMethods()
		.build();

	private final RateLimiterRegistry registry;

	private final ClientAddresses addresses;

	private final HandlerExceptionResolver denials;

	private final Predicate<String> headers;

	private final int maxKeyLength;

	private final Map<String, Boolean> warned = new ConcurrentHashMap<>();

	/**
	 * Creates the filter of one phase.
	 * @param rules the rules of the phase, in order
	 * @param registry where the limiters come from
	 * @param addresses how the client address is found
	 * @param denials answers a {@link RateLimitExceededException} (the starter's
	 * {@link RateLimitExceededExceptionResolver})
	 * @param headers whether a limiter's name gets the {@code RateLimit} fields
	 * @param maxKeyLength the longest key the registry takes
	 */
	public RateLimitRulesFilter(List<HttpRule> rules, RateLimiterRegistry registry, ClientAddresses addresses,
			HandlerExceptionResolver denials, Predicate<String> headers, int maxKeyLength) {
		this.rules = List.copyOf(rules);
		this.keys = new KeyReader[this.rules.size()];
		for (int i = 0; i < this.keys.length; i++) {
			this.keys[i] = KeyReader.of(this.rules.get(i).key());
		}
		this.registry = registry;
		this.addresses = addresses;
		this.denials = denials;
		this.headers = headers;
		this.maxKeyLength = maxKeyLength;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		RequestPath path = RequestPath.parse(request.getRequestURI(), request.getContextPath());
		ServletRequestView view = null;
		EvaluationContext context = null;
		List<RateLimiter> limiters = null;
		List<String> names = null;
		List<Long> permits = null;
		List<Counted> counted = null;
		for (int r = 0; r < this.keys.length; r++) {
			HttpRule rule = this.rules.get(r);
			Map<String, String> variables = rule.match(request.getMethod(), path.pathWithinApplication());
			if (variables == null) {
				continue;
			}
			if (view == null) {
				view = new ServletRequestView(request, this.addresses, path.pathWithinApplication().value());
				view.response(response);
			}
			view.pathVariables(variables);
			if (context == null && (rule.when() != null || rule.skip() != null || rule.countWhen() != null
					|| this.keys[r].needsContext())) {
				context = new ViewContext(this.shared, view);
			}
			if (!applies(rule, context)) {
				continue;
			}
			String key = (rule.key() != null) ? key(rule, this.keys[r], view, context) : null;
			for (String name : rule.limiters()) {
				RateLimiter limiter = (key != null) ? this.registry.limiter(name, key) : this.registry.limiter(name);
				if (rule.countWhen() != null) {
					if (counted == null) {
						counted = new ArrayList<>(2);
					}
					counted.add(new Counted(rule, name, limiter));
					continue;
				}
				if (limiters == null) {
					limiters = new ArrayList<>(2);
					names = new ArrayList<>(2);
					permits = new ArrayList<>(2);
				}
				limiters.add(limiter);
				names.add(name);
				permits.add(rule.permits());
			}
		}
		if (view == null || (limiters == null && counted == null)) {
			chain.doFilter(request, response);
			return;
		}
		if (counted != null && refusedWhileSpent(counted, request, response)) {
			return;
		}
		if (limiters != null && !take(limiters, names, permits, request, response)) {
			return;
		}
		boolean failed = true;
		try {
			chain.doFilter(request, response);
			failed = false;
		}
		finally {
			ServletRequestView answered = view;
			EvaluationContext done = context;
			List<RateLimiter> taken = limiters;
			List<Long> took = permits;
			List<Counted> toCount = counted;
			if (failed) {
				answered.failed();
			}
			Runnable completion = () -> complete(answered, done, taken, took, toCount);
			if (!failed && request.isAsyncStarted()) {
				request.getAsyncContext().addListener(new OnComplete(completion));
			}
			else {
				completion.run();
			}
		}
	}

	private boolean applies(HttpRule rule, EvaluationContext context) {
		if (rule.when() != null && !condition(rule, rule.when(), context, true)) {
			return false;
		}
		return rule.skip() == null || !condition(rule, rule.skip(), context, false);
	}

	/** A condition's value; {@code limiting} when it fails, the value that keeps the limit. */
	private boolean condition(HttpRule rule, Expression expression, EvaluationContext context, boolean limiting) {
		try {
			return Boolean.TRUE.equals(expression.getValue(context, Boolean.class));
		}
		catch (RuntimeException ex) {
			failedOnce(rule, expression, ex);
			return limiting;
		}
	}

	private String key(HttpRule rule, KeyReader reader, ServletRequestView view, EvaluationContext context) {
		Object value;
		try {
			value = reader.read(view, context);
		}
		catch (RuntimeException ex) {
			failedOnce(rule, rule.key(), ex);
			value = null;
		}
		if (value == null) {
			return HttpRule.NULL_KEY;
		}
		String key = value.toString();
		return (key.length() <= this.maxKeyLength) ? key : digest(key);
	}

	static String digest(String key) {
		try {
			byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
			return "sha256:" + HexFormat.of().formatHex(hash);
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException("every Java platform has SHA-256", ex);
		}
	}

	private void failedOnce(HttpRule rule, Expression expression, RuntimeException ex) {
		String where = rule.name() + ": " + expression.getExpressionString();
		if (this.warned.size() < 1_000 && this.warned.putIfAbsent(where, Boolean.TRUE) == null) {
			logger.warn("Expression of HTTP rate limit rule " + where + " failed (taken the way that limits; "
					+ "logged once): " + ex.getMessage());
		}
	}

	/** Refuses the request when a counted-after limit has no permits left; takes nothing. */
	private boolean refusedWhileSpent(List<Counted> counted, HttpServletRequest request,
			HttpServletResponse response) {
		for (Counted count : counted) {
			RateLimiter limiter = count.limiter();
			long permits = count.rule().permits();
			if (limiter.snapshot().available() < permits) {
				deny(count.name(), limiter, AllOrNothing.denial(limiter, permits), request, response);
				return true;
			}
		}
		return false;
	}

	/** Takes the permits of all limiters or none; answers 429 and returns false when denied. */
	private boolean take(List<RateLimiter> limiters, List<String> names, List<Long> permits,
			HttpServletRequest request, HttpServletResponse response) {
		if (limiters.size() == 1 && !this.headers.test(names.get(0))) {
			RateLimiter limiter = limiters.get(0);
			long wanted = permits.get(0);
			if (limiter.tryAcquire(wanted)) {
				return true;
			}
			deny(names.get(0), limiter, AllOrNothing.denial(limiter, wanted), request, response);
			return false;
		}
		long[] each = new long[permits.size()];
		boolean anyHeaders = false;
		for (int i = 0; i < each.length; i++) {
			each[i] = permits.get(i);
			anyHeaders |= this.headers.test(names.get(i));
		}
		AllOrNothing.Outcome outcome = AllOrNothing.decide(limiters, each, anyHeaders);
		if (!outcome.permitted()) {
			deny(names.get(outcome.denying()), limiters.get(outcome.denying()), outcome.decision(), request, response);
			return false;
		}
		if (anyHeaders && outcome.each() != null && !response.isCommitted()) {
			var values = ServletRateLimitHeadersListener.values(request);
			for (int i = 0; i < each.length; i++) {
				if (this.headers.test(names.get(i))) {
					values.record(names.get(i), limiters.get(i).limit(), outcome.each()[i]);
				}
			}
			ServletRateLimitHeadersListener.write(values, response);
		}
		return true;
	}

	private void deny(String name, RateLimiter limiter, Decision decision, HttpServletRequest request,
			HttpServletResponse response) {
		RateLimitExceededException exceeded = new RateLimitExceededException(name, limiter.limit(), decision);
		if (this.denials.resolveException(request, response, null, exceeded) == null && !response.isCommitted()) {
			response.setStatus(HttpStatus.TOO_MANY_REQUESTS.value());
		}
	}

	/** After the response: releases concurrency permits and counts what {@code count-when} says. */
	private void complete(ServletRequestView view, EvaluationContext context, @Nullable List<RateLimiter> taken,
			@Nullable List<Long> permits, @Nullable List<Counted> counted) {
		if (taken != null) {
			for (int i = 0; i < taken.size(); i++) {
				if (taken.get(i) instanceof ConcurrencyLimiter concurrency) {
					concurrency.release(permits.get(i));
				}
			}
		}
		if (counted == null) {
			return;
		}
		for (Counted count : counted) {
			if (condition(count.rule(), count.rule().countWhen(), context, true)) {
				RateLimiter limiter = count.limiter();
				long permits0 = count.rule().permits();
				if (!limiter.tryAcquire(permits0)) {
					// spent meanwhile by concurrent requests: what is left goes, so the count is
					// never lost entirely
					long left = Math.min(permits0, limiter.snapshot().available());
					if (left > 0) {
						limiter.tryAcquire(left);
					}
				}
			}
		}
	}

	@Override
	protected boolean shouldNotFilterAsyncDispatch() {
		return true; // permits were taken when the request first came in
	}

	@Override
	protected boolean shouldNotFilterErrorDispatch() {
		return true;
	}

	/**
	 * How a rule's key is read: the common forms ({@code ip}, {@code principal?.name},
	 * {@code header('...')}, {@code pathVariable('...')}) straight from the view, any other through
	 * SpEL.
	 */
	abstract static class KeyReader {

		private static final Pattern CALL = Pattern.compile("(header|pathVariable)\\(\\s*'([^']*)'\\s*\\)");

		abstract @Nullable Object read(ServletRequestView view, @Nullable EvaluationContext context);

		boolean needsContext() {
			return false;
		}

		static KeyReader of(@Nullable Expression key) {
			String text = (key != null) ? key.getExpressionString().trim() : "";
			if (text.equals("ip")) {
				return direct((view) -> view.getIp());
			}
			if (text.equals("principal?.name") || text.equals("#principal?.name")) {
				return direct((view) -> {
					Principal principal = view.getPrincipal();
					return (principal != null) ? principal.getName() : null;
				});
			}
			Matcher call = CALL.matcher(text);
			if (call.matches()) {
				String name = call.group(2);
				return call.group(1).equals("header") ? direct((view) -> view.header(name))
						: direct((view) -> view.pathVariable(name));
			}
			return new KeyReader() {

				@Override
				@Nullable Object read(ServletRequestView view, @Nullable EvaluationContext context) {
					return key.getValue(context);
				}

				@Override
				boolean needsContext() {
					return true;
				}

			};
		}

		private static KeyReader direct(Function<ServletRequestView, @Nullable Object> read) {
			return new KeyReader() {

				@Override
				@Nullable Object read(ServletRequestView view, @Nullable EvaluationContext context) {
					return read.apply(view);
				}

			};
		}

	}

	/**
	 * The context of one request's evaluations: the view as the root object, {@code #request},
	 * {@code #principal} and {@code #response} as variables, everything else from the filter's
	 * shared read-only context (no type references, constructors, bean references or assignment).
	 */
	static final class ViewContext implements EvaluationContext {

		private final EvaluationContext shared;

		private final ServletRequestView view;

		private final TypedValue root;

		ViewContext(EvaluationContext shared, ServletRequestView view) {
			this.shared = shared;
			this.view = view;
			this.root = new TypedValue(view);
		}

		@Override
		public TypedValue getRootObject() {
			return this.root;
		}

		@Override
		public List<PropertyAccessor> getPropertyAccessors() {
			return this.shared.getPropertyAccessors();
		}

		@Override
		public List<IndexAccessor> getIndexAccessors() {
			return this.shared.getIndexAccessors();
		}

		@Override
		public List<ConstructorResolver> getConstructorResolvers() {
			return this.shared.getConstructorResolvers();
		}

		@Override
		public List<MethodResolver> getMethodResolvers() {
			return this.shared.getMethodResolvers();
		}

		@Override
		public @Nullable BeanResolver getBeanResolver() {
			return this.shared.getBeanResolver();
		}

		@Override
		public TypeLocator getTypeLocator() {
			return this.shared.getTypeLocator();
		}

		@Override
		public TypeConverter getTypeConverter() {
			return this.shared.getTypeConverter();
		}

		@Override
		public TypeComparator getTypeComparator() {
			return this.shared.getTypeComparator();
		}

		@Override
		public OperatorOverloader getOperatorOverloader() {
			return this.shared.getOperatorOverloader();
		}

		@Override
		public boolean isAssignmentEnabled() {
			return false;
		}

		@Override
		public void setVariable(String name, @Nullable Object value) {
			throw new UnsupportedOperationException("the expressions of HTTP rules cannot set variables");
		}

		@Override
		public @Nullable Object lookupVariable(String name) {
			return switch (name) {
				case "request" -> this.view.getRequest();
				case "principal" -> this.view.getPrincipal();
				case "response" -> this.view.response();
				default -> null;
			};
		}

	}

	/** A limit counted after the response. */
	private record Counted(HttpRule rule, String name, RateLimiter limiter) {
	}

	/** Runs the completion once when an asynchronous request ends, however it ends. */
	private static final class OnComplete implements AsyncListener {

		private final Runnable completion;

		private boolean done;

		OnComplete(Runnable completion) {
			this.completion = completion;
		}

		@Override
		public void onComplete(AsyncEvent event) {
			run();
		}

		@Override
		public void onTimeout(AsyncEvent event) {
		}

		@Override
		public void onError(AsyncEvent event) {
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
			event.getAsyncContext().addListener(this); // a nested start: keep listening
		}

		private void run() {
			if (!this.done) {
				this.done = true;
				this.completion.run();
			}
		}

	}

}
