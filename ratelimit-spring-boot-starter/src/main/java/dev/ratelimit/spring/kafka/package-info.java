/**
 * Kafka listener integration: throttles the records of listener containers with a limiter,
 * pausing partitions instead of blocking the consumer or skipping records, and observes consumer
 * lag of listeners and of watched consumer groups.
 *
 * <p>Used only when Spring Kafka is on the classpath.
 */
package dev.ratelimit.spring.kafka;
