package dev.ratelimit.kafka;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.kafka.test.EmbeddedKafkaBroker;

/**
 * The persistence scenario on an in-process KRaft broker.
 */
class PersistenceIT extends PersistenceScenarios {

	private static EmbeddedKafkaBroker broker;

	@BeforeAll
	static void startBroker() {
		broker = KafkaTestSupport.startBroker();
	}

	@AfterAll
	static void stopBroker() {
		broker.destroy();
	}

	@Override
	String bootstrap() {
		return broker.getBrokersAsString();
	}

}
