package dev.ratelimit.spring.kafka;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.testcontainers.lifecycle.TestcontainersLifecycleApplicationContextInitializer;
import org.springframework.boot.testcontainers.service.connection.ServiceConnection;
import org.springframework.boot.testcontainers.service.connection.ServiceConnectionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitKafkaBackendAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Kafka backend reached through {@code @ServiceConnection}: Kafka in a container, no
 * {@code spring.kafka.bootstrap-servers} anywhere, so the backend finds the broker only through
 * the {@link KafkaConnectionDetails} that Spring Boot derives from the container. Runs where a
 * Docker engine exists and is skipped otherwise (the other backend tests run on an in-process
 * broker and a broker process).
 */
@Testcontainers(disabledWithoutDocker = true)
class KafkaServiceConnectionIT {

	@Test
	void backendConnectsThroughTheServiceConnection() {
		new ApplicationContextRunner()
			.withInitializer(new TestcontainersLifecycleApplicationContextInitializer())
			.withConfiguration(AutoConfigurations.of(ServiceConnectionAutoConfiguration.class,
					KafkaAutoConfiguration.class, RateLimitKafkaBackendAutoConfiguration.class,
					RateLimitAutoConfiguration.class))
			.withUserConfiguration(Containers.class)
			.withPropertyValues("ratelimit.backend=kafka", "ratelimit.kafka.cluster-id=service-connection",
					"ratelimit.kafka.request-partitions=1", "ratelimit.kafka.grant-partitions=1",
					"ratelimit.kafka.replication-factor=1", "ratelimit.limiters.payments.scope=global",
					"ratelimit.limiters.payments.rate=30/1m")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getEnvironment().containsProperty("spring.kafka.bootstrap-servers")).isFalse();
				KafkaContainer kafka = context.getBean(KafkaContainer.class);
				assertThat(context.getBean(KafkaConnectionDetails.class).getAdmin().getBootstrapServers())
					.containsExactly(kafka.getBootstrapServers());
				assertThat(context.getBean(KafkaRateLimiterBackend.class).config().bootstrapServers())
					.isEqualTo(kafka.getBootstrapServers());
				RateLimitBackendHealth health = context.getBean(RateLimitBackendHealth.class);
				await().atMost(Duration.ofSeconds(90))
					.until(() -> health.report().state() == RateLimitBackendHealth.State.UP);
				RateLimiter payments = context.getBean(RateLimiterRegistry.class).limiter("payments");
				await().atMost(Duration.ofSeconds(60)).until(payments::tryAcquire);
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class Containers {

		@Bean
		@ServiceConnection
		KafkaContainer kafka() {
			return new KafkaContainer("apache/kafka:4.2.1").withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
		}

	}

}
