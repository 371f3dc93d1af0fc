package dev.ratelimit.spring.kafka.producer;

/**
 * A buffer became full: an accepted record filled a bound, or an offer found no room. From now on
 * offers are refused (or wait) until records are sent. Published once until the buffer
 * {@linkplain BufferDrainedEvent drains}: a signal to slow the source down (pause a listener
 * container, answer 503).
 */
public class BufferBackpressureEvent extends BufferEvent {

	private static final long serialVersionUID = 1L;

	/**
	 * Creates the event.
	 * @param sender the sender
	 * @param utilization the utilization now, usually 1
	 */
	public BufferBackpressureEvent(BufferedKafkaSender<?, ?> sender, double utilization) {
		super(sender, utilization);
	}

}
