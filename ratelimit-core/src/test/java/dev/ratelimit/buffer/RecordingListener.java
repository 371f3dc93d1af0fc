package dev.ratelimit.buffer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records a pool's events as short lines, utilization to two decimals, durations in ms. */
final class RecordingListener<T> implements BufferPoolListener<T> {

	private final List<String> events = new CopyOnWriteArrayList<>();

	@Override
	public void onFull(double utilization) {
		this.events.add("full " + percent(utilization));
	}

	@Override
	public void onRefused(T item, double utilization) {
		this.events.add("refused " + item + " " + percent(utilization));
	}

	@Override
	public void onDrained(double utilization) {
		this.events.add("drained " + percent(utilization));
	}

	@Override
	public void onFlushed(int batchSize, long latencyNanos, long waitNanos, double utilization) {
		this.events.add("flushed " + batchSize + " latency=" + millis(latencyNanos) + " wait=" + millis(waitNanos)
				+ " " + percent(utilization));
	}

	@Override
	public void onFlushFailed(int batchSize, int attempt, Throwable error, long nextBackoffNanos,
			double utilization) {
		this.events.add("failed " + batchSize + " attempt=" + attempt + " " + error.getClass().getSimpleName()
				+ " backoff=" + millis(nextBackoffNanos) + " " + percent(utilization));
	}

	@Override
	public void onAbandoned(List<T> items) {
		this.events.add("abandoned " + items);
	}

	List<String> events() {
		return this.events;
	}

	private static String percent(double utilization) {
		return String.format(java.util.Locale.ROOT, "%.2f", utilization);
	}

	private static String millis(long nanos) {
		return (nanos / 1_000_000) + "ms";
	}

}
