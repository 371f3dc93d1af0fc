package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import org.springframework.core.task.SimpleAsyncTaskExecutor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

class SerialExecutorTests {

	@Test
	void tasksRunOneAtATimeInOrderOnAThreadPerTaskExecutor() {
		SerialExecutor serial = new SerialExecutor(new SimpleAsyncTaskExecutor("serial-"));
		List<Integer> ran = new CopyOnWriteArrayList<>();
		AtomicInteger running = new AtomicInteger();
		AtomicInteger mostAtOnce = new AtomicInteger();
		for (int i = 0; i < 2000; i++) {
			int task = i;
			serial.execute(() -> {
				mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
				ran.add(task);
				running.decrementAndGet();
			});
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> ran.size() == 2000);
		assertThat(ran).isSorted();
		assertThat(mostAtOnce).hasValue(1);
	}

	@Test
	void aFailingTaskDoesNotStopTheOthers() {
		SerialExecutor serial = new SerialExecutor(Runnable::run);
		List<String> ran = new CopyOnWriteArrayList<>();
		serial.execute(() -> ran.add("first"));
		serial.execute(() -> {
			throw new IllegalStateException("listener failed");
		});
		serial.execute(() -> ran.add("third"));
		assertThat(ran).containsExactly("first", "third");
	}

	@Test
	void aShutDownExecutorRefusesNewTasks() {
		SerialExecutor serial = new SerialExecutor(Runnable::run);
		serial.shutdown();
		assertThatExceptionOfType(RejectedExecutionException.class).isThrownBy(() -> serial.execute(() -> {
		}));
	}

}
