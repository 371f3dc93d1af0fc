package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * A timed offer waits for room at most its timeout, measured on the pool's clock. Waiting needs a
 * second thread; the manual clock still decides when the wait ends.
 */
class BufferPoolTimedOfferTest {

	private final ManualClock clock = new ManualClock();

	private final RecordingHandler<Integer> handler = new RecordingHandler<>(this.clock);

	private final RecordingListener<Integer> listener = new RecordingListener<>();

	private final BufferPool<Integer> pool = BufferPool.builder(this.handler)
		.ticker(this.clock)
		.scheduler(this.clock)
		.executor(Runnable::run)
		.listener(this.listener)
		.maxItems(2)
		.maxBatchSize(2)
		.build();

	private Thread producer;

	@AfterEach
	void stopProducer() throws InterruptedException {
		if (this.producer != null) {
			this.producer.interrupt();
			this.producer.join(TimeUnit.SECONDS.toMillis(30));
		}
	}

	/** Fills the buffer with a batch that fails until retried at 100 ms. */
	private void fill() {
		this.handler.failNext(1);
		this.pool.offer(1);
		this.pool.offer(2);
		assertThat(this.pool.utilization()).isEqualTo(1.0);
	}

	private CompletableFuture<Boolean> offerInBackground(int item, Duration timeout) {
		CompletableFuture<Boolean> result = new CompletableFuture<>();
		Thread thread = new Thread(() -> {
			try {
				result.complete(this.pool.offer(item, timeout));
			}
			catch (Throwable ex) {
				result.completeExceptionally(ex);
			}
		}, "producer-" + item);
		thread.start();
		await().atMost(Duration.ofSeconds(30)).until(() -> thread.getState() == Thread.State.TIMED_WAITING);
		this.producer = thread;
		return result;
	}

	@Test
	void acceptsAtOnceWhenThereIsRoom() throws InterruptedException {
		assertThat(this.pool.offer(1, Duration.ofSeconds(1))).isTrue();
		assertThat(this.pool.size()).isEqualTo(1);
	}

	@Test
	void aZeroTimeoutRefusesAtOnceWhenFull() throws InterruptedException {
		fill();
		assertThat(this.pool.offer(3, Duration.ZERO)).isFalse();
		assertThat(this.pool.stats().refused()).isEqualTo(1);
		assertThat(this.listener.events()).containsExactly("full 1.00",
				"failed 2 attempt=1 IOException backoff=100ms 1.00", "refused 3 1.00");
	}

	@Test
	void aNegativeTimeoutIsAnError() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.pool.offer(1, Duration.ofMillis(-1)))
			.withMessage("timeout must be zero or a positive duration, but was PT-0.001S: it is the longest wait, "
					+ "zero for none");
	}

	@Test
	void waitsUntilADeliveryMakesRoom() throws Exception {
		fill();
		CompletableFuture<Boolean> offered = offerInBackground(3, Duration.ofMinutes(10));
		assertThat(offered).isNotDone();
		this.clock.advance(Duration.ofMillis(100)); // the retry delivers [1, 2]
		assertThat(offered.get(30, TimeUnit.SECONDS)).isTrue();
		assertThat(this.pool.size()).isEqualTo(1);
		assertThat(this.pool.stats().refused()).isZero();
	}

	@Test
	void givesUpWhenTheTimeoutPassesOnThePoolsClock() throws Exception {
		this.handler.failNext(Integer.MAX_VALUE);
		this.pool.offer(1);
		this.pool.offer(2);
		CompletableFuture<Boolean> offered = offerInBackground(3, Duration.ofMinutes(5));
		this.clock.advance(Duration.ofMinutes(5).minusMillis(1));
		assertThat(offered).isNotDone();
		this.clock.advance(Duration.ofMillis(1));
		assertThat(offered.get(30, TimeUnit.SECONDS)).isFalse();
		assertThat(this.pool.stats().refused()).isEqualTo(1);
		assertThat(this.listener.events()).contains("full 1.00", "refused 3 1.00");
	}

	@Test
	void eachWaitingOfferEndsAtItsOwnTimeout() throws Exception {
		this.handler.failNext(Integer.MAX_VALUE);
		this.pool.offer(1);
		this.pool.offer(2);
		CompletableFuture<Boolean> longer = offerInBackground(3, Duration.ofMinutes(30));
		Thread first = this.producer;
		CompletableFuture<Boolean> shorter = offerInBackground(4, Duration.ofMinutes(10));
		this.clock.advance(Duration.ofMinutes(10));
		assertThat(shorter.get(30, TimeUnit.SECONDS)).isFalse();
		this.producer = first;
		await().atMost(Duration.ofSeconds(30)).until(() -> first.getState() == Thread.State.TIMED_WAITING);
		assertThat(longer).isNotDone();
		this.clock.advance(Duration.ofMinutes(20));
		assertThat(longer.get(30, TimeUnit.SECONDS)).isFalse();
		assertThat(this.pool.stats().refused()).isEqualTo(2);
	}

	@Test
	void anInterruptedOfferAddsNothing() throws Exception {
		fill();
		CompletableFuture<Boolean> offered = offerInBackground(3, Duration.ofMinutes(10));
		this.producer.interrupt();
		assertThat(offered).failsWithin(Duration.ofSeconds(30))
			.withThrowableThat()
			.withCauseInstanceOf(InterruptedException.class);
		this.clock.advance(Duration.ofMillis(100));
		assertThat(this.handler.delivered()).containsExactly(1, 2);
		assertThat(this.pool.size()).isZero();
	}

	@Test
	void waitsInRealTimeWithTheSystemClock() throws Exception {
		CountDownLatch release = new CountDownLatch(1);
		BufferPool<Integer> real = BufferPool.<Integer>builder((batch) -> release.await())
			.maxItems(1)
			.maxBatchSize(1)
			.build();
		try {
			assertThat(real.offer(1)).isTrue(); // the handler holds it
			assertThat(real.offer(2, Duration.ofMillis(20))).isFalse();
			release.countDown();
			assertThat(real.offer(2, Duration.ofSeconds(30))).isTrue();
		}
		finally {
			release.countDown();
			assertThat(real.close(Duration.ofSeconds(30))).isEmpty();
		}
		assertThat(real.stats()).isEqualTo(new BufferStats(2, 1, 2, 2, 0));
	}

	@Test
	void manyProducersWaitingForRoomAllGetIn() throws Exception {
		BufferPool<Integer> real = BufferPool.builder(this.handler).maxItems(4).maxBatchSize(2).build();
		Thread[] producers = new Thread[4];
		for (int p = 0; p < producers.length; p++) {
			int base = p * 1000;
			producers[p] = new Thread(() -> {
				for (int i = 0; i < 250; i++) {
					try {
						assertThat(real.offer(base + i, Duration.ofSeconds(30))).isTrue();
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
						return;
					}
				}
			});
			producers[p].start();
		}
		for (Thread thread : producers) {
			thread.join(TimeUnit.SECONDS.toMillis(60));
		}
		assertThat(real.close(Duration.ofSeconds(30))).isEmpty();
		List<Integer> delivered = this.handler.delivered();
		assertThat(delivered).hasSize(1000).doesNotHaveDuplicates();
	}

}
