package dev.ratelimit.spring.kafka;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.TopicPartition;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.MessageListenerContainer;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.Scheduler;

/**
 * Holds the rest of a poll in a record listener's container while its limiter has no permits, so
 * that the next record is not delivered before its permits are taken.
 *
 * <p>A hold pauses the consumer's own container (the child of a concurrent container that owns
 * the partition), which has {@code pauseImmediate} set: the container stops after the current
 * record and keeps the rest of the poll in memory, uncommitted. When the limiter's retry-after has
 * passed, the permits of the next record are taken for it and the container is resumed; it then
 * delivers the records it kept, in order, without fetching them again.
 *
 * <p>The container is resumed only once its consumer has paused: Spring Kafka expects a container
 * that keeps records to have paused its consumer before the next poll, and stops it otherwise. A
 * container that the application paused itself is left alone, and so is a consumer whose whole
 * container the application paused meanwhile: the application's resume resumes it. A limiter
 * that throws never leaves a container paused: the failure is logged, the container resumed, and
 * the next record takes its permits as it comes (where a failure goes to the error handler).
 * Thread-safe.
 */
final class DeliveryHolds {

	private static final LogAccessor logger = new LogAccessor(LogFactory.getLog(DeliveryHolds.class));

	/** How soon a release first looks again for the consumer to have paused. */
	static final long PAUSE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

	/** How long a release waits at most between two looks. */
	static final long MAX_PAUSE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	/** What {@code ahead} holds while one thread takes the next record's permits. */
	static final long TAKING = -1;

	private final MessageListenerContainer container;

	private final RateLimiter limiter;

	private final long permits;

	private final Scheduler scheduler;

	/**
	 * Creates the holds of one listener container.
	 * @param container the container, concurrent or not
	 * @param limiter the limiter its records take permits from
	 * @param permits the permits of one record
	 * @param scheduler the scheduler of releases
	 */
	DeliveryHolds(MessageListenerContainer container, RateLimiter limiter, long permits, Scheduler scheduler) {
		this.container = container;
		this.limiter = limiter;
		this.permits = permits;
		this.scheduler = scheduler;
	}

	/**
	 * Takes the permits of a consumer's next record, unless it holds them already or another
	 * thread is taking them. Never throws: a limiter that fails is logged, and the next record
	 * takes its permits as it comes.
	 * @param ahead where the consumer keeps the permits of its next record
	 * @return the limiter's refusal, or {@code null} when the consumer may go on
	 */
	@Nullable Decision takeAhead(AtomicLong ahead) {
		long held = ahead.get();
		if (held >= this.permits || held == TAKING || !ahead.compareAndSet(held, TAKING)) {
			return null;
		}
		long after = held;
		try {
			Decision decision = this.limiter.decide(this.permits);
			if (!decision.permitted()) {
				return decision;
			}
			after = held + this.permits;
			return null;
		}
		catch (RuntimeException ex) {
			logger.warn(ex, () -> "Could not take the next record's permits from " + this.limiter.name()
					+ "; the record takes them as it comes");
			return null;
		}
		finally {
			ahead.set(after);
		}
	}

	/**
	 * Holds the records of the consumer that owns a partition until its next record's permits are
	 * there. Called on that consumer's thread, after a record.
	 * @param partition the partition of the record just delivered
	 * @param ahead where that consumer keeps the permits taken for its next record
	 * @param refused the limiter's refusal of those permits
	 */
	void hold(TopicPartition partition, AtomicLong ahead, Decision refused) {
		MessageListenerContainer paused = null;
		try {
			MessageListenerContainer consumerContainer = owner(partition);
			if (consumerContainer == null || consumerContainer.isPauseRequested()
					|| this.container.isPauseRequested()) {
				// paused by the application (which resumes it), or between assignments: the
				// next record takes its permits as it comes
				return;
			}
			consumerContainer.pause();
			paused = consumerContainer;
			this.scheduler.schedule(() -> release(consumerContainer, ahead, PAUSE_CHECK_NANOS),
					PartitionPauses.retryNanos(refused));
		}
		catch (RuntimeException ex) {
			// thrown here, it would reach the container outside its error handling, which drops
			// the rest of the poll
			logger.warn(ex, () -> "Could not hold records for permits; the next record takes them as it comes");
			if (paused != null) {
				paused.resume();
			}
		}
	}

	private @Nullable MessageListenerContainer owner(TopicPartition partition) {
		if (!(this.container instanceof ConcurrentMessageListenerContainer<?, ?> concurrent)) {
			return this.container;
		}
		for (MessageListenerContainer child : concurrent.getContainers()) {
			Collection<TopicPartition> assigned = child.getAssignedPartitions();
			if (assigned != null && assigned.contains(partition)) {
				return child;
			}
		}
		return null;
	}

	private void release(MessageListenerContainer held, AtomicLong ahead, long checkNanos) {
		try {
			if (held.isRunning() && !held.isContainerPaused() && hasAssignment(held)) {
				// the consumer has not paused yet: resumed now, its next poll could return
				// records while it keeps the held ones, which Spring Kafka answers with an
				// emergency stop
				this.scheduler.schedule(() -> release(held, ahead, Math.min(2 * checkNanos, MAX_PAUSE_CHECK_NANOS)),
						checkNanos);
				return;
			}
			if (applicationPaused(held)) {
				return;
			}
			if (held.isRunning()) {
				Decision refused = takeAhead(ahead);
				if (refused != null) {
					this.scheduler.schedule(() -> release(held, ahead, PAUSE_CHECK_NANOS),
							PartitionPauses.retryNanos(refused));
					return;
				}
			}
			held.resume();
			if (applicationPaused(held)) {
				// the application paused the whole container just now: its pause holds
				held.pause();
			}
		}
		catch (RuntimeException ex) {
			logger.warn(ex, () -> "Could not release the records held for permits; resuming");
			held.resume();
		}
	}

	/** Whether the application paused the concurrent container this consumer belongs to. */
	private boolean applicationPaused(MessageListenerContainer held) {
		return held != this.container && this.container.isPauseRequested();
	}

	private static boolean hasAssignment(MessageListenerContainer container) {
		Collection<TopicPartition> assigned = container.getAssignedPartitions();
		return assigned != null && !assigned.isEmpty();
	}

}
