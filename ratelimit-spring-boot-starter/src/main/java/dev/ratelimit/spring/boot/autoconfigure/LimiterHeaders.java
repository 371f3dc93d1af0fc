package dev.ratelimit.spring.boot.autoconfigure;

import java.util.function.Predicate;

import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.RateLimitProperties;

/**
 * Whether answers about a limiter carry the {@code RateLimit} and {@code RateLimit-Policy}
 * fields: {@code ratelimit.limiters.<name>.headers} as resolved into its definition, or
 * {@code ratelimit.web.headers} for a name that is not declared (an exception the application
 * raised itself). Immutable and thread-safe.
 */
public final class LimiterHeaders implements Predicate<String> {

	private final LimiterDefinitions definitions;

	private final boolean byDefault;

	/**
	 * Creates the predicate.
	 * @param definitions the declared limiters
	 * @param properties the properties, for {@code ratelimit.web.headers}
	 */
	public LimiterHeaders(LimiterDefinitions definitions, RateLimitProperties properties) {
		this.definitions = definitions;
		this.byDefault = properties.getWeb().isHeaders();
	}

	@Override
	public boolean test(String name) {
		LimiterDefinitions.Definition definition = this.definitions.find(name);
		return (definition != null) ? definition.headers() : this.byDefault;
	}

}
