package dev.ratelimit.sample.orders;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

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
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;

/**
 * {@code POST /orders}: accepts an order at once (202) and forwards it to the {@code orders}
 * topic, where a listener drains it at a controlled rate. Limited per tenant (the
 * {@code X-Tenant} header) and in total by the composite limiter {@code orders}; a denied call is
 * answered with 429, {@code Retry-After} and the {@code RateLimit} headers.
 *
 * <p>Orders reach Kafka through the buffered sender {@code orders} ({@code ratelimit.buffers.orders}):
 * an accepted order is held in bounded memory until Kafka acknowledges it, and retried, not lost,
 * while Kafka is unreachable. When the buffer is full the order is refused with 503 and
 * {@code Retry-After}, so clients slow down instead of the service running out of memory.
 */
@RestController
public class OrderController {

	private final BufferedKafkaSender<String, String> orders;

	private final OrderStats stats;

	private final JsonMapper json;

	public OrderController(@Qualifier("orders") BufferedKafkaSender<String, String> orders, OrderStats stats,
			JsonMapper json) {
		this.orders = orders;
		this.stats = stats;
		this.json = json;
	}

	/**
	 * Accepts an order.
	 * @param tenant the tenant, {@code anonymous} when the header is missing
	 * @param request the order
	 * @return 202 with the order's id, or 503 when the order cannot be buffered for Kafka
	 */
	@PostMapping("/orders")
	@RateLimited(name = "orders", key = "#tenant")
	public ResponseEntity<Map<String, Object>> accept(
			@RequestHeader(name = "X-Tenant", defaultValue = "anonymous") String tenant,
			@RequestBody OrderRequest request) {
		Order order = new Order(UUID.randomUUID().toString(), tenant, request.item(), request.quantity(),
				Instant.now());
		if (!this.orders.offerDefault(tenant, this.json.writeValueAsString(order))) {
			this.stats.recordRefused();
			return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
				.header(HttpHeaders.RETRY_AFTER, "1")
				.body(Map.of("tenant", tenant, "status", "busy", "detail",
						"orders are not reaching Kafka fast enough; retry in a second"));
		}
		this.stats.recordAccepted();
		return ResponseEntity.status(HttpStatus.ACCEPTED)
			.body(Map.of("id", order.id(), "tenant", tenant, "status", "accepted"));
	}

	/**
	 * Shows what this instance accepted and processed.
	 * @return the counts
	 */
	@GetMapping("/orders/stats")
	public Map<String, Object> stats() {
		return Map.of("accepted", this.stats.accepted(), "refused", this.stats.refused(), "processed", this.stats.processed(), "processedByTenant",
				this.stats.processedByTenant(), "lastOffsets", this.stats.lastOffsets(), "shipped",
				this.stats.shipped());
	}

}
