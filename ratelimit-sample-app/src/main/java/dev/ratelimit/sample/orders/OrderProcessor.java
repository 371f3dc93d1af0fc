package dev.ratelimit.sample.orders;

import java.time.Duration;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

import dev.ratelimit.sample.partner.PartnerClient;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;

/**
 * Drains the {@code orders} topic at the rate of the {@code drain} limiter (shared by every
 * instance: {@code ratelimit.kafka.listeners.orders.limiter=drain} pauses the partition while no
 * permit is left, without blocking the consumer thread), and processes each order: tells the partner API (paced by the adaptive
 * {@code partner} limiter) and forwards a shipment to the {@code shipments} topic.
 *
 * <p>Offsets are committed after each record ({@code spring.kafka.listener.ack-mode=record}), so
 * an instance killed mid-drain resumes after its last processed record when restarted; the
 * record in flight at the crash is processed again (at least once).
 *
 * <p>Shipments go out through the buffered sender {@code shipments}. When it is full (Kafka slow or
 * down), the listener waits for room a bounded time and then fails the record, which the container
 * retries: the order is neither lost nor committed before its shipment is buffered.
 */
@Component
public class OrderProcessor {

	/** The listener's id, which names it in the listener registry (and in the starter's settings). */
	public static final String LISTENER_ID = "orders";

	private static final Log logger = LogFactory.getLog(OrderProcessor.class);

	private final PartnerClient partner;

	private static final Duration SHIPMENT_WAIT = Duration.ofSeconds(10);

	private final BufferedKafkaSender<String, String> shipments;

	private final OrderStats stats;

	private final JsonMapper json;

	public OrderProcessor(PartnerClient partner, @Qualifier("shipments") BufferedKafkaSender<String, String> shipments,
			OrderStats stats, JsonMapper json) {
		this.partner = partner;
		this.shipments = shipments;
		this.stats = stats;
		this.json = json;
	}

	@KafkaListener(id = LISTENER_ID, topics = Topics.ORDERS, groupId = Topics.ORDERS_GROUP,
			autoStartup = "${sample.drain.enabled:true}")
	void process(ConsumerRecord<String, String> record) throws InterruptedException {
		// the drain's permit was taken just before this call: the rate is checked on these times,
		// not on when processing ended (a slow partner call would bunch those up)
		long letThroughAt = System.nanoTime();
		Order order = this.json.readValue(record.value(), Order.class);
		this.partner.notifyAccepted(order);
		String shipment = this.json
			.writeValueAsString(new Shipment(order.id(), order.tenant(), order.item(), order.quantity()));
		if (!this.shipments.offerDefault(order.tenant(), shipment, SHIPMENT_WAIT)) {
			throw new IllegalStateException("The shipments buffer stayed full for " + SHIPMENT_WAIT
					+ " (is Kafka reachable?): order " + order.id() + " will be processed again");
		}
		this.stats.recordProcessed(order, record.partition(), record.offset(), letThroughAt);
		if (logger.isDebugEnabled()) {
			logger.debug("Processed order " + order.id() + " of " + order.tenant() + " at " + record.partition() + "@"
					+ record.offset());
		}
	}

	/**
	 * What the warehouse is told to ship.
	 *
	 * @param orderId the order's id
	 * @param tenant the tenant
	 * @param item what to ship
	 * @param quantity how many
	 */
	public record Shipment(String orderId, String tenant, String item, int quantity) {

	}

}
