package dev.ratelimit.spring.kafka;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.streams.KafkaStreams;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.kafka.KafkaClientListener;

/**
 * Binds the Kafka client metrics of the backend's clients (producer, consumer, admin client and
 * the authority's Kafka Streams) to the application's {@link MeterRegistry}, as Spring Boot does
 * for the application's own clients: Micrometer's {@code kafka.producer.*}, {@code kafka.consumer.*},
 * {@code kafka.admin.client.*} and {@code kafka.stream.*} meters, tagged
 * {@code spring.id=ratelimitKafkaBackend.<client id>}. A client's meters go when it closes.
 */
public final class KafkaBackendClientMetrics implements KafkaClientListener {

	/** The {@code spring.id} tag's prefix, the backend bean's name. */
	static final String SPRING_ID_PREFIX = "ratelimitKafkaBackend.";

	private final Supplier<@Nullable MeterRegistry> registry;

	private final Map<String, AutoCloseable> bound = new ConcurrentHashMap<>();

	/**
	 * Creates the binder.
	 * @param registry where the meters go, looked up as each client is created; {@code null} from
	 * it binds nothing
	 */
	public KafkaBackendClientMetrics(Supplier<@Nullable MeterRegistry> registry) {
		this.registry = registry;
	}

	@Override
	public void producerCreated(String clientId, Producer<?, ?> producer) {
		bind(clientId, () -> new KafkaClientMetrics(producer, tags(clientId)));
	}

	@Override
	public void consumerCreated(String clientId, Consumer<?, ?> consumer) {
		bind(clientId, () -> new KafkaClientMetrics(consumer, tags(clientId)));
	}

	@Override
	public void adminCreated(String clientId, Admin admin) {
		if (admin instanceof AdminClient client) {
			bind(clientId, () -> new KafkaClientMetrics(client, tags(clientId)));
		}
	}

	@Override
	public void streamsCreated(String applicationId, KafkaStreams streams) {
		bind(applicationId, () -> new KafkaStreamsMetrics(streams, tags(applicationId)));
	}

	@Override
	public void closing(String id) {
		close(this.bound.remove(id));
	}

	private <B extends MeterBinder & AutoCloseable> void bind(String id, Supplier<B> binder) {
		MeterRegistry registry = this.registry.get();
		if (registry == null) {
			return;
		}
		// a client of the same id replaced: its binder goes first, or closing it would remove the
		// meters the new one shares with it
		close(this.bound.remove(id));
		B metrics = binder.get();
		try {
			metrics.bindTo(registry);
		}
		catch (RuntimeException ex) {
			close(metrics);
			throw ex;
		}
		this.bound.put(id, metrics);
	}

	private static void close(@Nullable AutoCloseable binder) {
		if (binder == null) {
			return;
		}
		try {
			binder.close(); // removes its meters
		}
		catch (Exception ex) {
			// the client closes regardless
		}
	}

	private static Tags tags(String id) {
		return Tags.of("spring.id", SPRING_ID_PREFIX + id);
	}

}
