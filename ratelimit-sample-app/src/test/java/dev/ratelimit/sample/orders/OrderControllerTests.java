package dev.ratelimit.sample.orders;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import tools.jackson.databind.json.JsonMapper;

import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenders;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code POST /orders} answers 202 only once Kafka has the order. Here no broker answers: the order
 * buffered is answered 503 {@code unconfirmed} after the wait and kept, not dropped; the next one
 * finds the buffer full and is refused with 503 and {@code Retry-After} at once. Both are counted.
 */
class OrderControllerTests {

	private final DefaultKafkaProducerFactory<String, String> producers = new DefaultKafkaProducerFactory<>(
			Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:1", ProducerConfig.MAX_BLOCK_MS_CONFIG, 500,
					ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
					ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));

	private final BufferedKafkaSender<String, String> orders = new BufferedKafkaSenders()
		.builder("orders", new KafkaTemplate<>(this.producers))
		.topic(Topics.ORDERS)
		.maxItems(1)
		.build();

	private final OrderStats stats = new OrderStats();

	private final OrderController controller = new OrderController(this.orders, this.stats,
			JsonMapper.builder().build(), Duration.ofMillis(300));

	@AfterEach
	void close() {
		this.orders.close(Duration.ZERO);
		this.producers.destroy();
	}

	@Test
	void answers202OnlyOnceKafkaHasTheOrderAnd503WhenItCannot() throws Exception {
		CompletableFuture<ResponseEntity<Map<String, Object>>> first = this.controller.accept("acme",
				new OrderRequest("book", 1));
		// the buffer (one record) holds the first order: the second is refused at once
		ResponseEntity<Map<String, Object>> second = this.controller.accept("acme", new OrderRequest("book", 1))
			.getNow(null);
		assertThat(second).isNotNull();
		assertThat(second.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
		assertThat(second.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
		assertThat(second.getBody()).containsEntry("status", "busy");

		// no broker acknowledges the first: never a 202, but 503 unconfirmed, the order still held
		ResponseEntity<Map<String, Object>> unconfirmed = first.get(30, TimeUnit.SECONDS);
		assertThat(unconfirmed.getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
		assertThat(unconfirmed.getBody()).containsEntry("status", "unconfirmed").containsKey("id");

		assertThat(this.stats.accepted()).isZero();
		assertThat(this.stats.refused()).isOne();
		assertThat(this.stats.unconfirmed()).isOne();
		assertThat(this.orders.size()).as("orders held for Kafka").isOne();
		assertThat(this.orders.close(Duration.ZERO)).as("left unsent at close")
			.singleElement()
			.satisfies((record) -> assertThat(record.key()).isEqualTo("acme"));
	}

}
