package dev.ratelimit.spring.kafka.producer;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import io.micrometer.observation.ObservationRegistry;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.util.ConcurrencyThrottleSupport;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;

/**
 * Creates {@link BufferedKafkaSender}s and stops them with the application. Auto-configured as a
 * bean; inject it to create senders in code:
 *
 * <pre class="code">
 * BufferedKafkaSender&lt;String, Order&gt; orders = senders.builder("orders", kafkaTemplate)
 * 	.topic("orders")
 * 	.maxItems(50_000)
 * 	.limiter("orders-out")          // a limiter of the registry
 * 	.build();
 * </pre>
 *
 * <p><b>Lifecycle.</b> A {@link SmartLifecycle} in a late phase ({@link #DEFAULT_PHASE}): it
 * stops after listener containers and web servers, which may still offer records, and before
 * Spring Kafka's producer factories (phase {@code Integer.MIN_VALUE}), which close their producers
 * when stopped. Stopping flushes every live sender at once, then closes each within its close
 * timeout; starting again (after {@code context.stop()}) gives each a new, empty buffer. A sender
 * closed by its user is forgotten. Destroying the factory closes what is left.
 *
 * <p><b>Events.</b> Buffer events are published as Spring application events off the buffers'
 * threads, one at a time and in order, so that listeners never run under a buffer's lock or delay
 * an offer.
 *
 * <p><b>Threads.</b> Given Spring Boot's {@link SimpleAsyncTaskExecutorBuilder}, as the
 * auto-configuration does, flushes and events run on daemon threads it builds, named
 * {@code ratelimit-buffer-<name>-} and {@code ratelimit-buffer-events-}: virtual threads with
 * {@code spring.threads.virtual.enabled=true}, the application's executor customizers applied.
 * Not its {@code TaskDecorator}: a flush or a run of events serves many callers, whose contexts
 * it would mix; each record carries its own caller's observation instead. Otherwise each sender
 * has a daemon flush thread of its own, ended when idle, and events go on daemon threads of the
 * factory's own, one run of queued events at a time.
 *
 * <p>Thread-safe.
 */
public class BufferedKafkaSenders implements SmartLifecycle, DisposableBean {

	/** Stop phase: after listener containers and web servers, before producer factories. */
	public static final int DEFAULT_PHASE = Integer.MIN_VALUE + 1000;

	private static final Log logger = LogFactory.getLog(BufferedKafkaSenders.class);

	private final @Nullable RateLimiterRegistry limiters;

	private final @Nullable ApplicationEventPublisher publisher;

	private final @Nullable ObservationRegistry observations;

	/** Runs the buffers' flushes where Boot's task execution is configured, {@code null} otherwise. */
	private final @Nullable SimpleAsyncTaskExecutorBuilder executors;

	private final @Nullable SerialExecutor eventExecutor;


	private final CopyOnWriteArrayList<BufferedKafkaSender<?, ?>> senders = new CopyOnWriteArrayList<>();

	private final CopyOnWriteArrayList<Consumer<BufferedKafkaSender<?, ?>>> observers = new CopyOnWriteArrayList<>();

	private volatile boolean running;

	private volatile int phase = DEFAULT_PHASE;

	/**
	 * Creates a factory whose senders publish no events and take limiters only as instances.
	 */
	public BufferedKafkaSenders() {
		this(null, null);
	}

	/**
	 * Creates a factory.
	 * @param limiters the registry that {@link BufferedKafkaSender.Builder#limiter(String)} looks
	 * names up in, or {@code null} for none
	 * @param publisher where buffer events go, or {@code null} for nowhere
	 */
	public BufferedKafkaSenders(@Nullable RateLimiterRegistry limiters, @Nullable ApplicationEventPublisher publisher) {
		this(limiters, publisher, null);
	}

	/**
	 * Creates a factory whose senders carry the caller's observation to their sends.
	 * @param limiters the registry that {@link BufferedKafkaSender.Builder#limiter(String)} looks
	 * names up in, or {@code null} for none
	 * @param publisher where buffer events go, or {@code null} for nowhere
	 * @param observations the application's observation registry (see
	 * {@link BufferedKafkaSender.Builder#observationRegistry}), or {@code null} for none
	 */
	public BufferedKafkaSenders(@Nullable RateLimiterRegistry limiters, @Nullable ApplicationEventPublisher publisher,
			@Nullable ObservationRegistry observations) {
		this(limiters, publisher, observations, null);
	}

	/**
	 * Creates a factory whose senders flush, and publish their events, on threads built with
	 * Spring Boot's task execution: virtual threads with {@code spring.threads.virtual.enabled},
	 * and the application's executor customizers.
	 * @param limiters the registry that {@link BufferedKafkaSender.Builder#limiter(String)} looks
	 * names up in, or {@code null} for none
	 * @param publisher where buffer events go, or {@code null} for nowhere
	 * @param observations the application's observation registry, or {@code null} for none
	 * @param executors Boot's builder of the application's task executors, or {@code null} for
	 * threads of the factory's own
	 */
	public BufferedKafkaSenders(@Nullable RateLimiterRegistry limiters, @Nullable ApplicationEventPublisher publisher,
			@Nullable ObservationRegistry observations, @Nullable SimpleAsyncTaskExecutorBuilder executors) {
		this.observations = observations;
		this.limiters = limiters;
		this.publisher = publisher;
		this.executors = executors;
		// a thread per drain of the queued events, one drain at a time
		this.eventExecutor = (publisher != null) ? new SerialExecutor(executor(executors, "ratelimit-buffer-events-"))
				: null;
	}

