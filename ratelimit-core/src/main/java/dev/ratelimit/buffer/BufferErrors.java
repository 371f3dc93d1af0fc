package dev.ratelimit.buffer;

import java.time.Duration;

/**
 * Every message of the buffer package, in one place, so that they read like those of
 * {@code dev.ratelimit.internal.Errors}: each names the field, the bad value, the allowed range
 * and, where there is one, the fix.
 */
final class BufferErrors {

	private BufferErrors() {
	}

	static InvalidBufferSettingException notPositive(String field, long value, String meaning) {
		return new InvalidBufferSettingException(field, value, field + " must be positive, but was " + value + ": " + meaning);
	}

	static InvalidBufferSettingException notPositive(String field, Duration value, String meaning) {
		return new InvalidBufferSettingException(field, value, field + " must be a positive duration, but was " + value + ": "
				+ meaning);
	}

	static InvalidBufferSettingException negative(String field, Duration value, String meaning) {
		return new InvalidBufferSettingException(field, value, field + " must be zero or a positive duration, but was " + value
				+ ": " + meaning);
	}

	static InvalidBufferSettingException batchOverBound(String field, long value, String boundField, long bound) {
		return new InvalidBufferSettingException(field, value, field + " (" + value + ") must be at most " + boundField + " ("
				+ bound + "): a batch is taken from what the buffer holds, so a larger one could never fill up; "
				+ "lower " + field + " or raise " + boundField);
	}

	static InvalidBufferSettingException batchOverCapacity(int maxBatchSize, String limiter, long capacity) {
		return new InvalidBufferSettingException("maxBatchSize", maxBatchSize, "maxBatchSize (" + maxBatchSize + ") exceeds the capacity (" + capacity
				+ ") of limiter '" + limiter + "': a flush takes one permit per item, so such a batch could never be "
				+ "permitted; set maxBatchSize to at most " + capacity + " or raise the limiter's capacity");
	}

	static InvalidBufferSettingException maxBackoffBelowInitial(Duration maxBackoff, Duration initialBackoff) {
		return new InvalidBufferSettingException("maxBackoff", maxBackoff, "maxBackoff (" + maxBackoff + ") must be at least initialBackoff ("
				+ initialBackoff + "): retries wait from initialBackoff up to maxBackoff; raise maxBackoff or "
				+ "lower initialBackoff");
	}

	static InvalidBufferSettingException badMultiplier(double value) {
		return new InvalidBufferSettingException("backoffMultiplier", value, "backoffMultiplier must be a finite number of at least 1.0, but was "
				+ value + ": each retry waits this many times longer than the last, for example 2.0 to double the "
				+ "wait or 1.0 to keep it constant");
	}

	static InvalidBufferSettingException badLowWaterMark(double value) {
		return new InvalidBufferSettingException("lowWaterMark", value, "lowWaterMark must be greater than 0 and at most 1, but was " + value
				+ ": it is the utilization below which a full buffer counts as drained, for example 0.5 for half "
				+ "empty");
	}

	static IllegalArgumentException negativeSize(String buffer, long size) {
		return new IllegalArgumentException("sizeInBytes returned " + size + " for an item offered to buffer '"
				+ buffer + "', but sizes must be zero or more: fix the size function");
	}

	static IllegalArgumentException itemOverMaxBytes(String buffer, long size, long maxBytes) {
		return new IllegalArgumentException("item of " + size + " bytes exceeds maxBytes (" + maxBytes
				+ ") of buffer '" + buffer + "': it could never be buffered; raise maxBytes or split the item");
	}

	static IllegalStateException closed(String buffer) {
		return new IllegalStateException("buffer '" + buffer + "' is closed and accepts no more items: "
				+ "offer only before close()");
	}

	static IllegalStateException notFlushedOnClose(String buffer, int items, Duration timeout) {
		return new IllegalStateException("buffer '" + buffer + "' closed with " + items
				+ " item(s) not flushed within " + timeout + ": get them from unflushed() (or use close(Duration), "
				+ "which returns them), or raise closeTimeout");
	}

	static IllegalStateException closeFromCallback(String buffer) {
		return new IllegalStateException("close() of buffer '" + buffer + "' was called from its flush handler or "
				+ "listener, where it would wait for the buffer it is holding up: close the buffer from another "
				+ "thread");
	}

}
