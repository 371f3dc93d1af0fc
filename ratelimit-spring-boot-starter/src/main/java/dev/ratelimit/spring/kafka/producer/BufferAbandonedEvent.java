package dev.ratelimit.spring.kafka.producer;

import java.util.List;

import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A sender was closed (or stopped with the application) and could not send these records within
 * its close timeout. They are handed over here, in offer order, for example to write them
 * somewhere durable. Some may still reach Kafka: a send that was unanswered at the timeout can
 * succeed later.
 */
public class BufferAbandonedEvent extends BufferEvent {

	private static final long serialVersionUID = 1L;

	private final transient List<ProducerRecord<?, ?>> records;

	/**
	 * Creates the event.
	 * @param sender the sender
	 * @param records the records not sent, in offer order
	 */
	public BufferAbandonedEvent(BufferedKafkaSender<?, ?> sender, List<? extends ProducerRecord<?, ?>> records) {
		super(sender, 0);
		this.records = List.copyOf(records);
	}

	/**
	 * Returns the records not sent.
	 * @return the records, in offer order
	 */
	public List<ProducerRecord<?, ?>> getRecords() {
		return this.records;
	}

}
