package dev.ratelimit.sample.orders;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import dev.ratelimit.spring.annotation.RateLimited;

/**
 * {@code POST /orders}: accepts an order at once (202) and forwards it to the {@code orders}
 * topic, where a listener drains it at a controlled rate. Limited per tenant (the
 * {@code X-Tenant} header) and in total by the composite limiter {@code orders}; a denied call is
 * answered with 429, {@code Retry-After} and the {@code RateLimit} headers.
 */
@RestController
public class OrderController {

	private final RecordPublisher publisher;

	private final OrderStats stats;

	public OrderController(RecordPublisher publisher, OrderStats stats) {
		this.publisher = publisher;
		this.stats = stats;
	}

	/**
	 * Accepts an order.
	 * @param tenant the tenant, {@code anonymous} when the header is missing
	 * @param request the order
	 * @return 202 with the order's id
	 */
	@PostMapping("/orders")
	@RateLimited(name = "orders", key = "#tenant")
	public ResponseEntity<Map<String, Object>> accept(
			@RequestHeader(name = "X-Tenant", defaultValue = "anonymous") String tenant,
			@RequestBody OrderRequest request) {
		Order order = new Order(UUID.randomUUID().toString(), tenant, request.item(), request.quantity(),
				Instant.now());
		this.publisher.publish(Topics.ORDERS, tenant, order);
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
		return Map.of("accepted", this.stats.accepted(), "processed", this.stats.processed(), "processedByTenant",
				this.stats.processedByTenant(), "lastOffsets", this.stats.lastOffsets(), "shipped",
				this.stats.shipped());
	}

}
