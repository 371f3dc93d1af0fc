package dev.ratelimit.test;

import java.time.Duration;
import java.util.PriorityQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * A clock for tests: time moves only when the test says so. It is both the {@link Ticker} and the
 * {@link Scheduler} of the code under test: {@link #sleep(long)} moves time forward by the wait
 * (so a blocking call returns at once, having "waited"), and scheduled tasks run, in time order,
 * when {@link #advance(Duration)} passes their due time. Shared through the core test-jar.
 */
public final class ManualClock implements Ticker, Scheduler {

	private final AtomicLong now;

	private final ReentrantLock lock = new ReentrantLock();

	private final PriorityQueue<Task> tasks = new PriorityQueue<>();

	private long sequence;

	private long slept;

	public ManualClock() {
		// a start far from zero catches code that assumes tickers start at zero
		this(1_000_000_000_000L);
	}

	public ManualClock(long startNanos) {
		this.now = new AtomicLong(startNanos);
	}

	private record Task(long due, long sequence, Runnable action) implements Comparable<Task> {

		@Override
		public int compareTo(Task other) {
			int byDue = Long.compare(this.due, other.due);
			return (byDue != 0) ? byDue : Long.compare(this.sequence, other.sequence);
		}

	}

	@Override
	public long read() {
		return this.now.get();
	}

	/** Moves time forward and runs every task that falls due, in order. */
	public ManualClock advance(Duration duration) {
		return advanceNanos(duration.toNanos());
	}

	/** Moves time forward by nanoseconds and runs every task that falls due, in order. */
	public ManualClock advanceNanos(long nanos) {
		if (nanos < 0) {
			throw new IllegalArgumentException("time cannot go backwards: " + nanos);
		}
		long target = this.now.get() + nanos;
		for (;;) {
			Task next;
			this.lock.lock();
			try {
				next = this.tasks.peek();
				if (next == null || next.due() > target) {
					break;
				}
				this.tasks.poll();
				this.now.accumulateAndGet(next.due(), Math::max);
			}
			finally {
				this.lock.unlock();
			}
			next.action().run();
		}
		this.now.accumulateAndGet(target, Math::max);
		return this;
	}

	/** Runs tasks already due without moving time. */
	public ManualClock runDue() {
		return advanceNanos(0);
	}

	/** Total time "slept" through {@link #sleep(long)}. */
	public long sleptNanos() {
		return this.slept;
	}

	/** Number of tasks waiting to fall due. */
	public int pendingTasks() {
		this.lock.lock();
		try {
			return this.tasks.size();
		}
		finally {
			this.lock.unlock();
		}
	}

	@Override
	public void sleep(long nanos) throws InterruptedException {
		if (Thread.interrupted()) {
			throw new InterruptedException();
		}
		if (nanos > 0) {
			this.slept += nanos;
			advanceNanos(nanos);
		}
	}

	@Override
	public void schedule(Runnable task, long delayNanos) {
		this.lock.lock();
		try {
			this.tasks.add(new Task(this.now.get() + Math.max(0, delayNanos), this.sequence++, task));
		}
		finally {
			this.lock.unlock();
		}
	}

}
