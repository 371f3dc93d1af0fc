package dev.ratelimit.spring.kafka;

import java.util.Collection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

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
 * that keeps records to have paused its consumer before the next poll. A container that the
 * application paused itself is left alone, and so is a consumer whose whole container the
 * application paused meanwhile: the application's resume resumes it. Thread-safe.
 */
final class DeliveryHolds {

	/** How often a release looks again for the consumer to have paused. */
	static final long PAUSE_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

	/** How long a release waits for the consumer to pause before resuming anyway. */
	static final long PAUSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(5);

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
	 * Holds the records of the consumer that owns a partition until its next record's permits are
	 * there. Called on that consumer's thread, after a record.
	 * @param partition the partition of the record just delivered
	 * @param ahead where that consumer keeps the permits taken for its next record
	 * @param refused the limiter's refusal of those permits
	 */
	void hold(TopicPartition partition, AtomicLong ahead, Decision refused) {
		MessageListenerContainer consumerContainer = owner(partition);
		if (consumerContainer == null || consumerContainer.isPauseRequested() || this.container.isPauseRequested()) {
			// paused by the application (which resumes it), or between assignments: the next
			// record takes its permits as it comes
			return;
		}
		consumerContainer.pause();
		this.scheduler.schedule(() -> release(consumerContainer, ahead, 0), PartitionPauses.retryNanos(refused));
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

	private void release(MessageListenerContainer held, AtomicLong ahead, long waitedNanos) {
		if (held.isRunning() && !held.isContainerPaused() && waitedNanos < PAUSE_WAIT_NANOS && hasAssignment(held)) {
			// the consumer has not paused yet: resumed now, its next poll could return records
			// while it keeps the held ones
			this.scheduler.schedule(() -> release(held, ahead, waitedNanos + PAUSE_CHECK_NANOS), PAUSE_CHECK_NANOS);
			return;
		}
		if (held != this.container && this.container.isPauseRequested()) {
			return;
		}
		if (ahead.get() < this.permits) {
			Decision decision = this.limiter.decide(this.permits);
			if (!decision.permitted()) {
				this.scheduler.schedule(() -> release(held, ahead, waitedNanos), PartitionPauses.retryNanos(decision));
				return;
			}
			ahead.addAndGet(this.permits);
		}
		held.resume();
	}

	private static boolean hasAssignment(MessageListenerContainer container) {
		Collection<TopicPartition> assigned = container.getAssignedPartitions();
		return assigned != null && !assigned.isEmpty();
	}

}
