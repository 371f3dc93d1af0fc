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
	 * token bucket or window that refills its whole capacity in under 20 ms (say 1,000,000/s with a
	 * burst of 1,000) checks a denial again on the system clock: one denial in 16 when it refills in
	 * 2 ms or more; under 2 ms, every denial for a capacity under 128, otherwise one in about
	 * {@code capacity / 64} (at most one in 16);
	 * and a pacer ({@link RateLimit#leakyBucket}), which spaces calls more finely than the period,
	 * and a warming-up bucket that refills as fast read the system clock; chosen again when their
	 * limit changes.
	 * @return the coarse ticker
	 */
	static Ticker coarse() {
		return dev.ratelimit.internal.CoarseClock.shared();
	}

}
