package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiPredicate;
import java.util.function.Supplier;

import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.event.ConsumerStoppingEvent;
import org.springframework.util.Assert;

import dev.ratelimit.spring.scheduling.PeriodicTask;

/**
 * The latest consumer lag, per partition, of the throttled or observed Kafka listeners of this
 * application and of watched consumer groups (typically downstream ones), and the place to
 * listen for it, for example to drive an {@code AdaptiveController} with
 * {@code monitor.addListener((source, lag) -> controller.onLag(lag))}.
 *
 * <p>A listener's lag is read on its consumer thread before every poll, from the consumer's own
 * position and the end offset of its last fetch ({@link Consumer#currentLag}), which never waits
 * on the network. A watched group's lag is its committed offsets against the end offsets, read
 * with an {@link Admin} client every interval on this monitor's own thread, which then reports
 * the total lag of every known source to the {@link LagListener}s.
 *
 * <p>A lag <em>source</em> is a consumer group id or a listener id: every group known from a
 * listener or a watch, and every listener whose id is not also a group id (a listener's id often
 * is its group id). Lag is in records. A group that is both consumed here and watched is reported
 * from the watched reading. Thread-safe.
 */
public class ConsumerLagMonitor implements SmartLifecycle, ApplicationListener<ConsumerStoppingEvent> {

	private static final LogAccessor logger = new LogAccessor(LogFactory.getLog(ConsumerLagMonitor.class));

	private final List<WatchedGroup> watched;

	private final Duration interval;

	private final @Nullable Supplier<Admin> adminFactory;

	private final ConcurrentMap<ListenerPartition, Reading> listenerLags = new ConcurrentHashMap<>();

	private final ConcurrentMap<String, Map<TopicPartition, Long>> watchedLags = new ConcurrentHashMap<>();

	private final List<LagListener> listeners = new CopyOnWriteArrayList<>();

	private final List<Runnable> refreshListeners = new CopyOnWriteArrayList<>();

	private final PeriodicTask refreshing;

	/** Serializes readings: the admin client and the failure log state belong to one at a time. */
	private final ReentrantLock refreshLock = new ReentrantLock();

	private @Nullable Admin admin;

	private final Set<String> failing = new HashSet<>();

	/**
	 * Creates a monitor.
	 * @param watched groups whose lag is read with the admin client
	 * @param interval time between two readings of the watched groups and two reports to
	 * listeners
	 * @param adminFactory creates the admin client on the first reading; may be {@code null} when
	 * no group is watched
	 */
	public ConsumerLagMonitor(List<WatchedGroup> watched, Duration interval, @Nullable Supplier<Admin> adminFactory) {
		this(watched, interval, adminFactory, null);
	}

	/**
	 * Creates a monitor whose readings run on a scheduler built like the application's.
	 * @param watched groups whose lag is read with the admin client
	 * @param interval time between two readings of the watched groups and two reports to
	 * listeners
	 * @param adminFactory creates the admin client on the first reading; may be {@code null} when
	 * no group is watched
	 * @param schedulers the application's scheduler builder (virtual threads, task decorator), or
	 * {@code null} for a daemon platform thread
	 */
	public ConsumerLagMonitor(List<WatchedGroup> watched, Duration interval, @Nullable Supplier<Admin> adminFactory,
			@Nullable SimpleAsyncTaskSchedulerBuilder schedulers) {
		this.refreshing = new PeriodicTask("ratelimit-kafka-lag", schedulers);
		Assert.notNull(watched, "'watched' must not be null");
		Assert.isTrue(interval != null && !interval.isNegative() && !interval.isZero(), "'interval' must be positive");
		Assert.isTrue(watched.isEmpty() || adminFactory != null, "an admin client is needed to watch groups");
		this.watched = List.copyOf(watched);
		this.interval = interval;
		this.adminFactory = adminFactory;
	}

