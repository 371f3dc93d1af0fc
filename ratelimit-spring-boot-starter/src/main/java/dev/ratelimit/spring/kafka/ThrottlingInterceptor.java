package dev.ratelimit.spring.kafka;

import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.observation.Observation;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.listener.BatchInterceptor;
import org.springframework.kafka.listener.RecordInterceptor;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * Takes permits for the records of one listener container, and reads its consumers' lag before
 * each poll. Installed as the container's record and batch interceptor, after any the
 * application has.
 *
 * <p>A record listener's records take their permits ahead: after each record, the consumer takes
 * the permits of its next one ({@link #afterRecord}, which the container calls outside its
 * observation and timer of the delivery). When the limiter has none, {@link DeliveryHolds} pauses
 * the consumer's container, which keeps the rest of the poll, until the permits are taken. So a
 * record arrives with its permits, and a throttled record never reaches the container's delivery
 * observation as a failure. A consumer holds at most one record's permits ahead.
 *
 * <p>A record (or a batch) that comes without permits nonetheless (the first record a consumer
 * delivers, a batch, a consumer the application resumed early) takes them as it comes. It is not
 * skipped by returning {@code null} when they are refused: the container would commit it as if
 * it had been processed ({@code invokeOnMessage} acknowledges a record whatever the interceptor
 * returned, {@code invokeBatchOnMessage} the whole batch). Instead the interceptor throws a
 * {@link RateLimitExceededException} before the listener runs, which the container hands to its
 * error handler with the unprocessed records, and which the {@link ThrottlingErrorHandler} turns
 * into a seek back and a partition pause. A batch interceptor runs before the container's timer of
 * the batch, so a refused batch is not counted as a failure either.
 *
 * <p>A batch takes the permits of all its records at once. A batch larger than the limiter's
 * capacity could never get them in one go, so it gathers them across deliveries: permits taken
 * for a batch that is then denied are banked, and spent by the next batch of this listener.
 * Records are never processed ahead of their permits either way.
 *
 * <p>Runs on the consumer threads of the container, never blocks them, and is thread-safe (a
 * concurrent container shares one instance between its consumers).
 *
 * @param <K> the key type
 * @param <V> the value type
 */
final class ThrottlingInterceptor<K, V> implements RecordInterceptor<K, V>, BatchInterceptor<K, V> {

	private final String listenerId;

	private final String groupId;

	private final @Nullable RateLimiter limiter;

	private final long permitsPerRecord;

	private final ConsumerLagMonitor lagMonitor;

	/** Permits taken for batches that were denied, spent by later batches. */
	private final AtomicLong banked = new AtomicLong();

	/** Where a record listener's consumer holds its records without permits, {@code null} if none. */
	private final @Nullable DeliveryHolds holds;

	/** The observations of a batch's permits, {@code null} for none. */
	private final RateLimitObservations.@Nullable Operation batchObservations;

	/** What each consumer (thread) holds for its next record. */
	private final ThreadLocal<DeliveryHolds.Hand> ahead = ThreadLocal.withInitial(DeliveryHolds.Hand::new);

	/**
	 * Creates the interceptor of one container.
	 * @param listenerId the container's listener id
	 * @param groupId the container's consumer group, for lag reports
	 * @param limiter the limiter, or {@code null} to observe lag only
	 * @param permitsPerRecord permits each record takes, at most the limiter's capacity
	 * @param lagMonitor where lag is reported
	 * @param holds where a record listener's records wait for permits, or {@code null} to take
	 * each record's permits as it comes
	 * @param batchObservations the observations of a batch's permits, {@code null} for none
	 */
	ThrottlingInterceptor(String listenerId, String groupId, @Nullable RateLimiter limiter, long permitsPerRecord,
			ConsumerLagMonitor lagMonitor, @Nullable DeliveryHolds holds,
			RateLimitObservations.@Nullable Operation batchObservations) {
		this.listenerId = listenerId;
		this.groupId = groupId;
		this.limiter = limiter;
		this.permitsPerRecord = permitsPerRecord;
		this.lagMonitor = lagMonitor;
		this.holds = holds;
		this.batchObservations = batchObservations;
	}

	@Override
	public ConsumerRecord<K, V> intercept(ConsumerRecord<K, V> record, Consumer<K, V> consumer) {
		RateLimiter limiter = this.limiter;
		if (limiter != null && !spendAhead(this.ahead.get())) {
			DeliveryHolds holds = this.holds;
			Decision decision = (holds != null) ? holds.decideAsItComes() : limiter.decide(this.permitsPerRecord);
			if (!decision.permitted()) {
				throw new RecordRefused(limiter.name(), limiter.limit(), decision);
			}
		}
		return record;
	}

	/**
	 * The refusal of a record's permits as it came, by this interceptor: the error handler holds the
	 * consumer's container until they are taken ({@link #holdAfterDenial}).
	 */
	static final class RecordRefused extends RateLimitExceededException {

		private static final long serialVersionUID = 1L;

		RecordRefused(String limiterName, RateLimit limit, Decision decision) {
			super(limiterName, limit, decision);
		}

	}

	private boolean spendAhead(AtomicLong ahead) {
		long permits = this.permitsPerRecord;
		for (;;) {
			long taken = ahead.get();
			if (taken < permits) {
				return false;
			}
			if (ahead.compareAndSet(taken, taken - permits)) {
				return true;
			}
		}
	}

	/**
	 * Takes the permits of this consumer's next record, or holds its records until they are there.
	 * The container calls this after every record, delivered or not, outside its observation of
	 * the delivery.
	 */
	@Override
	public void afterRecord(ConsumerRecord<K, V> record, Consumer<K, V> consumer) {
		RateLimiter limiter = this.limiter;
		DeliveryHolds holds = this.holds;
		if (limiter == null || holds == null) {
			return;
		}
		holds.afterRecord(consumer, this.ahead.get());
	}

	@Override
	public ConsumerRecords<K, V> intercept(ConsumerRecords<K, V> records, Consumer<K, V> consumer) {
		RateLimiter limiter = this.limiter;
		if (limiter != null && !records.isEmpty()) {
			long needed = Math.multiplyExact(records.count(), this.permitsPerRecord);
			RateLimitObservations.Operation observations = this.batchObservations;
			Observation observation = (observations != null) ? observations.start(null, needed) : null;
			try {
				takeForBatch(limiter, needed);
				RateLimitObservations.stop(observation, Outcome.PERMITTED);
			}
			catch (RateLimitExceededException ex) {
				RateLimitObservations.stop(observation, Outcome.REJECTED);
				throw ex;
			}
			catch (RuntimeException ex) {
				RateLimitObservations.failed(observation, ex);
				throw ex;
			}
		}
		return records;
	}

	private void takeForBatch(RateLimiter limiter, long needed) {
		long capacity = limiter.limit().capacity();
		for (;;) {
			long banked = this.banked.get();
			if (banked >= needed) {
				if (this.banked.compareAndSet(banked, banked - needed)) {
					return;
				}
				continue;
			}
			long chunk = Math.min(needed - banked, capacity);
			Decision decision = limiter.decide(chunk);
			if (decision.permitted()) {
				this.banked.addAndGet(chunk);
				continue;
			}
			if (needed > capacity) {
				// an oversized batch keeps what is there now, or it would wait for a full bucket
				// that its own size outgrows
				long available = Math.min(decision.remaining(), chunk);
				if (available > 0 && limiter.tryAcquire(available)) {
					this.banked.addAndGet(available);
				}
			}
			throw new RateLimitExceededException(limiter.name(), limiter.limit(), decision);
		}
	}

	@Override
	public void setupThreadState(Consumer<?, ?> consumer) {
		// called by the container on its consumer thread before every poll, paused or not: the
		// one place where positions are read without another thread touching the consumer
		DeliveryHolds holds = this.holds;
		if (holds != null) {
			// a release of held records resumes the container here, on the consumer's thread
			holds.beforePoll(this.ahead.get());
		}
		this.lagMonitor.record(this.listenerId, this.groupId, consumer);
	}

	/**
	 * Holds this consumer's container after a record that came without permits was refused them
	 * (the error handler has sought its partitions back, or keeps the records): the permits of
	 * that record are taken when they return, and the container is resumed on this thread. Called
	 * on the consumer's thread.
	 * @param consumer the consumer
	 * @param denied the refusal
	 * @return whether the container is held; if not, the caller pauses the partitions instead
	 */
	boolean holdAfterDenial(Consumer<?, ?> consumer, RateLimitExceededException denied) {
		DeliveryHolds holds = this.holds;
		if (holds == null || !(denied instanceof RecordRefused)) {
			// a refusal by the listener itself (a @RateLimited method): its wait, not this one's
			return false;
		}
		return holds.hold(consumer, this.ahead.get(), denied.getDecision());
	}

	/**
	 * Gives back the permits this consumer took for a next record that will not come to it: called
	 * on its thread as it stops ({@link DeliveryHolds#giveBack}). Never throws: the container is
	 * stopping.
	 */
	void returnAhead() {
		DeliveryHolds.Hand hand = this.ahead.get();
		this.ahead.remove(); // a consumer thread reused by a restarted container starts a new hand
		DeliveryHolds holds = this.holds;
		if (holds != null) {
			holds.giveBack(hand);
		}
	}

	long banked() {
		return this.banked.get();
	}

	long ahead() {
		return this.ahead.get().get();
	}

	@Override
	public String toString() {
		return "ThrottlingInterceptor[" + this.listenerId + ", "
				+ ((this.limiter != null) ? this.limiter.name() + " x " + this.permitsPerRecord : "lag only") + "]";
	}

}
