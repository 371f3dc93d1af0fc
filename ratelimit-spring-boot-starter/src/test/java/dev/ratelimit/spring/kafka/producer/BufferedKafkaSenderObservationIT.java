package dev.ratelimit.spring.kafka.producer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import brave.Tracing;
import brave.propagation.ThreadLocalCurrentTraceContext;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
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
import static org.awaitility.Awaitility.await;

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
			admin.createTopics(List.of(new NewTopic("traced", 1, (short) 1), new NewTopic("trace-headers", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
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

	/**
	 * With a tracer (Brave, as Boot's tracing uses), the record itself carries the trace of the
	 * request it was offered in: its headers name the request's trace, although a thread of the
	 * buffer sent it later.
	 */
	@Test
	void theRecordCarriesTheTraceOfTheRequestItWasOfferedIn() throws Exception {
		Tracing tracing = Tracing.newBuilder().currentTraceContext(ThreadLocalCurrentTraceContext.create()).build();
		Tracer tracer = new BraveTracer(tracing.tracer(), new BraveCurrentTraceContext(tracing.currentTraceContext()),
				new BraveBaggageManager());
		ObservationRegistry registry = ObservationRegistry.create();
		registry.observationConfig()
			.observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
					new PropagatingSenderTracingObservationHandler<>(tracer, new BravePropagator(tracing)),
					new DefaultTracingObservationHandler(tracer)));
		DefaultKafkaProducerFactory<String, String> producers = new DefaultKafkaProducerFactory<>(
				Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()), new StringSerializer(),
				new StringSerializer());
		KafkaTemplate<String, String> template = new KafkaTemplate<>(producers);
		template.setObservationEnabled(true);
		template.setObservationRegistry(registry);
		String traceId;
		try (BufferedKafkaSender<String, String> sender = new BufferedKafkaSenders(null, null, registry)
			.builder("tracing", template)
			.topic("trace-headers")
			.build()) {
			Observation request = Observation.start("request", registry);
			try (Observation.Scope scope = request.openScope()) {
				traceId = tracer.currentSpan().context().traceId();
				assertThat(sender.offerDefault("k", "traced")).isTrue();
			}
			request.stop();
			sender.flush().get(30, TimeUnit.SECONDS);
		}
		finally {
			producers.destroy();
			tracing.close();
		}
		Map<String, String> headers = new HashMap<>();
		try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
				Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()), new StringDeserializer(),
				new StringDeserializer())) {
			TopicPartition partition = new TopicPartition("trace-headers", 0);
			consumer.assign(List.of(partition));
			consumer.seekToBeginning(List.of(partition));
			await().atMost(Duration.ofSeconds(30)).until(() -> {
				consumer.poll(Duration.ofMillis(200))
					.forEach((record) -> record.headers()
						.forEach((header) -> headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8))));
				return !headers.isEmpty();
			});
		}
		assertThat(traceId).isNotBlank();
		assertThat(headers).as("the record's trace headers").containsEntry("X-B3-TraceId", traceId);
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