	/**
	 * An executor of the application's kind of threads (virtual ones with
	 * {@code spring.threads.virtual.enabled}, the application's executor customizers applied), for
	 * the buffers' own work; of plain platform threads without Boot's builder. Daemon threads, never what keeps a JVM alive; no concurrency limit,
	 * since a serial drain hands over to its successor from its own thread; and no task
	 * decorator: a flush or a run of events serves many callers, and a decorator would give all of
	 * them the context (trace, MDC) of whichever thread happened to start it. Each record carries
	 * its own caller's observation instead.
	 */
	private static SimpleAsyncTaskExecutor executor(@Nullable SimpleAsyncTaskExecutorBuilder executors, String prefix) {
		SimpleAsyncTaskExecutor executor = (executors != null)
				? executors.threadNamePrefix(prefix).taskDecorator(null).build() : new SimpleAsyncTaskExecutor(prefix);
		executor.setDaemon(true);
		executor.setConcurrencyLimit(ConcurrencyThrottleSupport.UNBOUNDED_CONCURRENCY);
		return executor;
	}

	/**
	 * Starts building a sender.
	 * @param <K> the type of the keys
	 * @param <V> the type of the values
	 * @param name the sender's name: unique among this factory's live senders; used in messages,
	 * events, meter tags and the flush thread's name
	 * @param template the template that sends the records
	 * @return the builder
	 */
	public <K, V> BufferedKafkaSender.Builder<K, V> builder(String name, KafkaTemplate<K, V> template) {
		BufferedKafkaSender.Builder<K, V> builder = new BufferedKafkaSender.Builder<>(name, template, this::limiter,
				this::publish, this::built, this.senders::remove);
		if (this.executors != null) {
			// the pool gives it one flush at a time: a thread per flush, made as the application's are
			builder.executor(executor(this.executors, "ratelimit-buffer-" + name + "-"));
		}
		return (this.observations != null) ? builder.observationRegistry(this.observations) : builder;
	}

	/**
	 * Creates a sender with the default options.
	 * @param <K> the type of the keys
	 * @param <V> the type of the values
	 * @param name the sender's name, unique among this factory's live senders
	 * @param template the template that sends the records
	 * @return the sender
	 */
	public <K, V> BufferedKafkaSender<K, V> create(String name, KafkaTemplate<K, V> template) {
		return builder(name, template).build();
	}

	/**
	 * Returns the live senders: created here and not closed by their user.
	 * @return the senders, in creation order
	 */
	public List<BufferedKafkaSender<?, ?>> senders() {
		return List.copyOf(this.senders);
	}

	/**
	 * Calls an action for every live sender and for every sender created from now on (used to
	 * register meters). The action may see a sender twice when one is created meanwhile.
	 */
	void forEachSender(Consumer<BufferedKafkaSender<?, ?>> action) {
		this.observers.add(action);
		this.senders.forEach(action);
	}

	private RateLimiter limiter(String name) {
		if (this.limiters == null) {
			throw new IllegalStateException("no limiter registry to look limiter '" + name + "' up in: pass the "
					+ "limiter itself, or create this factory with a RateLimiterRegistry");
		}
		if (!this.limiters.isDefined(name)) {
			throw new IllegalArgumentException("no limiter named '" + name + "' is declared, and there is no default "
					+ "limit: declare ratelimit.limiters." + name + " or use the name of a declared limiter");
		}
		return this.limiters.limiter(name);
	}

	private void built(BufferedKafkaSender<?, ?> sender) {
		for (BufferedKafkaSender<?, ?> live : this.senders) {
			if (live.name().equals(sender.name())) {
				sender.close();
				throw new IllegalStateException("a buffered sender named '" + sender.name() + "' already exists: "
						+ "names identify senders in events and meters, so give each its own, or close the other "
						+ "first");
			}
		}
		this.senders.add(sender);
		this.observers.forEach((observer) -> observer.accept(sender));
	}

	private void publish(BufferEvent event) {
		SerialExecutor executor = this.eventExecutor;
		if (executor == null) {
			return;
		}
		try {
			executor.execute(() -> {
				try {
					this.publisher.publishEvent(event);
				}
				catch (RuntimeException ex) {
					logger.warn("Could not publish " + event, ex);
				}
			});
		}
		catch (RejectedExecutionException ex) {
			logger.debug("Dropped " + event + ": the sender factory is destroyed");
		}
	}

	@Override
	public void start() {
		for (BufferedKafkaSender<?, ?> sender : this.senders) {
			sender.start();
		}
		this.running = true;
	}

	/**
	 * Flushes every live sender at once, then closes each within its close timeout, so shutdown
	 * takes about as long as the slowest sender rather than the sum.
	 */
	@Override
	public void stop() {
		this.running = false;
		for (BufferedKafkaSender<?, ?> sender : this.senders) {
			if (sender.isOpen()) {
				sender.flushSoon();
			}
		}
		for (BufferedKafkaSender<?, ?> sender : this.senders) {
			sender.stop();
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return this.phase;
	}

	/**
	 * Sets the lifecycle phase in which senders are stopped.
	 * @param phase the phase; it must stay above the producer factories' phase
	 */
	public void setPhase(int phase) {
		this.phase = phase;
	}

	/**
	 * Closes every live sender and stops publishing events.
	 */
	@Override
	public void destroy() {
		stop();
		for (BufferedKafkaSender<?, ?> sender : this.senders) {
			sender.close();
		}
		if (this.eventExecutor != null) {
			this.eventExecutor.shutdown();
		}
	}

}
