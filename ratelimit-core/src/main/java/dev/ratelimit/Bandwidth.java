package dev.ratelimit;

import java.util.Objects;

/**
 * One limit of a token bucket: a capacity that refills at a rate. A bucket with several
 * bandwidths (say 100/s with a burst of 200, and 10,000/day) enforces all of them together.
 *
 * @param capacity the most permits the bandwidth holds (the burst), positive
 * @param rate the refill rate
 * @param intervally whether refill comes all at once at the end of each period of the rate
 * (fixed windows) rather than continuously
 */
public record Bandwidth(long capacity, Rate rate, boolean intervally) {

	public Bandwidth {
		Objects.requireNonNull(rate, "rate");
		if (capacity <= 0) {
			throw dev.ratelimit.internal.Errors.notPositive("capacity", capacity);
		}
	}

	/**
	 * Returns a continuously refilling bandwidth.
	 * @param capacity the capacity (burst), positive
	 * @param rate the refill rate
	 * @return the bandwidth
	 */
	public static Bandwidth of(long capacity, Rate rate) {
		return new Bandwidth(capacity, rate, false);
	}

}
