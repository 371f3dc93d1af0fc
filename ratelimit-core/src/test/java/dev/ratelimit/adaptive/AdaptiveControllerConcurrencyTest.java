package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.RepeatedTest;

import dev.ratelimit.Rate;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Signals from many threads at once: changes are serialized, so the target ends with the rate the
 * controller reports and the listener sees one unbroken chain of changes.
 */
class AdaptiveControllerConcurrencyTest {

	private static final int THREADS = 8;

	private static final int SIGNALS = 5_000;

	@RepeatedTest(5)
	void signalsFromManyThreadsKeepTargetAndListenerInStep() throws Exception {
		ManualClock clock = new ManualClock();
		Recorder recorder = new Recorder();
		AdaptiveController controller = AdaptiveController.builder("shared", Rate.perSecond(1000), recorder)
			.config(AdaptiveConfig.builder()
				.decreaseCooldown(Duration.ofMillis(10))
				.recoveryInterval(Duration.ofMillis(50))
				.build())
			.ticker(clock)
			.listener(recorder)
			.build();
		ExecutorService executor = Executors.newFixedThreadPool(THREADS);
		try {
			CountDownLatch start = new CountDownLatch(1);
			List<Future<?>> futures = new ArrayList<>();
			for (int t = 0; t < THREADS; t++) {
				futures.add(executor.submit(() -> {
					start.await();
					ThreadLocalRandom random = ThreadLocalRandom.current();
					for (int i = 0; i < SIGNALS; i++) {
						switch (random.nextInt(6)) {
							case 0 -> controller.reduce("429");
							case 1 -> controller.onLag(random.nextLong(25_000));
							case 2 -> controller.onUtilization(random.nextDouble());
							case 3 -> clock.advance(Duration.ofMillis(random.nextInt(20)));
							default -> controller.evaluate();
						}
						AdaptiveState state = controller.state();
						assertThat(state.rate().perSecond()).isBetween(state.floor().perSecond(),
								state.ceiling().perSecond());
					}
					return null;
				}));
			}
			start.countDown();
			for (Future<?> future : futures) {
				future.get(1, TimeUnit.MINUTES);
			}
		}
		finally {
			executor.shutdownNow();
		}
		AdaptiveState state = controller.state();
		List<Rate> applied = recorder.applied;
		assertThat(applied).isNotEmpty();
		assertThat(applied.get(applied.size() - 1)).isEqualTo(state.rate());
		// every change starts where the previous one ended
		String last = "1000/s";
		for (String event : recorder.events) {
			if (event.contains("/s -> ")) {
				String[] parts = event.split(" ");
				assertThat(parts[1]).as(event).isEqualTo(last);
				last = parts[3];
			}
		}
		assertThat(last).isEqualTo(Recorder.format(state.rate()));
		assertThat(state.decreases() + state.increases()).isEqualTo(applied.size());
	}

}
