package dev.ratelimit.spring.kafka.producer;

/**
 * A {@link BufferedKafkaSender#send(org.apache.kafka.clients.producer.ProducerRecord)} found the
 * buffer full: nothing was buffered. The backpressure signal of the future-returning calls, as
 * {@code false} is that of {@code offer}: refuse upstream (HTTP 503 with {@code Retry-After}) or
 * try again later.
 */
public class BufferFullException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String buffer;

	/**
	 * Creates the exception.
	 * @param buffer the buffer's name
	 * @param maxItems its record bound
	 * @param maxBytes its byte bound
	 */
	public BufferFullException(String buffer, int maxItems, long maxBytes) {
		super("buffer '" + buffer + "' is full (at most " + maxItems + " records and " + maxBytes
				+ " bytes): Kafka is slower than the offers, or unreachable; nothing was buffered");
		this.buffer = buffer;
	}

	/**
	 * Returns the name of the full buffer.
	 * @return the buffer's name
	 */
	public String getBuffer() {
		return this.buffer;
	}

}
