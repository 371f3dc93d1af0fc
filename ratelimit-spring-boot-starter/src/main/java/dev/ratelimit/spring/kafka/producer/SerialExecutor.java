package dev.ratelimit.spring.kafka.producer;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Runs tasks one at a time, in the order they were given, on another executor: at most one task
 * of this executor is on the other at any time, and it runs every task queued meanwhile before
 * it returns. So buffer events keep their order on any executor, a thread-per-task one (Boot's
 * {@code SimpleAsyncTaskExecutor}, virtual threads) included. Lock-free.
 */
final class SerialExecutor implements Executor {

	private static final Log logger = LogFactory.getLog(SerialExecutor.class);

	private final Executor executor;

	private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();

	/** Whether a drain is on the executor, or about to be. */
	private final AtomicBoolean draining = new AtomicBoolean();

	private volatile boolean shutdown;

	SerialExecutor(Executor executor) {
		this.executor = executor;
	}

	@Override
	public void execute(Runnable task) {
		if (this.shutdown) {
			throw new RejectedExecutionException("the executor is shut down");
		}
		this.tasks.add(task);
		drainSoon();
	}

	private void drainSoon() {
		if (this.tasks.isEmpty() || !this.draining.compareAndSet(false, true)) {
			return; // nothing to do, or the drain in progress will take the task
		}
		try {
			this.executor.execute(this::drain);
		}
		catch (RuntimeException ex) {
			this.draining.set(false);
			throw ex;
		}
	}

	private void drain() {
		try {
			for (Runnable task = this.tasks.poll(); task != null; task = this.tasks.poll()) {
				try {
					task.run();
				}
				catch (RuntimeException ex) {
					logger.warn("A buffer event task failed", ex);
				}
			}
		}
		finally {
			this.draining.set(false);
		}
		try {
			// a task added after the last poll and before draining was cleared
			drainSoon();
		}
		catch (RuntimeException ex) {
			// the executor refused (shut down): what is queued goes with the next task given
			logger.debug("Could not hand queued buffer events over", ex);
		}
	}

	/** Refuses new tasks; those queued still run. */
	void shutdown() {
		this.shutdown = true;
	}

}
