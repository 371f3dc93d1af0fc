package dev.ratelimit.spring.kafka.producer;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

import io.micrometer.observation.Observation;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;

import org.springframework.core.NestedExceptionUtils;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.core.KafkaOperations;
import org.springframework.kafka.support.SendResult;

import dev.ratelimit.buffer.FlushHandler;

/**
 * The flush handler of a {@link BufferedKafkaSender}: sends a batch with the template and waits
 * until Kafka has answered for every record, at most the send timeout. It returns normally only
 * when every record of the batch is acknowledged; otherwise it throws and the pool retries the
 * same batch after a backoff.
 *
 * <p>A retry does not start over. It first waits again for sends still unanswered (a record whose
 * outcome is unknown is never sent twice: it may yet succeed), then sends only what is not in the
 * log: the failed records and those never sent. To keep each key in order it also sends again any
 * record that Kafka acknowledged <em>after</em> an earlier record of its group had failed (rare
 * with an idempotent producer, whose later sends to the partition usually fail with the first:
 * they expire together, or are refused for the gap in sequence numbers). Those resends are certain
 * duplicates, counted as such; resent failed records are duplicates only when the broker wrote
 * them but the answer was lost, and are counted as retried.
 *
 * <p>The pool may split a failed batch before its next attempt (when the limiter's capacity
 * drops); the ordering rule must see the whole batch, so the last failed batch is kept as the
 * scope of every later attempt on any part of it.
 *
 * <p>Confined to the pool's flush handler: never called concurrently (see {@link Pending}).
 *
 * @param <K> the type of the keys
 * @param <V> the type of the values
 */
final class BatchSender<K, V> implements FlushHandler<Pending<K, V>> {

	private final String buffer;

	private final KafkaOperations<K, V> template;

	private final long sendTimeoutNanos;

	private final Counters counters;

	/** The last batch that was not fully acknowledged, before any split; empty when there is none. */
	private List<Pending<K, V>> unsettled = List.of();

	BatchSender(String buffer, KafkaOperations<K, V> template, long sendTimeoutNanos, Counters counters) {
		this.buffer = buffer;
		this.template = template;
		this.sendTimeoutNanos = sendTimeoutNanos;
		this.counters = counters;
	}

	@Override
	public void flush(List<Pending<K, V>> batch) throws Exception {
		long deadline = System.nanoTime() + this.sendTimeoutNanos;
		List<Pending<K, V>> scope = scopeOf(batch);
		if (scope != batch) {
			// a retry: learn how the sends still in flight ended before deciding what to send again
			if (!awaitAnswers(scope, deadline)) {
				throw unanswered(scope, batch.size());
			}
			restoreKeyOrder(scope);
		}
		send(batch);
		boolean answered = awaitAnswers(batch, deadline);
		if (answered && allAcknowledged(scope)) {
			this.unsettled = List.of();
			return;
		}
		if (allAcknowledged(batch)) {
			return; // a part of a split batch: the rest of the scope comes next
		}
		if (scope == batch) {
			this.unsettled = List.copyOf(batch);
		}
		throw answered ? failed(batch) : unanswered(batch, batch.size());
	}

	private List<Pending<K, V>> scopeOf(List<Pending<K, V>> batch) {
		Pending<K, V> first = batch.get(0);
		for (Pending<K, V> pending : this.unsettled) {
			if (pending == first) {
				return this.unsettled;
			}
		}
		return batch;
	}

	/**
	 * Marks for resending every acknowledged record that follows, in its group, a record that is
	 * not in the log: resending only the failed one would put it after its successor.
	 */
	private void restoreKeyOrder(List<Pending<K, V>> scope) {
		Set<Object> broken = null;
		for (Pending<K, V> pending : scope) {
			if (pending.state != Pending.State.ACKNOWLEDGED) {
				if (broken == null) {
					broken = new HashSet<>();
				}
				broken.add(pending.group);
			}
			else if (broken != null && broken.contains(pending.group)) {
				pending.state = Pending.State.NEW;
				pending.reorder = true;
			}
		}
	}

	/** Sends every record not in the log, in order; stops at the first send that throws. */
	private void send(List<Pending<K, V>> batch) {
		for (Pending<K, V> pending : batch) {
			if (pending.state == Pending.State.ACKNOWLEDGED || pending.state == Pending.State.IN_FLIGHT) {
				continue;
			}
			if (pending.reorder) {
				this.counters.duplicated.increment();
				pending.reorder = false;
			}
			else if (pending.sends > 0) {
				this.counters.retried.increment();
			}
			pending.sends++;
			try {
				CompletableFuture<SendResult<K, V>> send = send(pending);
				pending.send = send;
				pending.state = Pending.State.IN_FLIGHT;
				CompletableFuture<RecordMetadata> acknowledged = pending.acknowledged;
				if (acknowledged != null) {
					// the first acknowledgement says the record is in the log, whatever the rest of the batch does
					send.thenAccept((result) -> acknowledged.complete(result.getRecordMetadata()));
				}
			}
			catch (RuntimeException ex) {
				// the producer refused at once (no metadata within max.block.ms, a full buffer, a
				// serializer): later records would most likely block and fail the same way, and
				// must not overtake this one anyway
				pending.state = Pending.State.FAILED;
				pending.error = ex;
				this.counters.failedSends.increment();
				return;
			}
		}
	}

