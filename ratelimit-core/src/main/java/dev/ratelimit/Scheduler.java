package dev.ratelimit;

import dev.ratelimit.internal.SystemScheduler;

/**
 * Waits and delayed tasks for limiters, so that blocking and asynchronous acquisition can be
 * driven by a manual clock in tests.
 *
 * <p>Implementations must be thread-safe.
 */
public interface Scheduler {

	/**
	 * Blocks the calling thread for at least the given time. Parks rather than spins, so a virtual
	 * thread releases its carrier while it waits.
	 * @param nanos time to wait, in nanoseconds; zero or less returns at once
	 * @throws InterruptedException if the thread is interrupted while waiting
	 */
	void sleep(long nanos) throws InterruptedException;

	/**
	 * Runs a task once after at least the given delay, on a thread the scheduler owns. The task
	 * must be short and must not block.
	 * @param task the task
	 * @param delayNanos delay in nanoseconds; zero or less runs the task as soon as possible
	 */
	void schedule(Runnable task, long delayNanos);

	/**
	 * Returns the scheduler that parks the calling thread and runs delayed tasks on one shared
	 * daemon thread.
	 * @return the system scheduler
	 */
	static Scheduler system() {
		return SystemScheduler.INSTANCE;
	}

}
