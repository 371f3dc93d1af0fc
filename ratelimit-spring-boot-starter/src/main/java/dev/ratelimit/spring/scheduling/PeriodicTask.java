package dev.ratelimit.spring.scheduling;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicReference;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;
import org.springframework.scheduling.support.PeriodicTrigger;

/**
 * One of the starter's periodic background tasks (adaptive control, consumer lag), run with a
 * fixed delay on a scheduler of its own. The scheduler is built from the application's
 * {@link SimpleAsyncTaskSchedulerBuilder} where Spring Boot's task scheduling provides one, so it
 * takes what the application set there: virtual threads with
 * {@code spring.threads.virtual.enabled=true}, the application's {@code TaskDecorator} (context
 * propagation, MDC) and the termination timeout; without one it runs on a daemon platform thread.
 * Its threads are named after the task. It is not a {@code TaskScheduler} bean, so it never
 * becomes the application's scheduler for {@code @Scheduled} methods.
 */
public final class PeriodicTask {

	private final String name;

	private final @Nullable SimpleAsyncTaskSchedulerBuilder builder;

	private final AtomicReference<@Nullable Running> running = new AtomicReference<>();

	private record Running(SimpleAsyncTaskScheduler scheduler, ScheduledFuture<?> future) {
	}

	/**
	 * Creates a task that is not running yet.
	 * @param name its name, the prefix of its threads' names
	 * @param builder the application's scheduler builder, or {@code null} for a daemon platform thread
	 */
	public PeriodicTask(String name, @Nullable SimpleAsyncTaskSchedulerBuilder builder) {
		this.name = Objects.requireNonNull(name, "name");
		this.builder = builder;
	}

	/**
	 * Starts running {@code task} every {@code delay} after the end of the previous run, the first
	 * time after {@code initialDelay}; does nothing when already running.
	 * @param task what to run; an exception it throws is the task's to handle (it is not run again)
	 * @param initialDelay the delay before the first run
	 * @param delay the delay between the end of a run and the start of the next
	 * @return whether this call started it
	 */
	public boolean start(Runnable task, Duration initialDelay, Duration delay) {
		SimpleAsyncTaskScheduler scheduler = newScheduler();
		if (this.running.get() != null) {
			scheduler.close();
			return false;
		}
		// a trigger rather than scheduleWithFixedDelay: the scheduler runs fixed-delay tasks on its own
		// thread, undecorated, and triggered ones through its executor (decorator, virtual threads);
		// a periodic trigger without a fixed rate starts the next run after the previous one ends
		PeriodicTrigger trigger = new PeriodicTrigger(delay);
		trigger.setInitialDelay(initialDelay);
		ScheduledFuture<?> future = scheduler.schedule(task, trigger);
		if (future == null) {
			scheduler.close();
			return false;
		}
		if (!this.running.compareAndSet(null, new Running(scheduler, future))) {
			future.cancel(false);
			scheduler.close();
			return false;
		}
		return true;
	}

	private SimpleAsyncTaskScheduler newScheduler() {
		String prefix = this.name + "-";
		if (this.builder != null) {
			return this.builder.threadNamePrefix(prefix).build();
		}
		SimpleAsyncTaskScheduler scheduler = new SimpleAsyncTaskScheduler();
		scheduler.setThreadNamePrefix(prefix);
		scheduler.setDaemon(true);
		return scheduler;
	}

	/** Stops the task, interrupting a run in progress, and its scheduler; does nothing when not running. */
	public void stop() {
		Running stopped = this.running.getAndSet(null);
		if (stopped != null) {
			stopped.future().cancel(true);
			stopped.scheduler().close();
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
