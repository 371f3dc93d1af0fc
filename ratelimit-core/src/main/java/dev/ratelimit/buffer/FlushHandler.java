package dev.ratelimit.buffer;

import java.util.List;

/**
 * Delivers a batch of buffered items somewhere (a Kafka producer, a bulk insert, an HTTP call).
 *
 * <p>A {@link BufferPool} calls it with one batch at a time, never concurrently, on its flush
 * executor. Returning normally means the whole batch was delivered; throwing means none of it was,
 * and the same batch (the same list, same items, same order) is handed over again after a backoff,
 * split in order only if the pacing limiter's capacity has dropped below its size. A batch may
 * therefore be delivered more than once when a handler fails after a partial write, so make
 * delivery idempotent where that matters.
 *
 * @param <T> the type of the items
 */
@FunctionalInterface
public interface FlushHandler<T> {

	/**
	 * Delivers a batch.
	 * @param batch the items, in the order they were offered; unmodifiable, never empty
	 * @throws Exception if the batch was not delivered; it will be retried
	 */
	void flush(List<T> batch) throws Exception;

}
