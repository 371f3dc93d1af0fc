package dev.ratelimit.buffer;

/**
 * A timeout measured on the pool's ticker, with real time as a backstop: a manual or broken clock
 * can then neither hold a wait past its timeout in real time nor end it early on the ticker.
 * Immutable, so any thread may read it; the pool keeps one per timed offer and one for close.
 *
 * @param timeoutNanos the timeout, in nanoseconds
 * @param startedAt the ticker's reading when the wait started
 * @param startedAtNanoTime {@link System#nanoTime()} when the wait started
 */
record Deadline(long timeoutNanos, long startedAt, long startedAtNanoTime) {

	/** A deadline {@code timeoutNanos} after {@code now}, a reading of the pool's ticker. */
	static Deadline after(long timeoutNanos, long now) {
		return new Deadline(timeoutNanos, now, System.nanoTime());
	}

	/** The time left on both clocks, whichever is less; zero or less once it has passed. */
	long remainingNanos(long now) {
		return Math.min(this.timeoutNanos - (now - this.startedAt),
				this.timeoutNanos - (System.nanoTime() - this.startedAtNanoTime));
	}

}
