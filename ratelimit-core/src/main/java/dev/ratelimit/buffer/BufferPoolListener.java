package dev.ratelimit.buffer;

import java.util.List;

/**
 * Receives a {@link BufferPool}'s backpressure and flush events, for logs, metrics or to pause a
 * source (a Kafka consumer, say) while the buffer is full. The default methods do nothing.
 *
 * <p>Called one event at a time, in order, while the pool holds its lock: implementations must be
 * fast and must not block. An exception thrown by a listener is logged and otherwise ignored.
 * Every event carries the utilization after it: the larger of the item and byte fill ratios,
 * between 0 and 1.
 *
 * @param <T> the type of the items
 */
public interface BufferPoolListener<T> {

	/**
	 * The buffer became full: an accepted item filled one of the bounds, or an offer found no room.
	 * Reported once until the buffer {@linkplain #onDrained(double) drains}.
	 * @param utilization the utilization now, usually 1
	 */
	default void onFull(double utilization) {
	}

	/**
	 * An offer was refused for lack of room: at once, or after its timeout passed.
	 * @param item the item refused
	 * @param utilization the utilization now
	 */
	default void onRefused(T item, double utilization) {
	}

	/**
	 * After being {@linkplain #onFull(double) full}, the utilization fell below the low-water mark.
	 * @param utilization the utilization now
	 */
	default void onDrained(double utilization) {
	}

	/**
	 * The handler delivered a batch.
	 * @param batchSize the items in the batch
	 * @param latencyNanos how long the successful handler call took, in nanoseconds
	 * @param waitNanos how long the batch's oldest item waited from its offer to the end of its
	 * delivery (including pacing and retries), in nanoseconds
	 * @param utilization the utilization after the batch left the buffer
	 */
	default void onFlushed(int batchSize, long latencyNanos, long waitNanos, double utilization) {
	}

	/**
	 * A delivery attempt failed: the handler threw, or the limiter or executor failed. The batch is
	 * retried after {@code nextBackoffNanos}.
	 * @param batchSize the items in the batch
	 * @param attempt the number of the attempt that failed, 1 for the first
	 * @param error what failed
	 * @param nextBackoffNanos the wait before the next attempt, in nanoseconds
	 * @param utilization the utilization now
	 */
	default void onFlushFailed(int batchSize, int attempt, Throwable error, long nextBackoffNanos,
			double utilization) {
	}

	/**
	 * {@link BufferPool#close(java.time.Duration) close} gave up, its timeout passed, and hands
	 * back the items not delivered, for example to write them somewhere durable. They are also
	 * returned by {@code close(Duration)} and {@link BufferPool#unflushed()}.
	 * @param items the items not delivered, in offer order, never empty
	 */
	default void onAbandoned(List<T> items) {
	}

}
