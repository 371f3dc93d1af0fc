package dev.ratelimit.spring.boot.autoconfigure;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Runtime rules shared by every instance, under {@code ratelimit.rules}: changes of a limiter's
 * rate or capacity made from the actuator or the core API, kept in a compacted Kafka topic
 * ({@code ratelimit-<cluster-id>-rules}) on the cluster of {@code ratelimit.kafka.*}, so that they
 * reach every instance of the application and survive restarts.
 */
@ConfigurationProperties("ratelimit.rules")
public class RateLimitRulesProperties {

	/**
	 * Whether runtime rules are read from and written to Kafka. Needs Kafka's clients on the
	 * classpath; works with local limiters and global ones alike.
	 */
	private final boolean enabled;

	/**
	 * How long start-up waits to read the rules in force. After it, limiters start from their
	 * configured limits and take the rules on as they are read.
	 */
	private final Duration loadTimeout;

	/**
	 * How long a change from the actuator waits for Kafka to confirm it.
	 */
	private final Duration publishTimeout;

	public RateLimitRulesProperties(@DefaultValue("false") boolean enabled, @DefaultValue("10s") Duration loadTimeout,
			@DefaultValue("10s") Duration publishTimeout) {
		this.enabled = enabled;
		this.loadTimeout = loadTimeout;
		this.publishTimeout = publishTimeout;
	}

	public boolean isEnabled() {
		return this.enabled;
	}

	public Duration getLoadTimeout() {
		return this.loadTimeout;
	}

	public Duration getPublishTimeout() {
		return this.publishTimeout;
	}

}
