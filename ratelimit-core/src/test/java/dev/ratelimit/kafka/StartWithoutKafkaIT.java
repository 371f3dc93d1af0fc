package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Kafka is down while the application starts: under a policy that can decide without it the backend
 * starts at once, its limiters follow the policy, and it connects when the broker comes up; under
 * fail-closed (or with fail-fast set) start-up fails with a message that names the way on.
 */
class StartWithoutKafkaIT {

	private static final RateLimit LIMIT = RateLimit.tokenBucket(Rate.perSecond(20)).capacity(20).build();

	@Test
	void startsDegradedAndConnectsWhenTheBrokerComesUp() throws Exception {
		try (StandaloneBroker broker = new StandaloneBroker()) {
			// the broker's ports are chosen, nothing listens on them yet
			List<KafkaRateLimiterBackend> backends = new ArrayList<>();
			try {
				KafkaRateLimiterBackend backend = KafkaRateLimiterBackend.start(KafkaTestSupport
					.config(broker.bootstrap(), "late", "instance-0").expectedInstances(2).build());
				backends.add(backend);
				assertThat(backend.runtime().connected()).isFalse();
				assertThat(backend.health().status()).isEqualTo(BackendHealth.Status.DEGRADED);
				assertThat(backend.health().details().get("reason").toString()).startsWith("Kafka not reached yet");
				RateLimiter named = backend.create("api", null, LIMIT, RateLimiterListener.NONE);
				RateLimiter tenant = backend.create("tenants[t-1]", "t-1", LIMIT, RateLimiterListener.NONE);
				// decisions never throw or wait; the named limiter goes to its local share (starting empty,
				// half the rate for the two instances expected), the tenant's first call is admitted from
				// its part of the key's bucket
				assertThat(tenant.tryAcquire()).isTrue();
				await().atMost(Duration.ofSeconds(30)).until(() -> named.tryAcquire()
						&& Boolean.TRUE.equals(named.snapshot().details().get("degraded")));
				assertThat(named.snapshot().details()).containsEntry("degraded", true);
				assertThat(backend.partitionOf("api")).isEqualTo(-1);

				broker.start();
				KafkaRateLimiterBackend second = KafkaRateLimiterBackend
					.start(KafkaTestSupport.config(broker.bootstrap(), "late", "instance-1").build());
				backends.add(second);
				assertThat(second.runtime().connected()).isTrue();
				await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
					named.tryAcquire();
					tenant.tryAcquire();
					return backend.runtime().connected() && backend.health().status() == BackendHealth.Status.UP;
				});
				// leases flow: the named limiter left its local share, and both instances count on the key
				RateLimiter other = second.create("api", null, LIMIT, RateLimiterListener.NONE);
				await().atMost(Duration.ofSeconds(30)).until(() -> {
					named.tryAcquire();
					other.tryAcquire();
					return Boolean.FALSE.equals(named.snapshot().details().get("degraded"))
							&& Integer.valueOf(2).equals(named.snapshot().details().get("instances"));
				});
				assertThat(backend.partitionOf("api")).isEqualTo(second.partitionOf("api"));
			}
			finally {
				KafkaTestSupport.closeAll(backends);
			}
		}
	}

	@Test
	void failClosedFailsStartUpWhenKafkaCannotBeReached() throws Exception {
		try (StandaloneBroker broker = new StandaloneBroker()) {
			KafkaBackendConfig config = KafkaTestSupport.config(broker.bootstrap(), "closed", "instance-0")
				.degradedPolicy(DegradedPolicy.FAIL_CLOSED)
				.build();
			assertThat(config.failFast()).isTrue();
			assertThatExceptionOfType(KafkaUnreachableException.class)
				.isThrownBy(() -> KafkaRateLimiterBackend.start(config))
				.withMessageContaining(broker.bootstrap())
				.withMessageContaining("ratelimit.kafka.fail-fast=false");
		}
	}

	@Test
	void failFastFailsStartUpUnderAnyPolicy() throws Exception {
		try (StandaloneBroker broker = new StandaloneBroker()) {
			KafkaBackendConfig config = KafkaTestSupport.config(broker.bootstrap(), "fast", "instance-0")
				.failFast(true)
				.build();
			assertThat(config.degradedPolicy()).isEqualTo(DegradedPolicy.LOCAL_SHARE);
			assertThatExceptionOfType(KafkaUnreachableException.class)
				.isThrownBy(() -> KafkaRateLimiterBackend.start(config));
		}
	}

}
