package dev.ratelimit.spring.kafka.producer;

/**
 * Counters of a {@link BufferedKafkaSender} since it was created. They only grow, so they suit
 * counters in a metrics system. The first five are the buffer's, read together at one instant;
 * the last three are read just after.
 *
 * @param offered records accepted by an offer
 * @param refused offers refused because the buffer was full (a timed offer counts once, when it
 * gives up)
 * @param sent records acknowledged by Kafka, each counted once however often it was sent
 * @param batches batches fully acknowledged
 * @param failedAttempts batch attempts that did not end with every record acknowledged (a send
 * failed or went unanswered within the send timeout), each retried after a backoff
 * @param failedSends sends that Kafka (or the producer, at once) answered with an error
 * @param retried records sent again after a failed send: a duplicate in the log only if the broker
 * had written the first copy but its answer was lost
 * @param duplicated records sent again although Kafka had acknowledged them, because an earlier
 * record of the same key had failed: each is a duplicate in the log, written to keep the key in
 * order
 */
public record SenderStats(long offered, long refused, long sent, long batches, long failedAttempts, long failedSends,
		long retried, long duplicated) {

}
