package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.kafka.StandaloneBroker;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitKafkaBackendAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The Kafka backend on a broker process that clients reach over TLS only, with a self-signed
 * certificate, configured the way Spring Boot configures its own Kafka clients: an SSL bundle
 * named by {@code spring.kafka.ssl.bundle}. The JVM's default truststore does not trust that
 * certificate, so the backend connects (its admin client, request producer, grant consumer and
 * Kafka Streams authority) only with the bundle's truststore.
 */
class KafkaBackendTlsIT {

	private static StandaloneBroker.Tls tls;

	private static StandaloneBroker broker;

	@BeforeAll
	static void startBroker() throws Exception {
		tls = StandaloneBroker.Tls.generate();
		broker = new StandaloneBroker(tls);
		broker.start();
	}

	@AfterAll
	static void stopBroker() throws Exception {
		broker.close();
	}

	@Test
	void aClientWithoutTheBundleFailsItsHandshake() {
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap(),
				AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SSL", AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
				60_000))) {
			assertThatExceptionOfType(ExecutionException.class)
				.isThrownBy(() -> admin.describeCluster().clusterId().get())
				.withCauseInstanceOf(SslAuthenticationException.class);
		}
	}

	@Test
	void backendConnectsWithTheSslBundleOfSpringKafka() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SslAutoConfiguration.class, KafkaAutoConfiguration.class,
					RateLimitKafkaBackendAutoConfiguration.class, RateLimitAutoConfiguration.class))
			.withPropertyValues("spring.kafka.bootstrap-servers=" + broker.bootstrap(),
					"spring.kafka.security.protocol=SSL", "spring.kafka.ssl.bundle=kafka",
					"spring.ssl.bundle.pem.kafka.truststore.certificate=file:" + tls.certificate(),
					"ratelimit.backend=kafka", "ratelimit.kafka.cluster-id=tls-it", "ratelimit.kafka.instance-id=tls",
					"ratelimit.kafka.request-partitions=1", "ratelimit.kafka.grant-partitions=1",
					"ratelimit.kafka.replication-factor=1", "ratelimit.limiters.payments.scope=global",
					"ratelimit.limiters.payments.rate=30/1m")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				RateLimitBackendHealth health = context.getBean(RateLimitBackendHealth.class);
				await().atMost(Duration.ofSeconds(90))
					.until(() -> health.report().state() == RateLimitBackendHealth.State.UP);
				RateLimiter payments = context.getBean(RateLimiterRegistry.class).limiter("payments");
				assertThat(payments.snapshot().distributed()).isTrue();
				// permits come in leases from the authority, which runs on Kafka Streams over TLS
				AtomicLong admitted = new AtomicLong();
				await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10)).until(() -> {
					while (payments.tryAcquire()) {
						admitted.incrementAndGet();
					}
					return admitted.get() >= 30;
				});
				// the bucket of 30, and at most a permit or two of refill (one every 2 s) meanwhile
				assertThat(admitted.get()).isBetween(30L, 32L);
			});
	}

}
