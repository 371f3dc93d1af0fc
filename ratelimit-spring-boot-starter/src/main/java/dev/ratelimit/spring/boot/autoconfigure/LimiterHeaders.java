package dev.ratelimit.spring.boot.autoconfigure;

import java.util.function.Predicate;

/**
 * Whether answers about a limiter carry the {@code RateLimit} and {@code RateLimit-Policy}
 * fields: {@code ratelimit.limiters.<name>.headers} as resolved into its definition, or
 * {@code ratelimit.web.headers} for a name that is not declared (an exception the application
 * raised itself).
 */
final class LimiterHeaders implements Predicate<String> {

	private final LimiterDefinitions definitions;

	private final boolean byDefault;

	LimiterHeaders(LimiterDefinitions definitions, RateLimitProperties properties) {
		this.definitions = definitions;
		this.byDefault = properties.getWeb().isHeaders();
	}

	@Override
	public boolean test(String name) {
		LimiterDefinitions.Definition definition = this.definitions.find(name);
		return (definition != null) ? definition.headers() : this.byDefault;
	}

}
