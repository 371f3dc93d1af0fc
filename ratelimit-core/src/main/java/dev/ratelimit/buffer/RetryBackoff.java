package dev.ratelimit.buffer;

/**
 * How long a {@link BufferPool} waits before it delivers a failed batch again: exponential from
 * {@code initialNanos}, capped at {@code maxNanos}. Immutable, so it needs no lock; the batch
 * carries its own count of failed attempts.
 *
 * @param initialNanos the wait before the first retry, positive
 * @param maxNanos the longest wait, at least {@code initialNanos}
 * @param multiplier the factor each wait grows by, finite and at least 1.0
 */
record RetryBackoff(long initialNanos, long maxNanos, double multiplier) {

	/** The wait after the given failed attempt: initial x multiplier^(attempt - 1), capped. */
	long afterAttempt(int attempt) {
		double delay = this.initialNanos * Math.pow(this.multiplier, attempt - 1);
		return (delay >= this.maxNanos) ? this.maxNanos : (long) delay;
	}

}