	/**
	 * Returns the latest total lag of a consumer group, over every partition known for it, or,
	 * when no group has that id, of a listener.
	 * @param source the consumer group id or listener id
	 * @return the lag in records, or empty when no lag is known for the source
	 */
	public OptionalLong lag(String source) {
		Map<TopicPartition, Long> watchedLag = this.watchedLags.get(source);
		if (watchedLag != null) {
			return OptionalLong.of(sum(watchedLag.values()));
		}
		OptionalLong group = sumOfListeners((key, reading) -> reading.group.equals(source));
		return group.isPresent() ? group : sumOfListeners((key, reading) -> key.listener().equals(source));
	}

	private OptionalLong sumOfListeners(BiPredicate<ListenerPartition, Reading> filter) {
		long total = 0;
		boolean known = false;
		for (Map.Entry<ListenerPartition, Reading> entry : this.listenerLags.entrySet()) {
			if (filter.test(entry.getKey(), entry.getValue())) {
				total += entry.getValue().lag;
				known = true;
			}
		}
		return known ? OptionalLong.of(total) : OptionalLong.empty();
	}

	/**
	 * Returns the latest lag of every known partition: those of listeners (with their listener id)
	 * and those of watched groups (without).
	 * @return the lags, ordered by listener, group, topic and partition
	 */
	public List<PartitionLag> partitionLags() {
		List<PartitionLag> lags = new ArrayList<>();
		this.listenerLags.forEach((key, reading) -> lags.add(new PartitionLag(key.listener(), reading.group,
				key.partition().topic(), key.partition().partition(), reading.lag)));
		this.watchedLags.forEach((group, partitions) -> partitions.forEach((partition, lag) -> lags
			.add(new PartitionLag(null, group, partition.topic(), partition.partition(), lag))));
		lags.sort(PartitionLag.ORDER);
		return lags;
	}

	/**
	 * Adds a listener that receives every source's total lag after each reading. Listeners are
	 * called on the monitor's thread, in the order added; they must not block.
	 * @param listener the listener
	 */
	public void addListener(LagListener listener) {
		Assert.notNull(listener, "'listener' must not be null");
		this.listeners.add(listener);
	}

	/**
	 * Reads the lag of the watched groups now, then reports every source's total lag to the
	 * listeners. Runs every interval while the monitor is running; a reading that fails (broker
	 * unreachable, unknown group) leaves that group without a lag until one succeeds.
	 */
	public void refresh() {
		this.refreshLock.lock();
		try {
			readWatchedGroups();
		}
		finally {
			this.refreshLock.unlock();
		}
		report();
	}

	/**
	 * Records the lag of the partitions assigned to a listener's consumer. Must be called on the
	 * consumer's thread.
	 */
	void record(String listenerId, String groupId, Consumer<?, ?> consumer) {
		Set<TopicPartition> assigned = consumer.assignment();
		for (TopicPartition partition : assigned) {
			OptionalLong lag = consumer.currentLag(partition);
			if (lag.isEmpty()) {
				continue; // no fetch yet: the end offset is unknown
			}
			ListenerPartition key = new ListenerPartition(listenerId, partition);
			Reading reading = this.listenerLags.get(key);
			if (reading != null && reading.owner == consumer) {
				reading.lag = lag.getAsLong();
			}
			else {
				this.listenerLags.put(key, new Reading(consumer, groupId, lag.getAsLong()));
			}
		}
		// a rebalance moved partitions away: forget this consumer's readings of them, not those
		// another consumer of the group may have made since
		this.listenerLags.entrySet()
			.removeIf((entry) -> entry.getValue().owner == consumer && !assigned.contains(entry.getKey().partition()));
	}

	/** A stopping consumer reports no more: its readings would stay frozen. */
	@Override
	public void onApplicationEvent(ConsumerStoppingEvent event) {
		Consumer<?, ?> consumer = event.getConsumer();
		this.listenerLags.values().removeIf((reading) -> reading.owner == consumer);
	}

	/** The latest lag of one partition, {@code NaN} when unknown, for gauges. */
	double currentLag(@Nullable String listener, String group, TopicPartition partition) {
		if (listener != null) {
			Reading reading = this.listenerLags.get(new ListenerPartition(listener, partition));
			return (reading != null) ? reading.lag : Double.NaN;
		}
		Map<TopicPartition, Long> lags = this.watchedLags.get(group);
		Long lag = (lags != null) ? lags.get(partition) : null;
		return (lag != null) ? lag : Double.NaN;
	}

