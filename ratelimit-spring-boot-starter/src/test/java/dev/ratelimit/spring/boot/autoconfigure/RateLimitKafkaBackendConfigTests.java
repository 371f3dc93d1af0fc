package dev.ratelimit.spring.boot.autoconfigure;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.SslBundleSslEngineFactory;
import org.springframework.boot.ssl.SslBundle;

import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.RateLimitProperties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ratelimit.kafka.*} as the backend receives it: defaults, and every timing setting passed on.
 */
class RateLimitKafkaBackendConfigTests {

	static KafkaBackendConfig bind(String... properties) {
		return RateLimitKafkaBackendAutoConfiguration.config(bindKafka(properties), null, null);
	}

	private static RateLimitProperties.Kafka bindKafka(String... properties) {
		MapConfigurationPropertySource source = new MapConfigurationPropertySource();
		for (int i = 0; i < properties.length; i += 2) {
			source.put(properties[i], properties[i + 1]);
		}
		return new Binder(source).bindOrCreate("ratelimit", RateLimitProperties.class).getKafka();
	}

	@Test
	void theConnectionDetailsGiveTheClusterItsSecurityProtocolAndSslBundle() {
		SslBundle bundle = SslBundle.of(null);
		KafkaConnectionDetails details = () -> List.of("broker-1:9093");
		KafkaConnectionDetails secured = new KafkaConnectionDetails() {

			@Override
			public List<String> getBootstrapServers() {
				return List.of("broker-1:9093");
			}

			@Override
			public Configuration getAdmin() {
				return Configuration.of(List.of("admin-1:9093"), bundle, "SSL");
			}

		};
		KafkaBackendConfig config = RateLimitKafkaBackendAutoConfiguration.config(bindKafka(), secured, null);
		assertThat(config.bootstrapServers()).isEqualTo("admin-1:9093");
		assertThat(config.clientProperties()).containsEntry("security.protocol", "SSL")
			.containsEntry("ssl.engine.factory.class", SslBundleSslEngineFactory.class)
			.containsEntry(SslBundle.class.getName(), bundle);
		assertThat(RateLimitKafkaBackendAutoConfiguration.config(bindKafka(), details, null).clientProperties())
			.doesNotContainKeys("security.protocol", "ssl.engine.factory.class");
		// TLS settings of the backend's own win over the application's bundle
		assertThat(RateLimitKafkaBackendAutoConfiguration
			.config(bindKafka("ratelimit.kafka.properties.ssl.keystore.location", "/etc/limits.p12"), secured, null)
			.clientProperties()).containsEntry("ssl.keystore.location", "/etc/limits.p12")
			.doesNotContainKeys("ssl.engine.factory.class", SslBundle.class.getName());
		// another cluster named for the backend is reached with ratelimit.kafka.properties.* alone
		assertThat(RateLimitKafkaBackendAutoConfiguration
			.config(bindKafka("ratelimit.kafka.bootstrap-servers", "limits:9092"), secured, null)
			.clientProperties()).doesNotContainKeys("security.protocol", "ssl.engine.factory.class");
	}

	@Test
	void defaultsAreTheBackendsOwn() {
		KafkaBackendConfig config = bind();
		KafkaBackendConfig defaults = KafkaBackendConfig.builder("localhost:9092").build();
		assertThat(config.keeperInterval()).isEqualTo(defaults.keeperInterval()).isEqualTo(Duration.ofMillis(5));
		assertThat(config.idleReturn()).isEqualTo(defaults.idleReturn()).isEqualTo(Duration.ofSeconds(10));
		assertThat(config.reportInterval()).isEqualTo(defaults.reportInterval()).isEqualTo(Duration.ofSeconds(1));
		assertThat(config.lowWater()).isEqualTo(defaults.lowWater());
		assertThat(config.sessionTimeout()).isEqualTo(defaults.sessionTimeout()).contains(Duration.ofSeconds(6));
	}

	@Test
	void theCommitIntervalIs5sUnderAtLeastOnceAnd50msUnderExactlyOnceUnlessSet() {
		assertThat(bind().commitInterval()).isEqualTo(Duration.ofSeconds(5));
		assertThat(bind("ratelimit.kafka.processing-guarantee", "exactly_once_v2").commitInterval())
			.isEqualTo(Duration.ofMillis(50));
		assertThat(bind("ratelimit.kafka.commit-interval", "200ms").commitInterval()).isEqualTo(Duration.ofMillis(200));
		assertThat(bind("ratelimit.kafka.processing-guarantee", "exactly_once_v2", "ratelimit.kafka.commit-interval",
				"100ms")
			.commitInterval()).isEqualTo(Duration.ofMillis(100));
	}

