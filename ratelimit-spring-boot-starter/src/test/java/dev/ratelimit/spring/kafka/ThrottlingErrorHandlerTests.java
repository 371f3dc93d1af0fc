package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.core.log.LogAccessor;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ListenerExecutionFailedException;
import org.springframework.kafka.listener.MessageListenerContainer;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.BDDMockito.given;
import static org.mockito.BDDMockito.willAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;

class ThrottlingErrorHandlerTests {

	private static final TopicPartition P0 = new TopicPartition("orders", 0);

	private static final TopicPartition P1 = new TopicPartition("orders", 1);

	private final ManualClock clock = new ManualClock();

	private final CommonErrorHandler delegate = mock(CommonErrorHandler.class);

	private final ThrottlingErrorHandler handler = new ThrottlingErrorHandler(this.delegate, this.clock);

	private final FakeContainer container = new FakeContainer();

	private final MockConsumer<String, String> consumer = new MockConsumer<>("earliest");

	@BeforeEach
	void assign() {
		this.consumer.assign(List.of(P0, P1));
		this.consumer.seek(P0, 20);
		this.consumer.seek(P1, 20);
	}

	@Test
	void deniedRemainingRecordsAreSoughtBackPausedAndNotCommitted() {
		List<ConsumerRecord<?, ?>> remaining = List.of(record(P1, 7), record(P1, 8), record(P0, 3), record(P0, 4));
		assertThatExceptionOfType(KafkaException.class)
			.isThrownBy(() -> this.handler.handleRemaining(denied(Duration.ofMillis(10)), remaining, this.consumer,
					this.container.mock))
			.satisfies((ex) -> {
				// the container logs what the handler throws at the exception's own level
				LogAccessor log = mock(LogAccessor.class);
				ex.selfLog("Error handler threw an exception", log);
				verify(log).debug(ex, "Error handler threw an exception");
			});
		assertThat(this.consumer.position(P1)).isEqualTo(7);
		assertThat(this.consumer.position(P0)).isEqualTo(3);
		assertThat(this.container.paused).containsExactlyInAnyOrder(P0, P1);
		verifyNoInteractions(this.delegate);
	}

	@Test
	void partitionsResumeAtTheRetryAfterTheDeniedOneATurnLater() {
		List<ConsumerRecord<?, ?>> remaining = List.of(record(P1, 7), record(P0, 3));
		assertThatExceptionOfType(KafkaException.class).isThrownBy(() -> this.handler
			.handleRemaining(denied(Duration.ofMillis(10)), remaining, this.consumer, this.container.mock));
		this.clock.advance(Duration.ofMillis(10)).runDue();
		assertThat(this.container.paused).containsExactly(P1);
		this.clock.advance(Duration.ofMillis(10)).runDue();
		assertThat(this.container.paused).isEmpty();
	}

	@Test
	void denialFromAListenerMethodIsFoundInTheCause() {
		Exception wrapped = new ListenerExecutionFailedException("Listener failed", denied(Duration.ofMillis(5)));
		List<ConsumerRecord<?, ?>> remaining = List.of(record(P0, 3));
		assertThatExceptionOfType(KafkaException.class)
			.isThrownBy(() -> this.handler.handleRemaining(wrapped, remaining, this.consumer, this.container.mock));
		assertThat(this.consumer.position(P0)).isEqualTo(3);
		verifyNoInteractions(this.delegate);
	}

	@Test
	void failuresGoToTheWrappedHandler() {
		IllegalStateException failure = new IllegalStateException("boom");
		List<ConsumerRecord<?, ?>> remaining = List.of(record(P0, 3));
		this.handler.handleRemaining(failure, remaining, this.consumer, this.container.mock);
		verify(this.delegate).handleRemaining(failure, remaining, this.consumer, this.container.mock);
		assertThat(this.container.paused).isEmpty();
		given(this.delegate.handleOne(any(), any(), any(), any())).willReturn(true);
		assertThat(this.handler.handleOne(failure, record(P0, 3), this.consumer, this.container.mock)).isTrue();
	}

	@Test
	void settingsAreTheWrappedHandlers() {
		given(this.delegate.seeksAfterHandling()).willReturn(true);
		given(this.delegate.isAckAfterHandle()).willReturn(false);
		given(this.delegate.deliveryAttemptHeader()).willReturn(true);
		assertThat(this.handler.seeksAfterHandling()).isTrue();
		assertThat(this.handler.isAckAfterHandle()).isFalse();
		assertThat(this.handler.deliveryAttemptHeader()).isTrue();
		assertThat(this.handler.getDelegate()).isSameAs(this.delegate);
	}

