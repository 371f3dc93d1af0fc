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
	 * Creates the limiter for a name and, for per-key limiters, a key. The name identifies the
	 * limiter and already includes the key: a registry names the limiter of key {@code k} of
	 * {@code orders} {@code orders[k]}, so different keys have different names.
	 * @param name the limiter's full name, which identifies it
	 * @param key the key the name was made from, or {@code null} for a named limiter
	 * @param limit the limit
	 * @param listener the listener for the limiter's decisions
	 * @return the limiter
	 */
	RateLimiter create(String name, String key, RateLimit limit, RateLimiterListener listener);

	/**
	 * Creates a limiter of a name divided among priority classes, for a backend that shares
	 * limits: each class takes permits from the shared limit under the classes' policy. The
	 * registry calls it for {@link RateLimiterRegistry#definePriorities} with a backend; the
	 * in-memory registry divides a limit on its own.
	 * @param name the name
	 * @param limit the whole limit
	 * @param priorities the classes
	 * @param listener told of every class's calls
	 * @return the divided limiter
	 * @throws IllegalArgumentException if this backend cannot divide a limit among classes
	 */
	default PriorityRateLimiter createPriorities(String name, RateLimit limit, Priorities priorities,
			RateLimiterListener listener) {
		throw new IllegalArgumentException("the " + id() + " backend cannot divide limiter '" + name
				+ "' among priority classes");
	}

	/**
	 * Called when a registry forgets a per-key limiter this backend created (its key was idle and at
	 * rest, {@link RateLimiter#snapshot()} full): a backend that keeps limiters of its own can forget
	 * it too. The registry creates a new one if the key comes back. Does nothing by default.
	 * @param limiter the limiter no longer used
	 */
	default void release(RateLimiter limiter) {
	}

	/**
	 * Returns what this backend knows of the per-key limiters of a name as a whole, for reports
	 * (for example how many keys it keeps and in which state); empty by default.
	 * @param name the name the registry declared, without a key
	 * @return the facts by name, empty when there are none
	 */
	default java.util.Map<String, Object> keyedDetails(String name) {
		return java.util.Map.of();
	}

}
