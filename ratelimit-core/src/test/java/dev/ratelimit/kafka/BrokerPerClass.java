package dev.ratelimit.kafka;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.kafka.test.EmbeddedKafkaBroker;

/**
 * One embedded KRaft broker for the tests of a class ({@link KafkaTestSupport#startBroker()}):
 * started before them, destroyed after, so that no class sees another's topics, groups or load.
 * JUnit runs the classes one after the other here (no parallel execution is configured), so the
 * field is one class's at a time.
 */
abstract class BrokerPerClass {

	static EmbeddedKafkaBroker broker;

	@BeforeAll
	static void startBroker() {
		broker = KafkaTestSupport.startBroker();
	}

	@AfterAll
	static void stopBroker() {
		broker.destroy();
	}

}
