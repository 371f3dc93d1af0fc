package dev.ratelimit.spring.boot.autoconfigure;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.SslConfigs;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.PropertyMapper;
import org.springframework.boot.kafka.autoconfigure.KafkaConnectionDetails;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.boot.kafka.autoconfigure.SslBundleSslEngineFactory;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaClientListener;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.kafka.KafkaBackendHealth;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of the
 * Kafka backend, for {@code ratelimit.backend=kafka}: limiters of global scope are shared by every
 * instance with the same {@code ratelimit.kafka.cluster-id}. Connection and security settings come
 * from {@code spring.kafka.*} (or a {@link KafkaConnectionDetails} bean, such as a
 * {@code @ServiceConnection}), overridden by {@code ratelimit.kafka.*}: the admin connection's
 * bootstrap servers, security protocol and SSL bundle ({@code spring.kafka.ssl.bundle}), unless
 * {@code ratelimit.kafka.bootstrap-servers} names another cluster.
 */
@AutoConfiguration(before = RateLimitAutoConfiguration.class,
		afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@ConditionalOnProperty(name = "ratelimit.backend", havingValue = "kafka")
@ConditionalOnClass(name = { "org.apache.kafka.clients.admin.Admin", "org.apache.kafka.streams.KafkaStreams" })
public final class RateLimitKafkaBackendAutoConfiguration {

	@Bean(destroyMethod = "close")
	@ConditionalOnMissingBean
	KafkaRateLimiterBackend rateLimitKafkaBackend(RateLimitProperties properties,
			ObjectProvider<KafkaConnectionDetails> connectionDetails, ObjectProvider<KafkaProperties> kafkaProperties,
			ObjectProvider<KafkaClientListener> clientListeners, Environment environment) {
		return KafkaRateLimiterBackend.start(config(properties.getKafka(), connectionDetails.getIfAvailable(),
				kafkaProperties.getIfAvailable(), environment.getProperty("spring.application.name"),
				KafkaClientListener.of(clientListeners.orderedStream().toList())));
	}

	/** The backend's own meters, where Micrometer is. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "io.micrometer.core.instrument.binder.MeterBinder")
	static class KafkaBackendMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		dev.ratelimit.spring.kafka.KafkaBackendMetrics rateLimitKafkaBackendMetrics(KafkaRateLimiterBackend backend) {
			return new dev.ratelimit.spring.kafka.KafkaBackendMetrics(backend);
		}

		/** The metrics of the backend's Kafka clients, bound as Boot binds the application's. */
		@Bean
		@ConditionalOnMissingBean
		dev.ratelimit.spring.kafka.KafkaBackendClientMetrics rateLimitKafkaBackendClientMetrics(
				ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry) {
			return new dev.ratelimit.spring.kafka.KafkaBackendClientMetrics(registry::getIfUnique);
		}

	}

	static KafkaBackendConfig config(RateLimitProperties.Kafka kafka, KafkaConnectionDetails details,
			KafkaProperties spring) {
		return config(kafka, details, spring, null);
	}

	/**
	 * The cluster id: {@code ratelimit.kafka.cluster-id}, or else the application's name (what
	 * topic names cannot hold replaced by {@code -}), so two applications on one Kafka never share
	 * buckets by accident; {@code default} only when neither is set.
	 */
	static String clusterId(RateLimitProperties.Kafka kafka, String applicationName) {
		if (kafka.getClusterId() != null) {
			return kafka.getClusterId();
		}
		if (applicationName == null || applicationName.isBlank()) {
			return "default";
		}
		String id = applicationName.strip().replaceAll("[^A-Za-z0-9._-]", "-");
		return (id.length() > 100) ? id.substring(0, 100) : id;
	}

	static KafkaBackendConfig config(RateLimitProperties.Kafka kafka, KafkaConnectionDetails details,
			KafkaProperties spring, String applicationName) {
		return config(kafka, details, spring, applicationName, KafkaClientListener.NONE);
	}

	static KafkaBackendConfig config(RateLimitProperties.Kafka kafka, KafkaConnectionDetails details,
			KafkaProperties spring, String applicationName, KafkaClientListener clientListener) {
		Map<String, Object> client = new HashMap<>();
		List<String> bootstrap = kafka.getBootstrapServers();
		if (spring != null) {
			// security and client settings from spring.kafka.* (and spring.kafka.admin.*)
			client.putAll(spring.buildAdminProperties());
			client.remove("bootstrap.servers");
			client.remove("client.id");
		}
		if (bootstrap.isEmpty() && details != null) {
			// the cluster of the application's own admin client, reached the same way
			KafkaConnectionDetails.Configuration admin = details.getAdmin();
			bootstrap = admin.getBootstrapServers();
			if (admin.getSecurityProtocol() != null) {
				client.put("security.protocol", admin.getSecurityProtocol());
			}
			SslBundle bundle = admin.getSslBundle();
			boolean ownSsl = kafka.getProperties().keySet().stream().anyMatch((key) -> key.startsWith("ssl."));
			if (bundle != null && !ownSsl) {
				// as Boot configures its own clients for spring.kafka.ssl.bundle, unless
				// ratelimit.kafka.properties.ssl.* give the backend TLS settings of its own
				client.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, SslBundleSslEngineFactory.class);
				client.put(SslBundle.class.getName(), bundle);
			}
		}
		if (bootstrap.isEmpty() && spring != null) {
			bootstrap = spring.getBootstrapServers();
		}
		if (bootstrap.isEmpty()) {
			bootstrap = List.of("localhost:9092");
		}
		client.putAll(kafka.getProperties());
		try {
			KafkaBackendConfig.Builder builder = KafkaBackendConfig.builder(String.join(",", bootstrap))
				.clusterId(clusterId(kafka, applicationName))
				.clientProperties(client)
				.clientListener(clientListener);
			// only what is set: every default is the builder's
			PropertyMapper map = PropertyMapper.get();
			map.from(kafka::getInstanceId).to(builder::instanceId);
			map.from(kafka::getAuthority).to(builder::authority);
			map.from(kafka::getCreateTopics).to(builder::createTopics);
			map.from(kafka::getRequestPartitions).to(builder::requestPartitions);
			map.from(kafka::getGrantPartitions).to(builder::grantPartitions);
			map.from(kafka::getReplicationFactor).to(builder::replicationFactor);
			map.from(kafka::getLeaseTtl).to(builder::leaseTtl);
			map.from(kafka::getLeaseHorizon).to(builder::leaseHorizon);
			map.from(kafka::getLowWater).to(builder::lowWater);
			map.from(kafka::getRequestTimeout).to(builder::requestTimeout);
			map.from(kafka::getKeeperInterval).to(builder::keeperInterval);
			map.from(kafka::getIdleReturn).to(builder::idleReturn);
			map.from(kafka::getReportInterval).to(builder::reportInterval);
			map.from(kafka::getDegradedPolicy).to(builder::degradedPolicy);
			map.from(kafka::getProcessingGuarantee).to(builder::processingGuarantee);
			map.from(kafka::getCommitInterval).to(builder::commitInterval);
			map.from(kafka::getStandbyReplicas).to(builder::standbyReplicas);
			map.from(kafka::getSessionTimeout).to(builder::sessionTimeout);
			map.from(kafka::getStateDir).to(builder::stateDir);
			map.from(kafka::getFailFast).to(builder::failFast);
			map.from(kafka::getExpectedInstances).to(builder::expectedInstances);
			return builder.build();
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidRateLimitConfigurationException("ratelimit.kafka", null, ex.getMessage(),
					"Update the ratelimit.kafka settings named in the reason.");
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "dev.ratelimit.spring.actuate.RateLimitBackendHealth")
	static class HealthConfiguration {

		@Bean
		@ConditionalOnMissingBean(KafkaBackendHealth.class)
		RateLimitBackendHealth rateLimitKafkaBackendHealth(KafkaRateLimiterBackend backend) {
			return new KafkaBackendHealth(backend);
		}

	}

}
