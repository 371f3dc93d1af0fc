package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;

/**
 * A batch was not fully acknowledged: a send failed, or Kafka did not answer within the send
 * timeout. Nothing is lost: the batch is retried after {@link #getNextBackoff()}, and records
 * offered meanwhile queue behind it.
 */
public class BufferFlushFailedEvent extends BufferEvent {

	private static final long serialVersionUID = 1L;

	private final int batchSize;

	private final int attempt;

	private final transient Throwable error;

	private final Duration nextBackoff;

	/**
	 * Creates the event.
	 * @param sender the sender
	 * @param batchSize the records in the batch
	 * @param attempt the number of the attempt that failed, 1 for the first
	 * @param error what failed
	 * @param nextBackoff the wait before the next attempt
	 * @param utilization the utilization now
	 */
	public BufferFlushFailedEvent(BufferedKafkaSender<?, ?> sender, int batchSize, int attempt, Throwable error,
			Duration nextBackoff, double utilization) {
		super(sender, utilization);
		this.batchSize = batchSize;
		this.attempt = attempt;
		this.error = error;
		this.nextBackoff = nextBackoff;
	}

	/**
	 * Returns the records in the batch.
	 * @return the batch size
	 */
	public int getBatchSize() {
		return this.batchSize;
	}

	/**
	 * Returns the number of the attempt that failed.
	 * @return 1 for the first attempt
	 */
	public int getAttempt() {
		return this.attempt;
	}

	/**
	 * Returns what failed.
	 * @return the error
	 */
	public Throwable getError() {
		return this.error;
	}

	/**
	 * Returns the wait before the next attempt.
	 * @return the backoff
	 */
	public Duration getNextBackoff() {
		return this.nextBackoff;
	}

}
