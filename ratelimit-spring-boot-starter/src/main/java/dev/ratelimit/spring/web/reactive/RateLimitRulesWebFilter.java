package dev.ratelimit.spring.web.reactive;

import java.security.Principal;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;

import org.springframework.core.Ordered;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.observation.RateLimitObservations;
import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRule;
import dev.ratelimit.spring.web.HttpRulePlan;

/**
 * Applies the rules of {@code ratelimit.http.rules} of one phase (before or after Spring
 * Security's {@code WebFilterChainProxy}) to each exchange, before it reaches a handler: every rule
 * whose paths, methods and conditions match takes its permits, all of them together or none. A
 * refused exchange fails with a {@link RateLimitExceededException}, which
 * {@link RateLimitExceededWebExceptionHandler} answers {@code 429 Too Many Requests} exactly as a
 * denied {@code @RateLimited} call; a permitted one carries the {@code RateLimit} fields of the
 * limiters that have them enabled (written by {@link RateLimitHeadersWebFilter} before the
 * response is committed).
 *
 * <p>The principal is resolved ({@link ServerWebExchange#getPrincipal()}) only when a rule that
 * matches the path reads it. Limits counted after the response ({@code count-when}) are counted
 * when the response is committed, with its final status (also when an exception handler answers a
 * failure), or when the exchange is cancelled; concurrency permits are given back when the
 * exchange's handling ends, however it ends.
 * Decisions are local and never block. Thread-safe.
 */
public final class RateLimitRulesWebFilter implements WebFilter, Ordered {

	private final List<HttpRule> rules;

	private final RateLimiterRegistry registry;

	private final ClientAddresses addresses;

	private final Predicate<String> headers;

	private final int maxKeyLength;

	private final int order;

	private volatile @Nullable RateLimitObservations observations;

	/** Whether some rule reads the principal, which then may have to be resolved first. */
	private final boolean readsPrincipal;

	/**
	 * Creates the filter of one phase.
	 * @param rules the rules of the phase, in order
	 * @param registry where the limiters come from
	 * @param addresses how the client address is found
	 * @param headers whether a limiter's name gets the {@code RateLimit} fields
	 * @param maxKeyLength the longest key the registry takes
	 * @param order the filter's order
	 */
	public RateLimitRulesWebFilter(List<HttpRule> rules, RateLimiterRegistry registry, ClientAddresses addresses,
			Predicate<String> headers, int maxKeyLength, int order) {
		this.rules = List.copyOf(rules);
		this.registry = registry;
		this.addresses = addresses;
		this.headers = headers;
		this.maxKeyLength = maxKeyLength;
		this.order = order;
		this.readsPrincipal = this.rules.stream().anyMatch(HttpRule::readsPrincipal);
	}

	/**
	 * Records an observation of each request's acquisition from now on.
	 * @param observations the observations, or {@code null} for none
	 */
	public void setObservations(@Nullable RateLimitObservations observations) {
		this.observations = observations;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
		if (this.rules.isEmpty()) {
			return chain.filter(exchange);
		}
		ServerHttpRequest request = exchange.getRequest();
		PathContainer path = request.getPath().pathWithinApplication();
		String method = request.getMethod().name();
		if (!this.readsPrincipal) {
			return apply(exchange, chain, path, method, null); // matched once, in the plan
		}
		boolean principal = false;
		boolean any = false;
		for (HttpRule rule : this.rules) {
			if (rule.match(method, path) != null) {
				any = true;
				principal |= rule.readsPrincipal();
			}
		}
		if (!any) {
			return chain.filter(exchange);
		}
		if (!principal) {
			return apply(exchange, chain, path, method, null);
		}
		return exchange.getPrincipal()
			.map(Optional::of)
			.defaultIfEmpty(Optional.empty())
			.flatMap((user) -> apply(exchange, chain, path, method, user.orElse(null)));
	}

	private Mono<Void> apply(ServerWebExchange exchange, WebFilterChain chain, PathContainer path, String method,
			@Nullable Principal principal) {
		ServerRequestView view = new ServerRequestView(exchange.getRequest(), exchange.getResponse(), this.addresses,
				path, principal);
		HttpRulePlan plan = HttpRulePlan.of(this.rules, method, path, view, this.registry, this.maxKeyLength);
		if (plan == null) {
			return chain.filter(exchange);
		}
		RateLimitObservations observations = this.observations;
		if (observations == null) {
			return take(exchange, chain, view, plan, null, null);
		}
		// the request's observation is in the Reactor context, where WebFlux puts it
		return Mono.deferContextual((context) -> {
			Object parent = context.getOrDefault(RateLimitObservations.REACTOR_CONTEXT_KEY, null);
			return take(exchange, chain, view, plan, observations,
					(parent instanceof Observation observation) ? observation : null);
		});
	}

	private Mono<Void> take(ServerWebExchange exchange, WebFilterChain chain, ServerRequestView view,
			HttpRulePlan plan, @Nullable RateLimitObservations observations, @Nullable Observation parent) {
		RateLimitExceededException refused = plan.take(this.headers,
				() -> ExchangeRateLimitHeadersListener.values(exchange), observations, parent);
		if (refused != null) {
			return Mono.error(refused);
		}
		if (!plan.hasCompletion()) {
			return chain.filter(exchange);
		}
		if (plan.countsAfter()) {
			// the status is final when the response is committed, also when an exception handler
			// answers a failure (404, a ResponseStatusException, security's 401 and 403)
			exchange.getResponse().beforeCommit(() -> Mono.fromRunnable(plan::count));
		}
		return chain.filter(exchange).doOnError(view::failed).doFinally((signal) -> {
			plan.release();
			if (signal == SignalType.CANCEL) {
				view.cancelled();
				plan.count(); // the response may never be committed
			}
		});
	}

	@Override
	public int getOrder() {
		return this.order;
	}

}
