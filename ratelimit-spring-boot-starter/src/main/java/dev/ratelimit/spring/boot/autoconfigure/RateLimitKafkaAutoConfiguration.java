package dev.ratelimit.spring.boot.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.binder.MeterBinder;
import org.apache.kafka.clients.admin.Admin;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.ListenerContainerRegistry;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.util.StringUtils;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.Scheduler;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.RateLimitProperties;
import dev.ratelimit.spring.kafka.ConsumerLagMetrics;
import dev.ratelimit.spring.kafka.ConsumerLagMonitor;
import dev.ratelimit.spring.kafka.KafkaListenerThrottling.ListenerLimit;
import dev.ratelimit.spring.kafka.KafkaListenerThrottling;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * Kafka listener throttling and consumer lag: the listeners under
 * {@code ratelimit.kafka.listeners} take permits per record, every listener container handles a
 * rate limit denial by pausing instead of failing, and a {@link ConsumerLagMonitor} reads the lag
 * of those listeners and of the groups under {@code ratelimit.kafka.backpressure.watch}, published
 * as gauges when Micrometer is present.
 *
 * <p>Ordered after Boot's Kafka auto-configuration, whose {@link KafkaAdmin} reads watched
 * groups, and after {@link RateLimitAutoConfiguration}, whose registry holds the limiters.
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		afterName = "org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration")
@ConditionalOnClass({ RecordInterceptor.class, Admin.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
@EnableConfigurationProperties(RateLimitProperties.class)
public final class RateLimitKafkaAutoConfiguration {

	private static final String BACKPRESSURE = "ratelimit.kafka.backpressure.";

	/**
	 * Drives the adaptive controllers whose lag source is a watched group or a throttled listener.
	 */
	@Bean
	org.springframework.beans.factory.SmartInitializingSingleton rateLimitLagToAdaptiveControl(
			ObjectProvider<ConsumerLagMonitor> lagMonitor,
			ObjectProvider<dev.ratelimit.spring.adaptive.AdaptiveRateLimiters> adaptive) {
		return () -> lagMonitor.ifAvailable((monitor) -> adaptive.ifAvailable((controllers) -> monitor.addListener(controllers::onLag)));
	}

	@Bean
	@ConditionalOnMissingBean
	ConsumerLagMonitor consumerLagMonitor(RateLimitProperties properties, ObjectProvider<KafkaAdmin> kafkaAdmin,
			ObjectProvider<SimpleAsyncTaskSchedulerBuilder> schedulers) {
		RateLimitProperties.Kafka.Backpressure backpressure = properties.getKafka().getBackpressure();
		Duration interval = backpressure.getLagInterval();
		if (interval == null || interval.isNegative() || interval.isZero()) {
			throw new InvalidRateLimitConfigurationException(BACKPRESSURE + "lag-interval", interval,
					"the interval between lag readings must be positive",
					"Set a duration such as 5s, or leave it unset for the default.");
		}
		List<ConsumerLagMonitor.WatchedGroup> watched = new ArrayList<>();
		List<RateLimitProperties.Kafka.Watch> watch = backpressure.getWatch();
		for (int i = 0; i < watch.size(); i++) {
			RateLimitProperties.Kafka.Watch group = watch.get(i);
			if (!StringUtils.hasText(group.getGroup())) {
				throw new InvalidRateLimitConfigurationException(BACKPRESSURE + "watch[" + i + "].group",
						group.getGroup(), "a watched consumer group needs its group id",
						"Set " + BACKPRESSURE + "watch[" + i + "].group to the id of the group to watch.");
			}
			watched.add(new ConsumerLagMonitor.WatchedGroup(group.getGroup(), group.getTopics()));
		}
		if (watched.isEmpty()) {
			return new ConsumerLagMonitor(watched, interval, null, schedulers.getIfAvailable());
		}
		KafkaAdmin admin = kafkaAdmin.getIfUnique();
		if (admin == null) {
			throw new InvalidRateLimitConfigurationException(BACKPRESSURE + "watch", watched.get(0).group(),
					"watched groups are read with the admin client, and there is no single KafkaAdmin bean",
					"Use Spring Boot's Kafka auto-configuration (spring.kafka.bootstrap-servers), or declare "
							+ "one KafkaAdmin bean.");
		}
		return new ConsumerLagMonitor(watched, interval, () -> Admin.create(admin.getConfigurationProperties()),
				schedulers.getIfAvailable());
	}

	@Bean
	@ConditionalOnMissingBean
	KafkaListenerThrottling kafkaListenerThrottling(RateLimitProperties properties, RateLimiterRegistry registry,
			ObjectProvider<ListenerContainerRegistry> containerRegistries, ConsumerLagMonitor lagMonitor,
			ObjectProvider<RateLimitObservations> observations) {
		Map<String, ListenerLimit> limits = new LinkedHashMap<>();
		properties.getKafka()
			.getListeners()
			.forEach((id, listener) -> limits.put(id, listenerLimit(id, listener, registry)));
		KafkaListenerThrottling throttling = new KafkaListenerThrottling(
				() -> containerRegistries.orderedStream().toList(), limits, lagMonitor, Scheduler.system());
		throttling.setObservations(observations.getIfUnique());
		return throttling;
	}

	private static ListenerLimit listenerLimit(String id, RateLimitProperties.Kafka.Listener listener,
			RateLimiterRegistry registry) {
		String prefix = "ratelimit.kafka.listeners." + id + ".";
		long permits = listener.getPermitsPerRecord();
		if (permits < 1) {
			throw new InvalidRateLimitConfigurationException(prefix + "permits-per-record", permits,
					"each record must take at least one permit", "Set 1 or more, or leave it unset for 1.");
		}
		String name = listener.getLimiter();
		if (name == null) {
			return new ListenerLimit(null, permits);
		}
		if (!registry.isDefined(name)) {
			throw new InvalidRateLimitConfigurationException(prefix + "limiter", name,
					"no limiter named '" + name + "' is declared and ratelimit.defaults.rate is not set",
					"Declare it, for example ratelimit.limiters." + name
							+ ".rate=100/1s, or set ratelimit.defaults.rate to give undeclared names a default limit.");
		}
		RateLimiter limiter = registry.limiter(name);
		if (listener.getPriority() != null) {
			limiter = priorityClass(prefix + "priority", name, listener.getPriority(), registry);
		}
		String holds = registry.hasPriorities(name) ? "priority class '"
				+ limiter.snapshot().details().get("priority") + "' of limiter '" + name + "' can take at once"
				: "limiter '" + name + "' holds";
		if (limiter instanceof ConcurrencyLimiter) {
			throw new InvalidRateLimitConfigurationException(prefix + "limiter", name,
					"limiter '" + name + "' is a concurrency limit, which has no rate to pace records with",
					"Name a limiter with a rate, for example a token bucket.");
		}
		// a priority class's calls can take at most what one of its sources holds for it
		long capacity = registry.hasPriorities(name) ? limiter.snapshot().capacity() : limiter.limit().capacity();
		if (permits > capacity) {
			throw new InvalidRateLimitConfigurationException(prefix + "permits-per-record", permits,
					"a record would take more permits than " + holds + " (" + capacity + ")",
					"Take at most " + capacity + " permits per record, or raise ratelimit.limiters." + name
							+ ".capacity.");
		}
		// a runtime rule that a record could no longer fit is then refused
		registry.declarePermits(name, registry.hasPriorities(name) ? listener.getPriority() : null, permits);
		return new ListenerLimit(limiter, permits);
	}

	/** The view of one priority class of a limiter, or a start-up failure naming the property. */
	static RateLimiter priorityClass(String property, String name, String priority, RateLimiterRegistry registry) {
		try {
			return registry.priorities(name).forClass(priority);
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidRateLimitConfigurationException(property, priority, ex.getMessage(),
					"Name one of the classes under ratelimit.limiters." + name + ".priority.classes, or remove " + property
							+ ".");
		}
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterBinder.class)
	static class ConsumerLagMetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		ConsumerLagMetrics consumerLagMetrics(ConsumerLagMonitor lagMonitor) {
			return new ConsumerLagMetrics(lagMonitor);
		}

	}

}
