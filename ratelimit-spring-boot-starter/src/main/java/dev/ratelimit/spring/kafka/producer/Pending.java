package dev.ratelimit.spring.kafka.producer;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

/**
 * A buffered record and what is known of its sends. The record, its size and its ordering group
 * are fixed at offer; the send state is read and written only by {@link BatchSender}, inside the
 * pool's flush handler, which the pool never runs concurrently and hands from one call to the next
 * through its lock and executor (so each call sees the last one's writes without volatile fields).
 *
 * @param <K> the type of the keys
 * @param <V> the type of the values
 */
final class Pending<K, V> {

	/** Where a record stands with Kafka. */
	enum State {

		/** Not sent yet, or to be sent again after it was acknowledged (to restore key order). */
		NEW,

		/** Sent; Kafka has not answered yet. Never sent again while in this state. */
		IN_FLIGHT,

		/** Kafka acknowledged it: it is in the log. */
		ACKNOWLEDGED,

		/** Kafka answered with an error (or the send threw): to be sent again. */
		FAILED

	}

	final ProducerRecord<K, V> record;

	final long bytes;

	/**
	 * Records of one group land in one partition in offer order: the topic, the partition when the
	 * record names one, and the key (by content for byte arrays, whose equals is identity).
	 */
	final Object group;

	State state = State.NEW;

	/** The last send while in flight; dropped once answered, so acknowledged records hold nothing. */
	CompletableFuture<?> send;

	/** The error of the last failed send. */
	Throwable error;

	/** Sends so far. */
	int sends;

	/** Acknowledged once, then made NEW again because an earlier record of its group failed. */
	boolean reorder;

	/**
	 * Completed with the record's metadata the first time Kafka acknowledges it, or failed when the
	 * sender gives the record up (closed before it was acknowledged); null when no one waits.
	 */
	final @Nullable CompletableFuture<RecordMetadata> acknowledged;

	/**
	 * The observation current when the record was offered, in whose scope it is sent (so that the
	 * template's observation, and the trace in the record's headers, continue the caller's); null
	 * when the sender carries none.
	 */
	final @Nullable Observation parent;

	Pending(ProducerRecord<K, V> record, long bytes) {
		this(record, bytes, null, null);
	}

	Pending(ProducerRecord<K, V> record, long bytes, @Nullable CompletableFuture<RecordMetadata> acknowledged,
			@Nullable Observation parent) {
		this.record = record;
		this.parent = parent;
		this.bytes = bytes;
		this.acknowledged = acknowledged;
		Object key = record.key();
		this.group = new Group(record.topic(), record.partition(),
				(key instanceof byte[] array) ? ByteBuffer.wrap(array) : key);
	}

	long bytes() {
		return this.bytes;
	}

	private record Group(String topic, Integer partition, Object key) {

	}

}
