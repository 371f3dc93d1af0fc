package dev.ratelimit.spring.web.reactive;

import java.util.List;

import reactor.core.publisher.Mono;

import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;

import dev.ratelimit.spring.aop.RateLimitHeadersListener;
import dev.ratelimit.spring.web.RateLimitHeaderValues;
import dev.ratelimit.spring.web.RateLimitHeaders;

/**
 * The listener of one exchange, which {@link RateLimitHeadersWebFilter} puts in the Reactor
 * context of the exchange's handling. Permitted calls only record their decisions (lock-free, in
 * an exchange attribute); the fields are written once, just before the response is committed.
 * Calls of one exchange may run on several threads at once (a {@code zip} of two limited calls),
 * and response headers are not safe to change concurrently, so no call writes them itself.
 */
final class ExchangeRateLimitHeadersListener implements RateLimitHeadersListener {

	/** Exchange attribute holding the {@link RateLimitHeaderValues} of the exchange. */
	static final String VALUES_ATTRIBUTE = RateLimitHeaderValues.class.getName();

	private final ServerWebExchange exchange;

	ExchangeRateLimitHeadersListener(ServerWebExchange exchange) {
		this.exchange = exchange;
	}

	@Override
	public boolean isActive() {
		return !this.exchange.getResponse().isCommitted();
	}

	@Override
	public void onPermitted(List<AppliedLimit> limits) {
		RateLimitHeaderValues values = values(this.exchange);
		for (AppliedLimit limit : limits) {
			values.record(limit.name(), limit.limit(), limit.decision());
		}
	}

	/**
	 * Writes the fields recorded so far; a before-commit action of the response.
	 * @return a completed publisher
	 */
	Mono<Void> writeFields() {
		if (this.exchange.getAttribute(VALUES_ATTRIBUTE) instanceof RateLimitHeaderValues values) {
			write(values, this.exchange.getResponse().getHeaders());
		}
		return Mono.empty();
	}

	/** Returns the values of an exchange, created on first use (attributes are concurrent). */
	static RateLimitHeaderValues values(ServerWebExchange exchange) {
		return (RateLimitHeaderValues) exchange.getAttributes()
			.computeIfAbsent(VALUES_ATTRIBUTE, (name) -> new RateLimitHeaderValues());
	}

	/** Sets (not adds) the fields, so that each holds every member once. */
	static void write(RateLimitHeaderValues values, HttpHeaders headers) {
		String policy = values.policy();
		if (policy != null) {
			headers.set(RateLimitHeaders.RATE_LIMIT_POLICY, policy);
		}
		String rateLimit = values.rateLimit();
		if (rateLimit != null) {
			headers.set(RateLimitHeaders.RATE_LIMIT, rateLimit);
		}
	}

}
