package dev.ratelimit.spring.kafka;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.apache.kafka.common.TopicPartition;

import org.springframework.util.Assert;

/**
 * Publishes the lag of the consumer groups a {@link ConsumerLagMonitor} watches as the gauge
 * {@value #LAG}, one per partition, in records, tagged {@code group}, {@code topic} and
 * {@code partition}.
 *
 * <p>The lag of a throttled listener's own consumer is not published again: Kafka's consumer
 * metrics, which Spring Boot binds for the consumers of its listener containers, have it
 * ({@code kafka.consumer.fetch.manager.records.lag}). Partitions come and go with rebalances, so
 * the set of gauges follows the monitor after each of its readings; each gauge reads the latest
 * lag when it is read, {@code NaN} once its partition is gone.
 */
public class ConsumerLagMetrics implements MeterBinder {

	/** Gauge of the records a consumer group has yet to consume on a partition. */
	public static final String LAG = "ratelimit.kafka.consumer.lag";

	private final ConsumerLagMonitor monitor;

	private final List<MultiGauge> gauges = new CopyOnWriteArrayList<>();

	/**
	 * Creates the meters of a monitor.
	 * @param monitor the lag monitor
	 */
	public ConsumerLagMetrics(ConsumerLagMonitor monitor) {
		Assert.notNull(monitor, "'monitor' must not be null");
		this.monitor = monitor;
		monitor.onRefresh(this::update);
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		MultiGauge gauge = MultiGauge.builder(LAG)
			.description("Records a consumer group has yet to consume on a partition")
			.baseUnit("records")
			.register(registry);
		this.gauges.add(gauge);
		update(gauge);
	}

	private void update() {
		this.gauges.forEach(this::update);
	}

	private void update(MultiGauge gauge) {
		// overwrite false: a partition's gauge stays registered, reading live values, while the
		// partition is known; only gone partitions are removed and new ones added
		gauge.register(this.monitor.partitionLags().stream().filter((lag) -> lag.listener() == null).map((lag) -> {
			String group = lag.group();
			TopicPartition partition = new TopicPartition(lag.topic(), lag.partition());
			Tags tags = Tags.of("group", group, "topic", lag.topic(), "partition", Integer.toString(lag.partition()));
			return MultiGauge.Row.of(tags, this.monitor, (monitor) -> monitor.currentLag(null, group, partition));
		}).toList(), false);
	}

}
