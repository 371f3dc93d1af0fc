package dev.ratelimit.spring.scheduling;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.core.task.TaskDecorator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A periodic task runs on a scheduler of its own: built from the application's builder when there
 * is one (so its task decorator applies), on a daemon thread named after the task otherwise.
 */
class PeriodicTaskTests {

	@Test
	void withoutABuilderItRunsOnADaemonThreadNamedAfterIt() {
		PeriodicTask task = new PeriodicTask("ratelimit-test", null);
		List<Thread> ran = new CopyOnWriteArrayList<>();
		try {
			assertThat(task.start(() -> ran.add(Thread.currentThread()), Duration.ZERO, Duration.ofMillis(10))).isTrue();
			assertThat(task.start(() -> {
			}, Duration.ZERO, Duration.ofMillis(10))).as("already running").isFalse();
			assertThat(task.isRunning()).isTrue();
			await().atMost(Duration.ofSeconds(10)).until(() -> ran.size() >= 3);
			assertThat(ran).allSatisfy((thread) -> {
				assertThat(thread.getName()).startsWith("ratelimit-test-");
				assertThat(thread.isDaemon()).isTrue();
			});
		}
		finally {
			task.stop();
		}
		assertThat(task.isRunning()).isFalse();
		// and it can run again
		AtomicInteger again = new AtomicInteger();
		try {
			assertThat(task.start(again::incrementAndGet, Duration.ZERO, Duration.ofMillis(10))).isTrue();
			await().atMost(Duration.ofSeconds(10)).until(() -> again.get() >= 1);
		}
		finally {
			task.stop();
		}
	}

	@Test
	void stoppingWhileARunIsBeingHandedToAThreadLeavesNoUncaughtException() {
		stopsWithoutUncaughtException(new PeriodicTask("ratelimit-test", null));
	}

	@Test
	void withABuilderThatSetsATerminationTimeoutToo() {
		// as Boot's, with spring.task.scheduling.shutdown.await-termination-period
		stopsWithoutUncaughtException(new PeriodicTask("ratelimit-test",
				new SimpleAsyncTaskSchedulerBuilder().taskTerminationTimeout(Duration.ofSeconds(5))));
	}

	private void stopsWithoutUncaughtException(PeriodicTask task) {
		List<Throwable> uncaught = new CopyOnWriteArrayList<>();
		Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
		Thread.setDefaultUncaughtExceptionHandler((thread, ex) -> uncaught.add(ex));
		try {
			AtomicInteger runs = new AtomicInteger();
			for (int i = 0; i < 200; i++) {
				int before = runs.get();
				task.start(runs::incrementAndGet, Duration.ZERO, Duration.ZERO);
				await().pollDelay(Duration.ZERO)
					.pollInterval(Duration.ofMillis(1))
					.atMost(Duration.ofSeconds(10))
					.until(() -> runs.get() > before);
				task.stop();
			}
			// a last start and stop on the same task: any run handed over before it has ended by now
			int before = runs.get();
			task.start(runs::incrementAndGet, Duration.ZERO, Duration.ofMillis(10));
			await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() > before);
			task.stop();
		}
		finally {
			Thread.setDefaultUncaughtExceptionHandler(previous);
		}
		assertThat(uncaught).isEmpty();
	}

	@Test
	void stopWaitsForTheRunInProgress() throws InterruptedException {
		PeriodicTask task = new PeriodicTask("ratelimit-test", null);
		CountDownLatch started = new CountDownLatch(1);
		AtomicBoolean release = new AtomicBoolean();
		List<String> order = new CopyOnWriteArrayList<>();
		task.start(() -> {
			started.countDown();
			while (!release.get()) {
				Thread.onSpinWait();
			}
			order.add("run ended");
		}, Duration.ZERO, Duration.ofMillis(10));
		Thread stopper = new Thread(() -> {
			task.stop();
			order.add("stop returned");
		});
		try {
			assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
			stopper.start();
			await().atMost(Duration.ofSeconds(10)).until(() -> stopper.getState() == Thread.State.TIMED_WAITING);
		}
		finally {
			release.set(true);
		}
		stopper.join(Duration.ofSeconds(10).toMillis());
		assertThat(order).containsExactly("run ended", "stop returned");
		assertThat(task.isRunning()).isFalse();
	}

	@Test
	void aTaskThatThrowsAnErrorRunsAgain() {
		PeriodicTask task = new PeriodicTask("ratelimit-test", null);
		AtomicInteger runs = new AtomicInteger();
		try {
			task.start(() -> {
				runs.incrementAndGet();
				throw new AssertionError("an Error, not an exception");
			}, Duration.ZERO, Duration.ofMillis(1));
			// the scheduler logs each Error; none reaches the thread's uncaught-exception handler
			await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() >= 3);
		}
		finally {
			task.stop();
		}
	}

	@Test
	void withTheApplicationsBuilderItsTaskDecoratorApplies() {
		AtomicInteger decorated = new AtomicInteger();
		TaskDecorator decorator = (runnable) -> () -> {
			decorated.incrementAndGet();
			runnable.run();
		};
		PeriodicTask task = new PeriodicTask("ratelimit-test", new SimpleAsyncTaskSchedulerBuilder().taskDecorator(decorator));
		List<String> threads = new CopyOnWriteArrayList<>();
		try {
			task.start(() -> threads.add(Thread.currentThread().getName()), Duration.ZERO, Duration.ofMillis(10));
			await().atMost(Duration.ofSeconds(10)).until(() -> threads.size() >= 2);
		}
		finally {
			task.stop();
		}
		assertThat(decorated.get()).isGreaterThanOrEqualTo(2);
		assertThat(threads).allSatisfy((name) -> assertThat(name).startsWith("ratelimit-test-"));
	}

	@Test
	void runsNeverOverlapEvenWhenARunOutlastsTheDelayAndOneThatThrowsIsRunAgain() {
		PeriodicTask task = new PeriodicTask("ratelimit-test", new SimpleAsyncTaskSchedulerBuilder());
		AtomicInteger active = new AtomicInteger();
		AtomicInteger mostActive = new AtomicInteger();
		AtomicInteger runs = new AtomicInteger();
		List<Thread> threads = new CopyOnWriteArrayList<>();
		try {
			task.start(() -> {
				mostActive.accumulateAndGet(active.incrementAndGet(), Math::max);
				threads.add(Thread.currentThread());
				try {
					// each run lasts 5 ms, five times the delay
					long end = System.nanoTime() + Duration.ofMillis(5).toNanos();
					while (System.nanoTime() - end < 0) {
						Thread.onSpinWait();
					}
					if (runs.incrementAndGet() % 2 == 1) {
						throw new IllegalStateException("every other run fails");
					}
				}
				finally {
					active.decrementAndGet();
				}
			}, Duration.ZERO, Duration.ofMillis(1));
			await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() >= 6);
		}
		finally {
			task.stop();
		}
		assertThat(mostActive).hasValue(1);
		assertThat(threads).allSatisfy((thread) -> assertThat(thread.isDaemon()).as("built from the builder too")
			.isTrue());
	}

}
