package dev.ratelimit.kafka;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.kafka.test.EmbeddedKafkaBroker;

/**
 * The shared-limit scenarios on an in-process KRaft broker (a real broker, in this JVM), so they
 * run everywhere, CI included.
 */
class SharedLimitIT extends SharedLimitScenarios {

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
