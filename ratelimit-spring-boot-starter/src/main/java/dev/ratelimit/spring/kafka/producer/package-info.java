/**
 * Buffered producing: a {@link dev.ratelimit.buffer.BufferPool}-backed sender for a Spring Kafka
 * {@link org.springframework.kafka.core.KafkaTemplate}, bounded in records and bytes, paced by a
 * limiter, retried without loss, ordered per key, and flushed on shutdown.
 *
 * <p>Start at {@link dev.ratelimit.spring.kafka.producer.BufferedKafkaSenders}, which creates
 * {@link dev.ratelimit.spring.kafka.producer.BufferedKafkaSender}s, or declare them under
 * {@code ratelimit.buffers.<name>.*} ({@link dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties}).
 */
package dev.ratelimit.spring.kafka.producer;
