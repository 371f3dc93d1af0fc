package dev.ratelimit.sample.downstream;

import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import dev.ratelimit.sample.orders.OrderStats;
import dev.ratelimit.sample.orders.Topics;

/**
 * The simulated downstream: the consumer group {@code warehouse}, reading {@code shipments} at the
 * rate of the {@code warehouse} limiter ({@code ratelimit.kafka.listeners.warehouse.limiter}), which {@code POST /downstream/slow} and
 * {@code /downstream/fast} change. When it reads slower than shipments arrive, its lag grows.
 */
@Component
public class WarehouseListener {

	/** The limiter that sets how fast the warehouse reads. */
	public static final String LIMITER = "warehouse";

	private final OrderStats stats;

	public WarehouseListener(OrderStats stats) {
		this.stats = stats;
	}

	@KafkaListener(id = "warehouse", topics = Topics.SHIPMENTS, groupId = Topics.WAREHOUSE_GROUP)
	void receive(String shipment) {
		this.stats.recordShipped();
	}

}
