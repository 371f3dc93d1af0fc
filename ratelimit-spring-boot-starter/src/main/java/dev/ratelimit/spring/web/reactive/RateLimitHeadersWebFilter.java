package dev.ratelimit.spring.web.reactive;

import reactor.core.publisher.Mono;
import reactor.util.context.Context;

import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.ratelimit.spring.aop.RateLimitHeadersListener;

/**
 * Lets permitted {@code @RateLimited} calls that return {@code Mono} or {@code Flux} write the
 * {@code RateLimit} and {@code RateLimit-Policy} fields on the response of the exchange they
 * serve.
 *
 * <p>A reactive call has no thread-bound request to find, so this filter puts a listener scoped to
 * the exchange in the Reactor context under the key {@code RateLimitHeadersListener.class}; the
 * limit is taken when the call's result is subscribed to, within this exchange's handling, and
 * reads the listener from there. The calls record their decisions, and the fields are written
 * when the response is committed. Plain (non-reactive) methods called from WebFlux handlers cannot
 * see the context, so their permitted calls carry no fields; their denials are answered with 429
 * like any other by {@link RateLimitExceededWebExceptionHandler}. Thread-safe.
 */
public final class RateLimitHeadersWebFilter implements WebFilter, Ordered {

	/** The default order: early, so that the context covers the other filters and the handler. */
	public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 100;

	private int order = ORDER;

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
		ExchangeRateLimitHeadersListener listener = new ExchangeRateLimitHeadersListener(exchange);
		exchange.getResponse().beforeCommit(listener::writeFields);
		return chain.filter(exchange).contextWrite(Context.of(RateLimitHeadersListener.class, listener));
	}

	@Override
	public int getOrder() {
		return this.order;
	}

	/**
	 * Sets the order among web filters.
	 * @param order the order
	 */
	public void setOrder(int order) {
		this.order = order;
	}

}
