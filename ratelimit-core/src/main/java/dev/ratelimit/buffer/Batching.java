package dev.ratelimit.buffer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongConsumer;

import dev.ratelimit.Scheduler;

/**
 * What a {@link BufferPool} holds, in offer order: the queue of items not yet in a batch and the
 * one batch in flight ahead of it, and when the head of the queue is due to leave as a batch. A
 * batch of up to {@code maxBatchSize} items (never more than the limiter's capacity) and
 * {@code maxBatchBytes} bytes is due as soon as that many are queued, when its oldest item is
 * {@code maxAge} old, or at once when forced (a flush or close); an age check wakes the pool when
 * nothing else would.
 *
 * <p>Guarded by the pool's lock: every method is called holding it, and a {@link Batch}'s
 * failure count is written under it. The age check runs on the scheduler's thread and takes the
 * lock itself.
 *
 * @param <T> the type of the items
 */
final class Batching<T> {

	record Entry<T>(T item, long bytes, long offeredAt) {
	}

	/**
	 * The batch in flight: formed once from the head of the queue and then retried as is, so a
	 * retry never mixes in newer items. Its items still count against the bounds.
	 */
	static final class Batch<T> {

		final List<Entry<T>> entries;

		final List<T> items;

		final long bytes;

		final long oldestOfferedAt;

		/** Failed attempts so far; written under the lock. */
		int failures;

		Batch(List<Entry<T>> entries, int failures) {
			List<T> items = new ArrayList<>(entries.size());
			long bytes = 0;
			for (Entry<T> entry : entries) {
				items.add(entry.item());
				bytes += entry.bytes();
			}
			this.entries = entries;
			this.items = Collections.unmodifiableList(items);
			this.bytes = bytes;
			this.oldestOfferedAt = entries.get(0).offeredAt();
			this.failures = failures;
		}

		int size() {
			return this.items.size();
		}

	}

	private final int maxBatchSize;

	private final long maxBatchBytes;

	private final long maxAgeNanos;

	private final FlushPacing pacing;

	private final EarliestTimer ageCheck;

	/** Items not yet in a batch, oldest first. */
	private final ArrayDeque<Entry<T>> queue = new ArrayDeque<>();

	private long queueBytes;

	/** The batch in flight, at the head of the buffer; null when none. At most one at a time. */
	private Batch<T> batch;

	/**
	 * @param ageCheck called with its due time on the scheduler's thread, without the lock, when
	 * the head of the queue may have become due
	 */
	Batching(int maxBatchSize, long maxBatchBytes, long maxAgeNanos, FlushPacing pacing, Scheduler scheduler,
			LongConsumer ageCheck) {
		this.maxBatchSize = maxBatchSize;
		this.maxBatchBytes = maxBatchBytes;
		this.maxAgeNanos = maxAgeNanos;
		this.pacing = pacing;
		this.ageCheck = new EarliestTimer(scheduler, ageCheck);
	}

	/** Queues an item offered at {@code now}, a ticker reading that never decreases along the queue. */
	void add(T item, long itemBytes, long now) {
		this.queue.addLast(new Entry<>(item, itemBytes, now));
		this.queueBytes += itemBytes;
	}

	/**
	 * Forms the next batch if none is in flight and the head of the queue is due, or at once when
	 * {@code forced}; otherwise makes sure an age check will look again. Returns the batch to
	 * deliver, or null.
	 */
	Batch<T> startIfDue(long now, boolean forced) {
		if (this.batch != null || this.queue.isEmpty()) {
			return null;
		}
		if (forced || isDue(now)) {
			return formBatch();
		}
		long age = now - this.queue.peekFirst().offeredAt();
		this.ageCheck.atMost(this.maxAgeNanos - age, now);
		return null;
	}

	/** Records that the age check due at {@code due} ran. */
	void ageCheckRan(long due) {
		this.ageCheck.ran(due);
	}

	private boolean isDue(long now) {
		return this.queue.size() >= batchLimit() || this.queueBytes >= this.maxBatchBytes
				|| now - this.queue.peekFirst().offeredAt() >= this.maxAgeNanos;
	}

	private int batchLimit() {
		return this.pacing.batchLimit(this.maxBatchSize);
	}

	private Batch<T> formBatch() {
		int limit = batchLimit();
		List<Entry<T>> entries = new ArrayList<>(Math.min(limit, this.queue.size()));
		long batchBytes = 0;
		while (entries.size() < limit && !this.queue.isEmpty()) {
			Entry<T> head = this.queue.peekFirst();
			// an item larger than maxBatchBytes still goes, alone: it fits within maxBytes
			if (!entries.isEmpty() && head.bytes() > this.maxBatchBytes - batchBytes) {
				break;
			}
			entries.add(this.queue.pollFirst());
			batchBytes += head.bytes();
		}
		this.queueBytes -= batchBytes;
		this.batch = new Batch<>(entries, 0);
		return this.batch;
	}

	/** Whether {@code target} is still the batch in flight: close may have given up on it. */
	boolean isInFlight(Batch<T> target) {
		return this.batch == target;
	}

	/**
	 * Splits the batch in flight when the limiter's capacity dropped below its size since it was
	 * formed (a window's limit follows its rate, for one): asking for more permits than the
	 * capacity would fail on every retry. The tail goes back to the head of the queue, in order.
	 * Returns the batch to deliver, or null when {@code target} is no longer in flight.
	 */
	Batch<T> fitToCapacity(Batch<T> target) {
		if (this.batch != target) {
			return null;
		}
		int limit = batchLimit();
		if (target.size() <= limit) {
			return target;
		}
		List<Entry<T>> kept = new ArrayList<>(target.entries.subList(0, limit));
		List<Entry<T>> returned = target.entries.subList(limit, target.size());
		for (int i = returned.size() - 1; i >= 0; i--) {
			this.queue.addFirst(returned.get(i));
			this.queueBytes += returned.get(i).bytes();
		}
		this.batch = new Batch<>(kept, target.failures);
		return this.batch;
	}

	/** Ends the batch in flight, delivered. */
	void delivered() {
		this.batch = null;
	}

	/** Hands back every item held, the batch in flight first, and forgets them. */
	List<T> abandon(int held) {
		List<T> left = new ArrayList<>(held);
		if (this.batch != null) {
			left.addAll(this.batch.items);
		}
		for (Entry<T> entry : this.queue) {
			left.add(entry.item());
		}
		this.batch = null;
		this.queue.clear();
		this.queueBytes = 0;
		return left;
	}

}
