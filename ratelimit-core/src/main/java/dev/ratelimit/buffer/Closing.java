package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.Collections;
import java.util.List;

/**
 * The close of a {@link BufferPool}: whether it is open, closing (flushing what is left, offers
 * refused) or closed; the close's deadline; and what it gave up on. Closing ends when nothing is
 * held, or when the deadline passes and the pool hands back what is left.
 *
 * <p>Guarded by the pool's lock: every method is called holding it.
 *
 * @param <T> the type of the items
 */
final class Closing<T> {

	enum State {

		/** Accepting items. */
		OPEN,

		/** Closed to new items, flushing what is left. */
		CLOSING,

		/** Everything delivered, or given back in {@link #unflushed}. */
		CLOSED

	}

	private final String name;

	private State state = State.OPEN;

	/** Set when closing starts. */
	private Deadline deadline;

	/** The timeout of the close that started closing, for messages. */
	private Duration timeout;

	private List<T> unflushed = List.of();

	Closing(String name) {
		this.name = name;
	}

	State state() {
		return this.state;
	}

	boolean isOpen() {
		return this.state == State.OPEN;
	}

	boolean isClosing() {
		return this.state == State.CLOSING;
	}

	void checkOpen() {
		if (this.state != State.OPEN) {
			throw BufferErrors.closed(this.name);
		}
	}

	/**
	 * Starts closing at {@code now}, a ticker reading, unless a close already did; returns whether
	 * this call started it.
	 */
	boolean begin(Duration timeout, long timeoutNanos, long now) {
		if (this.state != State.OPEN) {
			return false;
		}
		this.state = State.CLOSING;
		this.deadline = Deadline.after(timeoutNanos, now);
		this.timeout = timeout;
		return true;
	}

	/** Time left before closing gives up; zero or less once it should. */
	long remainingNanos(long now) {
		return this.deadline.remainingNanos(now);
	}

	/** Ends closing, with what was not delivered, in offer order. */
	void closed(List<T> left) {
		this.state = State.CLOSED;
		this.unflushed = Collections.unmodifiableList(left);
	}

	List<T> unflushed() {
		return this.unflushed;
	}

	/** Whether close gave up on some items: flushes can no longer succeed. */
	boolean gaveUp() {
		return this.state == State.CLOSED && !this.unflushed.isEmpty();
	}

	IllegalStateException notFlushed() {
		return BufferErrors.notFlushedOnClose(this.name, this.unflushed.size(), this.timeout);
	}

}
