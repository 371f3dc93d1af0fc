package dev.ratelimit.spring.kafka;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.context.SmartLifecycle;
import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.BatchInterceptor;
import org.springframework.kafka.listener.BatchMessageListener;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.CompositeBatchInterceptor;
import org.springframework.kafka.listener.CompositeRecordInterceptor;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.ListenerContainerRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.listener.RecordInterceptor;
import org.springframework.util.Assert;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * Applies rate limits to Kafka listener containers before they start: the records of each
 * configured listener take permits from its limiter, and every listener container answers a
 * {@link dev.ratelimit.RateLimitExceededException} (from that limiter, or from a
 * {@code @RateLimited} listener method) by pausing the partition and delivering the records
 * again later, never by skipping them.
 *
 * <p>Works on the containers as they were finally configured, whatever built them (Boot's
 * container factory, the application's own factories, customizers, endpoint post-processors, or
 * container beans), and composes with what they have rather than replacing it:
 * <ul>
 * <li>each container's error handler is wrapped in a {@link ThrottlingErrorHandler} (Spring
 * Kafka's default {@link DefaultErrorHandler} when the container has none);</li>
 * <li>a configured listener gets a {@link ThrottlingInterceptor} as record and batch interceptor,
 * after the container's own, in a {@link CompositeRecordInterceptor} or
 * {@link CompositeBatchInterceptor}: Boot applies an interceptor bean only when it is the only one,
 * so a second bean would silently switch the application's interceptor off;</li>
 * <li>a configured record listener's container gets {@code pauseImmediate}: paused while its
 * records wait for permits, it keeps the rest of the poll after the current record (see
 * {@link ThrottlingInterceptor}).</li>
 * </ul>
 * Containers with a transaction manager are left as they are: Spring Kafka calls their
 * interceptors outside the error handling ({@code interceptBeforeTx}) and their failures roll back
 * to an after-rollback processor that counts attempts, so a throttled transactional listener is
 * refused at start-up.
 *
 * <p>Runs as a {@link SmartLifecycle} in the phase just before the earliest listener container,
 * once every container has been registered, and fails start-up with an
 * {@link InvalidRateLimitConfigurationException} when a configured listener id matches no
 * container. Containers registered after start-up are not covered.
 */
public class KafkaListenerThrottling implements SmartLifecycle {

	private static final LogAccessor logger = new LogAccessor(LogFactory.getLog(KafkaListenerThrottling.class));

	static final String PREFIX = "ratelimit.kafka.listeners.";

	private final Supplier<? extends Collection<? extends ListenerContainerRegistry>> registries;

	private final Map<String, ListenerLimit> listeners;

	private final ConsumerLagMonitor lagMonitor;

	private final Scheduler scheduler;

	private final Set<MessageListenerContainer> applied = ConcurrentHashMap.newKeySet();

	private volatile boolean running;

	private @Nullable RateLimitObservations observations;

	/**
	 * Creates the integration.
	 * @param registries supplies the registries of listener containers, looked up at start
	 * @param listeners the limits of the configured listeners, by listener id
	 * @param lagMonitor where the configured listeners report their lag
	 * @param scheduler the scheduler that resumes paused partitions
	 */
	public KafkaListenerThrottling(Supplier<? extends Collection<? extends ListenerContainerRegistry>> registries,
			Map<String, ListenerLimit> listeners, ConsumerLagMonitor lagMonitor, Scheduler scheduler) {
		Assert.notNull(registries, "'registries' must not be null");
		Assert.notNull(listeners, "'listeners' must not be null");
		Assert.notNull(lagMonitor, "'lagMonitor' must not be null");
		Assert.notNull(scheduler, "'scheduler' must not be null");
		this.registries = registries;
		this.listeners = Map.copyOf(listeners);
		this.lagMonitor = lagMonitor;
		this.scheduler = scheduler;
	}

	/**
	 * Observes each record's permits, and each batch's, as a {@code ratelimit.acquire} observation
	 * of source {@code listener}, from the request for the permits to their grant or refusal (a
	 * wait for a record's permits included).
	 * Takes effect for containers prepared after the call.
	 * @param observations the observations, or {@code null} for none
	 */
	public void setObservations(@Nullable RateLimitObservations observations) {
		this.observations = observations;
	}

	/**
	 * Returns the limits of the configured listeners.
	 * @return the limits by listener id
	 */
	public Map<String, ListenerLimit> getListeners() {
		return this.listeners;
	}

	@Override
	public void start() {
		Map<String, MessageListenerContainer> containers = containers();
		List<String> unknown = new ArrayList<>();
		this.listeners.keySet().stream().sorted().forEach((id) -> {
			if (!containers.containsKey(id)) {
				unknown.add(id);
			}
		});
		if (!unknown.isEmpty()) {
			String id = unknown.get(0);
			throw new InvalidRateLimitConfigurationException(PREFIX + id, null,
					"no Kafka listener container has the id '" + id + "'",
					"Use the id of a @KafkaListener (its id attribute) or the bean name of a listener container; "
							+ "the application has " + describe(containers.keySet()) + ".");
		}
		containers.forEach((id, container) -> apply(container, this.listeners.get(id)));
		this.running = true;
	}

	private Map<String, MessageListenerContainer> containers() {
		Map<String, MessageListenerContainer> containers = new LinkedHashMap<>();
		for (ListenerContainerRegistry registry : this.registries.get()) {
			for (MessageListenerContainer container : registry.getAllListenerContainers()) {
				String id = container.getListenerId();
				if (id != null) {
					containers.putIfAbsent(id, container);
				}
			}
		}
		return containers;
	}

