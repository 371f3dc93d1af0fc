package dev.ratelimit.spring.boot.autoconfigure;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.observation.ObservationRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.core.KafkaTemplate;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenderMetrics;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenders;
import dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * buffered producing: a {@link BufferedKafkaSenders} factory, one {@link BufferedKafkaSender} bean
 * per {@code ratelimit.buffers.<name>} (named {@code <name>BufferedKafkaSender} and qualified
 * {@code <name>}), and their meters when Micrometer is present.
 *
 * <p>Ordered after Boot's Kafka auto-configuration, whose {@link KafkaTemplate} the senders use
 * unless a buffer names another, after the core auto-configuration, whose limiters pace them, and
 * after Boot's task execution, whose executor builder makes their threads.
 */
@AutoConfiguration(after = { RateLimitAutoConfiguration.class, TaskExecutionAutoConfiguration.class },
		afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnClass(KafkaTemplate.class)
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@EnableConfigurationProperties(RateLimitBufferProperties.class)
@Import(BufferedKafkaSenderRegistrar.class)
public final class RateLimitBufferAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	BufferedKafkaSenders bufferedKafkaSenders(ObjectProvider<RateLimiterRegistry> limiters,
			ApplicationEventPublisher publisher, ObjectProvider<ObservationRegistry> observations,
			ObjectProvider<SimpleAsyncTaskExecutorBuilder> executors) {
		return new BufferedKafkaSenders(limiters.getIfUnique(), publisher, observations.getIfUnique(),
				executors.getIfUnique());
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterBinder.class)
	static class MetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		BufferedKafkaSenderMetrics bufferedKafkaSenderMetrics(BufferedKafkaSenders senders) {
			return new BufferedKafkaSenderMetrics(senders);
		}

	}

}
