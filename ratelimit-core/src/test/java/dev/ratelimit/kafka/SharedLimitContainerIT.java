package dev.ratelimit.kafka;

import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The shared-limit scenarios on Kafka in a container (Testcontainers), when a Docker engine is
 * present; skipped otherwise (the same scenarios always run on the in-process broker in
 * {@link SharedLimitIT}).
 */
@Testcontainers(disabledWithoutDocker = true)
class SharedLimitContainerIT extends SharedLimitScenarios {

	@Container
	static final KafkaContainer kafka = new KafkaContainer("apache/kafka:4.2.1")
		.withEnv("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "2000")
		.withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");

	@Override
	String bootstrap() {
		return kafka.getBootstrapServers();
	}

}