	/** Sends one record, in the scope of the observation it was offered in, if any. */
	private CompletableFuture<SendResult<K, V>> send(Pending<K, V> pending) {
		ProducerRecord<K, V> record = (pending.sends > 1) ? copy(pending.record) : pending.record;
		Observation parent = pending.parent;
		if (parent == null) {
			return this.template.send(record);
		}
		try (Observation.Scope scope = parent.openScope()) {
			return this.template.send(record);
		}
	}

	/**
	 * A record to send again: the producer makes a sent record's headers read-only, and a tracer
	 * writes its headers at every send, so a resend of the same record would fail every time.
	 */
	private static <K, V> ProducerRecord<K, V> copy(ProducerRecord<K, V> record) {
		return new ProducerRecord<>(record.topic(), record.partition(), record.timestamp(), record.key(),
				record.value(), new RecordHeaders(record.headers().toArray()));
	}

	/**
	 * Waits until every send in flight among the records has an answer, at most until the
	 * deadline, and records the answers. Returns whether none is left in flight.
	 */
	private boolean awaitAnswers(List<Pending<K, V>> records, long deadline) throws InterruptedException {
		List<CompletableFuture<?>> inFlight = new ArrayList<>();
		for (Pending<K, V> pending : records) {
			if (pending.state == Pending.State.IN_FLIGHT) {
				inFlight.add(pending.send);
			}
		}
		if (!inFlight.isEmpty()) {
			try {
				CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new))
					.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
			}
			catch (ExecutionException ex) {
				// every send has answered; the failed ones are read one by one below
			}
			catch (TimeoutException ex) {
				// some are still in flight; they stay so, and are waited for again next attempt
			}
		}
		boolean settled = true;
		for (Pending<K, V> pending : records) {
			if (pending.state != Pending.State.IN_FLIGHT) {
				continue;
			}
			CompletableFuture<?> send = pending.send;
			if (!send.isDone()) {
				settled = false;
			}
			else if (send.isCompletedExceptionally()) {
				pending.state = Pending.State.FAILED;
				pending.error = cause(send);
				pending.send = null;
				this.counters.failedSends.increment();
			}
			else {
				pending.state = Pending.State.ACKNOWLEDGED;
				pending.error = null;
				pending.send = null;
			}
		}
		return settled;
	}

	private boolean allAcknowledged(List<Pending<K, V>> records) {
		for (Pending<K, V> pending : records) {
			if (pending.state != Pending.State.ACKNOWLEDGED) {
				return false;
			}
		}
		return true;
	}

	private KafkaException failed(List<Pending<K, V>> batch) {
		int failed = 0;
		Throwable first = null;
		for (Pending<K, V> pending : batch) {
			if (pending.state != Pending.State.ACKNOWLEDGED) {
				failed++;
				if (first == null) {
					first = pending.error;
				}
			}
		}
		String reason = (first != null) ? ": " + NestedExceptionUtils.getMostSpecificCause(first).getMessage() : "";
		return new KafkaException("Buffer '" + this.buffer + "': " + failed + " of " + batch.size()
				+ " record(s) not acknowledged, to be sent again in order" + reason, first);
	}

	private KafkaException unanswered(List<Pending<K, V>> records, int batchSize) {
		int inFlight = 0;
		for (Pending<K, V> pending : records) {
			if (pending.state == Pending.State.IN_FLIGHT) {
				inFlight++;
			}
		}
		return new KafkaException("Buffer '" + this.buffer + "': " + inFlight + " record(s) (batch of " + batchSize
				+ ") still unanswered by Kafka after the send timeout of "
				+ TimeUnit.NANOSECONDS.toMillis(this.sendTimeoutNanos)
				+ " ms; they are waited for again, never sent twice");
	}

	private static Throwable cause(CompletableFuture<?> send) {
		try {
			send.join();
			return null;
		}
		catch (CompletionException ex) {
			return (ex.getCause() != null) ? ex.getCause() : ex;
		}
		catch (RuntimeException ex) {
			return ex; // cancelled
		}
	}

	/** Counters shared with the sender's statistics; they only grow. */
	static final class Counters {

		final LongAdder failedSends = new LongAdder();

		final LongAdder retried = new LongAdder();

		final LongAdder duplicated = new LongAdder();

	}

}
