package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Buffered Kafka senders, under {@code ratelimit.buffers.<name>}: each name becomes a
 * {@link BufferedKafkaSender} bean. Immutable; values are checked when the senders are created at
 * start-up, and a bad one stops the application with a message that names the property.
 *
 * <p>Bound at {@code ratelimit} (one property, {@code buffers}) rather than at
 * {@code ratelimit.buffers}: a constructor-bound type cannot have the buffer names as its own
 * property names. The other {@code ratelimit.*} properties are bound by the core configuration.
 */
@ConfigurationProperties("ratelimit")
public class RateLimitBufferProperties {

	/**
	 * Buffered Kafka senders by name.
	 */
	private final Map<String, Buffer> buffers;

	public RateLimitBufferProperties(Map<String, Buffer> buffers) {
		this.buffers = (buffers != null) ? Map.copyOf(buffers) : Map.of();
	}

	public Map<String, Buffer> getBuffers() {
		return this.buffers;
	}

	/**
	 * One buffered sender.
	 */
	public static class Buffer {

		/**
		 * Topic of records offered without one. The template's default topic when not set.
		 */
		private final String topic;

		/**
		 * Name of the KafkaTemplate bean that sends the records. The only (or primary) template
		 * when not set.
		 */
		private final String template;

		/**
		 * Most records held, the batch being sent included. Offers beyond it are refused or wait.
		 */
		private final Integer maxItems;

		/**
		 * Most bytes held, the batch being sent included, as measured by the record sizer
		 * (serialized key, value and headers unless a RecordSizer bean says otherwise).
		 */
		private final DataSize maxBytes;

		/**
		 * Most records per batch; a batch goes as soon as this many are buffered. Lowered to
		 * max-items and to the limiter's capacity when not set.
		 */
		private final Integer maxBatchSize;

		/**
		 * How long the oldest buffered record may wait for a batch to fill before it is sent anyway.
		 */
		private final Duration maxAge;

		/**
		 * Name of the limiter that paces sends, one permit per record, retries included. Sends are
		 * not paced when not set.
		 */
		private final String limiter;

		/**
		 * Wait before the first retry of a batch that was not fully acknowledged.
		 */
		private final Duration initialBackoff;

		/**
		 * Longest wait between retries.
		 */
		private final Duration maxBackoff;

		/**
		 * Factor by which each retry waits longer than the last, up to max-backoff.
		 */
		private final Double backoffMultiplier;

		/**
		 * Longest wait for Kafka to acknowledge every record of a batch. Records still unanswered
		 * then are waited for again on the next attempt, never sent a second time.
		 */
		private final Duration sendTimeout;

		/**
		 * Longest wait, on shutdown, for the buffered records to be sent.
		 */
		private final Duration closeTimeout;

		/**
		 * Utilization below which a full buffer counts as drained again, between 0 (exclusive) and 1.
		 */
		private final Double lowWaterMark;

		/**
		 * Creates the settings of one sender. An unset value is null, and the sender's builder
		 * applies its default: the defaults live there, once, not here.
		 * @param topic the topic of records offered without one
		 * @param template the name of the KafkaTemplate bean
		 * @param maxItems the most records held
		 * @param maxBytes the most bytes held
		 * @param maxBatchSize the most records per batch
		 * @param maxAge how long the oldest record may wait for a batch to fill
		 * @param limiter the name of the limiter that paces sends
		 * @param initialBackoff the wait before the first retry
		 * @param maxBackoff the longest wait between retries
		 * @param backoffMultiplier the factor each retry's wait grows by
		 * @param sendTimeout the longest wait for Kafka to acknowledge a batch
		 * @param closeTimeout the longest wait on shutdown
		 * @param lowWaterMark the utilization below which a full buffer counts as drained
		 */
		public Buffer(String topic, String template, Integer maxItems, DataSize maxBytes, Integer maxBatchSize,
				Duration maxAge, String limiter, Duration initialBackoff, Duration maxBackoff,
				Double backoffMultiplier, Duration sendTimeout, Duration closeTimeout, Double lowWaterMark) {
			this.topic = topic;
			this.template = template;
			this.maxItems = maxItems;
			this.maxBytes = maxBytes;
			this.maxBatchSize = maxBatchSize;
			this.maxAge = maxAge;
			this.limiter = limiter;
			this.initialBackoff = initialBackoff;
			this.maxBackoff = maxBackoff;
			this.backoffMultiplier = backoffMultiplier;
			this.sendTimeout = sendTimeout;
			this.closeTimeout = closeTimeout;
			this.lowWaterMark = lowWaterMark;
		}

		public String getTopic() {
			return this.topic;
		}

		public String getTemplate() {
			return this.template;
		}

		public Integer getMaxItems() {
			return this.maxItems;
		}

		public DataSize getMaxBytes() {
			return this.maxBytes;
		}

		public Integer getMaxBatchSize() {
			return this.maxBatchSize;
		}

		public Duration getMaxAge() {
			return this.maxAge;
		}

		public String getLimiter() {
			return this.limiter;
		}

		public Duration getInitialBackoff() {
			return this.initialBackoff;
		}

		public Duration getMaxBackoff() {
			return this.maxBackoff;
		}

		public Double getBackoffMultiplier() {
			return this.backoffMultiplier;
		}

		public Duration getSendTimeout() {
			return this.sendTimeout;
		}

		public Duration getCloseTimeout() {
			return this.closeTimeout;
		}

		public Double getLowWaterMark() {
			return this.lowWaterMark;
		}

	}

}
