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

	/**
	 * Returns the coarse ticker that limiters read unless given another: {@link System#nanoTime()}
	 * as copied by one shared thread every millisecond while limiters are in use, so a reading is
	 * one memory load instead of a system clock call. A reading lags the system clock by at most the
	 * period (more only while the machine starves the copying thread of CPU) and never goes back:
	 * a bucket refills late, never early, so since any start a limiter admits no more than its
	 * limit allows, and over a window that begins while the clock lags at most {@code rate x lag}
	 * more. The thread stops after ten ticks without a reading and costs nothing while the
	 * application is idle. A bucket read late cannot take the refill beyond its capacity, so a
	 * limit that refills its whole capacity in under 20 ms (say 1,000,000/s with a burst of
	 * 1,000), and a pacer ({@link RateLimit#leakyBucket}), which spaces calls more finely than
	 * the period, read the system clock instead, chosen again when their limit changes.
	 * @return the coarse ticker
	 */
	static Ticker coarse() {
		return dev.ratelimit.internal.CoarseClock.shared();
	}

}
