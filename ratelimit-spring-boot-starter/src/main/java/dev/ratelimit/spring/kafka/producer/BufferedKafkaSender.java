package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

import io.micrometer.observation.ObservationRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Utils;
import org.jspecify.annotations.Nullable;

import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.util.ClassUtils;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;
import dev.ratelimit.buffer.BufferPool;
import dev.ratelimit.buffer.BufferPoolListener;
import dev.ratelimit.buffer.BufferStats;
import dev.ratelimit.buffer.InvalidBufferSettingException;

/**
 * Buffers records for a {@link KafkaTemplate} and sends them in batches, with bounded memory and
 * without losing or reordering them when Kafka fails. Created by {@link BufferedKafkaSenders} (or
 * declared under {@code ratelimit.buffers.<name>}).
 *
 * <pre class="code">
 * if (!orders.offer("orders", order.id(), order)) {
 * 	// full: Kafka is slow or down; refuse upstream (HTTP 503), or wait a bounded time
 * 	orders.offer("orders", order.id(), order, Duration.ofSeconds(2));
 * }
 * </pre>
 *
 * <p><b>Bounds.</b> At most {@code maxItems} records and {@code maxBytes} bytes (as measured by
 * the {@link RecordSizer}) are held, the batch being sent included. {@code offer} refuses at once
 * when a record does not fit; the timed {@code offer} waits for room, at most its timeout. That
 * refusal is the backpressure: nothing else grows while Kafka is down.
 *
 * <p><b>Sending.</b> A batch of up to {@code maxBatchSize} records goes when that many are buffered or
 * when the oldest is {@code maxAge} old. Batches go one at a time, in offer order: a batch is sent
 * with the template and the sender waits until Kafka has acknowledged every record (at most the
 * send timeout) before the next one starts. With a limiter, each attempt first takes one permit
 * per record of the batch.
 *
 * <p><b>Failures.</b> A batch not fully acknowledged is retried after an exponential backoff,
 * before anything newer, until it is: no record is dropped. A retry sends only what is not in the
 * log, and never a record whose send is still unanswered. To keep each key in order, a record that
 * Kafka acknowledged after an earlier record of its key failed is sent again too; that, and a
 * failed send the broker had in fact written, are the only duplicates (at-least-once), counted in
 * {@link #stats()}. Order within a batch relies on the producer keeping each partition in order,
 * which it does with idempotence on (Kafka's default) and at most 5 requests in flight.
 *
 * <p><b>Shutdown.</b> {@link BufferedKafkaSenders} stops its senders in a late lifecycle phase,
 * after listener containers and web servers have stopped and before the producer factory closes
 * its producers: each stop sends what is left, waiting at most {@code closeTimeout}. What cannot be
 * sent by then is logged and handed over in a {@link BufferAbandonedEvent} and by
 * {@link #unflushed()}. A stopped sender refuses offers with {@link IllegalStateException} until
 * the context is started again.
 *
 * <p>All methods are thread-safe; none uses {@code synchronized}.
 *
 * @param <K> the type of the keys
 * @param <V> the type of the values
 */
