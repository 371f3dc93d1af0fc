package dev.ratelimit.kafka;

import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The persistence scenario on Kafka in a container, when a Docker engine is present; skipped
 * otherwise ({@link PersistenceIT} always runs it on the in-process broker).
 */
@Testcontainers(disabledWithoutDocker = true)
class PersistenceContainerIT extends PersistenceScenarios {

	@Container
	static final KafkaContainer kafka = new KafkaContainer("apache/kafka:4.2.1")
		.withEnv("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "2000")
		.withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");

	@Override
	String bootstrap() {
		return kafka.getBootstrapServers();
	}

}
