package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitKafkaBackendAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code ratelimit.backend=kafka} on a real broker: global limiters are shared by two
 * application contexts (two instances), local ones are not, and the backend reports its health.
 */
class KafkaBackendAutoConfigurationIT {

	private static EmbeddedKafkaBroker broker;

	@BeforeAll
	static void startBroker() {
		broker = new EmbeddedKafkaKraftBroker(1, 1).brokerProperties(Map.of("transaction.state.log.replication.factor",
				"1", "transaction.state.log.min.isr", "1", "group.initial.rebalance.delay.ms", "0"));
		broker.afterPropertiesSet();
	}

	@AfterAll
	static void stopBroker() {
		broker.destroy();
	}

	private ApplicationContextRunner instance(String id) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
					RateLimitKafkaBackendAutoConfiguration.class, RateLimitAutoConfiguration.class,
					RateLimitAdaptiveAutoConfiguration.class))
			.withPropertyValues("spring.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
					"ratelimit.backend=kafka", "ratelimit.kafka.cluster-id=starter-it", "ratelimit.kafka.instance-id=" + id,
					"ratelimit.kafka.request-partitions=2", "ratelimit.kafka.grant-partitions=2",
					"ratelimit.kafka.replication-factor=1", "ratelimit.limiters.payments.scope=global",
					"ratelimit.limiters.payments.rate=30/1m", "ratelimit.limiters.local.rate=30/1m",
					"ratelimit.limiters.partner.scope=global", "ratelimit.limiters.partner.rate=100/1s",
					"ratelimit.limiters.partner.adaptive.enabled=true",
					"ratelimit.limiters.partner.adaptive.recovery-interval=1s",
					"ratelimit.limiters.partner.adaptive.recovery-step=0.5");
	}

	/** An instance with Boot's meter registry. */
	private static ApplicationContextRunner metered(ApplicationContextRunner instance) {
		return instance.withConfiguration(AutoConfigurations.of(
				org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration.class,
				org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration.class,
				org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration.class));
	}

	@Test
	void aGlobalLimitDividedAmongPriorityClassesIsSharedClassByClass() {
		ApplicationContextRunner tiered = instance("tiered").withPropertyValues("ratelimit.limiters.tiered.scope=global",
				"ratelimit.limiters.tiered.rate=100/1s", "ratelimit.limiters.tiered.capacity=100",
				"ratelimit.limiters.tiered.priority.classes=critical,batch",
				"ratelimit.limiters.tiered.priority.minimum-shares.batch=0.1");
		tiered.run((context) -> {
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			dev.ratelimit.RateLimiter critical = registry.priorities("tiered").forClass("critical");
			await().atMost(Duration.ofSeconds(60)).until(critical::tryAcquire);
			RateLimiterSnapshot snapshot = critical.snapshot();
			assertThat(snapshot.distributed()).isTrue();
			assertThat(snapshot.backend()).isEqualTo("kafka");
			assertThat(snapshot.rate()).isEqualTo(dev.ratelimit.Rate.parse("100/1s"));
			assertThat(registry.limiter("tiered")).as("the default class: the last").isSameAs(
					registry.priorities("tiered").forClass("batch"));
		});
	}

	@Test
	void globalLimitersAreSharedBetweenInstancesAndLocalOnesAreNot() {
		instance("one").run((one) -> instance("two").run((two) -> {
			RateLimiterRegistry first = one.getBean(RateLimiterRegistry.class);
			RateLimiterRegistry second = two.getBean(RateLimiterRegistry.class);
			RateLimiterSnapshot snapshot = first.limiter("payments").snapshot();
			assertThat(snapshot.backend()).isEqualTo("kafka");
			assertThat(snapshot.distributed()).isTrue();
			assertThat(snapshot.persistent()).isTrue();
			assertThat(first.limiter("local").snapshot().backend()).isEqualTo("in-memory");

			long admitted = drain(first.limiter("payments")) + drain(second.limiter("payments"));
			// one bucket of 30 (plus at most a permit of refill while draining) for both instances
			assertThat(admitted).isBetween(30L, 33L);
			// two buckets of 30, one each (and a permit of refill while draining)
			assertThat(drain(first.limiter("local")) + drain(second.limiter("local"))).isBetween(60L, 62L);

			RateLimitBackendHealth health = one.getBean(RateLimitBackendHealth.class);
			assertThat(health.backend()).isEqualTo("kafka");
			assertThat(health.report().state()).isEqualTo(RateLimitBackendHealth.State.UP);
			assertThat(health.report().details()).containsEntry("cluster", "starter-it").containsEntry("instance", "one");
		}));
	}

	@Test
	void theBackendsRecordsFailuresAndRoundTripsAreMeters() {
		metered(instance("metered"))
			.run((context) -> {
				io.micrometer.core.instrument.MeterRegistry meters = context
					.getBean(io.micrometer.core.instrument.MeterRegistry.class);
				RateLimiter payments = context.getBean(RateLimiterRegistry.class).limiter("payments");
				await().atMost(Duration.ofSeconds(30)).until(payments::tryAcquire); // a lease, so a round trip
				await().atMost(Duration.ofSeconds(30))
					.until(() -> meters.get(KafkaBackendMetrics.ROUND_TRIP).timer().count() > 0);
				assertThat(meters.get("ratelimit.kafka.requests").functionCounter().count()).isPositive();
				assertThat(meters.get("ratelimit.kafka.grants").functionCounter().count()).isPositive();
				assertThat(meters.get("ratelimit.kafka.send.failures").functionCounter().count()).isZero();
				assertThat(meters.get("ratelimit.kafka.records.skipped").functionCounter().count()).isZero();
				assertThat(meters.get("ratelimit.kafka.degraded").functionCounter().count()).isZero();
				assertThat(meters.get("ratelimit.kafka.limiters").gauge().value()).isGreaterThanOrEqualTo(1);
				assertThat(meters.get(KafkaBackendMetrics.ROUND_TRIP).timer()
					.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS)).isPositive();
			});
	}

	@Test
	void withoutAClusterIdTheApplicationsNameKeepsItsBucketsApartFromOtherApplications() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class,
					RateLimitKafkaBackendAutoConfiguration.class, RateLimitAutoConfiguration.class))
			.withPropertyValues("spring.application.name=orders service", "spring.kafka.bootstrap-servers="
					+ broker.getBrokersAsString(), "ratelimit.backend=kafka", "ratelimit.kafka.instance-id=named",
					"ratelimit.kafka.request-partitions=2", "ratelimit.kafka.grant-partitions=2",
					"ratelimit.kafka.replication-factor=1")
			.run((context) -> {
				RateLimitBackendHealth health = context.getBean(RateLimitBackendHealth.class);
				// the application's name from the Environment, made fit for a topic name
				assertThat(health.report().details()).containsEntry("cluster", "orders-service");
				assertThat(context.getBean(dev.ratelimit.kafka.KafkaRateLimiterBackend.class).config().requestTopic())
					.startsWith("ratelimit-orders-service-");
			});
	}

	/**
	 * One instance sees a 429 from a partner: the shared rate drops on both instances (the second
	 * learns it from its next grant), then recovers to the configured rate on both. The reduced
	 * rate holds for a recovery interval of 5 s: with the 1 s of the other tests, recovery could
	 * replace it before the second instance's next grant (it asks about once a second, and a
	 * rebalance can hold a request up), and that instance would go from 100/s to 100/s, never
	 * seeing the 50/s in force meanwhile.
	 */
	@Test
	void aReductionOnOneInstanceReachesTheOtherAndRecovers() {
		String slowRecovery = "ratelimit.limiters.partner.adaptive.recovery-interval=5s";
		instance("reducer").withPropertyValues(slowRecovery)
			.run((one) -> instance("follower").withPropertyValues(slowRecovery).run((two) -> {
			RateLimiter first = one.getBean(RateLimiterRegistry.class).limiter("partner");
			RateLimiter second = two.getBean(RateLimiterRegistry.class).limiter("partner");
			await().atMost(Duration.ofSeconds(30)).until(() -> first.tryAcquire() && second.tryAcquire());
			java.util.List<Double> seenBySecond = new java.util.concurrent.CopyOnWriteArrayList<>();
			seenBySecond.add(second.limit().rate().perSecond());

			one.getBean(AdaptiveRateLimiters.class).reduce("partner", "HTTP 429 from the partner");
			assertThat(first.limit().rate().perSecond()).isEqualTo(50.0);
			await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
				second.tryAcquire(); // leases bring the limit in force
				double rate = second.limit().rate().perSecond();
				if (rate != seenBySecond.get(seenBySecond.size() - 1)) {
					seenBySecond.add(rate);
				}
				return rate == 50.0;
			});
			await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
				first.tryAcquire();
				second.tryAcquire();
				double rate = second.limit().rate().perSecond();
				if (rate != seenBySecond.get(seenBySecond.size() - 1)) {
					seenBySecond.add(rate);
				}
				return rate == 100.0 && first.limit().rate().perSecond() == 100.0;
			});
			System.out.println("429 propagation: rates seen by the second instance " + seenBySecond);
			assertThat(seenBySecond).startsWith(100.0, 50.0).endsWith(100.0);
		}));
	}

	/**
	 * The documented answer to "every new tenant's first call is denied": with the snippet's short
	 * wait, the first call of each new key waits for that key's first grant and is permitted.
	 */
	@Test
	void aShortWaitServesTheFirstCallOfEveryNewKey() {
		instance("tenants").withConfiguration(AutoConfigurations.of(RateLimitedAnnotationAutoConfiguration.class))
			.withInitializer(KafkaTestSupport.yaml(KafkaTestSupport.FIRST_CALL_YAML))
			.withBean(TenantApi.class)
			.run((context) -> {
				RateLimitBackendHealth health = context.getBean(RateLimitBackendHealth.class);
				await().atMost(Duration.ofSeconds(60))
					.until(() -> health.report().state() == RateLimitBackendHealth.State.UP);
				TenantApi api = context.getBean(TenantApi.class);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("tenant-api", "warm-up").snapshot()
					.distributed()).isTrue();
				// the authority's first assignment and state restore are behind us once one key is served
				await().atMost(Duration.ofSeconds(60)).until(() -> {
					try {
						return api.call("warm-up") != null;
					}
					catch (RateLimitExceededException ex) {
						return false;
					}
				});
				for (int i = 0; i < 5; i++) {
					assertThat(api.call("tenant-" + i)).isEqualTo("served tenant-" + i);
				}
			});
	}

	static class TenantApi {

		@RateLimited(name = "tenant-api", key = "#tenant")
		public String call(String tenant) {
			return "served " + tenant;
		}

	}

	/** The backend's own Kafka clients are metered as Boot meters the application's, and unmetered as they close. */
	@Test
	void theBackendsKafkaClientsHaveTheirClientMetrics() {
		io.micrometer.core.instrument.MeterRegistry[] registry = new io.micrometer.core.instrument.MeterRegistry[1];
		// a cluster of its own: its authority joining and leaving changes nothing for the other tests
		metered(instance("clients").withPropertyValues("ratelimit.kafka.cluster-id=starter-it-clients"))
			.run((context) -> {
				io.micrometer.core.instrument.MeterRegistry meters = context
					.getBean(io.micrometer.core.instrument.MeterRegistry.class);
				registry[0] = meters;
				RateLimiter payments = context.getBean(RateLimiterRegistry.class).limiter("payments");
				await().atMost(Duration.ofSeconds(30)).until(payments::tryAcquire);
				String prefix = "ratelimitKafkaBackend.ratelimit-starter-it-clients-clients-";
				await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
					assertThat(springIds(meters, "kafka.producer.")).contains(prefix + "requests");
					assertThat(springIds(meters, "kafka.consumer.")).contains(prefix + "grants");
					assertThat(springIds(meters, "kafka.admin.client.")).contains(prefix + "admin");
					assertThat(springIds(meters, "kafka.stream.")).contains("ratelimitKafkaBackend.ratelimit-starter-it-clients-authority");
				});
			});
		assertThat(springIds(registry[0], "kafka.")).noneMatch((id) -> id.startsWith("ratelimitKafkaBackend."));
	}

	private static java.util.Set<String> springIds(io.micrometer.core.instrument.MeterRegistry meters, String prefix) {
		return meters.getMeters()
			.stream()
			.filter((meter) -> meter.getId().getName().startsWith(prefix))
			.map((meter) -> meter.getId().getTag("spring.id"))
			.filter(java.util.Objects::nonNull)
			.collect(java.util.stream.Collectors.toSet());
	}

	@Test
	void theBackendIsClosedWithTheContext() {
		KafkaRateLimiterBackend[] backend = new KafkaRateLimiterBackend[1];
		instance("closing").run((context) -> backend[0] = context.getBean(KafkaRateLimiterBackend.class));
		assertThat(backend[0].health().status()).isEqualTo(dev.ratelimit.kafka.BackendHealth.Status.DOWN);
	}

	/** Takes permits until none come for a second (leases may still be on their way). */
	private static long drain(RateLimiter limiter) {
		long admitted = 0;
		await().atMost(Duration.ofSeconds(30)).until(limiter::tryAcquire);
		admitted++;
		long quietSince = System.nanoTime();
		while (System.nanoTime() - quietSince < Duration.ofSeconds(1).toNanos()) {
			if (limiter.tryAcquire()) {
				admitted++;
				quietSince = System.nanoTime();
			}
			else {
				Thread.onSpinWait();
			}
		}
		return admitted;
	}

}
