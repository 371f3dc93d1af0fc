package dev.ratelimit.spring.scheduling;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.core.log.LogAccessor;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;

/**
 * One of the starter's periodic background tasks (adaptive control, consumer lag), run with a
 * fixed delay on a scheduler of its own. The scheduler is built from the application's
 * {@link SimpleAsyncTaskSchedulerBuilder} where Spring Boot's task scheduling provides one, so it
 * takes what the application set there: virtual threads with
 * {@code spring.threads.virtual.enabled=true} and the application's {@code TaskDecorator} (context
 * propagation, MDC); without one it runs on daemon platform threads. Its threads are daemons named
 * after the task. It is not a {@code TaskScheduler} bean, so it never becomes the application's
 * scheduler for {@code @Scheduled} methods.
 *
 * <p>Runs never overlap: each run schedules the next when it ends, {@code delay} later. A run that
 * throws is logged, and the next one runs as usual. {@link #stop()} lets no further run start and
 * waits for a run in progress up to {@link #STOP_TIMEOUT}, then interrupts it. The task does that
 * wait itself rather than through the scheduler's task termination timeout: with that timeout
 * set, a run already handed to a thread as the scheduler closes fails on that thread with an
 * uncaught {@code CancellationException}, printed by the thread's default handler.
 */
public final class PeriodicTask {

	/** How long {@link #stop()} waits for a run in progress. */
	public static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

	private static final LogAccessor logger = new LogAccessor(LogFactory.getLog(PeriodicTask.class));

	private final String name;

	private final @Nullable SimpleAsyncTaskSchedulerBuilder builder;

	private final AtomicReference<@Nullable Running> running = new AtomicReference<>();

	/** One start: its scheduler, and the next run it has scheduled. */
	private final class Running {

		final SimpleAsyncTaskScheduler scheduler;

		final Runnable task;

		final Duration delay;

		volatile @Nullable ScheduledFuture<?> next;

		/** Held by a run in progress; {@link #stop()} waits for it. */
		final ReentrantLock inRun = new ReentrantLock();

		volatile @Nullable Thread runner;

		Running(SimpleAsyncTaskScheduler scheduler, Runnable task, Duration delay) {
			this.scheduler = scheduler;
			this.task = task;
			this.delay = delay;
		}

		/** Schedules the next run, unless stopped meanwhile. */
		void scheduleAfter(Duration wait) {
			if (PeriodicTask.this.running.get() != this) {
				return;
			}
			try {
				// a one-time task runs through the scheduler's executor: decorated, on a virtual thread
				// where the application has them
				this.next = this.scheduler.schedule(this::runOnce, Instant.now().plus(wait));
			}
			catch (RejectedExecutionException ex) {
				// stopped between the check and the schedule
			}
		}

		private void runOnce() {
			boolean ran = false;
			this.inRun.lock();
			try {
				if (PeriodicTask.this.running.get() != this) {
					return;
				}
				ran = true;
				this.runner = Thread.currentThread();
				this.task.run();
			}
			catch (RuntimeException ex) {
				logger.warn(ex, () -> "Periodic task " + PeriodicTask.this.name + " failed; it runs again in "
						+ this.delay);
			}
			finally {
				this.runner = null;
				this.inRun.unlock();
				if (ran) {
					// an Error thrown by the task too: it propagates, and the task still runs again
					scheduleAfter(this.delay);
				}
			}
		}

		/** Waits for a run in progress up to {@link #STOP_TIMEOUT}, then interrupts it. */
		void awaitRun() {
			try {
				if (this.inRun.tryLock(STOP_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS)) {
					this.inRun.unlock();
					return;
				}
				Thread late = this.runner;
				if (late != null) {
					logger.warn(() -> "Periodic task " + PeriodicTask.this.name + " still running after "
							+ STOP_TIMEOUT + "; interrupting it");
					late.interrupt();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

	/**
	 * Creates a task that is not running yet.
	 * @param name its name, the prefix of its threads' names
	 * @param builder the application's scheduler builder, or {@code null} for daemon platform threads
	 */
	public PeriodicTask(String name, @Nullable SimpleAsyncTaskSchedulerBuilder builder) {
		this.name = Objects.requireNonNull(name, "name");
		this.builder = builder;
	}

	/**
	 * Starts running {@code task} every {@code delay} after the end of the previous run, the first
	 * time after {@code initialDelay}; does nothing when already running.
	 * @param task what to run
	 * @param initialDelay the delay before the first run
	 * @param delay the delay between the end of a run and the start of the next
	 * @return whether this call started it
	 */
	public boolean start(Runnable task, Duration initialDelay, Duration delay) {
		Objects.requireNonNull(task, "task");
		Objects.requireNonNull(delay, "delay");
		if (this.running.get() != null) {
			return false;
		}
		Running started = new Running(newScheduler(), task, delay);
		if (!this.running.compareAndSet(null, started)) {
			started.scheduler.close();
			return false;
		}
		started.scheduleAfter(initialDelay);
		return true;
	}

	private SimpleAsyncTaskScheduler newScheduler() {
		String prefix = this.name + "-";
		SimpleAsyncTaskScheduler scheduler = (this.builder != null) ? this.builder.threadNamePrefix(prefix).build()
				: new SimpleAsyncTaskScheduler();
		scheduler.setThreadNamePrefix(prefix);
		scheduler.setDaemon(true); // as before: never what keeps a JVM alive
		// stop() waits for a run itself: with a termination timeout (Boot's builder sets one from
		// spring.task.scheduling.shutdown.await-termination-period), close() would wait as well,
		// and fail a run handed to a thread as it closes with an uncaught CancellationException
		scheduler.setTaskTerminationTimeout(0);
		scheduler.setCancelRemainingTasksOnClose(false); // which a customizer may have set
		return scheduler;
	}

	/**
	 * Stops the task: no run starts after this, and a run in progress is waited for up to
	 * {@link #STOP_TIMEOUT}. Does nothing when not running.
	 */
	public void stop() {
		Running stopped = this.running.getAndSet(null);
		if (stopped != null) {
			ScheduledFuture<?> next = stopped.next;
			if (next != null) {
				next.cancel(false);
			}
			stopped.scheduler.close();
			stopped.awaitRun();
		}
	}

	/**
	 * Returns whether the task is running.
	 * @return {@code true} between {@link #start} and {@link #stop}
	 */
	public boolean isRunning() {
		return this.running.get() != null;
	}

}
