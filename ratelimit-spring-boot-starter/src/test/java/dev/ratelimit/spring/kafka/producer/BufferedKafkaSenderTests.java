package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * The sender over a mock producer: batching, bounds, retries that resend only what is not in the
 * log (and what must follow a failed record of its key), pacing, and stop and start. Time is a
 * manual clock; sends run on a flush thread of the test's own, so a test can answer them.
 */
class BufferedKafkaSenderTests {

	private static final long SECOND = Duration.ofSeconds(1).toNanos();

	private final ManualClock clock = new ManualClock();

	private final ExecutorService flushThread = Executors.newSingleThreadExecutor();

	private final List<BufferEvent> events = new CopyOnWriteArrayList<>();

	private final BufferedKafkaSenders senders = new BufferedKafkaSenders(null,
			(event) -> this.events.add((BufferEvent) event));

	@AfterEach
	void shutDown() {
		// sends a test left unanswered would hold a close for its whole timeout
		this.senders.senders().forEach((sender) -> sender.close(Duration.ZERO));
		this.senders.destroy();
		this.flushThread.shutdownNow();
	}

	private BufferedKafkaSender.Builder<String, String> builder(MockKafka kafka) {
		return this.senders.builder("orders", kafka.template)
			.maxBytes(Long.MAX_VALUE)
			.maxAge(Duration.ofSeconds(1))
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(this.flushThread);
	}

	private static ProducerRecord<String, String> record(String key, String value) {
		return new ProducerRecord<>("orders", key, value);
	}

	@Test
	void recordsAreSentInOfferOrderInBatchesBySizeAndAge() {
		MockKafka kafka = new MockKafka(true);
		BufferedKafkaSender<String, String> sender = builder(kafka).maxBatchSize(4).build();
		for (int i = 0; i < 10; i++) {
			assertThat(sender.offer("orders", "k" + (i % 3), "v" + i)).isTrue();
		}
		// two full batches go at once; the last two wait for maxAge
		await().until(() -> kafka.sentValues().size() == 8);
		assertThat(sender.size()).isEqualTo(2);
		this.clock.advance(Duration.ofSeconds(1));
		await().until(() -> kafka.sentValues().size() == 10);
		assertThat(kafka.sentValues()).containsExactly("v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9");
		assertThat(sender.stats()).isEqualTo(new SenderStats(10, 0, 10, 3, 0, 0, 0, 0));
	}

