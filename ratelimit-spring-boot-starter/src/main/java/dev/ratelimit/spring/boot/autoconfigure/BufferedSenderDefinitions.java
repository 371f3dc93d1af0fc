package dev.ratelimit.spring.boot.autoconfigure;

import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.env.Environment;
import org.springframework.kafka.core.KafkaTemplate;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.buffer.InvalidBufferSettingException;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenders;
import dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties;
import dev.ratelimit.spring.kafka.producer.RecordSizer;

/**
 * Maps {@code ratelimit.buffers.<name>} to a {@link BufferedKafkaSender}, in one place: each
 * property has the name of the builder setting it sets, and an unset one leaves the builder's
 * default. The builder checks the values (the buffer's through {@code BufferPool.Builder}); every
 * problem becomes an {@link InvalidRateLimitConfigurationException} naming the property, the
 * value, the reason and the fix.
 */
final class BufferedSenderDefinitions {

	static final String PREFIX = "ratelimit.buffers";

	/** Properties renamed to the names of the pool's builder, with their new names. */
	private static final Map<String, String> RENAMED = Map.of("max-records", "max-items", "max-batch",
			"max-batch-size");

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
		check(prefix, buffer, beans.getBean(Environment.class));
		if (buffer == null) {
			throw new InvalidRateLimitConfigurationException(PREFIX + "." + name, null,
					"none of the properties given for buffer '" + name + "' is a buffer property",
					"Name its properties as the reference does (max-items, max-bytes, topic, ...); see the "
							+ "ratelimit.buffers.<name>.* table in docs/configuration.md.");
		}
		RateLimiter limiter = limiter(prefix, buffer, beans.getBeanProvider(RateLimiterRegistry.class).getIfUnique());
		BufferedKafkaSenders senders = beans.getBean(BufferedKafkaSenders.class);
		for (String factory : beans.getBeanNamesForType(BufferedKafkaSenders.class)) {
			beans.registerDependentBean(factory, beanName);
		}
		KafkaTemplate template = template(prefix, buffer, beans, beanName);
		BufferedKafkaSender.Builder builder = senders.builder(name, template);
		set(buffer.getTopic(), builder::topic);
		set(buffer.getMaxItems(), builder::maxItems);
		set(buffer.getMaxBytes(), (maxBytes) -> builder.maxBytes(maxBytes.toBytes()));
		set(buffer.getMaxBatchSize(), builder::maxBatchSize);
		set(buffer.getMaxAge(), builder::maxAge);
		set(limiter, builder::limiter);
		set(buffer.getInitialBackoff(), builder::initialBackoff);
		set(buffer.getMaxBackoff(), builder::maxBackoff);
		set(buffer.getBackoffMultiplier(), builder::backoffMultiplier);
		set(buffer.getLowWaterMark(), builder::lowWaterMark);
		set(buffer.getSendTimeout(), builder::sendTimeout);
		set(buffer.getCloseTimeout(), builder::closeTimeout);
		set(beans.getBeanProvider(RecordSizer.class).getIfUnique(), builder::sizer);
		try {
			return builder.build();
		}
		catch (InvalidBufferSettingException ex) {
			// the pool's check, under the property's name: one message per setting, written once
			String property = prefix + kebabCase(ex.setting());
			throw new InvalidRateLimitConfigurationException(property, ex.value(), ex.getMessage(),
					"Set " + property + " within that range, or remove it to use the default.");
		}
		catch (IllegalArgumentException ex) {
			// the one Kafka-only setting the sender checks itself
			throw new InvalidRateLimitConfigurationException(prefix + "send-timeout", buffer.getSendTimeout(),
					ex.getMessage(), "Set a positive duration, for example 30s, or remove it to use the default.");
		}
		catch (IllegalStateException ex) {
			// the only state problem left: the serializers to size records with cannot be found
			throw new InvalidRateLimitConfigurationException(prefix + "max-bytes", buffer.getMaxBytes(),
					ex.getMessage(), "Declare a RecordSizer bean that measures records, or name the serializers in "
							+ "spring.kafka.producer.key-serializer and value-serializer.");
		}
	}

	private static <T> void set(T value, Consumer<T> setter) {
		if (value != null) {
			setter.accept(value);
		}
	}

	/** A builder setting's name as a property's last part: maxBatchSize to max-batch-size. */
	static String kebabCase(String setting) {
		return setting.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
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

	/**
	 * Checks what only the starter knows; the sender's builder checks every value itself. A
	 * property renamed to the builder's name fails too, rather than being ignored.
	 */
	static void check(String prefix, RateLimitBufferProperties.@Nullable Buffer buffer, Environment environment) {
		// Boot's environment matches the relaxed forms too: maxRecords, MAX_RECORDS
		RENAMED.forEach((old, now) -> {
			if (environment.containsProperty(prefix + old)) {
				throw new InvalidRateLimitConfigurationException(prefix + old, environment.getProperty(prefix + old),
						"this property was renamed " + now + ", after the BufferPool.Builder setting",
						"Rename it to " + prefix + now + ".");
			}
		});
		if (buffer != null && buffer.getTopic() != null && buffer.getTopic().isBlank()) {
			throw new InvalidRateLimitConfigurationException(prefix + "topic", buffer.getTopic(),
					"a topic name cannot be blank", "Name a topic, or remove the property to use the template's.");
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
