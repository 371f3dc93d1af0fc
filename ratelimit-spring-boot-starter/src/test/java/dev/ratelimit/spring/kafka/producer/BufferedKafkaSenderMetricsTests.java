package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Meters follow the senders' state and counters, for senders created before and after binding.
 */
class BufferedKafkaSenderMetricsTests {

	private final BufferedKafkaSenders senders = new BufferedKafkaSenders();

	private final MeterRegistry meters = new SimpleMeterRegistry();

	@AfterEach
	void shutDown() {
		this.senders.senders().forEach((sender) -> sender.close(Duration.ZERO));
		this.senders.destroy();
	}

	private BufferedKafkaSender<String, String> sender(String name, MockKafka kafka) {
		return this.senders.builder(name, kafka.template)
			.maxItems(4)
			.maxBytes(100)
			.sizer((record) -> record.value().length())
			.maxAge(Duration.ofHours(1))
			.build();
	}

	@Test
	void gaugesAndCountersOfEverySenderIncludingLaterOnes() {
		MockKafka slow = new MockKafka(false);
		BufferedKafkaSender<String, String> before = sender("before", slow);
		new BufferedKafkaSenderMetrics(this.senders).bindTo(this.meters);
		BufferedKafkaSender<String, String> after = sender("after", new MockKafka(true));

		for (int i = 0; i < 5; i++) {
			before.offer("t", "k", "0123456789");
		}
		assertThat(gauge("ratelimit.buffer.size", "before")).isEqualTo(4);
		assertThat(gauge("ratelimit.buffer.bytes", "before")).isEqualTo(40);
		assertThat(gauge("ratelimit.buffer.utilization", "before")).isEqualTo(1.0);
		assertThat(counter("ratelimit.buffer.offers", "before", "result", "accepted")).isEqualTo(4);
		assertThat(counter("ratelimit.buffer.offers", "before", "result", "refused")).isEqualTo(1);

		after.offer("t", "k", "v");
		after.flush().join();
		assertThat(counter("ratelimit.buffer.sent", "after")).isOne();
		assertThat(counter("ratelimit.buffer.flushes", "after", "result", "success")).isOne();
		assertThat(counter("ratelimit.buffer.flushes", "after", "result", "failure")).isZero();
		assertThat(counter("ratelimit.buffer.resent", "after", "reason", "failed")).isZero();
		assertThat(counter("ratelimit.buffer.resent", "after", "reason", "order")).isZero();

		before.flush();
		await().until(() -> slow.producer.history().size() == 4);
		slow.producer.errorNext(new IllegalStateException("broker gone"));
		slow.producer.completeNext();
		slow.producer.completeNext();
		slow.producer.completeNext();
		await().until(() -> counter("ratelimit.buffer.flushes", "before", "result", "failure") >= 1);
	}

	private double gauge(String name, String sender) {
		return this.meters.get(name).tag("name", sender).gauge().value();
	}

	private double counter(String name, String sender, String... tags) {
		return this.meters.get(name).tag("name", sender).tags(tags).functionCounter().count();
	}

}
