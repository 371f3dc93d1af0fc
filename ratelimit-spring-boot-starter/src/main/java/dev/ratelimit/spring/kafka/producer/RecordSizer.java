package dev.ratelimit.spring.kafka.producer;

import java.util.Objects;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Measures a record for a {@link BufferedKafkaSender}'s byte bound. Called once per offer, on the
 * offering thread, before the record enters the buffer; it must be thread-safe and must not
 * return a negative size. An exception it throws reaches the caller of {@code offer}, and the
 * record is not buffered.
 *
 * @param <K> the type of the keys
 * @param <V> the type of the values
 */
@FunctionalInterface
public interface RecordSizer<K, V> {

	/**
	 * Returns the size of a record.
	 * @param record the record
	 * @return its size in bytes, zero or more
	 */
	long sizeOf(ProducerRecord<K, V> record);

	/**
	 * Returns a sizer that counts every record as zero bytes, for senders bounded in records only.
	 * @param <K> the type of the keys
	 * @param <V> the type of the values
	 * @return the sizer
	 */
	static <K, V> RecordSizer<K, V> none() {
		return (record) -> 0;
	}

	/**
	 * Returns a sizer that serializes key and value, as the producer will, and adds the header
	 * keys and values: close to what the record costs the producer and the broker. Serializing
	 * twice costs CPU; a cheaper estimate (a value's own length field, say) may be supplied instead.
	 * A record that cannot be serialized then fails at {@code offer}, on the caller's thread,
	 * instead of failing every send attempt of its batch later.
	 * @param <K> the type of the keys
	 * @param <V> the type of the values
	 * @param keySerializer the key serializer, configured
	 * @param valueSerializer the value serializer, configured
	 * @return the sizer
	 */
	static <K, V> RecordSizer<K, V> serialized(Serializer<? super K> keySerializer,
			Serializer<? super V> valueSerializer) {
		Objects.requireNonNull(keySerializer, "keySerializer");
		Objects.requireNonNull(valueSerializer, "valueSerializer");
		return (record) -> {
			long size = length(keySerializer.serialize(record.topic(), record.headers(), record.key()))
					+ length(valueSerializer.serialize(record.topic(), record.headers(), record.value()));
			for (Header header : record.headers()) {
				size += header.key().length() + length(header.value());
			}
			return size;
		};
	}

	private static long length(byte[] bytes) {
		return (bytes != null) ? bytes.length : 0;
	}

}
