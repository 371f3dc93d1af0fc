package dev.ratelimit.buffer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import dev.ratelimit.Ticker;

/**
 * A handler for tests: records every call with the time it was made, and fails the next
 * {@link #failNext(int)} calls with an {@link IOException}.
 */
final class RecordingHandler<T> implements FlushHandler<T> {

	record Call<T>(List<T> batch, long at, boolean failed) {
	}

	private final Ticker ticker;

	private final List<Call<T>> calls = new CopyOnWriteArrayList<>();

	private final AtomicInteger failuresLeft = new AtomicInteger();

	RecordingHandler(Ticker ticker) {
		this.ticker = ticker;
	}

	RecordingHandler<T> failNext(int failures) {
		this.failuresLeft.set(failures);
		return this;
	}

	@Override
	public void flush(List<T> batch) throws IOException {
		boolean fail = this.failuresLeft.getAndUpdate((left) -> Math.max(0, left - 1)) > 0;
		this.calls.add(new Call<>(batch, this.ticker.read(), fail));
		if (fail) {
			throw new IOException("downstream unavailable");
		}
	}

	/** Every call, failed ones included. */
	List<Call<T>> calls() {
		return this.calls;
	}

	/** The batches delivered, in order. */
	List<List<T>> batches() {
		List<List<T>> batches = new ArrayList<>();
		for (Call<T> call : this.calls) {
			if (!call.failed()) {
				batches.add(call.batch());
			}
		}
		return batches;
	}

	/** The items delivered, in order. */
	List<T> delivered() {
		List<T> items = new ArrayList<>();
		for (List<T> batch : batches()) {
			items.addAll(batch);
		}
		return items;
	}

	/** Times of every call, relative to {@code origin}, in milliseconds. */
	List<Long> callMillis(long origin) {
		List<Long> times = new ArrayList<>();
		for (Call<T> call : this.calls) {
			times.add((call.at() - origin) / 1_000_000);
		}
		return times;
	}

}