	private void apply(MessageListenerContainer container, @Nullable ListenerLimit limit) {
		String id = container.getListenerId();
		if (!(container instanceof AbstractMessageListenerContainer<?, ?> configurable)) {
			if (limit != null) {
				// share consumers, for example: no interceptors or error handler to compose with
				throw new InvalidRateLimitConfigurationException(PREFIX + id, null,
						"the listener container '" + id + "' is a " + container.getClass().getSimpleName()
								+ ", which cannot be throttled",
						"Throttle a listener of a regular (consumer group) listener container.");
			}
			return;
		}
		if (!this.applied.add(container)) {
			return;
		}
		if (container.isRunning()) {
			if (limit != null) {
				throw new InvalidRateLimitConfigurationException(PREFIX + id, null,
						"the listener container '" + id + "' was started before its limits could be applied",
						"Leave the container's phase at its default, or start it after the application context.");
			}
			logger.warn(() -> "Listener container '" + id
					+ "' was already running; a rate limit exceeded in its listener is handled as a failure");
			return;
		}
		ContainerProperties properties = configurable.getContainerProperties();
		boolean transactional = properties.getKafkaAwareTransactionManager() != null
				|| properties.getTransactionManager() != null;
		if (transactional) {
			if (limit != null && limit.limiter() != null) {
				throw new InvalidRateLimitConfigurationException(PREFIX + id + ".limiter", limit.limiter().name(),
						"the listener container '" + id + "' is transactional, and records of transactional "
								+ "containers cannot be throttled without being rolled back and counted as failures",
						"Throttle a listener whose container has no transaction manager, or remove "
								+ PREFIX + id + ".limiter to observe its lag only.");
			}
		}
		else {
			CommonErrorHandler handler = configurable.getCommonErrorHandler();
			if (!(handler instanceof ThrottlingErrorHandler)) {
				// the same default the container would create for itself
				configurable.setCommonErrorHandler(new ThrottlingErrorHandler(
						(handler != null) ? handler : new DefaultErrorHandler(), this.scheduler));
			}
		}
		if (limit != null) {
			intercept(configurable, id, limit);
		}
	}

	private <K, V> void intercept(AbstractMessageListenerContainer<K, V> container, String id, ListenerLimit limit) {
		String group = container.getGroupId();
		RateLimiter limiter = limit.limiter();
		DeliveryHolds holds = null;
		RateLimitObservations.Operation observed = (limiter != null && this.observations != null)
				? this.observations.operation(Source.LISTENER, limiter.name(), id, limit.permitsPerRecord()) : null;
		ContainerProperties properties = container.getContainerProperties();
		boolean batch = properties.getMessageListener() instanceof BatchMessageListener<?, ?>;
		if (limiter != null && !batch) {
			// a record listener's records wait for their permits in the container: paused, it
			// keeps the rest of the poll after the current record
			properties.setPauseImmediate(true);
			holds = new DeliveryHolds(container, limiter, limit.permitsPerRecord(), this.scheduler, observed);
		}
		ThrottlingInterceptor<K, V> interceptor = new ThrottlingInterceptor<>(id, (group != null) ? group : "",
				limiter, limit.permitsPerRecord(), this.lagMonitor, holds, batch ? observed : null);
		if (holds != null && container.getCommonErrorHandler() instanceof ThrottlingErrorHandler handler) {
			// a consumer that stops gives back what it took for its next record
			handler.onThreadStateCleared(interceptor::returnAhead);
			// and a record refused its permits holds the consumer's container, as after a record
			handler.onDenied(container, interceptor::holdAfterDenial);
		}
		// the application's interceptors first: one that filters a record out (returns null)
		// must not cost a permit
		RecordInterceptor<K, V> records = container.getRecordInterceptor();
		container.setRecordInterceptor(
				(records != null) ? new CompositeRecordInterceptor<>(records, interceptor) : interceptor);
		BatchInterceptor<K, V> batches = container.getBatchInterceptor();
		container.setBatchInterceptor(
				(batches != null) ? new CompositeBatchInterceptor<>(batches, interceptor) : interceptor);
	}

	private static String describe(Set<String> ids) {
		if (ids.isEmpty()) {
			return "no listener container";
		}
		return "listener containers " + String.join(", ", new TreeSet<>(ids));
	}

	@Override
	public void stop() {
		// the containers keep what was applied: a restart finds them ready
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Returns a phase just before the earliest container's, so that the limits are in place before
	 * any container starts its consumers, which copy the error handler and interceptors.
	 */
	@Override
	public int getPhase() {
		int phase = AbstractMessageListenerContainer.DEFAULT_PHASE;
		for (ListenerContainerRegistry registry : this.registries.get()) {
			if (registry instanceof SmartLifecycle lifecycle) {
				phase = Math.min(phase, lifecycle.getPhase());
			}
			for (MessageListenerContainer container : registry.getAllListenerContainers()) {
				phase = Math.min(phase, container.getPhase());
			}
		}
		return (phase > Integer.MIN_VALUE) ? phase - 1 : phase;
	}

	/**
	 * The limit of one listener's records.
	 *
	 * @param limiter the limiter records take permits from, {@code null} to observe lag only
	 * @param permitsPerRecord the permits each record takes, at least 1 and at most the limiter's
	 * capacity
	 */
	public record ListenerLimit(@Nullable RateLimiter limiter, long permitsPerRecord) {

		public ListenerLimit {
			Assert.isTrue(permitsPerRecord >= 1, "'permitsPerRecord' must be at least 1");
		}

	}

}
