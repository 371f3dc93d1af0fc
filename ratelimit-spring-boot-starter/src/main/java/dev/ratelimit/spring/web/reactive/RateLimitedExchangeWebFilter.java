package dev.ratelimit.spring.web.reactive;

import reactor.core.publisher.Mono;

import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.ratelimit.spring.aop.RateLimitedExchange;

/**
 * Lets key expressions of reactive {@code @RateLimited} methods read the exchange they serve:
 * puts a {@link RateLimitedExchange} (the request, and the principal, resolved only when a key
 * reads it) in the Reactor context of the exchange's handling, so that {@code #request} and
 * {@code #principal} work there as they do in Spring MVC.
 *
 * <p>Ordered after Spring Security's {@code WebFilterChainProxy} (-100), whose exchange knows the
 * authenticated principal. Thread-safe.
 */
public final class RateLimitedExchangeWebFilter implements WebFilter, Ordered {

	/** The default order: after Spring Security's filter chain. */
	public static final int ORDER = 0;

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
		RateLimitedExchange limited = new RateLimitedExchange(exchange.getRequest(), exchange.getPrincipal());
		return chain.filter(exchange).contextWrite((context) -> context.put(RateLimitedExchange.CONTEXT_KEY, limited));
	}

	@Override
	public int getOrder() {
		return ORDER;
	}

}
