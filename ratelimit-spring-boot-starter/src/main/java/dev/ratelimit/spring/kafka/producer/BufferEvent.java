package dev.ratelimit.spring.kafka.producer;

import org.springframework.context.ApplicationEvent;

/**
 * An event of a {@link BufferedKafkaSender}'s buffer, published as a Spring application event.
 * Events are published in order on one background thread, never on the thread that offered or
 * flushed, so a slow listener delays other listeners but never the buffer.
 */
public abstract class BufferEvent extends ApplicationEvent {

	private static final long serialVersionUID = 1L;

	private final String bufferName;

	private final double utilization;

	/**
	 * Creates the event.
	 * @param sender the sender whose buffer it concerns
	 * @param utilization the buffer's utilization just after the event, from 0 to 1
	 */
	protected BufferEvent(BufferedKafkaSender<?, ?> sender, double utilization) {
		super(sender);
		this.bufferName = sender.name();
		this.utilization = utilization;
	}

	/**
	 * Returns the sender whose buffer the event concerns.
	 * @return the sender
	 */
	public BufferedKafkaSender<?, ?> getSender() {
		return (BufferedKafkaSender<?, ?>) getSource();
	}

	/**
	 * Returns the name of the buffer.
	 * @return the name
	 */
	public String getBufferName() {
		return this.bufferName;
	}

	/**
	 * Returns the utilization just after the event: the larger of the record and byte fill ratios.
	 * @return the utilization, from 0 to 1
	 */
	public double getUtilization() {
		return this.utilization;
	}

	@Override
	public String toString() {
		return getClass().getSimpleName() + "[buffer=" + this.bufferName + ", utilization=" + this.utilization + "]";
	}

}
