package dev.ratelimit.buffer;

import java.util.Objects;
import java.util.function.ToLongFunction;

/**
 * The bounds of a {@link BufferPool}: the items and bytes it holds, the batch in flight included,
 * against {@code maxItems} and {@code maxBytes}, and whether it is full. "Full" has hysteresis: it
 * starts when a bound is reached or an offer finds no room, and ends only when the utilization
 * falls below the low-water mark, so that a source paused on full is not resumed for one free slot.
 *
 * <p>{@link #sizeOf} reads only final fields and runs without the lock, so that a slow size
 * function never holds up other offers; everything else is guarded by the pool's lock.
 *
 * @param <T> the type of the items
 */
final class BufferBounds<T> {

	private final String name;

	private final int maxItems;

	private final long maxBytes;

	private final ToLongFunction<? super T> sizeInBytes;

	private final double lowWaterMark;

	/** Items held: the queue plus the batch in flight. */
	private int size;

	/** Bytes held: the queue plus the batch in flight. */
	private long bytes;

	/** Between a report of full and one of drained. */
	private boolean full;

	BufferBounds(String name, int maxItems, long maxBytes, ToLongFunction<? super T> sizeInBytes,
			double lowWaterMark) {
		this.name = name;
		this.maxItems = maxItems;
		this.maxBytes = maxBytes;
		this.sizeInBytes = sizeInBytes;
		this.lowWaterMark = lowWaterMark;
	}

	/** Measures an item that could ever fit; lock-free. */
	long sizeOf(T item) {
		Objects.requireNonNull(item, "item");
		long itemBytes = this.sizeInBytes.applyAsLong(item);
		if (itemBytes < 0) {
			throw BufferErrors.negativeSize(this.name, itemBytes);
		}
		if (itemBytes > this.maxBytes) {
			throw BufferErrors.itemOverMaxBytes(this.name, itemBytes, this.maxBytes);
		}
		return itemBytes;
	}

	boolean hasRoom(long itemBytes) {
		// written as a subtraction so that bytes near Long.MAX_VALUE cannot overflow
		return this.size < this.maxItems && itemBytes <= this.maxBytes - this.bytes;
	}

	/** Counts an accepted item; returns whether it filled a bound and so made the buffer full. */
	boolean add(long itemBytes) {
		this.size++;
		this.bytes += itemBytes;
		return utilization() >= 1.0 && becomeFull();
	}

	/** Marks the buffer full; returns whether it was not already, so that full is reported once. */
	boolean becomeFull() {
		if (this.full) {
			return false;
		}
		this.full = true;
		return true;
	}

	/** Uncounts a delivered batch. */
	void remove(int items, long itemBytes) {
		this.size -= items;
		this.bytes -= itemBytes;
	}

	/** Ends full once below the low-water mark; returns whether it did, so that drained is reported once. */
	boolean drain() {
		if (this.full && utilization() < this.lowWaterMark) {
			this.full = false;
			return true;
		}
		return false;
	}

	/** Forgets every item, when close gives up on them. */
	void clear() {
		this.size = 0;
		this.bytes = 0;
	}

	int size() {
		return this.size;
	}

	long bytes() {
		return this.bytes;
	}

	/** The larger of the item and byte fill ratios, at most 1. */
	double utilization() {
		double items = (double) this.size / this.maxItems;
		double filled = (double) this.bytes / this.maxBytes;
		return Math.min(1.0, Math.max(items, filled));
	}

	@Override
	public String toString() {
		return "size=" + this.size + "/" + this.maxItems + ", bytes=" + this.bytes
				+ ((this.maxBytes != Long.MAX_VALUE) ? "/" + this.maxBytes : "");
	}

}
