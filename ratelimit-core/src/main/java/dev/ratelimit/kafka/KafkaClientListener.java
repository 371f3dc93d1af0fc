package dev.ratelimit.kafka;

import java.util.List;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Hears of the Kafka clients a backend creates, and of their closing: to bind their metrics
 * (the Spring starter binds Micrometer's {@code KafkaClientMetrics} and {@code KafkaStreamsMetrics}
 * to the application's registry this way) or to look at them. Each method is called on the thread
 * that creates or closes the client, once per client; an implementation must return quickly, must
 * not close, configure or use the client for anything but reading its metrics, and should not
 * throw (a failure is logged and ignored).
 */
public interface KafkaClientListener {

	/** A listener that does nothing. */
	KafkaClientListener NONE = new KafkaClientListener() {
	};

	/**
	 * Returns a listener that tells each of several, in order.
	 * @param listeners the listeners
	 * @return one listener for all, {@link #NONE} for none
	 */
	static KafkaClientListener of(List<? extends KafkaClientListener> listeners) {
		List<KafkaClientListener> all = List.copyOf(listeners);
		if (all.isEmpty()) {
			return NONE;
		}
		if (all.size() == 1) {
			return all.get(0);
		}
		return new KafkaClientListener() {

			@Override
			public void producerCreated(String clientId, Producer<?, ?> producer) {
				all.forEach((listener) -> listener.producerCreated(clientId, producer));
			}

			@Override
			public void consumerCreated(String clientId, Consumer<?, ?> consumer) {
				all.forEach((listener) -> listener.consumerCreated(clientId, consumer));
			}

			@Override
			public void adminCreated(String clientId, Admin admin) {
				all.forEach((listener) -> listener.adminCreated(clientId, admin));
			}

			@Override
			public void streamsCreated(String applicationId, KafkaStreams streams) {
				all.forEach((listener) -> listener.streamsCreated(applicationId, streams));
			}

			@Override
			public void closing(String id) {
				all.forEach((listener) -> listener.closing(id));
			}

		};
	}

	/**
	 * The backend created its producer.
	 * @param clientId the producer's {@code client.id}
	 * @param producer the producer
	 */
	default void producerCreated(String clientId, Producer<?, ?> producer) {
	}

	/**
	 * The backend created its consumer of grants.
	 * @param clientId the consumer's {@code client.id}
	 * @param consumer the consumer
	 */
	default void consumerCreated(String clientId, Consumer<?, ?> consumer) {
	}

	/**
	 * The backend created its admin client.
	 * @param clientId the admin client's {@code client.id}
	 * @param admin the admin client
	 */
	default void adminCreated(String clientId, Admin admin) {
	}

	/**
	 * The backend created its authority, before starting it.
	 * @param applicationId the authority's {@code application.id}
	 * @param streams the authority's Kafka Streams client
	 */
	default void streamsCreated(String applicationId, KafkaStreams streams) {
	}

	/**
	 * A client the listener heard of is about to be closed.
	 * @param id its client id, or the application id of the authority
	 */
	default void closing(String id) {
	}

}
