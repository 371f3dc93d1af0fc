package dev.ratelimit.spring.boot.autoconfigure;

import java.time.Duration;
import java.util.Arrays;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.util.unit.DataSize;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenders;
import dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties;
import dev.ratelimit.spring.kafka.producer.RecordSizer;

/**
 * Maps {@code ratelimit.buffers.<name>} to a {@link BufferedKafkaSender}, in one place, and checks
 * it first: every problem becomes an {@link InvalidRateLimitConfigurationException} naming the
 * property, the value, the reason and the fix.
 */
final class BufferedSenderDefinitions {

	static final String PREFIX = "ratelimit.buffers";

	private BufferedSenderDefinitions() {
	}

	/**
	 * Creates the sender of a buffer, with the beans it needs, and records that it depends on them
	 * so that it is destroyed before them.
	 */
	@SuppressWarnings({ "rawtypes", "unchecked" })
	static BufferedKafkaSender<?, ?> create(String name, String beanName, ConfigurableListableBeanFactory beans) {
		RateLimitBufferProperties.Buffer buffer = beans.getBean(RateLimitBufferProperties.class).getBuffers().get(name);
		String prefix = PREFIX + "." + name + ".";
		RateLimiter limiter = limiter(prefix, buffer, beans.getBeanProvider(RateLimiterRegistry.class).getIfUnique());
		check(prefix, buffer, limiter);
		BufferedKafkaSenders senders = beans.getBean(BufferedKafkaSenders.class);
		for (String factory : beans.getBeanNamesForType(BufferedKafkaSenders.class)) {
			beans.registerDependentBean(factory, beanName);
		}
		KafkaTemplate template = template(prefix, buffer, beans, beanName);
		BufferedKafkaSender.Builder builder = senders.builder(name, template)
			.maxRecords(buffer.getMaxRecords())
			.maxBytes(buffer.getMaxBytes().toBytes())
			.maxAge(buffer.getMaxAge())
			.initialBackoff(buffer.getInitialBackoff())
			.maxBackoff(buffer.getMaxBackoff())
			.backoffMultiplier(buffer.getBackoffMultiplier())
			.lowWaterMark(buffer.getLowWaterMark())
			.sendTimeout(buffer.getSendTimeout())
			.closeTimeout(buffer.getCloseTimeout());
		if (buffer.getTopic() != null) {
			builder.topic(buffer.getTopic());
		}
		if (buffer.getMaxBatch() != null) {
			builder.maxBatch(buffer.getMaxBatch());
		}
		if (limiter != null) {
			builder.limiter(limiter);
		}
		RecordSizer sizer = beans.getBeanProvider(RecordSizer.class).getIfUnique();
		if (sizer != null) {
			builder.sizer(sizer);
		}
		try {
			return builder.build();
		}
		catch (IllegalStateException ex) {
			// the only state problem left: the serializers to size records with cannot be found
			throw new InvalidRateLimitConfigurationException(prefix + "max-bytes", buffer.getMaxBytes(),
					ex.getMessage(), "Declare a RecordSizer bean that measures records, or name the serializers in "
							+ "spring.kafka.producer.key-serializer and value-serializer.");
		}
	}

	private static RateLimiter limiter(String prefix, RateLimitBufferProperties.Buffer buffer,
			RateLimiterRegistry registry) {
		String name = buffer.getLimiter();
		if (name == null) {
			return null;
		}
		if (name.isBlank()) {
			throw new InvalidRateLimitConfigurationException(prefix + "limiter", name, "a limiter name cannot be blank",
					"Name a limiter declared under ratelimit.limiters, or remove the property for unpaced sends.");
		}
		if (registry == null || !registry.isDefined(name)) {
			throw new InvalidRateLimitConfigurationException(prefix + "limiter", name,
					"no limiter named '" + name + "' is declared, and there is no default limit",
					"Declare ratelimit.limiters." + name + " (for example its rate), or name a declared limiter.");
		}
		return registry.limiter(name);
	}