	@Test
	void anUnreachableKafkaFailsStartUpOnlyUnderFailClosedUnlessSet() {
		assertThat(bind().failFast()).isFalse();
		assertThat(bind().expectedInstances()).isEqualTo(1);
		assertThat(bind("ratelimit.kafka.degraded-policy", "fail-open").failFast()).isFalse();
		assertThat(bind("ratelimit.kafka.degraded-policy", "fail-closed").failFast()).isTrue();
		assertThat(bind("ratelimit.kafka.degraded-policy", "fail-closed", "ratelimit.kafka.fail-fast", "false").failFast())
			.isFalse();
		assertThat(bind("ratelimit.kafka.fail-fast", "true").failFast()).isTrue();
		assertThat(bind("ratelimit.kafka.expected-instances", "6").expectedInstances()).isEqualTo(6);
	}

	@Test
	void aFleetOfNoInstancesIsRefused() {
		org.assertj.core.api.Assertions
			.assertThatExceptionOfType(InvalidRateLimitConfigurationException.class)
			.isThrownBy(() -> bind("ratelimit.kafka.expected-instances", "0"))
			.withMessageContaining("expectedInstances");
	}

	@Test
	void theClusterIdIsTheApplicationsNameUnlessSet() {
		RateLimitProperties.Kafka unset = bindKafka();
		assertThat(RateLimitKafkaBackendAutoConfiguration.config(unset, null, null, "orders").clusterId())
			.isEqualTo("orders");
		// what a topic name cannot hold is replaced, so any application name works
		assertThat(RateLimitKafkaBackendAutoConfiguration.config(unset, null, null, "Orders Service (EU)").clusterId())
			.isEqualTo("Orders-Service--EU-");
		assertThat(RateLimitKafkaBackendAutoConfiguration.config(unset, null, null, null).clusterId()).isEqualTo("default");
		KafkaBackendConfig explicit = RateLimitKafkaBackendAutoConfiguration.config(
				bindKafka("ratelimit.kafka.cluster-id", "checkout"), null, null, "orders");
		assertThat(explicit.clusterId()).isEqualTo("checkout");
	}

	@Test
	void timingSettingsArePassedOn() {
		KafkaBackendConfig config = bind("ratelimit.kafka.keeper-interval", "20ms", "ratelimit.kafka.idle-return",
				"30s", "ratelimit.kafka.low-water", "0.25", "ratelimit.kafka.session-timeout", "10s",
				"ratelimit.kafka.request-timeout", "1s", "ratelimit.kafka.lease-ttl", "3s",
				"ratelimit.kafka.report-interval", "5s");
		assertThat(config.reportInterval()).isEqualTo(Duration.ofSeconds(5));
		assertThat(config.keeperInterval()).isEqualTo(Duration.ofMillis(20));
		assertThat(config.idleReturn()).isEqualTo(Duration.ofSeconds(30));
		assertThat(config.lowWater()).isEqualTo(0.25);
		assertThat(config.sessionTimeout()).contains(Duration.ofSeconds(10));
		assertThat(config.requestTimeout()).isEqualTo(Duration.ofSeconds(1));
		assertThat(config.leaseTtl()).isEqualTo(Duration.ofSeconds(3));
	}

	/**
	 * The reference's default of every backend setting is the builder's, which is where defaults
	 * live: a setting set to its documented default gives the same backend as one left out.
	 */
	@Test
	void theDocumentedDefaultsAreTheBuildersOwn() throws Exception {
		Pattern row = Pattern.compile("^\\| `ratelimit\\.kafka\\.([a-z-]+)` \\|.*\\| `([^`]+)` \\|$", Pattern.MULTILINE);
		KafkaBackendConfig unset = bind();
		List<String> checked = new ArrayList<>();
		for (String document : List.of("configuration.md", "kafka.md")) {
			Matcher matcher = row.matcher(Files.readString(Path.of("..", "docs", document), StandardCharsets.UTF_8));
			while (matcher.find()) {
				String property = matcher.group(1);
				if (property.startsWith("listeners") || property.startsWith("backpressure")
						|| property.equals("bootstrap-servers")) {
					continue; // not the backend's, or spring.kafka's
				}
				assertSameBackend(bind("ratelimit.kafka." + property, matcher.group(2)), unset,
						document + ": ratelimit.kafka." + property + " documented as " + matcher.group(2));
				checked.add(property);
			}
		}
		assertThat(checked).contains("authority", "create-topics", "request-partitions", "grant-partitions", "lease-ttl",
				"lease-horizon", "low-water", "request-timeout", "keeper-interval", "idle-return", "report-interval",
				"degraded-policy", "expected-instances", "processing-guarantee", "standby-replicas", "session-timeout");
	}

	/** Asserts that two configurations give the same backend: every accessor answers the same. */
	static void assertSameBackend(KafkaBackendConfig actual, KafkaBackendConfig expected, String description)
			throws ReflectiveOperationException {
		for (Method accessor : KafkaBackendConfig.class.getDeclaredMethods()) {
			if (Modifier.isPublic(accessor.getModifiers()) && !Modifier.isStatic(accessor.getModifiers())
					&& accessor.getParameterCount() == 0) {
				assertThat(accessor.invoke(actual)).as(description + ": " + accessor.getName())
					.isEqualTo(accessor.invoke(expected));
			}
		}
	}

}