	@Test
	void deniedRecordWithoutSeeksIsReportedUnhandledSoTheContainerKeepsIt() {
		assertThat(this.handler.handleOne(denied(Duration.ofMillis(10)), record(P0, 3), this.consumer,
				this.container.mock))
			.isFalse();
		assertThat(this.container.paused).containsExactly(P0);
		assertThat(this.consumer.position(P0)).isEqualTo(20);
		verify(this.delegate, never()).handleOne(any(), any(), any(), any());
	}

	@Test
	void deniedBatchIsSoughtBackWholeAndPaused() {
		ConsumerRecords<String, String> batch = new ConsumerRecords<>(
				Map.of(P0, List.of(record(P0, 3), record(P0, 4)), P1, List.of(record(P1, 9))), Map.of());
		assertThatExceptionOfType(KafkaException.class).isThrownBy(() -> this.handler
			.handleBatch(denied(Duration.ofMillis(10)), batch, this.consumer, this.container.mock, () -> {
			}));
		assertThat(this.consumer.position(P0)).isEqualTo(3);
		assertThat(this.consumer.position(P1)).isEqualTo(9);
		assertThat(this.container.paused).containsExactlyInAnyOrder(P0, P1);
	}

	@Test
	void deniedBatchWithoutSeeksRemainsWhole() {
		ConsumerRecords<String, String> batch = new ConsumerRecords<>(Map.of(P0, List.of(record(P0, 3))), Map.of());
		ConsumerRecords<Object, Object> remaining = this.handler.handleBatchAndReturnRemaining(
				denied(Duration.ofMillis(10)), batch, this.consumer, this.container.mock, () -> {
				});
		assertThat(remaining).isSameAs(batch);
		assertThat(this.container.paused).containsExactly(P0);
		verify(this.delegate, never()).handleBatchAndReturnRemaining(any(), any(), any(), any(), any());
	}

	@Test
	void laterPauseIsNotCutShortByAnEarlierResume() {
		this.handler.handleOne(denied(Duration.ofMillis(10)), record(P0, 3), this.consumer, this.container.mock);
		this.clock.advance(Duration.ofMillis(5));
		this.handler.handleOne(denied(Duration.ofMillis(50)), record(P0, 3), this.consumer, this.container.mock);
		this.clock.advance(Duration.ofMillis(10)).runDue();
		assertThat(this.container.paused).containsExactly(P0);
		this.clock.advance(Duration.ofMillis(50)).runDue();
		assertThat(this.container.paused).isEmpty();
	}

	@Test
	void partitionPausedByTheApplicationIsLeftToIt() {
		this.container.paused.add(P0);
		this.handler.handleOne(denied(Duration.ofMillis(10)), record(P0, 3), this.consumer, this.container.mock);
		this.clock.advance(Duration.ofSeconds(1)).runDue();
		assertThat(this.container.paused).containsExactly(P0);
	}

	@Test
	void unknownRetryAfterResumesAfterASecond() {
		RateLimitExceededException concurrency = new RateLimitExceededException("pool",
				new Decision(false, 0, Long.MAX_VALUE, Long.MAX_VALUE));
		this.handler.handleOne(concurrency, record(P0, 3), this.consumer, this.container.mock);
		this.clock.advance(Duration.ofMillis(999)).runDue();
		assertThat(this.container.paused).containsExactly(P0);
		this.clock.advance(Duration.ofMillis(1)).runDue();
		assertThat(this.container.paused).isEmpty();
	}

	private static ConsumerRecord<String, String> record(TopicPartition partition, long offset) {
		return new ConsumerRecord<>(partition.topic(), partition.partition(), offset, null, "v" + offset);
	}

	private static RateLimitExceededException denied(Duration retryAfter) {
		return new RateLimitExceededException("orders", new Decision(false, 0, retryAfter.toNanos(), 0));
	}

	/** A container mock that keeps pause requests as the real one does. */
	static final class FakeContainer {

		final Set<TopicPartition> paused = new HashSet<>();

		final MessageListenerContainer mock = mock(MessageListenerContainer.class);

		FakeContainer() {
			given(this.mock.isPartitionPauseRequested(any()))
				.willAnswer((invocation) -> this.paused.contains(invocation.getArgument(0)));
			willAnswer((invocation) -> {
				TopicPartition partition = invocation.getArgument(0);
				this.paused.add(partition);
				return null;
			}).given(this.mock).pausePartition(any());
			willAnswer((invocation) -> this.paused.remove(invocation.getArgument(0)))
				.given(this.mock)
				.resumePartition(any());
		}

	}

}
