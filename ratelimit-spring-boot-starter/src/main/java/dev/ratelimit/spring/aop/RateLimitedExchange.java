package dev.ratelimit.spring.aop;

import java.security.Principal;

import reactor.core.publisher.Mono;

/**
 * The request a reactive {@code @RateLimited} call serves, as the starter's WebFlux filter puts
 * it in the Reactor context under {@link #CONTEXT_KEY}: key expressions of {@code Mono} and
 * {@code Flux} methods see its request as {@code #request} and its principal as
 * {@code #principal} (resolved before the call decides, and only when a key reads it).
 *
 * @param request the request (a {@code ServerHttpRequest})
 * @param principal the authenticated user, empty when anonymous
 */
public record RateLimitedExchange(Object request, Mono<? extends Principal> principal) {

	/** The key under which the exchange is found in the Reactor context. */
	public static final String CONTEXT_KEY = RateLimitedExchange.class.getName();

}
