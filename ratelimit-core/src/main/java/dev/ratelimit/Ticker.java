package dev.ratelimit;

/**
 * Source of monotonic time in nanoseconds for local limiters.
 *
 * <p>Every limiter reads time only through a ticker, so tests substitute a manual one and move it
 * instead of sleeping. Readings are only meaningful as differences; the origin is arbitrary.
 * Implementations must be thread-safe and must never go backwards.
 */
@FunctionalInterface
public interface Ticker {

	/**
	 * Returns the current reading in nanoseconds.
	 * @return nanoseconds since an arbitrary, fixed origin
	 */
	long read();

	/**
	 * Returns the ticker backed by {@link System#nanoTime()}.
	 * @return the system ticker
	 */
	static Ticker system() {
		return System::nanoTime;
	}

}
