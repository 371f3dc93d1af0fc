package dev.ratelimit.sample.orders;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.json.JsonMapper;

import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.kafka.producer.BufferFullException;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;

/**
 * {@code POST /orders}: accepts an order (202) once it is in the {@code orders} topic, where a
 * listener drains it at a controlled rate. Limited per tenant (the {@code X-Tenant} header) and in
 * total by the composite limiter {@code orders}; a denied call is answered with 429,
 * {@code Retry-After} and the {@code RateLimit} headers.
 *
 * <p>Orders reach Kafka through the buffered sender {@code orders} ({@code ratelimit.buffers.orders}),
 * which batches and paces them, and retries without loss while Kafka is unreachable. A 202 means
 * Kafka acknowledged the order: the answer waits for it ({@link BufferedKafkaSender#sendDefault},
 * without holding a request thread), so a crash of this process after a 202 loses nothing. When the
 * buffer is full the order is refused with 503 and {@code Retry-After}, so clients slow down instead
 * of the service running out of memory; when Kafka does not acknowledge it within
 * {@value #ACKNOWLEDGE_SECONDS} s, the answer is 503 with status {@code unconfirmed}: the order stays
 * buffered and may still be written, so a client that retries may place it twice.
 */
@RestController
public class OrderController {

	/** How long an answer waits for Kafka to acknowledge the order. */
	static final int ACKNOWLEDGE_SECONDS = 5;

	private final Duration acknowledgeTimeout;

	private final BufferedKafkaSender<String, String> orders;

	private final OrderStats stats;

	private final JsonMapper json;

	@Autowired
	public OrderController(@Qualifier("orders") BufferedKafkaSender<String, String> orders, OrderStats stats,
			JsonMapper json) {
		this(orders, stats, json, Duration.ofSeconds(ACKNOWLEDGE_SECONDS));
	}

	OrderController(BufferedKafkaSender<String, String> orders, OrderStats stats, JsonMapper json,
			Duration acknowledgeTimeout) {
		this.acknowledgeTimeout = acknowledgeTimeout;
		this.orders = orders;
		this.stats = stats;
		this.json = json;
	}

	/**
	 * Accepts an order.
	 * @param tenant the tenant, {@code anonymous} when the header is missing
	 * @param request the order
	 * @return 202 with the order's id and where Kafka wrote it, or 503 when the order cannot be
	 * buffered or was not acknowledged in time
	 */
	@PostMapping("/orders")
	@RateLimited(name = "orders", key = "#tenant")
	public CompletableFuture<ResponseEntity<Map<String, Object>>> accept(
			@RequestHeader(name = "X-Tenant", defaultValue = "anonymous") String tenant,
			@RequestBody OrderRequest request) {
		Order order = new Order(UUID.randomUUID().toString(), tenant, request.item(), request.quantity(),
				Instant.now());
		return this.orders.sendDefault(tenant, this.json.writeValueAsString(order))
			.orTimeout(this.acknowledgeTimeout.toMillis(), TimeUnit.MILLISECONDS)
			.handle((written, failure) -> {
				if (failure == null) {
					this.stats.recordAccepted();
					return ResponseEntity.status(HttpStatus.ACCEPTED)
						.body(Map.of("id", order.id(), "tenant", tenant, "status", "accepted", "partition",
								written.partition(), "offset", written.offset()));
				}
				Throwable cause = (failure instanceof CompletionException) ? failure.getCause() : failure;
				if (cause instanceof BufferFullException) {
					this.stats.recordRefused();
					return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
						.header(HttpHeaders.RETRY_AFTER, "1")
						.body(Map.of("tenant", tenant, "status", "busy", "detail",
								"orders are not reaching Kafka fast enough; retry in a second"));
				}
				this.stats.recordUnconfirmed();
				return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
					.header(HttpHeaders.RETRY_AFTER, "5")
					.body(Map.of("id", order.id(), "tenant", tenant, "status", "unconfirmed", "detail",
							"Kafka did not acknowledge the order within " + this.acknowledgeTimeout.toMillis() + " ms; it stays "
									+ "buffered and may still be written, so a retry may place it twice"));
			});
	}

	/**
	 * Shows what this instance accepted and processed.
	 * @return the counts
	 */
	@GetMapping("/orders/stats")
	public Map<String, Object> stats() {
		return Map.of("accepted", this.stats.accepted(), "refused", this.stats.refused(), "unconfirmed",
				this.stats.unconfirmed(), "processed", this.stats.processed(), "processedByTenant",
				this.stats.processedByTenant(), "lastOffsets", this.stats.lastOffsets(), "shipped",
				this.stats.shipped());
	}

}