	@Test
	void aFailedSendIsRetriedWithoutResendingWhatIsInTheLogExceptToKeepItsKeyInOrder() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).maxBatchSize(4).build();
		sender.offer(record("a", "a0"));
		sender.offer(record("b", "b0"));
		sender.offer(record("c", "c0"));
		sender.offer(record("b", "b1"));
		await().until(() -> kafka.producer.history().size() == 4);
		kafka.producer.completeNext(); // a0 in the log
		kafka.producer.errorNext(new NetworkException("broker gone")); // b0 failed
		kafka.producer.completeNext(); // c0 in the log
		kafka.producer.completeNext(); // b1 in the log, ahead of b0: must be written again after it
		await().until(() -> sender.stats().failedAttempts() == 1);

		this.clock.advance(Duration.ofMillis(100)); // the first backoff
		await().until(() -> kafka.producer.history().size() == 6);
		kafka.producer.completeNext();
		kafka.producer.completeNext();

		await().until(() -> sender.stats().sent() == 4);
		assertThat(kafka.sentValues()).containsExactly("a0", "b0", "c0", "b1", "b0", "b1");
		// sent again as copies: Kafka makes a sent record's headers read-only, and a tracer writes
		// them at every send
		assertThat(kafka.producer.history().get(4)).isNotSameAs(kafka.producer.history().get(1))
			.isEqualTo(kafka.producer.history().get(1));
		assertThat(sender.stats()).isEqualTo(new SenderStats(4, 0, 4, 1, 1, 1, 1, 1));
		assertThat(sender.size()).isZero();
	}

	@Test
	void aSendStillUnansweredAtTheTimeoutIsAwaitedAgainAndNeverSentTwice() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).sendTimeout(Duration.ofMillis(50)).build();
		sender.offer(record("a", "a0"));
		sender.offer(record("a", "a1"));
		sender.flush();
		await().until(() -> sender.stats().failedAttempts() == 1);
		assertThat(this.events).anySatisfy((event) -> assertThat(event).isInstanceOfSatisfying(
				BufferFlushFailedEvent.class,
				(failed) -> assertThat(failed.getError()).hasMessageContaining("2 record(s) (batch of 2)")
					.hasMessageContaining("still unanswered")));
		kafka.producer.completeNext();
		kafka.producer.completeNext();

		this.clock.advance(Duration.ofMillis(100));
		await().until(() -> sender.stats().sent() == 2);
		assertThat(kafka.sentValues()).containsExactly("a0", "a1");
		assertThat(sender.stats().retried()).isZero();
		assertThat(sender.stats().duplicated()).isZero();
	}

	@Test
	void aSendThatThrowsStopsTheBatchWhichIsRetriedInOrder() {
		MockKafka kafka = new MockKafka(true);
		BufferedKafkaSender<String, String> sender = builder(kafka).build();
		kafka.producer.sendException = new IllegalStateException("no metadata");
		sender.offer(record("a", "a0"));
		sender.offer(record("b", "b0"));
		sender.flush();
		await().until(() -> sender.stats().failedAttempts() == 1);
		assertThat(kafka.sentValues()).isEmpty();

		kafka.producer.sendException = null;
		this.clock.advance(Duration.ofMillis(100));
		await().until(() -> sender.stats().sent() == 2);
		assertThat(kafka.sentValues()).containsExactly("a0", "b0");
		assertThat(sender.stats().failedSends()).isOne();
		assertThat(sender.stats().retried()).isOne();
	}

	@Test
	void retriesBackOffExponentiallyUpToTheMaximum() {
		MockKafka kafka = new MockKafka(true);
		// attempts run on the test thread, inside clock.advance: each retry happens exactly when due
		BufferedKafkaSender<String, String> sender = builder(kafka).initialBackoff(Duration.ofMillis(100))
			.maxBackoff(Duration.ofMillis(300))
			.executor(Runnable::run)
			.build();
		kafka.producer.sendException = new IllegalStateException("no metadata");
		sender.offer(record("a", "a0"));
		sender.flush();
		assertThat(sender.stats().failedAttempts()).isOne();
		this.clock.advance(Duration.ofMillis(99));
		assertThat(sender.stats().failedAttempts()).isOne();
		this.clock.advance(Duration.ofMillis(1)); // 100 ms: the first retry
		assertThat(sender.stats().failedAttempts()).isEqualTo(2);
		this.clock.advance(Duration.ofMillis(200)); // 300 ms: the second, 200 ms later
		assertThat(sender.stats().failedAttempts()).isEqualTo(3);
		this.clock.advance(Duration.ofMillis(299));
		assertThat(sender.stats().failedAttempts()).isEqualTo(3);
		this.clock.advance(Duration.ofMillis(1)); // 600 ms: the third, 300 ms later (the maximum)
		assertThat(sender.stats().failedAttempts()).isEqualTo(4);
		await().untilAsserted(() -> assertThat(this.events).filteredOn(BufferFlushFailedEvent.class::isInstance)
			.extracting((event) -> ((BufferFlushFailedEvent) event).getNextBackoff())
			.containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300),
					Duration.ofMillis(300)));
		kafka.producer.sendException = null;
		this.clock.advance(Duration.ofMillis(300));
		assertThat(sender.stats().sent()).isOne();
	}

	@Test
	void offerRefusesWhenFullAndATimedOfferWaitsForRoom() throws Exception {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).maxItems(3).build();
		assertThat(sender.offer(record("a", "1"))).isTrue();
		assertThat(sender.offer(record("a", "2"))).isTrue();
		assertThat(sender.offer(record("a", "3"))).isTrue();
		assertThat(sender.offer(record("a", "4"))).isFalse();
		assertThat(sender.offer(record("a", "4"), Duration.ZERO)).isFalse();
		assertThat(sender.utilization()).isEqualTo(1.0);
		assertThat(sender.stats().refused()).isEqualTo(2);

		CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
			try {
				return sender.offer("orders", "a", "4", Duration.ofMinutes(1));
			}
			catch (InterruptedException ex) {
				throw new IllegalStateException(ex);
			}
		});
		sender.flush();
		await().until(() -> kafka.producer.history().size() == 3);
		kafka.producer.completeNext();
		kafka.producer.completeNext();
		kafka.producer.completeNext();
		assertThat(waiting.get()).isTrue();
		assertThat(this.events).hasAtLeastOneElementOfType(BufferBackpressureEvent.class);
	}

	@Test
	void bytesAreBoundedAsMeasuredByTheSizer() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).maxBytes(10)
			.sizer((record) -> record.value().length())
			.build();
		assertThat(sender.offer(record("a", "aaaa"))).isTrue();
		assertThat(sender.offer(record("a", "bbbb"))).isTrue();
		assertThat(sender.offer(record("a", "cccc"))).isFalse();
		assertThat(sender.offer(record("a", "dd"))).isTrue();
		assertThat(sender.bytes()).isEqualTo(10);
		assertThat(sender.utilization()).isEqualTo(1.0);
		assertThatIllegalArgumentException().isThrownBy(() -> sender.offer(record("a", "a record of 20 bytes")))
			.withMessageContaining("exceeds maxBytes (10)");
	}

	@Test
	void theSerializedSizerCountsKeyValueAndHeaders() {
		RecordSizer<String, String> sizer = RecordSizer.serialized(new StringSerializer(), new StringSerializer());
		ProducerRecord<String, String> record = new ProducerRecord<>("t", null, "key", "value",
				List.of(new RecordHeader("h", new byte[] { 1, 2 })));
		assertThat(sizer.sizeOf(record)).isEqualTo(3 + 5 + 1 + 2);
		assertThat(sizer.sizeOf(new ProducerRecord<>("t", "value"))).isEqualTo(5);
	}

	@Test
	void sendsPacedByALimiterNeverExceedRatePlusBurstInAnyWindow() {
		MockKafka kafka = new MockKafka(true, this.clock::read);
		RateLimiter limiter = RateLimiter.builder("orders-out", RateLimit.tokenBucket(Rate.perSecond(10)).build())
			.ticker(this.clock)
			.scheduler(this.clock)
			.build();
		BufferedKafkaSender<String, String> sender = builder(kafka).limiter(limiter)
			.maxItems(1000)
			.executor(Runnable::run)
			.build();
		long start = this.clock.read();
		for (int i = 0; i < 100; i++) {
			assertThat(sender.offer(record("k" + (i % 4), "v" + i))).isTrue();
		}
		for (int step = 0; step < 200 && sender.size() > 0; step++) {
			this.clock.advance(Duration.ofMillis(100));
		}
		List<Long> times = kafka.producer.sendTimes;
		assertThat(times).hasSize(100);
		for (int first = 0; first < times.size(); first++) {
			int inWindow = 0;
			for (int next = first; next < times.size() && times.get(next) - times.get(first) < SECOND; next++) {
				inWindow++;
			}
			// the burst (capacity 10) plus one second of refill (10)
			assertThat(inWindow).as("records sent within 1 s of record %d", first).isLessThanOrEqualTo(20);
		}
		// and the limiter is used fully: 100 records at 10/s after a burst of 10 take 9 s
		assertThat(times.get(times.size() - 1) - start).isEqualTo(9 * SECOND);
	}

	@Test
	void theBatchFitsTheLimitersCapacityUnlessSetAboveIt() {
		MockKafka kafka = new MockKafka(true);
		RateLimiter limiter = RateLimiter.of("small", RateLimit.tokenBucket(Rate.perSecond(5)).build());
		assertThatIllegalArgumentException().isThrownBy(() -> builder(kafka).limiter(limiter).maxBatchSize(6).build())
			.withMessageContaining("maxBatchSize (6) exceeds the capacity (5) of limiter 'small'");
		assertThat(builder(kafka).limiter(limiter).build().maxItems()).isEqualTo(10_000);
	}

	@Test
	void stopSendsWhatIsLeftAndStartAcceptsRecordsAgain() {
		MockKafka kafka = new MockKafka(true);
		BufferedKafkaSender<String, String> sender = builder(kafka).maxAge(Duration.ofHours(1)).build();
		this.senders.start();
		for (int i = 0; i < 5; i++) {
			sender.offer(record("k", "v" + i));
		}
		assertThat(kafka.sentValues()).isEmpty();
		this.senders.stop();
		assertThat(kafka.sentValues()).containsExactly("v0", "v1", "v2", "v3", "v4");
		assertThat(sender.isOpen()).isFalse();
		assertThatIllegalStateException().isThrownBy(() -> sender.offer(record("k", "late")))
			.withMessageContaining("closed");

		this.senders.start();
		assertThat(sender.isOpen()).isTrue();
		assertThat(sender.offer(record("k", "v5"))).isTrue();
		sender.close();
		assertThat(kafka.sentValues()).endsWith("v5");
		assertThat(sender.stats().sent()).isEqualTo(6);
		assertThat(this.senders.senders()).isEmpty();
	}

	@Test
	void sendCompletesOnlyOnceKafkaAcknowledgedTheRecordAndRefusesAtOnceWhenFull() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).topic("orders").maxItems(2).build();
		CompletableFuture<RecordMetadata> first = sender.send(record("a", "1"));
		CompletableFuture<RecordMetadata> second = sender.sendDefault("b", "2");
		CompletableFuture<RecordMetadata> refused = sender.send(record("c", "3"));
		assertThat(refused).isCompletedExceptionally();
		assertThatExceptionOfType(java.util.concurrent.ExecutionException.class).isThrownBy(refused::get)
			.withCauseInstanceOf(BufferFullException.class)
			.withMessageContaining("buffer 'orders' is full");
		sender.flush();
		await().until(() -> kafka.producer.history().size() == 2);
		// sent is not written: nothing completes before Kafka answers
		assertThat(first).isNotDone();
		kafka.producer.completeNext();
		await().until(first::isDone);
		assertThat(first.join().topic()).isEqualTo("orders");
		assertThat(second).isNotDone();
		// a failed send is not an answer either: the record is retried and completes when written
		kafka.producer.errorNext(new org.apache.kafka.common.errors.TimeoutException("no broker"));
		await().until(() -> sender.stats().failedAttempts() == 1); // the retry is scheduled: now its time may come
		this.clock.advance(Duration.ofSeconds(1));
		await().until(() -> kafka.producer.history().size() == 3);
		assertThat(second).isNotDone();
		kafka.producer.completeNext();
		await().until(second::isDone);
		assertThat(second).isCompleted();
	}

	@Test
	void sendFailsWhenTheSenderClosesBeforeKafkaAcknowledged() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).closeTimeout(Duration.ZERO)
			.maxAge(Duration.ofHours(1))
			.build();
		CompletableFuture<RecordMetadata> pending = sender.send(record("k", "v0"));
		sender.close(Duration.ZERO);
		await().until(pending::isDone);
		assertThatExceptionOfType(java.util.concurrent.ExecutionException.class).isThrownBy(pending::get)
			.withCauseInstanceOf(IllegalStateException.class)
			.withMessageContaining("closed before Kafka acknowledged the record");
		assertThat(sender.unflushed()).extracting(ProducerRecord::value).containsExactly("v0");
	}

	@Test
	void whatStopCannotSendInTimeIsHandedOver() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).closeTimeout(Duration.ZERO)
			.maxAge(Duration.ofHours(1))
			.build();
		sender.offer(record("k", "v0"));
		sender.offer(record("k", "v1"));
		List<ProducerRecord<String, String>> left = sender.close(Duration.ZERO);
		assertThat(left).extracting(ProducerRecord::value).containsExactly("v0", "v1");
		assertThat(sender.unflushed()).isEqualTo(left);
		await().untilAsserted(() -> assertThat(this.events).anySatisfy((event) -> assertThat(event)
			.isInstanceOfSatisfying(BufferAbandonedEvent.class, (abandoned) -> assertThat(abandoned.getRecords())
				.extracting((record) -> (Object) record.value())
				.containsExactly("v0", "v1"))));
	}

	@Test
	void backpressureAndDrainAreApplicationEventsWithTheUtilization() {
		MockKafka kafka = new MockKafka(false);
		BufferedKafkaSender<String, String> sender = builder(kafka).maxItems(4).maxBatchSize(4).build();
		for (int i = 0; i < 4; i++) {
			sender.offer(record("k", "v" + i));
		}
		await().until(() -> kafka.producer.history().size() == 4);
		for (int i = 0; i < 4; i++) {
			kafka.producer.completeNext();
		}
		await().until(() -> this.events.stream().anyMatch(BufferDrainedEvent.class::isInstance));
		List<BufferEvent> seen = new ArrayList<>(this.events);
		assertThat(seen).hasSize(2);
		assertThat(seen.get(0)).isInstanceOf(BufferBackpressureEvent.class);
		assertThat(seen.get(0).getUtilization()).isEqualTo(1.0);
		assertThat(seen.get(0).getBufferName()).isEqualTo("orders");
		assertThat(seen.get(0).getSender()).isSameAs(sender);
		assertThat(seen.get(1).getUtilization()).isZero();
	}

	@Test
	void eventsArePublishedInOrderOnABackgroundThread() {
		List<String> threads = new CopyOnWriteArrayList<>();
		BufferedKafkaSenders publishing = new BufferedKafkaSenders(null,
				(event) -> threads.add(Thread.currentThread().getName()));
		try {
			BufferedKafkaSender<String, String> sender = publishing.builder("full", new MockKafka(false).template)
				.maxBytes(Long.MAX_VALUE)
				.maxItems(1)
				.maxAge(Duration.ofHours(1))
				.build();
			sender.offer(record("k", "v"));
			await().until(() -> threads.size() == 1);
			assertThat(threads.get(0)).startsWith("ratelimit-buffer-events-");
			sender.close(Duration.ZERO);
		}
		finally {
			publishing.destroy();
		}
	}

	@Test
	void namesAreUniqueAndLimitersAreLookedUpInTheRegistry() {
		MockKafka kafka = new MockKafka(true);
		builder(kafka).build();
		assertThatIllegalStateException().isThrownBy(() -> builder(kafka).build())
			.withMessageContaining("a buffered sender named 'orders' already exists");

		RateLimiterRegistry registry = RateLimiterRegistry.builder().build().define("out", RateLimit.perSecond(100));
		BufferedKafkaSenders withRegistry = new BufferedKafkaSenders(registry, null);
		assertThatIllegalArgumentException()
			.isThrownBy(() -> withRegistry.builder("x", kafka.template).limiter("missing"))
			.withMessageContaining("no limiter named 'missing'");
		BufferedKafkaSender<String, String> paced = withRegistry.builder("x", kafka.template)
			.maxBytes(Long.MAX_VALUE)
			.limiter("out")
			.build();
		paced.close();
		assertThatIllegalStateException().isThrownBy(() -> this.senders.builder("y", kafka.template).limiter("out"))
			.withMessageContaining("no limiter registry");
	}

	@Test
	void offerDefaultUsesTheSendersTopicElseTheTemplates() {
		MockKafka kafka = new MockKafka(true);
		BufferedKafkaSender<String, String> sender = builder(kafka).build();
		assertThatIllegalStateException().isThrownBy(() -> sender.offerDefault("k", "v"))
			.withMessageContaining("has no topic");
		kafka.template.setDefaultTopic("fallback");
		assertThat(sender.topic()).isEqualTo("fallback");
		BufferedKafkaSender<String, String> own = this.senders.builder("own", kafka.template)
			.maxBytes(Long.MAX_VALUE)
			.topic("events")
			.build();
		assertThat(own.offerDefault("k", "v")).isTrue();
		own.close();
		assertThat(kafka.producer.history()).extracting(ProducerRecord::topic).containsExactly("events");
	}

}
