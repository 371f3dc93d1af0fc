package dev.ratelimit.spring.kafka;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A throttled consumer that stops gives back the permits it took for a next record that will not
 * come. On a broker of its own, so that the drains of {@link ThrottledDrainIT} run as before.
 */
class ThrottledStopIT extends BrokerPerClass {

	/**
	 * After each record a consumer takes the permits of its next one; a consumer that stops gives
	 * them back. A limit that never refills here (10 a day): five records take six permits, and the
	 * stop returns the sixth.
	 */
	@Test
	void aStoppingConsumerGivesBackThePermitsItTookAhead() throws Exception {
		String topic = "drain-stop";
		KafkaTestSupport.createTopic(broker, topic, 1);
		KafkaTestSupport.produce(broker, topic, 1, 5);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(ThrottledDrainIT.OrdersListener.class)
			.withPropertyValues("test.topic=" + topic, "ratelimit.limiters.orders-drain.rate=10/1d")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = context.getBean(KafkaTestSupport.Processed.class);
				RateLimiter limiter = context.getBean(RateLimiterRegistry.class).limiter("orders-drain");
				await().atMost(Duration.ofSeconds(30)).until(() -> processed.count() >= 5);
				await().atMost(Duration.ofSeconds(10)).until(() -> limiter.snapshot().available() == 4);
				MessageListenerContainer container = context.getBean(KafkaListenerEndpointRegistry.class)
					.getListenerContainer("orders");
				container.stop();
				await().atMost(Duration.ofSeconds(30)).until(() -> !container.isRunning());
				await().atMost(Duration.ofSeconds(10)).until(() -> limiter.snapshot().available() == 5);
				assertThat(processed.count()).isEqualTo(5);
			});
	}

}
