package dev.ratelimit.spring.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.listener.SeekUtils;
import org.springframework.kafka.support.TopicPartitionOffset;
import org.springframework.util.Assert;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.Scheduler;

/**
 * A {@link CommonErrorHandler} that treats a {@link RateLimitExceededException} raised while a
 * listener container delivers records (by the throttling interceptor, or by a
 * {@code @RateLimited} listener method) as a request to slow down, not as a failure, and hands
 * every other exception, and every other call, to the handler it wraps.
 *
 * <p>On a denial, no record from the denied one on is committed or skipped, and the denied
 * record's partition is paused until the limiter's retry-after, while the consumer keeps polling:
 * <ul>
 * <li>When the wrapped handler seeks after handling (as {@code DefaultErrorHandler} does by
 * default), the container has already committed what was processed and hands over the denied
 * record and the rest of the poll ({@code handleRemaining}, {@code handleBatch}). This handler
 * seeks every partition among them back to its first unprocessed offset
 * ({@link SeekUtils#doSeeks}, without recovery), pauses them all, and then throws a
 * {@link KafkaException} logged at debug level: the container commits the failed record's offset
 * only when the handler returns normally, so throwing keeps it uncommitted. The denied partition
 * waits one retry-after longer per other partition it pauses: the consumer fetches partitions in
 * the same order every time, so when permits return more slowly than it fetches, the first
 * partition would otherwise take every permit while it has records.</li>
 * <li>Otherwise ({@code handleOne}, {@code handleBatchAndReturnRemaining}), it pauses and reports
 * the records as not handled: the container keeps them in memory, commits none of them, and
 * delivers them again once the partition is resumed.</li>
 * </ul>
 * The wrapped handler never sees a denial, so a denial is never counted as a delivery attempt,
 * retried with its back-off or recovered (which would skip the record).
 *
 * <p>A record listener throttled by the starter is held instead of having its partitions paused
 * ({@link #onDenied}): its container is paused on the consumer's thread and resumed there, where a
 * partition pause is resumed from the scheduler's thread (see {@link DeliveryHolds} for why that
 * matters to a record's commit).
 *
 * <p>A partition is resumed only if this handler paused it: a partition the application paused
 * itself is left alone. Thread-safe; one instance per listener container.
 */
public final class ThrottlingErrorHandler implements CommonErrorHandler {

	private static final LogAccessor logger = new LogAccessor(LogFactory.getLog(ThrottlingErrorHandler.class));

	private final CommonErrorHandler delegate;

	private final PartitionPauses pauses;

	/** Run on a consumer's thread when the container clears its state there (as it stops). */
	private final List<Runnable> threadStateCleared = new CopyOnWriteArrayList<>();

	/**
	 * What holds a consumer's container after a denial, by container (identity): a record
	 * listener's holds, whose release resumes the container on the consumer's thread.
	 */
	private final List<ContainerHold> denialHolds = new CopyOnWriteArrayList<>();

	/**
	 * The hold of one container.
	 *
	 * @param container the container, as the error handler is given it
	 * @param hold what holds its consumers
	 */
	private record ContainerHold(MessageListenerContainer container, DenialHold hold) {

	}

	/** Holds a consumer's container after a denial; {@code false} when it did not. */
	@FunctionalInterface
	interface DenialHold {

		boolean hold(Consumer<?, ?> consumer, RateLimitExceededException denied);

	}

	/**
	 * Wraps an error handler.
	 * @param delegate the handler of everything that is not a throttling denial
	 * @param scheduler the scheduler that resumes paused partitions
	 */
	public ThrottlingErrorHandler(CommonErrorHandler delegate, Scheduler scheduler) {
		Assert.notNull(delegate, "'delegate' must not be null");
		Assert.notNull(scheduler, "'scheduler' must not be null");
		this.delegate = delegate;
		this.pauses = new PartitionPauses(scheduler);
	}

	/**
	 * Returns the handler of everything that is not a throttling denial.
	 * @return the wrapped handler
	 */
	public CommonErrorHandler getDelegate() {
		return this.delegate;
	}

	/**
	 * Returns the rate limit denial an exception stands for, if any: the exception itself or one of
	 * its causes (listener exceptions arrive wrapped in a {@code ListenerExecutionFailedException}).
	 * @param exception the exception
	 * @return the denial, or {@code null} when the exception is a failure
	 */
	public static @Nullable RateLimitExceededException denial(@Nullable Throwable exception) {
		Throwable cause = exception;
		// bounded: a cause chain may loop
		for (int depth = 0; cause != null && depth < 32; depth++) {
			if (cause instanceof RateLimitExceededException denied) {
				return denied;
			}
			cause = cause.getCause();
		}
		return null;
	}

	@Override
	public boolean seeksAfterHandling() {
		return this.delegate.seeksAfterHandling();
	}

	@Override
	public boolean deliveryAttemptHeader() {
		return this.delegate.deliveryAttemptHeader();
	}

	@Override
	public void handleOtherException(Exception thrownException, Consumer<?, ?> consumer,
			MessageListenerContainer container, boolean batchListener) {
		this.delegate.handleOtherException(thrownException, consumer, container, batchListener);
	}

	@Override
	public boolean handleOne(Exception thrownException, ConsumerRecord<?, ?> record, Consumer<?, ?> consumer,
			MessageListenerContainer container) {
		RateLimitExceededException denied = denial(thrownException);
		if (denied == null) {
			return this.delegate.handleOne(thrownException, record, consumer, container);
		}
		if (!holdInstead(consumer, container, denied)) {
			this.pauses.pause(container, Set.of(partition(record)), PartitionPauses.retryNanos(denied));
		}
		// not handled: the container keeps this record and the rest of the poll, commits none
		// of them, and delivers them again when it is no longer pause-requested
		return false;
	}

