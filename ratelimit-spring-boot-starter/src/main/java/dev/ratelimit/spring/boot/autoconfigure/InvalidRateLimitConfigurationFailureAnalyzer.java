package dev.ratelimit.spring.boot.autoconfigure;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;

/**
 * Turns an {@link InvalidRateLimitConfigurationException} into a start-up report that names the
 * property, the value, the reason and the fix.
 */
class InvalidRateLimitConfigurationFailureAnalyzer
		extends AbstractFailureAnalyzer<InvalidRateLimitConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, InvalidRateLimitConfigurationException cause) {
		StringBuilder description = new StringBuilder("Invalid rate limit configuration:\n\n");
		String label = cause.getProperty().startsWith("@") ? "Annotation: " : "Property: ";
		description.append("    ").append(label).append(cause.getProperty()).append('\n');
		if (cause.getValue() != null) {
			description.append("    Value: \"").append(cause.getValue()).append("\"\n");
		}
		description.append("    Reason: ").append(cause.getReason()).append('\n');
		return new FailureAnalysis(description.toString(), cause.getAction(), cause);
	}

}
