package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.RateLimiter;

/**
 * The limiter that paces a {@link BufferPool}'s flushes, if any: each delivery attempt first takes
 * one permit per item of its batch, and a batch never holds more items than the limiter's
 * capacity. Without a limiter every method here is free and grants at once.
 *
 * <p>{@link #acquire} and {@link #release} call the limiter and run without the pool's lock, so
 * that a limiter never waits on the pool; the permit wait in flight ({@link #waitFor},
 * {@link #waited}, {@link #forget}) is guarded by the pool's lock, so that close can cancel it.
 */
final class FlushPacing {

	/**
	 * Permit waits last as long as the limiter needs: a shorter bound would make a token bucket
	 * refuse at once, forever, a batch it could only grant later. Close cancels them.
	 */
	private static final Duration PACING_TIMEOUT = Duration.ofNanos(Long.MAX_VALUE);

	/** Null when flushes are not paced. */
	private final RateLimiter limiter;

	/** Permits the batch in flight is waiting for, cancelled if close gives up. */
	private CompletableFuture<Boolean> pending;

	FlushPacing(RateLimiter limiter) {
		this.limiter = limiter;
	}

	boolean isPaced() {
		return this.limiter != null;
	}

	/**
	 * The most items in a batch: {@code maxBatchSize}, and never more than the limiter's capacity,
	 * read each time since a limit may change after the pool was built.
	 */
	int batchLimit(int maxBatchSize) {
		if (this.limiter == null) {
			return maxBatchSize;
		}
		return (int) Math.max(1, Math.min(maxBatchSize, this.limiter.limit().capacity()));
	}

	/** Asks for one permit per item, without parking a thread; only when paced. Lock-free. */
	CompletableFuture<Boolean> acquire(int items) {
		return this.limiter.acquireAsync(items, PACING_TIMEOUT);
	}

	/** A concurrency limiter counts permits in flight: gives them back once an attempt is over. */
	void release(int items) {
		if (this.limiter instanceof ConcurrencyLimiter concurrency) {
			concurrency.release(items);
		}
	}

	/** Records the wait in flight, so that close can cancel it. */
	void waitFor(CompletableFuture<Boolean> permits) {
		this.pending = permits;
	}

	/** Records that the given wait ended. */
	void waited(CompletableFuture<Boolean> permits) {
		if (this.pending == permits) {
			this.pending = null;
		}
	}

	/** Forgets the wait in flight and returns it, for close to cancel without the lock; may be null. */
	CompletableFuture<Boolean> forget() {
		CompletableFuture<Boolean> permits = this.pending;
		this.pending = null;
		return permits;
	}

}
