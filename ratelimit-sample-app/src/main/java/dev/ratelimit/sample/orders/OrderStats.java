package dev.ratelimit.sample.orders;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.springframework.stereotype.Component;

/**
 * Counts of this instance since it started: orders accepted, processed (per tenant), and shipments
 * the downstream read; and when the drain let the latest processed orders through, to check its
 * rate.
 * Thread-safe.
 */
@Component
public class OrderStats {

	/** Processing times kept, enough for minutes of draining at a few records per second. */
	static final int MAX_TIMES = 10_000;

	private final LongAdder accepted = new LongAdder();

	private final LongAdder refused = new LongAdder();

	private final LongAdder unconfirmed = new LongAdder();

	private final LongAdder processed = new LongAdder();

	private final LongAdder shipped = new LongAdder();

	private final Map<String, LongAdder> processedByTenant = new ConcurrentHashMap<>();

	private final Map<Integer, AtomicLong> lastOffsets = new ConcurrentHashMap<>();

	private final ConcurrentLinkedDeque<Long> processedAt = new ConcurrentLinkedDeque<>();

	private final AtomicLong timesKept = new AtomicLong();

	void recordAccepted() {
		this.accepted.increment();
	}

	void recordRefused() {
		this.refused.increment();
	}

	void recordUnconfirmed() {
		this.unconfirmed.increment();
	}

	void recordProcessed(Order order, int partition, long offset, long letThroughAt) {
		this.processed.increment();
		this.processedByTenant.computeIfAbsent(order.tenant(), (tenant) -> new LongAdder()).increment();
		this.lastOffsets.computeIfAbsent(partition, (p) -> new AtomicLong(-1)).accumulateAndGet(offset, Math::max);
		this.processedAt.addLast(letThroughAt);
		if (this.timesKept.incrementAndGet() > MAX_TIMES) {
			this.processedAt.pollFirst();
			this.timesKept.decrementAndGet();
		}
	}

	/**
	 * Counts a shipment read by the downstream group.
	 */
	public void recordShipped() {
		this.shipped.increment();
	}

	/**
	 * Returns the orders {@code POST /orders} of this instance refused because its buffer for Kafka
	 * was full (503).
	 * @return the count
	 */
	public long refused() {
		return this.refused.sum();
	}

	/**
	 * Returns the orders {@code POST /orders} of this instance buffered but could not confirm: Kafka
	 * did not acknowledge them in time (503 with status {@code unconfirmed}); they may still be written.
	 * @return the count
	 */
	public long unconfirmed() {
		return this.unconfirmed.sum();
	}

	/**
	 * Returns the orders accepted by {@code POST /orders} of this instance: each in Kafka when answered.
	 * @return the count
	 */
	public long accepted() {
		return this.accepted.sum();
	}

	/**
	 * Returns the orders this instance processed, whichever instance accepted them.
	 * @return the count
	 */
	public long processed() {
		return this.processed.sum();
	}

	/**
	 * Returns the shipments the downstream group read on this instance.
	 * @return the count
	 */
	public long shipped() {
		return this.shipped.sum();
	}

	/**
	 * Returns the orders processed per tenant.
	 * @return counts by tenant, sorted
	 */
	public Map<String, Long> processedByTenant() {
		Map<String, Long> counts = new TreeMap<>();
		this.processedByTenant.forEach((tenant, count) -> counts.put(tenant, count.sum()));
		return counts;
	}

	/**
	 * Returns the highest offset processed per partition of {@code orders}.
	 * @return offsets by partition, sorted
	 */
	public Map<Integer, Long> lastOffsets() {
		Map<Integer, Long> offsets = new TreeMap<>();
		this.lastOffsets.forEach((partition, offset) -> offsets.put(partition, offset.get()));
		return offsets;
	}

	/**
	 * Returns when the drain let the latest processed orders through (their listener call began,
	 * right after the permit), oldest first ({@link System#nanoTime()}).
	 * @return up to {@value #MAX_TIMES} times
	 */
	public List<Long> processedTimes() {
		return List.copyOf(this.processedAt);
	}

	/**
	 * Returns the most orders the drain let through within any one second among the latest
	 * processed ones.
	 * @return the highest count in a sliding one-second window
	 */
	public int maxProcessedInOneSecond() {
		List<Long> times = processedTimes();
		int most = 0;
		Iterator<Long> start = times.iterator();
		long first = start.hasNext() ? start.next() : 0;
		int inWindow = 0;
		for (long time : times) {
			inWindow++;
			while (time - first >= 1_000_000_000L) {
				first = start.next();
				inWindow--;
			}
			most = Math.max(most, inWindow);
		}
		return most;
	}

}
