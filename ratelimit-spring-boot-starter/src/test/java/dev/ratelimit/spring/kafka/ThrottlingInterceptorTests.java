package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.observation.ObservationRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.listener.MessageListenerContainer;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;
import dev.ratelimit.spring.observation.RateLimitObservations;
import dev.ratelimit.spring.web.ObservationRecorder;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class ThrottlingInterceptorTests {

	private static final TopicPartition P0 = new TopicPartition("orders", 0);

	private final ManualClock clock = new ManualClock();

	private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");

	private final ConsumerLagMonitor monitor = new ConsumerLagMonitor(List.of(), Duration.ofSeconds(5), null);

	@Test
	void recordTakesItsPermitsOrIsDeniedWithTheRetryAfter() {
		RateLimiter limiter = limiter(10, 4);
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", limiter, 2,
				this.monitor, null, null);
		ConsumerRecord<String, String> record = record(0);
		assertThat(interceptor.intercept(record, this.consumer)).isSameAs(record);
		assertThat(interceptor.intercept(record, this.consumer)).isSameAs(record);
		assertThatExceptionOfType(RateLimitExceededException.class)
			.isThrownBy(() -> interceptor.intercept(record, this.consumer))
			.satisfies((ex) -> {
				assertThat(ex.getLimiterName()).isEqualTo("orders-limit");
				// 2 permits at 10/s
				assertThat(ex.getRetryAfter()).isEqualTo(Duration.ofMillis(200));
			});
		this.clock.advance(Duration.ofMillis(200));
		assertThat(interceptor.intercept(record, this.consumer)).isSameAs(record);
	}

	@Test
	void withoutLimiterRecordsPass() {
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", null, 1,
				this.monitor, null, null);
		ConsumerRecords<String, String> batch = batch(500);
		assertThat(interceptor.intercept(batch, this.consumer)).isSameAs(batch);
	}

	@Test
	void batchTakesAPermitPerRecordAtOnce() {
		RateLimiter limiter = limiter(10, 10);
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", limiter, 1,
				this.monitor, null, null);
		assertThat(interceptor.intercept(batch(6), this.consumer).count()).isEqualTo(6);
		// 4 left: a batch of 6 waits for all of them, and takes none meanwhile
		assertThatExceptionOfType(RateLimitExceededException.class)
			.isThrownBy(() -> interceptor.intercept(batch(6), this.consumer))
			.satisfies((ex) -> assertThat(ex.getRetryAfter()).isEqualTo(Duration.ofMillis(200)));
		assertThat(limiter.snapshot().available()).isEqualTo(4);
		assertThat(interceptor.banked()).isZero();
		this.clock.advance(Duration.ofMillis(200));
		assertThat(interceptor.intercept(batch(6), this.consumer).count()).isEqualTo(6);
	}

	@Test
	void eachBatchAttemptIsOneObservationOfItsPermits() {
		RateLimiter limiter = limiter(10, 10);
		ObservationRegistry registry = ObservationRegistry.create();
		ObservationRecorder recorder = new ObservationRecorder();
		registry.observationConfig().observationHandler(recorder);
		RateLimitObservations.Operation observed = new RateLimitObservations(registry, null)
			.operation(Source.LISTENER, "orders-limit", "orders", 2);
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", limiter, 2,
				this.monitor, null, observed);

		interceptor.intercept(batch(3), this.consumer);
		assertThatExceptionOfType(RateLimitExceededException.class)
			.isThrownBy(() -> interceptor.intercept(batch(3), this.consumer));

		assertThat(recorder.of("orders-limit")).hasSize(2).allSatisfy((context) -> {
			assertThat(context.getSource()).isEqualTo(Source.LISTENER);
			assertThat(context.getOperation()).isEqualTo("orders");
			assertThat(context.getPermits()).isEqualTo(6);
		});
		assertThat(recorder.of("orders-limit")).extracting(RateLimitObservationContext::getOutcome)
			.containsExactly(Outcome.PERMITTED, Outcome.REJECTED);
		assertThat(recorder.startedOf("orders-limit")).hasSize(2);
	}

	@Test
	void batchLargerThanTheCapacityGathersItsPermitsAcrossDeliveries() {
		RateLimiter limiter = limiter(10, 10);
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", limiter, 1,
				this.monitor, null, null);
		int attempts = 0;
		long start = this.clock.read();
		for (;;) {
			attempts++;
			try {
				interceptor.intercept(batch(25), this.consumer);
				break;
			}
			catch (RateLimitExceededException ex) {
				this.clock.advance(ex.getRetryAfter());
			}
		}
		// 10 at once, then 15 more at 10/s: never ahead of the rate
		assertThat(Duration.ofNanos(this.clock.read() - start)).isEqualTo(Duration.ofMillis(1500));
		assertThat(attempts).isGreaterThan(1);
		assertThat(interceptor.banked()).isZero();
	}

	@Test
	void recordListenerTakesTheNextRecordsPermitsAfterEachRecordAndHoldsItsContainerWithout() {
		RateLimiter limiter = limiter(10, 2);
		RunningContainer container = new RunningContainer();
		container.consumerPaused = true;
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		// the first record takes its permit as it comes, and the next one's after it
		assertThat(interceptor.intercept(record(0), this.consumer)).isNotNull();
		interceptor.afterRecord(record(0), this.consumer);
		assertThat(interceptor.ahead()).isEqualTo(1);
		assertThat(limiter.snapshot().available()).isZero();
		// the second arrives with its permit: no decision, so no refusal inside the delivery
		assertThat(interceptor.intercept(record(1), this.consumer)).isNotNull();
		assertThat(interceptor.ahead()).isZero();
		// none for the third: the container stops delivering until the limiter's retry-after
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(container.isPauseRequested()).isTrue();
		assertThat(this.clock.pendingTasks()).isEqualTo(1);
		this.clock.advance(Duration.ofMillis(99)).runDue();
		assertThat(container.isPauseRequested()).isTrue();
		// then the third record's permit is taken for it, and the consumer woken: the scheduler
		// changes nothing in the container, whose consumer resumes it just before its next poll
		this.clock.advance(Duration.ofMillis(1)).runDue();
		assertThat(interceptor.ahead()).isEqualTo(1);
		assertThat(container.resumes).isZero();
		assertThat(container.pauses).isEqualTo(2);
		assertThat(container.isPauseRequested()).isTrue();
		interceptor.setupThreadState(this.consumer);
		assertThat(container.resumes).isEqualTo(1);
		assertThat(container.isPauseRequested()).isFalse();
		assertThat(interceptor.intercept(record(2), this.consumer)).isNotNull();
		// once only
		interceptor.setupThreadState(this.consumer);
		assertThat(container.resumes).isEqualTo(1);
	}

	/**
	 * A resume from another thread can wake the consumer just after its poll returned; the commit
	 * of the next record it delivers then fails and the record, processed already, is delivered
	 * again. So a release only wakes the paused consumer, and a consumer that stops before its
	 * next poll resumes its container as it stops.
	 */
	@Test
	void aReleaseHandedOverToAConsumerThatStopsResumesItsContainerAsItStops() {
		RateLimiter limiter = limiter(10, 1);
		RunningContainer container = new RunningContainer();
		container.consumerPaused = true;
		ThrottlingErrorHandler handler = new ThrottlingErrorHandler(new DefaultErrorHandler(), this.clock);
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		handler.onThreadStateCleared(interceptor::returnAhead);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		interceptor.afterRecord(record(1), this.consumer);
		this.clock.advance(Duration.ofMillis(100)).runDue();
		assertThat(container.isPauseRequested()).isTrue();

		handler.clearThreadState(); // the container, as the consumer stops

		assertThat(container.isPauseRequested()).isFalse();
		assertThat(container.resumes).isEqualTo(1);
		// and the permit taken for the record that will not come is given back
		assertThat(limiter.snapshot().available()).isEqualTo(1);
	}

	/**
	 * A record that comes without permits and is refused them (the first of a consumer) holds the
	 * consumer's container, as after a record, rather than pausing its partitions: the release
	 * takes its permits and the consumer resumes the container on its own thread.
	 */
	@Test
	void aRecordRefusedItsPermitsHoldsTheContainerAndTheReleaseIsTheConsumers() {
		this.consumer.assign(List.of(P0));
		RateLimiter limiter = limiter(10, 1);
		limiter.tryAcquire();
		RunningContainer container = new RunningContainer();
		container.consumerPaused = true;
		ThrottlingErrorHandler handler = new ThrottlingErrorHandler(new DefaultErrorHandler(), this.clock);
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		handler.onDenied(container, interceptor::holdAfterDenial);
		RateLimitExceededException denied = assertThatExceptionOfType(RateLimitExceededException.class)
			.isThrownBy(() -> interceptor.intercept(record(3), this.consumer))
			.actual();
		List<ConsumerRecord<?, ?>> remaining = List.of(record(3), record(4));
		assertThatExceptionOfType(org.springframework.kafka.KafkaException.class)
			.isThrownBy(() -> handler.handleRemaining(denied, remaining, this.consumer, container));
		// sought back to the refused record, and the container held; no partition pause
		assertThat(this.consumer.position(P0)).isEqualTo(3);
		assertThat(container.isPauseRequested()).isTrue();
		assertThat(container.isPartitionPauseRequested(P0)).isFalse();
		this.clock.advance(Duration.ofMillis(100)).runDue();
		assertThat(interceptor.ahead()).isEqualTo(1);
		assertThat(container.resumes).isZero();
		interceptor.setupThreadState(this.consumer);
		assertThat(container.isPauseRequested()).isFalse();
		// delivered again, it comes with its permit
		assertThat(interceptor.intercept(record(3), this.consumer)).isNotNull();
		assertThat(interceptor.ahead()).isZero();
	}

	@Test
	void aDenialByAnotherLimiterPausesThePartitionsAsBefore() {
		this.consumer.assign(List.of(P0));
		RateLimiter limiter = limiter(10, 1);
		RunningContainer container = new RunningContainer();
		ThrottlingErrorHandler handler = new ThrottlingErrorHandler(new DefaultErrorHandler(), this.clock);
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		handler.onDenied(container, interceptor::holdAfterDenial);
		RateLimitExceededException denied = new RateLimitExceededException("a-method-limit",
				new dev.ratelimit.Decision(false, 0, Duration.ofMillis(50).toNanos(), 0));
		assertThat(handler.handleOne(denied, record(3), this.consumer, container)).isFalse();
		assertThat(container.isPauseRequested()).isFalse();
		assertThat(container.isPartitionPauseRequested(P0)).isTrue();
		this.clock.advance(Duration.ofMillis(50)).runDue();
		assertThat(container.isPartitionPauseRequested(P0)).isFalse();
	}

	/**
	 * A container the application resumes while it is held, then held again: the release of the
	 * first hold ends there, so that each hold has one release (two could wake the consumer while
	 * it delivers).
	 */
	@Test
	void theReleaseOfAHoldThatEndedDoesNotActOnTheNextHold() {
		RateLimiter limiter = limiter(10, 1);
		RunningContainer container = new RunningContainer();
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		interceptor.afterRecord(record(1), this.consumer); // held; its release looks at 100 ms
		this.clock.advance(Duration.ofMillis(100)); // the consumer has not paused: it looks again soon
		assertThat(this.clock.pendingTasks()).isEqualTo(1);
		container.resume(); // by the application
		interceptor.afterRecord(record(2), this.consumer); // the permit is back: taken ahead
		interceptor.intercept(record(3), this.consumer);
		interceptor.afterRecord(record(3), this.consumer); // held again, released at 200 ms
		container.consumerPaused = true;
		this.clock.advance(Duration.ofMillis(1));
		assertThat(this.clock.pendingTasks()).as("the second hold's release only").isEqualTo(1);
		this.clock.advance(Duration.ofMillis(99));
		interceptor.setupThreadState(this.consumer);
		assertThat(container.isPauseRequested()).isFalse();
		assertThat(interceptor.ahead()).isEqualTo(1);
	}

	@Test
	void consumerHoldsAtMostOneRecordsPermitsAhead() {
		RateLimiter limiter = limiter(10, 10);
		KafkaMessageListenerContainer<String, String> container = container();
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", limiter, 3,
				this.monitor, new DeliveryHolds(container, limiter, 3, this.clock, null), null);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(interceptor.ahead()).isEqualTo(3);
		assertThat(limiter.snapshot().available()).isEqualTo(7);
	}

	@Test
	void aConsumerThatStopsGivesBackThePermitsItTookAhead() {
		RateLimiter limiter = limiter(10, 10);
		ThrottlingErrorHandler handler = new ThrottlingErrorHandler(new DefaultErrorHandler(), this.clock);
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container());
		handler.onThreadStateCleared(interceptor::returnAhead);
		interceptor.afterRecord(record(0), this.consumer);
		assertThat(limiter.snapshot().available()).isEqualTo(9);

		handler.clearThreadState(); // the container, as the consumer stops

		assertThat(interceptor.ahead()).isZero();
		assertThat(limiter.snapshot().available()).isEqualTo(10);
		handler.clearThreadState();
		assertThat(limiter.snapshot().available()).isEqualTo(10);
		// a restarted container that reuses the thread takes permits ahead again
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(interceptor.ahead()).isEqualTo(1);
		assertThat(limiter.snapshot().available()).isEqualTo(9);
	}

	@Test
	void containerTheApplicationPausedIsLeftToIt() {
		RateLimiter limiter = limiter(10, 1);
		KafkaMessageListenerContainer<String, String> container = container();
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		interceptor.afterRecord(record(0), this.consumer);
		container.pause();
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(this.clock.pendingTasks()).isZero();
		this.clock.advance(Duration.ofSeconds(1)).runDue();
		assertThat(container.isPauseRequested()).isTrue();
	}

	@Test
	void releaseWaitsForTheNextRecordsPermits() {
		RateLimiter limiter = limiter(10, 1);
		RunningContainer container = new RunningContainer();
		container.consumerPaused = true;
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		// someone else takes the permit that returns first, just before the release looks
		AtomicBoolean taken = new AtomicBoolean();
		this.clock.schedule(() -> taken.set(limiter.tryAcquire()), Duration.ofMillis(100).toNanos());
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(container.isPauseRequested()).isTrue();
		this.clock.advance(Duration.ofMillis(100));
		assertThat(taken).isTrue();
		// the hold lasts until the next one
		assertThat(container.isPauseRequested()).isTrue();
		this.clock.advance(Duration.ofMillis(100));
		interceptor.setupThreadState(this.consumer);
		assertThat(container.isPauseRequested()).isFalse();
		assertThat(interceptor.ahead()).isEqualTo(1);
	}

	@Test
	void releaseWaitsUntilTheConsumerHasPaused() {
		RateLimiter limiter = limiter(10, 1);
		RunningContainer container = new RunningContainer();
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		interceptor.afterRecord(record(1), this.consumer);
		// the permits are back, but the consumer still polls unpaused: resumed now, it could
		// fetch records while the container keeps the held ones
		this.clock.advance(Duration.ofSeconds(10));
		assertThat(container.isPauseRequested()).isTrue();
		assertThat(this.clock.pendingTasks()).isEqualTo(1);
		container.consumerPaused = true;
		this.clock.advance(Duration.ofMillis(100));
		interceptor.setupThreadState(this.consumer);
		assertThat(container.isPauseRequested()).isFalse();
		assertThat(interceptor.ahead()).isEqualTo(1);
	}

	@Test
	void consumerOfAContainerTheApplicationPausesMeanwhileStaysPaused() {
		// the consumer's own child is the one with its partitions
		this.consumer.assign(List.of(P0));
		RateLimiter limiter = limiter(10, 1);
		RunningContainer child = new RunningContainer();
		child.consumerPaused = true;
		ConcurrentMessageListenerContainer<String, String> parent = new ConcurrentMessageListenerContainer<>(
				new DefaultKafkaConsumerFactory<>(Map.of()), new ContainerProperties(P0.topic())) {

			@Override
			public List<KafkaMessageListenerContainer<String, String>> getContainers() {
				return List.of(child);
			}

		};
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", limiter, 1,
				this.monitor, new DeliveryHolds(parent, limiter, 1, this.clock, null), null);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(child.isPauseRequested()).isTrue();
		assertThat(parent.isPauseRequested()).isFalse();
		parent.pause();
		this.clock.advance(Duration.ofSeconds(1));
		// left to the application, whose resume of the container resumes its consumers
		assertThat(child.isPauseRequested()).isTrue();
		assertThat(this.clock.pendingTasks()).isZero();
	}

	@Test
	void limiterThatThrowsNeitherDropsTheRecordsNorLeavesTheContainerPaused() {
		RateLimiter limiter = limiter(10, 1);
		AtomicBoolean failing = new AtomicBoolean();
		RateLimiter flaky = (RateLimiter) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
				new Class<?>[] { RateLimiter.class }, (proxy, method, args) -> {
					if (failing.get() && method.getName().equals("decide")) {
						throw new IllegalArgumentException("permits over the capacity");
					}
					try {
						return method.invoke(limiter, args);
					}
					catch (java.lang.reflect.InvocationTargetException ex) {
						throw ex.getCause();
					}
				});
		RunningContainer container = new RunningContainer();
		container.consumerPaused = true;
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", flaky, 1,
				this.monitor, new DeliveryHolds(container, flaky, 1, this.clock, null), null);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(container.isPauseRequested()).isTrue();
		failing.set(true);
		this.clock.advance(Duration.ofMillis(100));
		interceptor.setupThreadState(this.consumer);
		assertThat(container.isPauseRequested()).isFalse();
		assertThat(interceptor.ahead()).isZero();
		// after a record, the failure is logged rather than thrown into the container's loop;
		// the next record decides as it comes, under the container's error handling
		interceptor.afterRecord(record(2), this.consumer);
		assertThat(container.isPauseRequested()).isFalse();
		assertThatExceptionOfType(IllegalArgumentException.class)
			.isThrownBy(() -> interceptor.intercept(record(3), this.consumer));
	}

	@Test
	void holdPausesTheConsumerItselfWhenTheContainerWronglyBelievesItPaused() {
		// after a rebalance, Spring Kafka may hold its consumer for paused while the partitions
		// it was assigned meanwhile are not: a poll would return records beside the kept ones
		this.consumer.assign(List.of(P0));
		RateLimiter limiter = limiter(10, 1);
		RunningContainer container = new RunningContainer();
		container.consumerPaused = true;
		ThrottlingInterceptor<String, String> interceptor = held(limiter, container);
		interceptor.afterRecord(record(0), this.consumer);
		interceptor.intercept(record(1), this.consumer);
		assertThat(this.consumer.paused()).isEmpty();
		interceptor.afterRecord(record(1), this.consumer);
		assertThat(container.isPauseRequested()).isTrue();
		assertThat(this.consumer.paused()).containsExactly(P0);
	}

	@Test
	void lagIsReadBeforeEachPoll() {
		ThrottlingInterceptor<String, String> interceptor = new ThrottlingInterceptor<>("orders", "group", null, 1,
				this.monitor, null, null);
		this.consumer.assign(List.of(P0));
		this.consumer.updateEndOffsets(Map.of(P0, 42L));
		this.consumer.seek(P0, 2);
		interceptor.setupThreadState(this.consumer);
		assertThat(this.monitor.lag("group")).hasValue(40);
	}

	private RateLimiter limiter(long perSecond, long capacity) {
		return RateLimiter
			.builder("orders-limit",
					RateLimit.tokenBucket(Rate.of(perSecond, Duration.ofSeconds(1))).capacity(capacity).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
	}

	/** A record listener's interceptor, one permit a record, whose records wait in a container. */
	private ThrottlingInterceptor<String, String> held(RateLimiter limiter, MessageListenerContainer container) {
		return new ThrottlingInterceptor<>("orders", "group", limiter, 1, this.monitor,
				new DeliveryHolds(container, limiter, 1, this.clock, null), null);
	}

	private static KafkaMessageListenerContainer<String, String> container() {
		// never started: a hold pauses and resumes it without a consumer
		return new KafkaMessageListenerContainer<>(new DefaultKafkaConsumerFactory<>(Map.of()),
				new ContainerProperties(P0.topic()));
	}

	/** A container that runs, owns the partition, and whose consumer pauses when told to. */
	static final class RunningContainer extends KafkaMessageListenerContainer<String, String> {

		volatile boolean consumerPaused;

		int pauses;

		int resumes;

		RunningContainer() {
			super(new DefaultKafkaConsumerFactory<>(Map.of()), new ContainerProperties(P0.topic()));
		}

		@Override
		public void pause() {
			this.pauses++;
			super.pause();
		}

		@Override
		public void resume() {
			this.resumes++;
			super.resume();
		}

		@Override
		public boolean isRunning() {
			return true;
		}

		@Override
		public boolean isContainerPaused() {
			return isPauseRequested() && this.consumerPaused;
		}

		@Override
		public List<TopicPartition> getAssignedPartitions() {
			return List.of(P0);
		}

	}

	private static ConsumerRecord<String, String> record(long offset) {
		return new ConsumerRecord<>(P0.topic(), P0.partition(), offset, null, "v" + offset);
	}

	private static ConsumerRecords<String, String> batch(int count) {
		List<ConsumerRecord<String, String>> records = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			records.add(record(i));
		}
		return new ConsumerRecords<>(Map.of(P0, records), Map.of());
	}

}
