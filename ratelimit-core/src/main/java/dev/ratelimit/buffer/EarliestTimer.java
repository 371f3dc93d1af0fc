package dev.ratelimit.buffer;

import java.util.function.LongConsumer;

import dev.ratelimit.Scheduler;

/**
 * One pending wake-up on the pool's scheduler, at the earliest time asked for. The scheduler
 * cannot cancel a task, so a request due no earlier than the pending one schedules nothing: the
 * pending one runs first, and whoever still needs a later wake-up asks again then. This keeps one
 * task per timer in the scheduler however many offers or age checks ask.
 *
 * <p>Guarded by the pool's lock: {@link #atMost} and {@link #ran} are called holding it. The task
 * itself runs on the scheduler's thread without the lock, and takes it to call {@link #ran}.
 */
final class EarliestTimer {

	/** Longest delay handed to the scheduler, so that ticker readings plus delays cannot overflow. */
	static final long MAX_DELAY_NANOS = Long.MAX_VALUE / 4;

	/** No wake-up pending. */
	private static final long NONE = Long.MAX_VALUE;

	private final Scheduler scheduler;

	/** Receives the due time of the task that ran. */
	private final LongConsumer task;

	/** Due time of the earliest task scheduled, or {@link #NONE}. */
	private long due = NONE;

	EarliestTimer(Scheduler scheduler, LongConsumer task) {
		this.scheduler = scheduler;
		this.task = task;
	}

	/** Makes sure the task runs at most {@code delayNanos} after {@code now}, a ticker reading. */
	void atMost(long delayNanos, long now) {
		long delay = clamp(delayNanos);
		long at = now + delay;
		if (at >= this.due) {
			return;
		}
		this.due = at;
		this.scheduler.schedule(() -> this.task.accept(at), delay);
	}

	/** Records that the task due at {@code at} ran, so a later request schedules again. */
	void ran(long at) {
		if (this.due == at) {
			this.due = NONE;
		}
	}

	/** A delay the scheduler may be given: at most {@link #MAX_DELAY_NANOS}. */
	static long clamp(long delayNanos) {
		return Math.min(delayNanos, MAX_DELAY_NANOS);
	}

}
