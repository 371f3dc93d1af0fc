package dev.ratelimit.kafka.internal;

import java.util.Arrays;

/**
 * A set of limiters the keeper walks, owned by the keeper thread alone: adding, removing and
 * walking cost what the set holds now, not the most it ever held (a concurrent hash set keeps its
 * table at its largest size, and walking an empty table of 20,000 keys every pass is most of an
 * idle keeper's work). A limiter is in at most one such set at a time; it carries its own index.
 */
final class KeptLimiters {

	private KafkaRateLimiter[] limiters = new KafkaRateLimiter[16];

	private int size;

	int size() {
		return this.size;
	}

	KafkaRateLimiter get(int index) {
		return this.limiters[index];
	}

	boolean contains(KafkaRateLimiter limiter) {
		return limiter.keptIn == this;
	}

	/** Adds the limiter, taking it out of the set it was in. */
	void add(KafkaRateLimiter limiter) {
		if (limiter.keptIn == this) {
			return;
		}
		if (limiter.keptIn != null) {
			limiter.keptIn.remove(limiter);
		}
		if (this.size == this.limiters.length) {
			this.limiters = Arrays.copyOf(this.limiters, this.size * 2);
		}
		limiter.keptIn = this;
		limiter.keptIndex = this.size;
		this.limiters[this.size++] = limiter;
	}

	/**
	 * Removes the limiter: the last one takes its place, so a walk by index that removes the one at
	 * {@code i} goes on at {@code i}.
	 */
	void remove(KafkaRateLimiter limiter) {
		if (limiter.keptIn != this) {
			return;
		}
		int index = limiter.keptIndex;
		KafkaRateLimiter last = this.limiters[--this.size];
		this.limiters[index] = last;
		last.keptIndex = index;
		this.limiters[this.size] = null;
		limiter.keptIn = null;
		limiter.keptIndex = -1;
		if (this.limiters.length > 64 && this.size < this.limiters.length / 4) {
			this.limiters = Arrays.copyOf(this.limiters, this.limiters.length / 2);
		}
	}

}
