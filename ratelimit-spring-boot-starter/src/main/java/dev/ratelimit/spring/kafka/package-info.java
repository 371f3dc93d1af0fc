/**
 * Kafka listener integration: throttles the records of listener containers with a limiter,
 * holding records back (pausing the consumer or its partitions) instead of blocking the consumer
 * or skipping them, and observes the lag of listeners and of watched consumer groups.
 *
 * <p>Used only when Spring Kafka is on the classpath.
 */
package dev.ratelimit.spring.kafka;
