package dev.ratelimit.kafka;

/**
 * Kafka could not be reached while the backend started, and start-up may not go on without it
 * ({@link KafkaBackendConfig#failFast()}: set, or the {@link DegradedPolicy#FAIL_CLOSED} policy).
 * Thrown by {@link KafkaRateLimiterBackend#start(KafkaBackendConfig)}; the message names the servers
 * tried, what failed, and the two ways on.
 */
public class KafkaUnreachableException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final String bootstrapServers;

	/**
	 * Creates the exception.
	 * @param bootstrapServers the servers tried
	 * @param cause what failed
	 */
	public KafkaUnreachableException(String bootstrapServers, Throwable cause) {
		super("Kafka at " + bootstrapServers + " could not be reached to set up the rate limit backend ("
				+ cause.getMessage() + "); check ratelimit.kafka.bootstrap-servers (or spring.kafka.bootstrap-servers)"
				+ " and that the brokers are up, or let the application start without Kafka "
				+ "(ratelimit.kafka.fail-fast=false: limiters decide under the degraded policy until it is reached)",
				cause);
		this.bootstrapServers = bootstrapServers;
	}

	/**
	 * Returns the bootstrap servers that could not be reached.
	 * @return {@code host:port,...}
	 */
	public String getBootstrapServers() {
		return this.bootstrapServers;
	}

}
