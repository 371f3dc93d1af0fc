package dev.ratelimit.kafka;

/**
 * One of the Kafka backend's topics exists but cannot work as it is, or is missing and may not be
 * created. Thrown at start-up by {@link KafkaRateLimiterBackend#start(KafkaBackendConfig)}, before
 * any limiter is handed out; the message names the topic, the problem and the fix.
 */
public class KafkaTopicConfigurationException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final String topic;

	private final String problem;

	private final String action;

	/**
	 * Creates the exception.
	 * @param topic the topic's name
	 * @param problem what is wrong with it
	 * @param action how to fix it
	 */
	public KafkaTopicConfigurationException(String topic, String problem, String action) {
		super("topic '" + topic + "' " + problem + ": " + action);
		this.topic = topic;
		this.problem = problem;
		this.action = action;
	}

	/**
	 * Returns the topic that cannot be used.
	 * @return the topic's name
	 */
	public String getTopic() {
		return this.topic;
	}

	/**
	 * Returns what is wrong with the topic.
	 * @return the problem, starting lower case
	 */
	public String getProblem() {
		return this.problem;
	}

	/**
	 * Returns how to fix the topic or the configuration.
	 * @return the fix
	 */
	public String getAction() {
		return this.action;
	}

}
