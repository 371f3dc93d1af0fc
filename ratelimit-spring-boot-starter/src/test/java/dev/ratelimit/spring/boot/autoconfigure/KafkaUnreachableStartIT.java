package dev.ratelimit.spring.boot.autoconfigure;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.kafka.BackendHealth;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka is not there when the application starts: under the default policy the application starts
 * and its global limiters decide on their local share; under fail-closed, start-up fails with a
 * report that names the servers and the way on.
 */
@ExtendWith(OutputCaptureExtension.class)
class KafkaUnreachableStartIT {

	/** A port nothing listens on (taken and let go). */
	private static String nowhere() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return "127.0.0.1:" + socket.getLocalPort();
		}
	}

	@Test
	void startsOnTheLocalShareWhenKafkaIsDown() throws IOException {
		SpringApplication application = new SpringApplication(FailureAnalysisTests.App.class);
		application.setWebApplicationType(WebApplicationType.NONE);
		try (ConfigurableApplicationContext context = application.run("--spring.main.banner-mode=off",
				"--ratelimit.backend=kafka", "--spring.kafka.bootstrap-servers=" + nowhere(),
				"--ratelimit.kafka.cluster-id=nowhere", "--ratelimit.kafka.expected-instances=4",
				"--ratelimit.limiters.orders.rate=40/1s", "--ratelimit.limiters.orders.scope=global")) {
			KafkaRateLimiterBackend backend = context.getBean(KafkaRateLimiterBackend.class);
			assertThat(backend.config().failFast()).isFalse();
			assertThat(backend.health().status()).isEqualTo(BackendHealth.Status.DEGRADED);
			assertThat(backend.health().details()).containsEntry("connected", false);
			RateLimiter orders = context.getBean(RateLimiterRegistry.class).limiter("orders");
			// the local share: a quarter of the rate for the four instances expected, never an exception
			await().atMost(Duration.ofSeconds(30)).until(() -> orders.tryAcquire()
					&& Boolean.TRUE.equals(orders.snapshot().details().get("degraded")));
			assertThat(orders.snapshot().details()).containsEntry("localSharePerSecond", 10.0);
		}
	}

	@Test
	void failClosedStopsStartUpWithAReport(CapturedOutput output) throws IOException {
		String servers = nowhere();
		assertThat(FailureAnalysisTests.report(output, FailureAnalysisTests.App.class, "ratelimit.backend=kafka",
				"spring.kafka.bootstrap-servers=" + servers, "ratelimit.kafka.cluster-id=nowhere",
				"ratelimit.kafka.degraded-policy=fail-closed", "ratelimit.kafka.request-timeout=500ms",
				"ratelimit.kafka.lease-ttl=2s"))
			.contains("The rate limit backend could not reach Kafka at start-up")
			.contains("Bootstrap servers: " + servers)
			.contains("ratelimit.kafka.degraded-policy=fail-closed")
			.contains("set ratelimit.kafka.fail-fast=false to start without Kafka");
	}

}