	@Override
	public void handleRemaining(Exception thrownException, List<ConsumerRecord<?, ?>> records,
			Consumer<?, ?> consumer, MessageListenerContainer container) {
		RateLimitExceededException denied = denial(thrownException);
		if (denied == null) {
			this.delegate.handleRemaining(thrownException, records, consumer, container);
			return;
		}
		// every partition back to its first unprocessed record, the denied one included: without
		// recovery, nothing is skipped
		SeekUtils.doSeeks(records, consumer, null, false, (record, ex) -> false, logger);
		if (holdInstead(consumer, container, denied)) {
			throw throttled(denied);
		}
		// the other partitions sought back wait for the permits to return too, and the denied one
		// a turn longer for each of them, so that they take turns
		long retry = PartitionPauses.retryNanos(denied);
		Set<TopicPartition> others = partitions(records);
		TopicPartition partition = partition(records.get(0));
		others.remove(partition);
		this.pauses.pause(container, others, retry);
		this.pauses.pause(container, Set.of(partition), saturatedMultiply(retry, others.size() + 1));
		throw throttled(denied);
	}

	@Override
	public void handleBatch(Exception thrownException, ConsumerRecords<?, ?> data, Consumer<?, ?> consumer,
			MessageListenerContainer container, Runnable invokeListener) {
		RateLimitExceededException denied = denial(thrownException);
		if (denied == null) {
			this.delegate.handleBatch(thrownException, data, consumer, container, invokeListener);
			return;
		}
		List<ConsumerRecord<?, ?>> records = new ArrayList<>(data.count());
		data.forEach(records::add);
		SeekUtils.doSeeks(records, consumer, null, false, (record, ex) -> false, logger);
		this.pauses.pause(container, data.partitions(), PartitionPauses.retryNanos(denied));
		throw throttled(denied);
	}

	@Override
	@SuppressWarnings("unchecked")
	public <K, V> ConsumerRecords<K, V> handleBatchAndReturnRemaining(Exception thrownException,
			ConsumerRecords<?, ?> data, Consumer<?, ?> consumer, MessageListenerContainer container,
			Runnable invokeListener) {
		RateLimitExceededException denied = denial(thrownException);
		if (denied == null) {
			return this.delegate.handleBatchAndReturnRemaining(thrownException, data, consumer, container,
					invokeListener);
		}
		this.pauses.pause(container, data.partitions(), PartitionPauses.retryNanos(denied));
		// all of them remain: kept in memory, uncommitted, delivered again after the resume
		return (ConsumerRecords<K, V>) data;
	}

	@Override
	public int deliveryAttempt(TopicPartitionOffset topicPartitionOffset) {
		return this.delegate.deliveryAttempt(topicPartitionOffset);
	}

	@Override
	public void clearThreadState() {
		try {
			this.delegate.clearThreadState();
		}
		finally {
			for (Runnable cleared : this.threadStateCleared) {
				cleared.run();
			}
		}
	}

	/**
	 * Adds what to do on a consumer's thread when the container clears its state there: when the
	 * consumer stops, and after a batch that failed before is delivered. A handler shared by
	 * several containers runs the actions of all of them; each acts on its own consumer's thread
	 * state only.
	 * @param cleared the action; it must not throw
	 */
	void onThreadStateCleared(Runnable cleared) {
		this.threadStateCleared.add(cleared);
	}

	/**
	 * Has a denial of a container's records hold the consumer's container rather than pause its
	 * partitions: a record listener's holds, which resume the container on the consumer's own
	 * thread. Partition pauses are resumed by the scheduler's thread, and a resume from another
	 * thread can wake the consumer just after a poll returned, so that the commit of the record it
	 * delivers next fails and the record is delivered again.
	 * @param container the container, as the error handler is given it
	 * @param hold what holds its consumers
	 */
	void onDenied(MessageListenerContainer container, DenialHold hold) {
		this.denialHolds.add(new ContainerHold(container, hold));
	}

	private boolean holdInstead(Consumer<?, ?> consumer, MessageListenerContainer container,
			RateLimitExceededException denied) {
		for (ContainerHold each : this.denialHolds) {
			if (each.container() == container) {
				return each.hold().hold(consumer, denied);
			}
		}
		return false;
	}

	@Override
	public boolean isAckAfterHandle() {
		return this.delegate.isAckAfterHandle();
	}

	@Override
	public void setAckAfterHandle(boolean ack) {
		this.delegate.setAckAfterHandle(ack);
	}

	@Override
	public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions,
			Runnable publishPause) {
		this.delegate.onPartitionsAssigned(consumer, partitions, publishPause);
	}

	@Override
	public String toString() {
		return "ThrottlingErrorHandler[" + this.delegate + "]";
	}

	private static TopicPartition partition(ConsumerRecord<?, ?> record) {
		return new TopicPartition(record.topic(), record.partition());
	}

	private static Set<TopicPartition> partitions(List<ConsumerRecord<?, ?>> records) {
		Set<TopicPartition> partitions = new LinkedHashSet<>();
		records.forEach((record) -> partitions.add(partition(record)));
		return partitions;
	}

	private static long saturatedMultiply(long nanos, int times) {
		long product = nanos * times;
		return (nanos != 0 && product / nanos != times) ? Long.MAX_VALUE : product;
	}

	private static KafkaException throttled(RateLimitExceededException denied) {
		// debug: a throttled listener is denied many times a second, and each time is expected
		return new KafkaException("Throttled: " + denied.getMessage(), KafkaException.Level.DEBUG, denied);
	}

}
