package dev.ratelimit.spring.kafka.producer;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.micrometer.KafkaRecordSenderContext;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A buffered sender sends later, from a thread of its own; with the application's observation
 * registry it sends each record in the scope of the observation that was current when the record
 * was offered, so the template's producer observation (and the trace a tracer writes into the
 * record) continues the caller's. Real broker; no tracer needed to see the parent.
 */
class BufferedKafkaSenderObservationIT {

	private static EmbeddedKafkaBroker broker;

	@BeforeAll
	static void startBroker() throws Exception {
		broker = new EmbeddedKafkaKraftBroker(1, 1);
		broker.afterPropertiesSet();
		try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.getBrokersAsString()))) {
			admin.createTopics(List.of(new NewTopic("traced", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
		}
	}

	@AfterAll
	static void stopBroker() {
		broker.destroy();
	}

	@Test
	void aRecordIsSentInTheScopeOfTheObservationItWasOfferedIn() throws Exception {
		Recorded recorded = new Recorded();
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig().observationHandler(recorded);
		DefaultKafkaProducerFactory<String, String> producers = new DefaultKafkaProducerFactory<>(
				Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()), new StringSerializer(),
				new StringSerializer());
		KafkaTemplate<String, String> template = new KafkaTemplate<>(producers);
		template.setObservationEnabled(true);
		template.setObservationRegistry(registry);
		try (BufferedKafkaSender<String, String> carrying = new BufferedKafkaSenders(null, null, registry)
			.builder("carrying", template)
			.topic("traced")
			.build();
				BufferedKafkaSender<String, String> plain = new BufferedKafkaSenders().builder("plain", template)
					.topic("traced")
					.build()) {
			Observation request = Observation.start("request", registry);
			try (Observation.Scope scope = request.openScope()) {
				assertThat(carrying.offerDefault("k", "carried")).isTrue();
				assertThat(plain.offerDefault("k", "not carried")).isTrue();
			}
			request.stop();
			carrying.flush().get(30, TimeUnit.SECONDS);
			plain.flush().get(30, TimeUnit.SECONDS);
		}
		finally {
			producers.destroy();
		}
		List<KafkaRecordSenderContext> sends = recorded.stopped.stream()
			.filter(KafkaRecordSenderContext.class::isInstance)
			.map(KafkaRecordSenderContext.class::cast)
			.toList();
		assertThat(sends).hasSize(2);
		assertThat(sends).filteredOn((send) -> "carried".equals(send.getCarrier().value()))
			.singleElement()
			.satisfies((send) -> assertThat(send.getParentObservation()).as("the caller's observation")
				.isNotNull()
				.satisfies((parent) -> assertThat(parent.getContextView().getName()).isEqualTo("request")));
		// without the registry the send has no parent: the buffer's thread has no observation of its own
		assertThat(sends).filteredOn((send) -> "not carried".equals(send.getCarrier().value()))
			.singleElement()
			.satisfies((send) -> assertThat(send.getParentObservation()).isNull());
	}

	static final class Recorded implements ObservationHandler<Observation.Context> {

		final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

		@Override
		public void onStop(Observation.Context context) {
			this.stopped.add(context);
		}

		@Override
		public boolean supportsContext(Observation.Context context) {
			return true;
		}

	}

}
