package dev.ratelimit.sample.orders;

import java.util.concurrent.CompletableFuture;

/**
 * Sends a value to a Kafka topic, without waiting for the broker. The one place where the sample
 * produces records, so that the way it produces can be swapped in one class.
 */
public interface RecordPublisher {

	/**
	 * Sends a value as JSON.
	 * @param topic the topic
	 * @param key the record key (records of one key keep their order)
	 * @param value the value, written as JSON
	 * @return completes when the broker has the record, exceptionally when it could not be sent
	 */
	CompletableFuture<Void> publish(String topic, String key, Object value);

}