	static void check(String prefix, RateLimitBufferProperties.Buffer buffer, RateLimiter limiter) {
		if (buffer.getTopic() != null && buffer.getTopic().isBlank()) {
			throw new InvalidRateLimitConfigurationException(prefix + "topic", buffer.getTopic(),
					"a topic name cannot be blank", "Name a topic, or remove the property to use the template's.");
		}
		if (buffer.getMaxRecords() < 1) {
			throw new InvalidRateLimitConfigurationException(prefix + "max-records", buffer.getMaxRecords(),
					"it is the most records the buffer holds, so it must be at least 1",
					"Set 1 or more, for example 10000.");
		}
		DataSize maxBytes = buffer.getMaxBytes();
		if (maxBytes == null || maxBytes.toBytes() < 1) {
			throw new InvalidRateLimitConfigurationException(prefix + "max-bytes", maxBytes,
					"it is the most bytes the buffer holds, so it must be at least 1 byte",
					"Set a positive size, for example 32MB.");
		}
		Integer maxBatch = buffer.getMaxBatch();
		if (maxBatch != null) {
			if (maxBatch < 1) {
				throw new InvalidRateLimitConfigurationException(prefix + "max-batch", maxBatch,
						"it is the most records sent in one batch, so it must be at least 1",
						"Set 1 or more, for example 500, or remove it.");
			}
			if (maxBatch > buffer.getMaxRecords()) {
				throw new InvalidRateLimitConfigurationException(prefix + "max-batch", maxBatch,
						"a batch is taken from what the buffer holds, so it can never exceed max-records ("
								+ buffer.getMaxRecords() + ")",
						"Lower max-batch to at most " + buffer.getMaxRecords() + ", or raise max-records.");
			}
			if (limiter != null && maxBatch > limiter.limit().capacity()) {
				throw new InvalidRateLimitConfigurationException(prefix + "max-batch", maxBatch,
						"a batch takes one permit per record at once, and limiter '" + limiter.name()
								+ "' never holds more than " + limiter.limit().capacity(),
						"Lower max-batch to at most " + limiter.limit().capacity()
								+ ", raise the limiter's capacity, or remove max-batch to fit it automatically.");
			}
		}
		nonNegative(prefix + "max-age", buffer.getMaxAge(), "it is how long the oldest record may wait for a batch to "
				+ "fill", "Set zero or more, for example 200ms.");
		positive(prefix + "initial-backoff", buffer.getInitialBackoff(),
				"it is the wait before the first retry of a batch", "Set a positive duration, for example 100ms.");
		positive(prefix + "max-backoff", buffer.getMaxBackoff(), "it is the longest wait between retries",
				"Set a positive duration, for example 5s.");
		if (buffer.getMaxBackoff().compareTo(buffer.getInitialBackoff()) < 0) {
			throw new InvalidRateLimitConfigurationException(prefix + "max-backoff", buffer.getMaxBackoff(),
					"retries wait from initial-backoff (" + buffer.getInitialBackoff() + ") up to max-backoff, "
							+ "so it cannot be shorter",
					"Raise max-backoff to at least " + buffer.getInitialBackoff() + ", or lower initial-backoff.");
		}
		double multiplier = buffer.getBackoffMultiplier();
		if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
			throw new InvalidRateLimitConfigurationException(prefix + "backoff-multiplier", multiplier,
					"each retry waits this many times longer than the last, so it must be a finite number of at "
							+ "least 1.0",
					"Set 2.0 to double the wait, or 1.0 to keep it constant.");
		}
		positive(prefix + "send-timeout", buffer.getSendTimeout(),
				"it is the longest wait for Kafka to acknowledge a batch", "Set a positive duration, for example 30s.");
		nonNegative(prefix + "close-timeout", buffer.getCloseTimeout(),
				"it is how long shutdown waits for the buffered records to be sent",
				"Set zero or more, for example 30s.");
		double lowWaterMark = buffer.getLowWaterMark();
		if (!(lowWaterMark > 0.0 && lowWaterMark <= 1.0)) {
			throw new InvalidRateLimitConfigurationException(prefix + "low-water-mark", lowWaterMark,
					"it is the utilization below which a full buffer counts as drained, so it must be greater "
							+ "than 0 and at most 1",
					"Set a fraction such as 0.5 (half empty).");
		}
	}

	private static void positive(String property, Duration value, String meaning, String action) {
		if (value == null || value.isNegative() || value.isZero()) {
			throw new InvalidRateLimitConfigurationException(property, value, meaning + ", so it must be positive",
					action);
		}
	}

	private static void nonNegative(String property, Duration value, String meaning, String action) {
		if (value == null || value.isNegative()) {
			throw new InvalidRateLimitConfigurationException(property, value,
					meaning + ", so it cannot be negative", action);
		}
	}

	@SuppressWarnings("rawtypes")
	private static KafkaTemplate template(String prefix, RateLimitBufferProperties.Buffer buffer,
			ConfigurableListableBeanFactory beans, String beanName) {
		String name = buffer.getTemplate();
		String[] templates = beans.getBeanNamesForType(KafkaTemplate.class);
		if (name != null) {
			if (!Arrays.asList(templates).contains(name)) {
				throw new InvalidRateLimitConfigurationException(prefix + "template", name,
						beans.containsBean(name) ? "bean '" + name + "' is not a KafkaTemplate"
								: "there is no bean named '" + name + "'",
						"Name a KafkaTemplate bean " + Arrays.toString(templates)
								+ ", or remove the property to use the only one.");
			}
			beans.registerDependentBean(name, beanName);
			return beans.getBean(name, KafkaTemplate.class);
		}
		KafkaTemplate template = beans.getBeanProvider(KafkaTemplate.class).getIfUnique();
		if (template == null) {
			throw new InvalidRateLimitConfigurationException(prefix + "template", null,
					(templates.length == 0) ? "there is no KafkaTemplate bean to send with"
							: "there are several KafkaTemplate beans " + Arrays.toString(templates)
									+ " and none is primary",
					(templates.length == 0)
							? "Set spring.kafka.bootstrap-servers (Boot's Kafka auto-configuration declares a "
									+ "template), or declare a KafkaTemplate bean."
							: "Set " + prefix + "template to the name of one of them.");
		}
		for (String candidate : templates) {
			if (beans.getBean(candidate) == template) {
				beans.registerDependentBean(candidate, beanName);
			}
		}
		return template;
	}

}
