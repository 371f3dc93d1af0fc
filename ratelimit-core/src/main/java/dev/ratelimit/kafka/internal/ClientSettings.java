package dev.ratelimit.kafka.internal;

import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.AdminClientConfig;

import dev.ratelimit.kafka.KafkaBackendConfig;

/**
 * What every Kafka client of the backend is made with: its servers and client settings, an id
 * that names the cluster, the instance and the client's role, and how long set-up may take.
 */
public final class ClientSettings {

	private ClientSettings() {
	}

	/**
	 * A client's id.
	 * @param config the backend's configuration
	 * @param role what the client is for, for example {@code requests}
	 * @return {@code ratelimit-<clusterId>-<instanceId>-<role>}
	 */
	public static String clientId(KafkaBackendConfig config, String role) {
		return "ratelimit-" + config.clusterId() + "-" + config.instanceId() + "-" + role;
	}

	/**
	 * A client's properties: the servers, the configured client settings, then the client's own.
	 * @param config the backend's configuration
	 * @param own the client's own settings, which win
	 * @return the properties
	 */
	public static Properties properties(KafkaBackendConfig config, Map<String, Object> own) {
		Properties properties = new Properties();
		properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
		properties.putAll(config.clientProperties());
		properties.putAll(own);
		return properties;
	}

	/**
	 * The longest set-up of topics and clients may take: five request timeouts, at least 10 s.
	 * @param config the backend's configuration
	 * @return milliseconds
	 */
	public static long setupTimeoutMillis(KafkaBackendConfig config) {
		return Math.max(config.requestTimeout().toMillis() * 5, 10_000);
	}

}