public final class BufferedKafkaSender<K, V> implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(BufferedKafkaSender.class);

	private static final BufferStats NO_STATS = new BufferStats(0, 0, 0, 0, 0);

	private final String name;

	private final KafkaTemplate<K, V> template;

	private final @Nullable String topic;

	private final RecordSizer<K, V> sizer;

	private final List<AutoCloseable> ownedResources;

	private final Settings settings;

	/** The buffer's settings, its own copy; each pool is built from it with a fresh handler. */
	private final BufferPool.Builder<Pending<K, V>> pools;

	private final BatchSender.Counters counters = new BatchSender.Counters();

	/** Serializes stop, start and close; never taken by offers or flushes. */
	private final ReentrantLock lifecycle = new ReentrantLock();

	/** The current pool with the counters of the pools before it, swapped as one on restart. */
	private volatile Generation<K, V> generation;

	private volatile List<ProducerRecord<K, V>> unflushed = List.of();

	private volatile boolean closed;

	private BufferedKafkaSender(Builder<K, V> builder, Settings settings, List<AutoCloseable> owned) {
		this.name = builder.name;
		this.template = builder.template;
		this.topic = builder.topic;
		this.settings = settings;
		this.pools = builder.pool.withHandler(Builder::noHandler).listener(new Events());
		// the first pool checks every buffer setting, with the pool's messages naming them
		this.generation = new Generation<>(newPool(), NO_STATS);
		try {
			this.sizer = builder.sizer(pool().maxBytes(), owned);
		}
		catch (RuntimeException ex) {
			pool().close(Duration.ZERO);
			throw ex;
		}
		this.ownedResources = List.copyOf(owned);
	}

	private BufferPool<Pending<K, V>> newPool() {
		// a fresh handler per pool: one still running for a pool that closed never meets the next pool's
		BatchSender<K, V> handler = new BatchSender<>(this.name, this.template, this.settings.sendTimeout().toNanos(),
				this.counters);
		return this.pools.withHandler(handler).build();
	}

	/**
	 * Returns the name of the sender, used in messages, events, meter tags and the flush thread's
	 * name.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Returns the topic of records offered with {@link #offerDefault(Object, Object)}.
	 * @return the sender's topic, else the template's default topic, else {@code null}
	 */
	public @Nullable String topic() {
		return (this.topic != null) ? this.topic : this.template.getDefaultTopic();
	}

	/**
	 * Buffers a record if there is room now.
	 * @param record the record
	 * @return whether it was accepted; {@code false} when the buffer is full
	 * @throws IllegalStateException if the sender is stopped or closed
	 * @throws IllegalArgumentException if the record alone is larger than {@code maxBytes}
	 */
	public boolean offer(ProducerRecord<K, V> record) {
		return pool().offer(pending(record));
	}

	/**
	 * Buffers a record if there is room, waiting for room at most {@code timeout}.
	 * @param record the record
	 * @param timeout the longest wait, zero for none
	 * @return whether it was accepted; {@code false} when no room was made in time
	 * @throws InterruptedException if interrupted while waiting; the record was not buffered
	 * @throws IllegalStateException if the sender is stopped or closed, also while the offer waits
	 * @throws IllegalArgumentException if the record alone is larger than {@code maxBytes}, or the
	 * timeout is negative
	 */
	public boolean offer(ProducerRecord<K, V> record, Duration timeout) throws InterruptedException {
		return pool().offer(pending(record), timeout);
	}

	/**
	 * Buffers a record for a topic if there is room now.
	 * @param topic the topic
	 * @param key the key, {@code null} for none
	 * @param value the value
	 * @return whether it was accepted; {@code false} when the buffer is full
	 * @throws IllegalStateException if the sender is stopped or closed
	 */
	public boolean offer(String topic, @Nullable K key, V value) {
		return offer(new ProducerRecord<>(topic, key, value));
	}

	/**
	 * Buffers a record for a topic if there is room, waiting for room at most {@code timeout}.
	 * @param topic the topic
	 * @param key the key, {@code null} for none
	 * @param value the value
	 * @param timeout the longest wait, zero for none
	 * @return whether it was accepted; {@code false} when no room was made in time
	 * @throws InterruptedException if interrupted while waiting; the record was not buffered
	 * @throws IllegalStateException if the sender is stopped or closed, also while the offer waits
	 */
	public boolean offer(String topic, @Nullable K key, V value, Duration timeout) throws InterruptedException {
		return offer(new ProducerRecord<>(topic, key, value), timeout);
	}

	/**
	 * Buffers a record for the sender's {@linkplain #topic() topic} if there is room now.
	 * @param key the key, {@code null} for none
	 * @param value the value
	 * @return whether it was accepted; {@code false} when the buffer is full
	 * @throws IllegalStateException if the sender is stopped or closed, or has no topic
	 */
	public boolean offerDefault(@Nullable K key, V value) {
		return offer(defaultTopic(), key, value);
	}

	/**
	 * Buffers a record for the sender's {@linkplain #topic() topic} if there is room, waiting for
	 * room at most {@code timeout}.
	 * @param key the key, {@code null} for none
	 * @param value the value
	 * @param timeout the longest wait, zero for none
	 * @return whether it was accepted; {@code false} when no room was made in time
	 * @throws InterruptedException if interrupted while waiting; the record was not buffered
	 * @throws IllegalStateException if the sender is stopped or closed, or has no topic
	 */
	public boolean offerDefault(@Nullable K key, V value, Duration timeout) throws InterruptedException {
		return offer(defaultTopic(), key, value, timeout);
	}

	/**
	 * Buffers a record if there is room now, and tells when Kafka has it: for answers that must mean
	 * "written" (an HTTP 201/202 for an order), where {@link #offer(ProducerRecord)} means only "held
	 * in this process's memory". The record goes out with the others, in offer order and paced by
	 * the limiter; the future completes with its metadata the first time Kafka acknowledges it
	 * (after retries if needed), on the producer's thread: chain slow work with an {@code *Async} method.
	 * @param record the record
	 * @return the acknowledgement; failed at once with {@link BufferFullException} when the buffer is
	 * full (nothing was buffered), or later with {@link IllegalStateException} when the sender closes
	 * before Kafka acknowledged the record (it is then in {@link #unflushed()}). A caller that stops
	 * waiting (a timeout) leaves the record buffered: it may still be written
	 * @throws IllegalStateException if the sender is stopped or closed
	 * @throws IllegalArgumentException if the record alone is larger than {@code maxBytes}
	 */
	public CompletableFuture<RecordMetadata> send(ProducerRecord<K, V> record) {
		CompletableFuture<RecordMetadata> acknowledged = new CompletableFuture<>();
		Pending<K, V> pending = pending(record, acknowledged);
		if (!pool().offer(pending)) {
			acknowledged.completeExceptionally(new BufferFullException(this.name, maxItems(), maxBytes()));
		}
		return acknowledged;
	}

	/**
	 * Buffers a record for the sender's {@linkplain #topic() topic} if there is room now, and tells
	 * when Kafka has it (see {@link #send(ProducerRecord)}).
	 * @param key the key, {@code null} for none
	 * @param value the value
	 * @return the acknowledgement, failed at once with {@link BufferFullException} when the buffer is full
	 * @throws IllegalStateException if the sender is stopped or closed, or has no topic
	 */
	public CompletableFuture<RecordMetadata> sendDefault(@Nullable K key, V value) {
		return send(new ProducerRecord<>(defaultTopic(), key, value));
	}

	private String defaultTopic() {
		String topic = topic();
		if (topic == null) {
			throw new IllegalStateException("buffer '" + this.name + "' has no topic for records offered without "
					+ "one: set ratelimit.buffers." + this.name + ".topic (or the builder's topic), or the template's "
					+ "default topic");
		}
		return topic;
	}

	private Pending<K, V> pending(ProducerRecord<K, V> record) {
		return pending(record, null);
	}

	private Pending<K, V> pending(ProducerRecord<K, V> record, @Nullable CompletableFuture<RecordMetadata> acknowledged) {
		Objects.requireNonNull(record, "record");
		long size = this.sizer.sizeOf(record);
		if (size < 0) {
			throw new IllegalArgumentException("the record sizer of buffer '" + this.name + "' returned " + size
					+ " for a record of topic '" + record.topic() + "', but sizes must be zero or more: fix the sizer");
		}
		ObservationRegistry observations = this.settings.observations();
		return new Pending<>(record, size, acknowledged,
				(observations != null) ? observations.getCurrentObservation() : null);
	}

	private BufferPool<Pending<K, V>> pool() {
		return this.generation.pool();
	}

	/**
	 * Sends what is buffered now without waiting for a full batch or for {@code maxAge}.
	 * @return a future that completes once every record accepted before the call is acknowledged
	 * by Kafka (after retries if needed); it fails if the sender is closed before that. It
	 * completes on the flush thread: chain slow work with an {@code *Async} method.
	 */
	public CompletableFuture<Void> flush() {
		return pool().flush();
	}

	/**
	 * Returns the records held, the batch being sent included.
	 * @return the records held
	 */
	public int size() {
		return pool().size();
	}

	/**
	 * Returns the bytes held, as measured by the sizer, the batch being sent included.
	 * @return the bytes held
	 */
	public long bytes() {
		return pool().bytes();
	}

	/**
	 * Returns how full the buffer is: the larger of {@code size / maxItems} and
	 * {@code bytes / maxBytes}.
	 * @return the utilization, from 0 to 1
	 */
	public double utilization() {
		return pool().utilization();
	}

	/**
	 * Returns the most records the buffer holds.
	 * @return the bound on records
	 */
	public int maxItems() {
		return pool().maxItems();
	}

	/**
	 * Returns the most bytes the buffer holds.
	 * @return the bound on bytes, {@link Long#MAX_VALUE} for none
	 */
	public long maxBytes() {
		return pool().maxBytes();
	}

	/**
	 * Returns the counters since the sender was created, across stops and starts.
	 * @return the counters
	 */
	public SenderStats stats() {
		Generation<K, V> current = this.generation;
		BufferStats now = current.pool().stats();
		BufferStats before = current.before();
		return new SenderStats(now.offered() + before.offered(), now.refused() + before.refused(),
				now.flushed() + before.flushed(), now.batches() + before.batches(),
				now.failedAttempts() + before.failedAttempts(), this.counters.failedSends.sum(),
				this.counters.retried.sum(), this.counters.duplicated.sum());
	}

	/**
	 * Returns whether the sender accepts records: it is neither stopped nor closed.
	 * @return whether offers are accepted
	 */
	public boolean isOpen() {
		return !pool().isClosed();
	}

	/**
	 * Returns the records that the last stop or close could not send within its timeout.
	 * @return the records, in offer order; empty when everything was sent
	 */
	public List<ProducerRecord<K, V>> unflushed() {
		return this.unflushed;
	}

	/**
	 * Closes the sender for good: stops accepting records, sends what is left, waiting at most the
	 * close timeout, and logs what could not be sent (see {@link #unflushed()} and
	 * {@link BufferAbandonedEvent}). Idempotent.
	 */
	@Override
	public void close() {
		close(pool().closeTimeout());
	}

	/**
	 * Closes the sender for good: stops accepting records and sends what is left, waiting at most
	 * {@code timeout}. Idempotent.
	 * @param timeout the longest wait
	 * @return the records not sent in time, in offer order; empty when everything was sent
	 */
	public List<ProducerRecord<K, V>> close(Duration timeout) {
		this.lifecycle.lock();
		try {
			List<ProducerRecord<K, V>> left = shutdown(timeout);
			if (!this.closed) {
				this.closed = true;
				this.settings.onClosed().accept(this);
				for (AutoCloseable resource : this.ownedResources) {
					closeQuietly(resource);
				}
			}
			return left;
		}
		finally {
			this.lifecycle.unlock();
		}
	}

	/** Starts sending what is buffered now; used to flush every sender at once on shutdown. */
	void flushSoon() {
		pool().flush();
	}

	/** Stops accepting records and sends what is left (a lifecycle stop). */
	void stop() {
		this.lifecycle.lock();
		try {
			shutdown(pool().closeTimeout());
		}
		finally {
			this.lifecycle.unlock();
		}
	}

	/** Accepts records again after a lifecycle stop, with a new, empty buffer. */
	void start() {
		this.lifecycle.lock();
		try {
			Generation<K, V> current = this.generation;
			if (!this.closed && current.pool().isClosed()) {
				BufferStats old = current.pool().stats();
				BufferStats before = current.before();
				this.generation = new Generation<>(newPool(),
						new BufferStats(old.offered() + before.offered(), old.refused() + before.refused(),
								old.flushed() + before.flushed(), old.batches() + before.batches(),
								old.failedAttempts() + before.failedAttempts()));
				this.unflushed = List.of();
			}
		}
		finally {
			this.lifecycle.unlock();
		}
	}

	private List<ProducerRecord<K, V>> shutdown(Duration timeout) {
		List<Pending<K, V>> left = pool().close(timeout);
		return records(left);
	}

	private static <K, V> List<ProducerRecord<K, V>> records(List<Pending<K, V>> pending) {
		List<ProducerRecord<K, V>> records = new ArrayList<>(pending.size());
		for (Pending<K, V> each : pending) {
			records.add(each.record);
		}
		return List.copyOf(records);
	}

	private static void closeQuietly(AutoCloseable resource) {
		try {
			resource.close();
		}
		catch (Exception ex) {
			logger.debug("Could not close " + resource, ex);
		}
	}

	@Override
	public String toString() {
		return "BufferedKafkaSender[" + this.name + ", " + size() + "/" + maxItems() + " records]";
	}

	private record Generation<K, V>(BufferPool<Pending<K, V>> pool, BufferStats before) {

	}

	/** The sender's own settings, those a pool does not have. */
	private record Settings(Duration sendTimeout, Consumer<BufferEvent> events,
			Consumer<BufferedKafkaSender<?, ?>> onClosed, @Nullable ObservationRegistry observations) {

	}

	/** Turns the pool's events into log lines and application events. Called under the pool's lock. */
	private final class Events implements BufferPoolListener<Pending<K, V>> {

		@Override
		public void onFull(double utilization) {
			publish(new BufferBackpressureEvent(BufferedKafkaSender.this, utilization));
		}

		@Override
		public void onDrained(double utilization) {
			publish(new BufferDrainedEvent(BufferedKafkaSender.this, utilization));
		}

		@Override
		public void onFlushFailed(int batchSize, int attempt, Throwable error, long nextBackoffNanos,
				double utilization) {
			Duration backoff = Duration.ofNanos(nextBackoffNanos);
			// one warning per failing batch; an outage of minutes would otherwise log every backoff
			if (attempt == 1) {
				logger.warn(error.getMessage() + "; retrying in " + backoff.toMillis() + " ms");
			}
			else if (logger.isDebugEnabled()) {
				logger.debug("Attempt " + attempt + ": " + error.getMessage() + "; retrying in " + backoff.toMillis()
						+ " ms");
			}
			publish(new BufferFlushFailedEvent(BufferedKafkaSender.this, batchSize, attempt, error, backoff,
					utilization));
		}

		@Override
		public void onAbandoned(List<Pending<K, V>> items) {
			List<ProducerRecord<K, V>> records = records(items);
			for (Pending<K, V> item : items) {
				if (item.acknowledged != null) {
					item.acknowledged.completeExceptionally(new IllegalStateException("buffer '"
							+ BufferedKafkaSender.this.name + "' closed before Kafka acknowledged the record; "
							+ "it is in unflushed() and the BufferAbandonedEvent"));
				}
			}
			BufferedKafkaSender.this.unflushed = records;
			logger.error("Buffer '" + BufferedKafkaSender.this.name + "' closed with " + records.size()
					+ " record(s) not acknowledged within its close timeout (some may still arrive): they are in "
					+ "the BufferAbandonedEvent and in unflushed()");
			publish(new BufferAbandonedEvent(BufferedKafkaSender.this, records));
		}

		private void publish(BufferEvent event) {
			BufferedKafkaSender.this.settings.events().accept(event);
		}

	}

	/**
	 * Builds a {@link BufferedKafkaSender}; obtained from
	 * {@link BufferedKafkaSenders#builder(String, KafkaTemplate)}. The buffer's settings are those
	 * of {@link BufferPool.Builder}, with the same names, ranges and messages: this builder hands
	 * them to a pool builder it holds. A sender starts from the pool's defaults except for three
	 * chosen for Kafka (see {@link #maxBytes}, {@link #maxAge} and {@link #maxBackoff}). Every
	 * option is checked when {@link #build()} runs; a bad value throws
	 * {@link InvalidBufferSettingException} (or, for the Kafka-only ones,
	 * {@link IllegalArgumentException}) naming the option, the value and the allowed range.
	 *
	 * @param <K> the type of the keys
	 * @param <V> the type of the values
	 */
	public static final class Builder<K, V> {

		static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(30);

		private final String name;

		private final KafkaTemplate<K, V> template;

		private final Function<String, RateLimiter> limiters;

		private final Consumer<BufferEvent> events;

		private final Consumer<BufferedKafkaSender<?, ?>> onBuilt;

		private final Consumer<BufferedKafkaSender<?, ?>> onClosed;

		/** The buffer's settings, defaults and checks; a sender replaces the handler for each pool. */
		private final BufferPool.Builder<Pending<K, V>> pool;

		private @Nullable String topic;

		private Duration sendTimeout = DEFAULT_SEND_TIMEOUT;

		private @Nullable RecordSizer<K, V> sizer;

		private @Nullable ObservationRegistry observations;

		Builder(String name, KafkaTemplate<K, V> template, Function<String, RateLimiter> limiters,
				Consumer<BufferEvent> events, Consumer<BufferedKafkaSender<?, ?>> onBuilt,
				Consumer<BufferedKafkaSender<?, ?>> onClosed) {
			this.name = Objects.requireNonNull(name, "name");
			this.template = Objects.requireNonNull(template, "template");
			this.limiters = limiters;
			this.events = events;
			this.onBuilt = onBuilt;
			this.onClosed = onClosed;
			// records are sized once, when offered; Kafka's starting values, the only ones set here:
			// a byte bound like the producer's buffer.memory, since records can be large, and batches
			// and retries that suit a broker round trip rather than the pool's general defaults
			this.pool = BufferPool.<Pending<K, V>>builder(Builder::noHandler)
				.name(name)
				.sizeInBytes(Pending::bytes)
				.maxBytes(32L * 1024 * 1024)
				.maxAge(Duration.ofMillis(200))
				.maxBackoff(Duration.ofSeconds(5));
		}

		/** Stands in until a sender gives each pool its own {@link BatchSender}. */
		private static <K, V> void noHandler(List<Pending<K, V>> batch) {
			throw new IllegalStateException("a sender's pool is built with its own handler");
		}

		/**
		 * Sets the topic of records offered with {@code offerDefault}. Default: the template's
		 * default topic.
		 * @param topic the topic
		 * @return this builder
		 */
		public Builder<K, V> topic(String topic) {
			this.topic = Objects.requireNonNull(topic, "topic");
			return this;
		}

		/**
		 * Sets the most records held, the batch being sent included; see
		 * {@link BufferPool.Builder#maxItems(int)}.
		 * @param maxItems positive
		 * @return this builder
		 */
		public Builder<K, V> maxItems(int maxItems) {
			this.pool.maxItems(maxItems);
			return this;
		}

		/**
		 * Sets the most bytes held, as measured by the {@linkplain #sizer(RecordSizer) sizer}, the
		 * batch being sent included; see {@link BufferPool.Builder#maxBytes(long)}. A sender starts
		 * at 32 MiB, the producer's own {@code buffer.memory}; {@link Long#MAX_VALUE} gives up the
		 * byte bound (and the sizing).
		 * @param maxBytes positive
		 * @return this builder
		 */
		public Builder<K, V> maxBytes(long maxBytes) {
			this.pool.maxBytes(maxBytes);
			return this;
		}

		/**
		 * Sets the most records per batch; a batch goes as soon as this many are buffered. See
		 * {@link BufferPool.Builder#maxBatchSize(int)}, whose default, lowered to {@code maxItems}
		 * and the limiter's capacity, applies.
		 * @param maxBatchSize positive, at most {@code maxItems} and the limiter's capacity
		 * @return this builder
		 */
		public Builder<K, V> maxBatchSize(int maxBatchSize) {
			this.pool.maxBatchSize(maxBatchSize);
			return this;
		}

		/**
		 * Sets how long the oldest buffered record may wait for a batch to fill; see
		 * {@link BufferPool.Builder#maxAge(Duration)}. A sender starts at 200 ms.
		 * @param maxAge zero or more; zero sends whatever is buffered whenever no batch is in flight
		 * @return this builder
		 */
		public Builder<K, V> maxAge(Duration maxAge) {
			this.pool.maxAge(maxAge);
			return this;
		}

		/**
		 * Paces sends through a limiter: each attempt, retries included, first takes one permit
		 * per record of the batch. Default: none.
		 * @param limiter the limiter
		 * @return this builder
		 */
		public Builder<K, V> limiter(RateLimiter limiter) {
			this.pool.limiter(limiter);
			return this;
		}

		/**
		 * Paces sends through a limiter of the factory's registry, by name.
		 * @param name the limiter's name, declared (or served by the default limit)
		 * @return this builder
		 * @throws IllegalArgumentException if no such limiter is declared
		 * @throws IllegalStateException if the factory has no registry
		 */
		public Builder<K, V> limiter(String name) {
			return limiter(this.limiters.apply(Objects.requireNonNull(name, "name")));
		}

		/**
		 * Sets the wait before the first retry of a batch not fully acknowledged; see
		 * {@link BufferPool.Builder#initialBackoff(Duration)}.
		 * @param initialBackoff positive
		 * @return this builder
		 */
		public Builder<K, V> initialBackoff(Duration initialBackoff) {
			this.pool.initialBackoff(initialBackoff);
			return this;
		}

		/**
		 * Sets the longest wait between retries; see
		 * {@link BufferPool.Builder#maxBackoff(Duration)}. A sender starts at 5 s.
		 * @param maxBackoff at least {@code initialBackoff}
		 * @return this builder
		 */
		public Builder<K, V> maxBackoff(Duration maxBackoff) {
			this.pool.maxBackoff(maxBackoff);
			return this;
		}

		/**
		 * Sets the factor by which each retry waits longer than the last; see
		 * {@link BufferPool.Builder#backoffMultiplier(double)}.
		 * @param backoffMultiplier finite, at least 1.0
		 * @return this builder
		 */
		public Builder<K, V> backoffMultiplier(double backoffMultiplier) {
			this.pool.backoffMultiplier(backoffMultiplier);
			return this;
		}

		/**
		 * Sets the utilization below which a full buffer counts as drained again; see
		 * {@link BufferPool.Builder#lowWaterMark(double)}.
		 * @param lowWaterMark greater than 0, at most 1
		 * @return this builder
		 */
		public Builder<K, V> lowWaterMark(double lowWaterMark) {
			this.pool.lowWaterMark(lowWaterMark);
			return this;
		}

		/**
		 * Sets the longest wait for Kafka to answer every send of a batch. Sends still unanswered
		 * then are waited for again on the next attempt, never sent twice. Default 30 s.
		 * @param sendTimeout positive
		 * @return this builder
		 */
		public Builder<K, V> sendTimeout(Duration sendTimeout) {
			this.sendTimeout = Objects.requireNonNull(sendTimeout, "sendTimeout");
			return this;
		}

		/**
		 * Sets the longest wait, on stop or close, for the buffered records to be sent; see
		 * {@link BufferPool.Builder#closeTimeout(Duration)}.
		 * @param closeTimeout zero or more
		 * @return this builder
		 */
		public Builder<K, V> closeTimeout(Duration closeTimeout) {
			this.pool.closeTimeout(closeTimeout);
			return this;
		}

		/**
		 * Sets how records are measured for {@code maxBytes}. Default: serialized with the
		 * template's serializers (see {@link RecordSizer#serialized}).
		 * @param sizer the sizer
		 * @return this builder
		 */
		public Builder<K, V> sizer(RecordSizer<K, V> sizer) {
			this.sizer = Objects.requireNonNull(sizer, "sizer");
			return this;
		}

		/**
		 * Carries the caller's observation, and so its trace, to the send: a record is sent in the
		 * scope of the observation that was current when it was offered, although the buffer sends it
		 * later from a thread of its own. With observation enabled on the template
		 * ({@code spring.kafka.template.observation-enabled=true}), its producer observation is then
		 * a child of the caller's, and a tracer writes the caller's trace into the record's headers.
		 * Set by the starter when the application has an {@link ObservationRegistry}.
		 * @param observations the application's observation registry
		 * @return this builder
		 */
		public Builder<K, V> observationRegistry(ObservationRegistry observations) {
			this.observations = Objects.requireNonNull(observations, "observations");
			return this;
		}

		/** Time for ages, backoffs and timeouts; tests pass a manual clock. */
		Builder<K, V> ticker(Ticker ticker) {
			this.pool.ticker(ticker);
			return this;
		}

		/** Runs age checks and retries; tests pass a manual clock. */
		Builder<K, V> scheduler(Scheduler scheduler) {
			this.pool.scheduler(scheduler);
			return this;
		}

		/** Runs the sends; tests pass a direct executor. */
		Builder<K, V> executor(Executor executor) {
			this.pool.executor(executor);
			return this;
		}

		/**
		 * Builds the sender, which accepts records at once.
		 * @return the sender
		 * @throws InvalidBufferSettingException if a buffer option is out of range
		 * @throws IllegalArgumentException if the send timeout is not positive
		 * @throws IllegalStateException if records must be sized and the template's serializers
		 * cannot be found, or a live sender of the factory has the same name
		 */
		public BufferedKafkaSender<K, V> build() {
			if (this.sendTimeout.isNegative() || this.sendTimeout.isZero()) {
				throw new IllegalArgumentException("sendTimeout must be a positive duration, but was "
						+ this.sendTimeout + ": it is the longest wait for Kafka to acknowledge a batch");
			}
			List<AutoCloseable> owned = new ArrayList<>();
			BufferedKafkaSender<K, V> sender;
			try {
				sender = new BufferedKafkaSender<>(this,
						new Settings(this.sendTimeout, this.events, this.onClosed, this.observations), owned);
			}
			catch (RuntimeException ex) {
				owned.forEach(BufferedKafkaSender::closeQuietly);
				throw ex;
			}
			this.onBuilt.accept(sender);
			return sender;
		}

		/** The sizer set, else one that fits the byte bound: none without one, else serialized. */
		private RecordSizer<K, V> sizer(long maxBytes, List<AutoCloseable> owned) {
			if (this.sizer != null) {
				return this.sizer;
			}
			return (maxBytes == Long.MAX_VALUE) ? RecordSizer.none() : serializedSizer(owned);
		}

		private RecordSizer<K, V> serializedSizer(List<AutoCloseable> owned) {
			ProducerFactory<K, V> factory = this.template.getProducerFactory();
			Serializer<K> key = serializer(factory, true, owned);
			Serializer<V> value = serializer(factory, false, owned);
			return RecordSizer.serialized(key, value);
		}

		@SuppressWarnings("unchecked")
		private <T> Serializer<T> serializer(ProducerFactory<K, V> factory, boolean isKey, List<AutoCloseable> owned) {
			var supplier = isKey ? factory.getKeySerializerSupplier() : factory.getValueSerializerSupplier();
			Object supplied = (supplier != null) ? supplier.get() : null;
			if (supplied != null) {
				return (Serializer<T>) supplied; // the factory's own, configured (and closed) by it
			}
			String property = isKey ? ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG
					: ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG;
			Object configured = factory.getConfigurationProperties().get(property);
			if (configured == null) {
				throw new IllegalStateException("buffer '" + this.name + "' must size records for its byte bound, but "
						+ "the template's producer factory has no " + property + ": set a RecordSizer (the sizer "
						+ "option, or a RecordSizer bean), or give up the byte bound");
			}
			Class<?> type = (configured instanceof Class<?> c) ? c
					: ClassUtils.resolveClassName(configured.toString().trim(), getClass().getClassLoader());
			Serializer<T> serializer = (Serializer<T>) Utils.newInstance(type, Serializer.class);
			serializer.configure(factory.getConfigurationProperties(), isKey);
			owned.add(serializer);
			return serializer;
		}

	}

}
