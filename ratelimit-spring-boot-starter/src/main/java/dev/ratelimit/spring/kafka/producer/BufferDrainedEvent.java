package dev.ratelimit.spring.kafka.producer;

/**
 * After a {@link BufferBackpressureEvent}, the buffer's utilization fell below its low-water mark:
 * the source may speed up again.
 */
public class BufferDrainedEvent extends BufferEvent {

	private static final long serialVersionUID = 1L;

	/**
	 * Creates the event.
	 * @param sender the sender
	 * @param utilization the utilization now
	 */
	public BufferDrainedEvent(BufferedKafkaSender<?, ?> sender, double utilization) {
		super(sender, utilization);
	}

}
