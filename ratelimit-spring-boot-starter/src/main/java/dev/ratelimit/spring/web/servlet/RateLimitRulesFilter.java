package dev.ratelimit.spring.web.servlet;

import java.io.IOException;
import java.util.List;
import java.util.function.Predicate;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatus;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.RequestPath;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.observation.RateLimitObservations;
import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRule;
import dev.ratelimit.spring.web.HttpRulePlan;
import dev.ratelimit.spring.web.RateLimitHeaderValues;

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
 * <p>Expressions see a {@link ServletRequestView}; how they are evaluated, and what a failing one
 * or an overlong key does, is {@link HttpRule}'s. Thread-safe.
 */
public final class RateLimitRulesFilter extends OncePerRequestFilter {

	private final List<HttpRule> rules;

	private final RateLimiterRegistry registry;

	private final ClientAddresses addresses;

	private final HandlerExceptionResolver denials;

	private final Predicate<String> headers;

	private final int maxKeyLength;

	private volatile @Nullable RateLimitObservations observations;

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
		this.registry = registry;
		this.addresses = addresses;
		this.denials = denials;
		this.headers = headers;
		this.maxKeyLength = maxKeyLength;
	}

	/**
	 * Records an observation of each request's acquisition from now on.
	 * @param observations the observations, or {@code null} for none
	 */
	public void setObservations(@Nullable RateLimitObservations observations) {
		this.observations = observations;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		if (this.rules.isEmpty()) {
			chain.doFilter(request, response);
			return;
		}
		PathContainer path = RequestPath.parse(request.getRequestURI(), request.getContextPath())
			.pathWithinApplication();
		ServletRequestView view = new ServletRequestView(request, response, this.addresses, path);
		HttpRulePlan plan = HttpRulePlan.of(this.rules, request.getMethod(), path, view, this.registry,
				this.maxKeyLength);
		if (plan == null) {
			chain.doFilter(request, response);
			return;
		}
		RateLimitExceededException refused = plan.take(this.headers,
				() -> ServletRateLimitHeadersListener.values(request), this.observations, null);
		if (refused != null) {
			if (this.denials.resolveException(request, response, null, refused) == null && !response.isCommitted()) {
				response.setStatus(HttpStatus.TOO_MANY_REQUESTS.value());
			}
			return;
		}
		if (request.getAttribute(ServletRateLimitHeadersListener.VALUES_ATTRIBUTE) instanceof RateLimitHeaderValues values
				&& !response.isCommitted()) {
			ServletRateLimitHeadersListener.write(values, response);
		}
		if (!plan.hasCompletion()) {
			chain.doFilter(request, response);
			return;
		}
		try {
			chain.doFilter(request, response);
		}
		catch (IOException | ServletException | RuntimeException | Error ex) {
			view.failed(ex);
			plan.complete();
			throw ex;
		}
		if (request.isAsyncStarted()) {
			request.getAsyncContext().addListener(new OnComplete(plan::complete));
		}
		else {
			plan.complete();
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