	/** Adds a task run after each report, for meters that follow the set of partitions. */
	void onRefresh(Runnable task) {
		this.refreshListeners.add(task);
	}

	private void readWatchedGroups() {
		if (this.watched.isEmpty()) {
			return;
		}
		Admin admin = admin();
		for (WatchedGroup group : this.watched) {
			try {
				this.watchedLags.put(group.group(), read(admin, group));
				if (this.failing.remove(group.group())) {
					logger.info(() -> "Reading the lag of consumer group '" + group.group() + "' works again");
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (ExecutionException | TimeoutException | RuntimeException ex) {
				// no stale value: a lag nobody can read any more must not keep driving decisions
				this.watchedLags.remove(group.group());
				Throwable cause = (ex instanceof ExecutionException && ex.getCause() != null) ? ex.getCause() : ex;
				if (this.failing.add(group.group())) {
					logger.warn(cause, () -> "Cannot read the lag of consumer group '" + group.group() + "'");
				}
				else {
					logger.debug(cause, () -> "Cannot read the lag of consumer group '" + group.group() + "'");
				}
			}
		}
	}

	private Map<TopicPartition, Long> read(Admin admin, WatchedGroup group)
			throws InterruptedException, ExecutionException, TimeoutException {
		long timeout = Math.max(this.interval.toMillis(), 1000);
		Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
		admin.listConsumerGroupOffsets(group.group())
			.partitionsToOffsetAndMetadata()
			.get(timeout, TimeUnit.MILLISECONDS)
			.forEach((partition, offset) -> {
				if (offset != null) {
					committed.put(partition, offset);
				}
			});
		Set<TopicPartition> partitions = new HashSet<>();
		if (group.topics().isEmpty()) {
			partitions.addAll(committed.keySet());
		}
		else {
			Map<String, TopicDescription> topics = admin.describeTopics(group.topics())
				.allTopicNames()
				.get(timeout, TimeUnit.MILLISECONDS);
			topics.values()
				.forEach((topic) -> topic.partitions()
					.forEach((info) -> partitions.add(new TopicPartition(topic.name(), info.partition()))));
		}
		if (partitions.isEmpty()) {
			return Map.of();
		}
		Map<TopicPartition, ListOffsetsResultInfo> ends = listOffsets(admin, partitions, OffsetSpec.latest(), timeout);
		Set<TopicPartition> uncommitted = new HashSet<>(partitions);
		uncommitted.removeAll(committed.keySet());
		// a partition the group never committed on is behind by everything the log still holds
		Map<TopicPartition, ListOffsetsResultInfo> starts = uncommitted.isEmpty() ? Map.of()
				: listOffsets(admin, uncommitted, OffsetSpec.earliest(), timeout);
		Map<TopicPartition, Long> lags = new HashMap<>();
		for (TopicPartition partition : partitions) {
			OffsetAndMetadata offset = committed.get(partition);
			long from = (offset != null) ? offset.offset() : starts.get(partition).offset();
			lags.put(partition, Math.max(0, ends.get(partition).offset() - from));
		}
		return Map.copyOf(lags);
	}

	private static Map<TopicPartition, ListOffsetsResultInfo> listOffsets(Admin admin, Set<TopicPartition> partitions,
			OffsetSpec spec, long timeout) throws InterruptedException, ExecutionException, TimeoutException {
		Map<TopicPartition, OffsetSpec> request = new HashMap<>();
		partitions.forEach((partition) -> request.put(partition, spec));
		return admin.listOffsets(request).all().get(timeout, TimeUnit.MILLISECONDS);
	}

	private Admin admin() {
		if (this.admin == null) {
			this.admin = Objects.requireNonNull(this.adminFactory).get();
		}
		return this.admin;
	}

	private void report() {
		Map<String, Long> groups = new TreeMap<>();
		Map<String, Long> listenerIds = new TreeMap<>();
		this.listenerLags.forEach((key, reading) -> {
			groups.merge(reading.group, reading.lag, Long::sum);
			listenerIds.merge(key.listener(), reading.lag, Long::sum);
		});
		this.watchedLags.forEach((group, partitions) -> groups.put(group, sum(partitions.values())));
		Map<String, Long> totals = new LinkedHashMap<>(groups);
		listenerIds.forEach(totals::putIfAbsent);
		for (LagListener listener : this.listeners) {
			totals.forEach((source, lag) -> {
				try {
					listener.onLag(source, lag);
				}
				catch (RuntimeException ex) {
					logger.warn(ex, () -> "Lag listener " + listener + " failed on '" + source + "'");
				}
			});
		}
		for (Runnable task : this.refreshListeners) {
			try {
				task.run();
			}
			catch (RuntimeException ex) {
				logger.warn(ex, "Lag refresh task failed");
			}
		}
	}

	private static long sum(Iterable<Long> values) {
		long total = 0;
		for (long value : values) {
			total += value;
		}
		return total;
	}

	@Override
	public void start() {
		this.refreshing.start(this::refreshSafely, Duration.ZERO, this.interval);
	}

	private void refreshSafely() {
		try {
			refresh();
		}
		catch (RuntimeException ex) {
			// logged here, in the monitor's words; the next reading runs as usual
			logger.warn(ex, "Consumer lag refresh failed");
		}
	}

	@Override
	public void stop() {
		this.refreshing.stop();
		// also when never started: refresh() may have been called directly
		this.refreshLock.lock();
		try {
			if (this.admin != null) {
				this.admin.close(Duration.ofSeconds(5));
				this.admin = null;
			}
		}
		finally {
			this.refreshLock.unlock();
		}
	}

	@Override
	public boolean isRunning() {
		return this.refreshing.isRunning();
	}

	@Override
	public String toString() {
		return "ConsumerLagMonitor[watched=" + this.watched + ", interval=" + this.interval + "]";
	}

	/**
	 * A consumer group whose lag is read with the admin client.
	 *
	 * @param group the consumer group id
	 * @param topics the topics to read its lag on; partitions it never committed on count from
	 * the start of the log. When empty, the partitions it has committed offsets for
	 */
	public record WatchedGroup(String group, List<String> topics) {

		public WatchedGroup {
			Assert.hasText(group, "'group' must not be empty");
			topics = (topics != null) ? List.copyOf(topics) : List.of();
		}

	}

	/**
	 * The latest lag of one partition for one consumer group.
	 *
	 * @param listener the listener id when read from a listener of this application, {@code null}
	 * for a watched group
	 * @param group the consumer group id
	 * @param topic the topic
	 * @param partition the partition
	 * @param lag records the group has yet to consume
	 */
	public record PartitionLag(@Nullable String listener, String group, String topic, int partition, long lag) {

		static final Comparator<PartitionLag> ORDER = Comparator
			.comparing((PartitionLag lag) -> (lag.listener() != null) ? lag.listener() : "")
			.thenComparing(PartitionLag::group)
			.thenComparing(PartitionLag::topic)
			.thenComparingInt(PartitionLag::partition);

	}

	/**
	 * Receives the total lag of each consumer group, and of each listener whose id is not a group
	 * id, after every reading.
	 */
	@FunctionalInterface
	public interface LagListener {

		/**
		 * Called with the latest total lag of a source, on the monitor's thread.
		 * @param source the consumer group id, or the listener id
		 * @param totalLag records the source has yet to consume, over every known partition
		 */
		void onLag(String source, long totalLag);

	}

	/**
	 * A partition of a listener.
	 *
	 * @param listener the listener id
	 * @param partition the partition
	 */
	private record ListenerPartition(String listener, TopicPartition partition) {
	}

	/** The latest lag a consumer read for one of its partitions; written only by that consumer. */
	private static final class Reading {

		final Object owner;

		final String group;

		volatile long lag;

		Reading(Object owner, String group, long lag) {
			this.owner = owner;
			this.group = group;
			this.lag = lag;
		}

	}

}
