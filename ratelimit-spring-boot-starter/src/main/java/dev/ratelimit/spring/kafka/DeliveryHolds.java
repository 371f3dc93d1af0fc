package dev.ratelimit.spring.kafka;

import java.util.Collection;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.observation.Observation;
import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.MessageListenerContainer;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RefundableRateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservations;

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
 * <p>The container is resumed on its consumer's own thread, just before a poll
 * ({@link #beforePoll}). A resume wakes a consumer that is polling, and Spring Kafka decides
 * whether it is polling by a flag it clears only after the poll has returned: a resume from
 * another thread at that moment leaves the wake-up pending, and the consumer's next blocking call
 * (the commit of the record it delivers next, with {@code AckMode.RECORD}) fails with a
 * {@code WakeupException}, so that a record already processed is delivered again. So the
 * scheduler's thread only wakes the consumer while it is paused and holds every record, and hands
 * the resume over to the consumer's thread, whose own wake-up the poll right after it takes.
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

	private final RateLimitObservations.@Nullable Operation observations;

	private final AtomicBoolean warned = new AtomicBoolean();

	/**
	 * Creates the holds of one listener container.
	 * @param container the container, concurrent or not
	 * @param limiter the limiter its records take permits from
	 * @param permits the permits of one record
	 * @param scheduler the scheduler of releases
	 * @param observations the observations of the permits, {@code null} for none
	 */
	DeliveryHolds(MessageListenerContainer container, RateLimiter limiter, long permits, Scheduler scheduler,
			RateLimitObservations.@Nullable Operation observations) {
		this.container = container;
		this.limiter = limiter;
		this.permits = permits;
		this.scheduler = scheduler;
		this.observations = observations;
	}

	/**
	 * What one consumer holds for its next record: the permits taken ahead (its value), and the
	 * observation of a wait for them.
	 */
	static final class Hand extends AtomicLong {

		private static final long serialVersionUID = 1L;

		/** The observation of the wait for the next record's permits, from their refusal on. */
		final transient AtomicReference<@Nullable Observation> waiting = new AtomicReference<>();

		/** The consumer this hand belongs to, and its own container: read on its thread only. */
		transient @Nullable Consumer<?, ?> consumer;

		transient @Nullable MessageListenerContainer container;

		/**
		 * Whether its consumer stopped and gave back what it held: nothing is taken for it after.
		 * Written before the hand is read, and read after a take has marked it, so a take either
		 * ends before the give-back reads it or sees this flag.
		 */
		volatile boolean returned;

		/**
		 * The hand-over of a resume to the consumer's thread: {@link #NO_RESUME}, or
		 * {@link #WAKING} while the scheduler wakes the paused consumer, then {@link #RESUME}.
		 */
		final transient AtomicInteger resume = new AtomicInteger(NO_RESUME);

		/**
		 * The container the consumer resumes when {@link #resume} says so: written only by the
		 * hand-over that owns {@link #WAKING}, read before the consumer takes {@link #RESUME}.
		 */
		transient volatile @Nullable MessageListenerContainer resumeTarget;

		/**
		 * The number of the current hold: each hold has one release, and a release of an earlier
		 * hold (its container resumed by someone else meanwhile, then held again) stops. Written
		 * on the consumer's thread.
		 */
		transient volatile long hold;

	}

	/** No resume handed over. */
	static final int NO_RESUME = 0;

	/** The scheduler is waking the paused consumer; the consumer waits for the hand-over to end. */
	static final int WAKING = 1;

	/** The consumer resumes its container before its next poll. */
	static final int RESUME = 2;

	/** How long the consumer waits at most for a hand-over to end. */
	private static final long HAND_OVER_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

	/**
	 * Takes the permits of a record that comes without them, observed: called on the consumer's
	 * thread inside the container's delivery, whose observation is the parent.
	 * @return the limiter's decision
	 */
	Decision decideAsItComes() {
		Observation observation = (this.observations != null) ? this.observations.start(null) : null;
		try {
			Decision decision = this.limiter.decide(this.permits);
			RateLimitObservations.stop(observation, decision.permitted() ? Outcome.PERMITTED : Outcome.REJECTED);
			return decision;
		}
		catch (RuntimeException ex) {
			RateLimitObservations.failed(observation, ex);
			throw ex;
		}
	}

	/**
	 * Takes the permits of a consumer's next record after a record, or holds the consumer's
	 * records until they are there. Called on that consumer's thread; never throws.
	 * @param consumer the consumer that delivered a record
	 * @param hand what the consumer holds
	 */
	void afterRecord(Consumer<?, ?> consumer, Hand hand) {
		if (hand.get() >= this.permits) {
			return;
		}
		Decision refused = takeAhead(hand);
		if (refused != null) {
			hold(consumer, hand, refused);
		}
	}

	/**
	 * Takes the permits of a consumer's next record, unless it holds them already or another
	 * thread is taking them. Never throws: a limiter that fails is logged, and the next record
	 * takes its permits as it comes.
	 * @param ahead where the consumer keeps the permits of its next record
	 * @return the limiter's refusal, or {@code null} when the consumer may go on
	 */
	@Nullable Decision takeAhead(Hand hand) {
		long held = hand.get();
		if (held >= this.permits || held == TAKING || !hand.compareAndSet(held, TAKING)) {
			return null;
		}
		if (hand.returned) {
			hand.set(held); // its consumer stopped: nothing more is taken for it
			return null;
		}
		long after = held;
		Observation observation = hand.waiting.getAndSet(null);
		try {
			if (observation == null && this.observations != null) {
				observation = this.observations.start(null);
			}
			Decision decision = this.limiter.decide(this.permits);
			if (!decision.permitted()) {
				hand.waiting.set(observation); // until the permits come
				return decision;
			}
			after = held + this.permits;
			RateLimitObservations.stop(observation, Outcome.PERMITTED);
			return null;
		}
		catch (RuntimeException ex) {
			RateLimitObservations.failed(observation, ex);
			warn(ex, "Could not take the next record's permits from " + this.limiter.name()
					+ "; the record takes them as it comes");
			return null;
		}
		finally {
			hand.set(after);
		}
	}

	/**
	 * Holds a consumer's records until its next record's permits are there. Called on that
	 * consumer's thread, after a record; never throws.
	 * @param consumer the consumer
	 * @param hand what that consumer holds for its next record
	 * @param refused the limiter's refusal of those permits
	 * @return whether the consumer's container is held, to be released when the permits are taken
	 */
	boolean hold(Consumer<?, ?> consumer, Hand hand, Decision refused) {
		MessageListenerContainer paused = null;
		try {
			MessageListenerContainer consumerContainer = owner(consumer, hand);
			if (consumerContainer == null || consumerContainer.isPauseRequested()
					|| this.container.isPauseRequested()) {
				// paused by the application (which resumes it), or between assignments: the
				// next record takes its permits as it comes
				endWait(hand, Outcome.REJECTED);
				return false;
			}
			// numbered first: a release of an earlier hold that runs from here on stops
			long number = hand.hold + 1;
			hand.hold = number;
			consumerContainer.pause();
			paused = consumerContainer;
			if (consumerContainer.isContainerPaused()) {
				// the container believes its consumer paused already, which a rebalance can leave
				// behind for partitions it assigned meanwhile: unpaused, its next poll would return
				// records beside the kept ones, and Spring Kafka would stop the container. Its
				// resume lifts this pause with its own.
				Set<TopicPartition> assignment = consumer.assignment();
				if (!consumer.paused().containsAll(assignment)) {
					consumer.pause(assignment);
				}
			}
			this.scheduler.schedule(() -> release(consumerContainer, hand, number, PAUSE_CHECK_NANOS),
					PartitionPauses.retryNanos(refused));
			return true;
		}
		catch (RuntimeException ex) {
			// thrown here, it would reach the container outside its error handling, which drops
			// the rest of the poll
			warn(ex, "Could not hold records for permits; the next record takes them as it comes");
			endWait(hand, Outcome.REJECTED);
			if (paused != null) {
				paused.resume();
			}
			return false;
		}
	}

	/**
	 * Returns the container of a consumer: the container itself, or the child of a concurrent one
	 * whose partitions are the consumer's (on the consumer's thread, both are its own view).
	 */
	private @Nullable MessageListenerContainer owner(Consumer<?, ?> consumer, Hand hand) {
		if (!(this.container instanceof ConcurrentMessageListenerContainer<?, ?> concurrent)) {
			return this.container;
		}
		if (hand.consumer == consumer && hand.container != null) {
			return hand.container;
		}
		Set<TopicPartition> assignment = consumer.assignment();
		for (MessageListenerContainer child : concurrent.getContainers()) {
			Collection<TopicPartition> assigned = child.getAssignedPartitions();
			if (assigned != null && !assignment.isEmpty() && assignment.equals(Set.copyOf(assigned))) {
				hand.consumer = consumer;
				hand.container = child;
				return child;
			}
		}
		return null;
	}

	private void release(MessageListenerContainer held, Hand hand, long number, long checkNanos) {
		if (hand.hold != number) {
			return; // the release of a hold that ended: a later hold has its own
		}
		try {
			if (!held.isPauseRequested()) {
				// resumed by the application meanwhile: nothing is held any more
				endWait(hand, Outcome.CANCELLED);
				return;
			}
			if (held.isRunning() && !(held.isContainerPaused() && hasAssignment(held))) {
				// the consumer has not paused yet, or is between assignments: resumed now, its
				// next poll could return records while it keeps the held ones (which Spring Kafka
				// answers with an emergency stop), or the rebalance would leave it believing it is
				// paused. Without partitions it may wait long: its wait is no record's any more.
				if (!hasAssignment(held)) {
					endWait(hand, Outcome.CANCELLED);
				}
				waitForPause(held, hand, number, checkNanos);
				return;
			}
			if (applicationPaused(held)) {
				endWait(hand, Outcome.CANCELLED);
				return;
			}
			if (held.isRunning()) {
				Decision refused = takeAhead(hand);
				if (refused != null) {
					this.scheduler.schedule(() -> release(held, hand, number, PAUSE_CHECK_NANOS),
							PartitionPauses.retryNanos(refused));
					return;
				}
			}
			endWait(hand, Outcome.CANCELLED);
			handOver(held, hand);
		}
		catch (RuntimeException ex) {
			warn(ex, "Could not release the records held for permits; resuming");
			endWait(hand, Outcome.CANCELLED);
			if (!held.isRunning() || held.isContainerPaused()) {
				handOver(held, hand);
			}
		}
	}

	/**
	 * Hands the resume of a held container over to its consumer's thread ({@link #beforePoll}),
	 * waking the consumer if it is blocked in its paused poll. Called on the scheduler's thread
	 * while the consumer is paused and delivers nothing, so that the wake-up lands in a poll, or is
	 * taken by the next one: the consumer does not resume before the hand-over has ended. A
	 * container that is not running has no consumer to wake and is resumed here.
	 */
	private void handOver(MessageListenerContainer held, Hand hand) {
		if (!held.isRunning()) {
			held.resume();
			return;
		}
		if (!hand.resume.compareAndSet(NO_RESUME, WAKING)) {
			return; // a hand-over is pending already: the consumer resumes once
		}
		boolean handed = false;
		try {
			if (!held.isPauseRequested()) {
				return; // resumed by someone else meanwhile: nothing to wake
			}
			hand.resumeTarget = held;
			handed = true;
			// pause-requested already: this only wakes a consumer blocked in its poll
			held.pause();
		}
		finally {
			// this hand-over owns WAKING: no other changes it meanwhile
			hand.resume.set(handed ? RESUME : NO_RESUME);
		}
		if ((hand.returned || !held.isRunning()) && hand.resume.compareAndSet(RESUME, NO_RESUME)) {
			// the consumer stopped meanwhile and will not poll again
			held.resume();
		}
	}

	/**
	 * Resumes the container of a consumer whose release was handed over, on the consumer's thread
	 * just before its poll: the resume's wake-up ends that poll at once, and the consumer then
	 * delivers the records it kept. Called on every poll; does nothing when nothing was handed
	 * over. Never throws.
	 * @param hand what the polling consumer holds
	 */
	void beforePoll(Hand hand) {
		resumeHandedOver(hand, HAND_OVER_WAIT_NANOS);
	}

	/**
	 * Resumes a container whose release was handed over, waiting up to {@code maxWaitNanos} for a
	 * hand-over in progress to end.
	 */
	private void resumeHandedOver(Hand hand, long maxWaitNanos) {
		int resume = hand.resume.get();
		// The scheduler may be between its wake-up and the end of its hand-over, a few plain steps:
		// waited for, yielding so that its thread can finish them, since a wake-up that came before
		// this poll began would not end it, and the resume would wait a whole paused poll. If it
		// takes longer than maxWaitNanos, the next poll looks again.
		long waitedSince = 0;
		for (int spins = 0; resume == WAKING; spins++) {
			if (spins < 100) {
				Thread.onSpinWait();
			}
			else {
				long now = System.nanoTime();
				if (spins == 100) {
					waitedSince = now;
				}
				else if (now - waitedSince > maxWaitNanos) {
					return;
				}
				Thread.yield();
			}
			resume = hand.resume.get();
		}
		if (resume != RESUME) {
			return;
		}
		MessageListenerContainer held = hand.resumeTarget;
		if (held == null || !hand.resume.compareAndSet(RESUME, NO_RESUME)) {
			return;
		}
		resumeHeld(held, hand);
	}

	private void resumeHeld(MessageListenerContainer held, Hand hand) {
		try {
			held.resume();
			if (held.isRunning() && !hasAssignment(held)) {
				// a rebalance began as it resumed: paused again until the consumer has its
				// partitions and has paused them
				held.pause();
				waitForPause(held, hand, hand.hold, PAUSE_CHECK_NANOS);
				return;
			}
			if (applicationPaused(held)) {
				// the application paused the whole container just now: its pause holds, unless
				// it has already resumed it
				held.pause();
				if (!applicationPaused(held)) {
					held.resume();
				}
			}
		}
		catch (RuntimeException ex) {
			warn(ex, "Could not resume the records held for permits");
		}
	}

	private void waitForPause(MessageListenerContainer held, Hand hand, long number, long checkNanos) {
		this.scheduler.schedule(
				() -> release(held, hand, number, Math.min(2 * checkNanos, MAX_PAUSE_CHECK_NANOS)), checkNanos);
	}

	/** Logs a failure: the first with its stack trace, later ones (a limiter that stays down) briefly. */
	private void warn(RuntimeException ex, String message) {
		if (this.warned.compareAndSet(false, true)) {
			logger.warn(ex, () -> message + " (further failures are logged at debug level)");
		}
		else {
			logger.debug(ex, () -> message);
		}
	}

	/**
	 * Gives back what a consumer that stops holds for its next record, and marks its hand so that
	 * nothing is taken for it after. A release taking permits for it at that moment ({@link #takeAhead},
	 * which never blocks) is waited for. A limiter that cannot give permits back keeps them. Never
	 * throws.
	 * @param hand the stopping consumer's hand
	 */
	void giveBack(Hand hand) {
		hand.returned = true;
		endWait(hand, Outcome.CANCELLED);
		// a resume handed over that the stopping consumer will not poll for: not left paused, and
		// a hand-over in progress waited for however long it takes (a few plain steps)
		resumeHandedOver(hand, Long.MAX_VALUE);
		for (int spins = 0;; spins++) {
			long held = hand.get();
			if (held == TAKING) {
				if (spins < 100) {
					Thread.onSpinWait();
				}
				else {
					Thread.yield();
				}
				continue;
			}
			if (held <= 0) {
				return;
			}
			if (hand.compareAndSet(held, 0)) {
				refund(held);
				return;
			}
		}
	}

	private void refund(long held) {
		if (!(this.limiter instanceof RefundableRateLimiter refundable)) {
			return;
		}
		try {
			refundable.refund(held);
		}
		catch (RuntimeException ex) {
			// the limit shrank below what was held, or the limiter failed: the permits stay spent
		}
	}

	/** Ends the observation of a wait that ends without the permits, if any. */
	private static void endWait(Hand hand, Outcome outcome) {
		RateLimitObservations.stop(hand.waiting.getAndSet(null), outcome);
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
