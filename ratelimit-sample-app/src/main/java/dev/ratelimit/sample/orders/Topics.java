package dev.ratelimit.sample.orders;

import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;

/**
 * The sample's topics, created at start-up when missing (by Spring Boot's {@code KafkaAdmin}).
 * Two partitions each, so two instances share the work.
 */
@Configuration(proxyBeanMethods = false)
public class Topics {

	/** Accepted orders, keyed by tenant, drained by the listener {@code orders}. */
	public static final String ORDERS = "orders";

	/** Processed orders, keyed by tenant, read by the downstream group {@code warehouse}. */
	public static final String SHIPMENTS = "shipments";

	/** Consumer group of the listener that drains {@link #ORDERS}. */
	public static final String ORDERS_GROUP = "sample-orders";

	/** Consumer group of the simulated downstream that reads {@link #SHIPMENTS}. */
	public static final String WAREHOUSE_GROUP = "warehouse";

	@Bean
	NewTopic ordersTopic() {
		return TopicBuilder.name(ORDERS).partitions(2).build();
	}

	@Bean
	NewTopic shipmentsTopic() {
		return TopicBuilder.name(SHIPMENTS).partitions(2).build();
	}

}
