package dev.ratelimit.spring.config;

/**
 * A rate limit configuration that cannot work: names the property, its value, why, and the fix.
 * Reported at start-up by Spring Boot's failure analysis (the starter's {@code InvalidRateLimitConfigurationFailureAnalyzer}).
 */
public class InvalidRateLimitConfigurationException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String property;

	private final String value;

	private final String reason;

	private final String action;

	/**
	 * Creates the exception.
	 * @param property the full property name, or where in the code the problem is
	 * @param value the offending value, {@code null} when missing
	 * @param reason why it cannot work
	 * @param action what to do instead
	 */
	public InvalidRateLimitConfigurationException(String property, Object value, String reason, String action) {
		super(property + ((value != null) ? " = '" + value + "'" : "") + ": " + reason);
		this.property = property;
		this.value = (value != null) ? String.valueOf(value) : null;
		this.reason = reason;
		this.action = action;
	}

	public String getProperty() {
		return this.property;
	}

	public String getValue() {
		return this.value;
	}

	public String getReason() {
		return this.reason;
	}

	public String getAction() {
		return this.action;
	}

}
