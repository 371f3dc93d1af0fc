package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.support.micrometer.KafkaRecordReceiverContext;

import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.web.ObservationRecorder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A throttled record listener's deliveries, as Spring Kafka measures them: with its timer
 * ({@code spring.kafka.listener}, on by default) and with its observation
 * ({@code spring.kafka.listener.observation-enabled}). 600 records through the limiter of
 * docs/kafka.md (200/1s, 200 permits at start) take at least 2 s, so most of them wait for
 * permits; none of those waits may show as a failed delivery, and every record is delivered
 * (and measured) once. Before the records took their permits ahead, refusals showed as failures
 * here, a few per run (their number depends on how the fetches fall).
 */
class ThrottledDeliveryMetricsIT extends BrokerPerClass {

	static final int RECORDS = 600;

	static final Duration THROTTLED = Duration.ofMillis((RECORDS - 200) * 1000 / 200);

	@Test
	void listenerTimerCountsEachRecordOnceAndNoThrottleAsAFailure() throws Exception {
		String topic = "metrics-timer";
		KafkaTestSupport.createTopic(broker, topic, 2);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 2, RECORDS);
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(ThrottledDrainIT.OrdersListener.class)
			.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
			.withPropertyValues("test.topic=" + topic)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = drain(context.getBean(KafkaTestSupport.Processed.class),
						produced);
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				// the timer stops after the listener returns: wait for the last record's
				await().atMost(Duration.ofSeconds(10))
					.untilAsserted(() -> assertThat(
							meters.get("spring.kafka.listener").tag("result", "success").timer().count())
						.isEqualTo(processed.count()));
				List<Timer> timers = List.copyOf(meters.find("spring.kafka.listener").timers());
				timers.forEach((timer) -> System.out.printf("%s %s%n", timer.getId().getTags(), timer.count()));
				assertThat(meters.find("spring.kafka.listener").tag("result", "failure").timers()).isEmpty();
			});
	}

	@Test
	void listenerObservationOfEachRecordEndsWithoutAnError() throws Exception {
		String topic = "metrics-observation";
		KafkaTestSupport.createTopic(broker, topic, 4);
		Map<Integer, Integer> produced = KafkaTestSupport.produce(broker, topic, 4, RECORDS);
		Deliveries deliveries = new Deliveries();
		ObservationRecorder permits = new ObservationRecorder();
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		ObservationRegistry observations = ObservationRegistry.create();
		observations.observationConfig()
			.observationHandler(deliveries)
			.observationHandler(permits)
			.observationHandler(new DefaultMeterObservationHandler(meters));
		KafkaTestSupport.contextRunner(broker, KafkaTestSupport.THROTTLING_YAML)
			.withUserConfiguration(ThrottledDrainIT.OrdersListener.class)
			.withBean(ObservationRegistry.class, () -> observations)
			.withPropertyValues("test.topic=" + topic, "spring.kafka.listener.observation-enabled=true",
					"spring.kafka.listener.concurrency=2")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				KafkaTestSupport.Processed processed = drain(context.getBean(KafkaTestSupport.Processed.class),
						produced);
				// the observation stops after the listener returns: wait for the last record's
				await().atMost(Duration.ofSeconds(10))
					.until(() -> deliveries.stopped.get() >= processed.count());
				System.out.printf("observations: %d started, %d stopped, %d with an error %s%n",
						deliveries.started.get(), deliveries.stopped.get(), deliveries.errors.size(),
						deliveries.errors.stream().limit(3).toList());
				assertThat(deliveries.errors).isEmpty();
				// one observation per record delivered, none for a record refused and delivered again
				assertThat(deliveries.started.get()).isEqualTo(processed.count());
				assertThat(deliveries.stopped.get()).isEqualTo(processed.count());
				// one timer per consumer (the listener id tag), together one sample per record
				assertThat(meters.find("spring.kafka.listener")
					.tag("error", "none")
					.timers()
					.stream()
					.mapToLong(Timer::count)
					.sum()).isEqualTo(processed.count());
				assertThat(meters.find("spring.kafka.listener").timers())
					.allSatisfy((timer) -> assertThat(timer.getId().getTag("error")).isEqualTo("none"));
				// the records' permits as ratelimit.acquire observations of source listener: one a
				// record, and at most one more a consumer (taken for a next record that never came)
				await().atMost(Duration.ofSeconds(10))
					.until(() -> permits.of("orders-drain").size() >= processed.count());
				List<RateLimitObservationContext> acquired = permits.of("orders-drain");
				System.out.printf("permits observed: %d for %d records%n", acquired.size(), processed.count());
				assertThat(acquired).allSatisfy((acquisition) -> {
					assertThat(acquisition.getSource()).isEqualTo(RateLimitObservationContext.Source.LISTENER);
					assertThat(acquisition.getOperation()).isEqualTo("orders");
					assertThat(acquisition.getOutcome()).isEqualTo(RateLimitObservationContext.Outcome.PERMITTED);
				});
				assertThat(acquired.size()).isBetween(processed.count(), processed.count() + 2);
				// every observation that started has stopped: none left open by a hold
				assertThat(permits.startedOf("orders-drain")).hasSameSizeAs(acquired);
			});
	}

	private static KafkaTestSupport.Processed drain(KafkaTestSupport.Processed processed,
			Map<Integer, Integer> produced) {
		await().atMost(Duration.ofSeconds(60)).until(() -> processed.count() >= RECORDS);
		System.out.printf("drained %d records in %d ms (at least %d ms throttled)%n", processed.count(),
				processed.span().toMillis(), THROTTLED.toMillis());
		// the limiter held the records back: they took about (600 - 200) / 200 s
		assertThat(processed.span()).isGreaterThanOrEqualTo(THROTTLED.multipliedBy(9).dividedBy(10));
		Map<Integer, List<Long>> offsets = processed.offsets();
		produced.forEach((partition, count) -> assertThat(offsets.get(partition))
			.containsExactlyElementsOf(LongStream.range(0, count).boxed().toList()));
		return processed;
	}

	/** The listener observations that Spring Kafka stopped, and those it saw fail. */
	static final class Deliveries implements ObservationHandler<KafkaRecordReceiverContext> {

		final AtomicInteger started = new AtomicInteger();

		final AtomicInteger stopped = new AtomicInteger();

		final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();

		@Override
		public void onStart(KafkaRecordReceiverContext context) {
			this.started.incrementAndGet();
		}

		@Override
		public void onError(KafkaRecordReceiverContext context) {
			this.errors.add(context.getError());
		}

		@Override
		public void onStop(KafkaRecordReceiverContext context) {
			this.stopped.incrementAndGet();
			if (context.getError() != null && !this.errors.contains(context.getError())) {
				this.errors.add(context.getError());
			}
		}

		@Override
		public boolean supportsContext(Observation.Context context) {
			return context instanceof KafkaRecordReceiverContext;
		}

	}

}
