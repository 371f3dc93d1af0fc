package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.event.ConsumerStoppingEvent;

import dev.ratelimit.spring.kafka.ConsumerLagMonitor.PartitionLag;
import dev.ratelimit.spring.kafka.ConsumerLagMonitor.WatchedGroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class ConsumerLagMonitorTests {

	private static final TopicPartition P0 = new TopicPartition("orders", 0);

	private static final TopicPartition P1 = new TopicPartition("orders", 1);

	private final ConsumerLagMonitor monitor = new ConsumerLagMonitor(List.of(), Duration.ofSeconds(5), null);

	@Test
	void listenerLagIsTheEndOffsetMinusThePosition() {
		MockConsumer<String, String> consumer = consumer(Map.of(P0, 100L, P1, 50L), P0, P1);
		consumer.seek(P0, 40);
		consumer.seek(P1, 50);
		this.monitor.record("orders", "shipping", consumer);
		assertThat(this.monitor.lag("shipping")).hasValue(60);
		assertThat(this.monitor.lag("billing")).isEmpty();
		assertThat(this.monitor.partitionLags()).containsExactly(
				new PartitionLag("orders", "shipping", "orders", 0, 60),
				new PartitionLag("orders", "shipping", "orders", 1, 0));
		assertThat(this.monitor.currentLag("orders", "shipping", P0)).isEqualTo(60);
		assertThat(this.monitor.currentLag("other", "shipping", P0)).isNaN();
	}

	@Test
	void partitionsMovedToAnotherConsumerAreForgottenByTheFirst() {
		MockConsumer<String, String> first = consumer(Map.of(P0, 100L, P1, 100L), P0, P1);
		this.monitor.record("orders", "shipping", first);
		MockConsumer<String, String> second = consumer(Map.of(P1, 100L), P1);
		second.seek(P1, 90);
		this.monitor.record("orders", "shipping", second);
		first.assign(List.of(P0));
		this.monitor.record("orders", "shipping", first);
		// P0 from the first consumer, P1 from the second: the first's stale reading of P1 is gone
		assertThat(this.monitor.lag("shipping")).hasValue(100 + 10);
	}

	@Test
	void stoppingConsumerReportsNoMore() {
		MockConsumer<String, String> consumer = consumer(Map.of(P0, 100L), P0);
		this.monitor.record("orders", "shipping", consumer);
		this.monitor.onApplicationEvent(new ConsumerStoppingEvent(this, this, consumer, List.of(P0)));
		assertThat(this.monitor.lag("shipping")).isEmpty();
		assertThat(this.monitor.partitionLags()).isEmpty();
	}

	@Test
	void listenersReceiveTheTotalOfEveryGroup() {
		this.monitor.record("orders", "shipping", consumer(Map.of(P0, 100L), P0));
		this.monitor.record("payments", "billing", consumer(Map.of(P1, 7L), P1));
		List<String> reports = new ArrayList<>();
		this.monitor.addListener((group, lag) -> reports.add(group + "=" + lag));
		this.monitor.addListener((group, lag) -> {
			throw new IllegalStateException("a failing listener does not stop the others");
		});
		this.monitor.refresh();
		assertThat(reports).containsExactly("billing=7", "shipping=100", "orders=100", "payments=7");
		assertThat(this.monitor.lag("orders")).hasValue(100);
	}

	@Test
	void listenerWhoseIdIsItsGroupIsReportedOnce() {
		this.monitor.record("orders", "orders", consumer(Map.of(P0, 100L), P0));
		List<String> reports = new ArrayList<>();
		this.monitor.addListener((source, lag) -> reports.add(source + "=" + lag));
		this.monitor.refresh();
		assertThat(reports).containsExactly("orders=100");
	}

	@Test
	void unreadableWatchedGroupHasNoLag() {
		ConsumerLagMonitor watching = new ConsumerLagMonitor(List.of(new WatchedGroup("billing", List.of("invoices"))),
				Duration.ofSeconds(1), () -> Admin.create(Map.of("bootstrap.servers", "localhost:1",
						"default.api.timeout.ms", "200", "request.timeout.ms", "100")));
		try {
			List<String> reports = new ArrayList<>();
			watching.addListener((group, lag) -> reports.add(group));
			watching.refresh();
			assertThat(watching.lag("billing")).isEmpty();
			assertThat(reports).isEmpty();
		}
		finally {
			watching.stop();
		}
	}

	@Test
	void watchingNeedsAnAdminClient() {
		assertThatIllegalArgumentException().isThrownBy(() -> new ConsumerLagMonitor(
				List.of(new WatchedGroup("billing", List.of())), Duration.ofSeconds(1), null));
	}

	@Test
	void lifecycleStartsAndStopsTheReadings() {
		assertThat(this.monitor.isRunning()).isFalse();
		this.monitor.start();
		assertThat(this.monitor.isRunning()).isTrue();
		this.monitor.stop();
		assertThat(this.monitor.isRunning()).isFalse();
	}

	private static MockConsumer<String, String> consumer(Map<TopicPartition, Long> ends, TopicPartition... assigned) {
		MockConsumer<String, String> consumer = new MockConsumer<>("earliest");
		consumer.assign(List.of(assigned));
		consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
		consumer.updateEndOffsets(ends);
		for (TopicPartition partition : assigned) {
			consumer.seek(partition, 0);
		}
		return consumer;
	}

}
