package dev.ratelimit.internal;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.ratelimit.Scheduler;

/**
 * The default {@link Scheduler}: parks the caller for waits and runs delayed tasks on one shared
 * daemon thread, started on first use. Tasks are expected to only complete futures, so one thread
 * serves every limiter.
 */
public final class SystemScheduler implements Scheduler {

	/** The shared instance. */
	public static final SystemScheduler INSTANCE = new SystemScheduler();

	private SystemScheduler() {
	}

	@Override
	public void sleep(long nanos) throws InterruptedException {
		long deadline = System.nanoTime() + nanos;
		for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
			LockSupport.parkNanos(this, left);
			if (Thread.interrupted()) {
				throw new InterruptedException();
			}
		}
	}

	@Override
	public void schedule(Runnable task, long delayNanos) {
		Holder.EXECUTOR.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
	}

	/** Lazy holder: no thread is started unless something is scheduled. */
	private static final class Holder {

		static final ScheduledThreadPoolExecutor EXECUTOR = createExecutor();

		private static ScheduledThreadPoolExecutor createExecutor() {
			ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, (runnable) -> {
				Thread thread = new Thread(runnable, "ratelimit-scheduler");
				thread.setDaemon(true);
				return thread;
			});
			executor.setRemoveOnCancelPolicy(true);
			return executor;
		}

	}

}
