package dev.ratelimit;

/**
 * Where limiters keep their state: in memory (the default) or shared through an external system
 * such as Kafka. A registry asks its backend for every limiter it creates.
 */
public interface RateLimiterBackend {

	/**
	 * Returns a short, lower-case name for reports, for example {@code in-memory}.
	 * @return the backend's name
	 */
	String id();

	/**
	 * Creates the limiter for a name and, for per-key limiters, a key.
	 * @param name the limiter's name
	 * @param key the key, or {@code null} for a named limiter
	 * @param limit the limit
	 * @param listener the listener for the limiter's decisions
	 * @return the limiter
	 */
	RateLimiter create(String name, String key, RateLimit limit, RateLimiterListener listener);

}
