package dev.ratelimit.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.Priorities;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A global limit divided among priority classes, three backends on a real in-process broker: with
 * every instance saturating the limit with batch calls, critical calls at 20% of the rate, all on
 * one instance, are admitted (the authority gives that instance the share its critical calls
 * need); batch gets the rest, and the fleet stays within the bound. The figures across instance
 * processes come from the multi-process harness ({@code priority-3x300}).
 */
class SharedPrioritiesIT extends BrokerPerClass {

	private final List<KafkaRateLimiterBackend> backends = new ArrayList<>();

	@AfterEach
	void closeBackends() {
		KafkaTestSupport.closeAll(this.backends);
	}

	@Test
	void criticalCallsOnOneInstanceKeepTheirShareWhileEveryInstanceSaturatesWithBatch() throws Exception {
		RateLimit limit = RateLimit.tokenBucket(Rate.parse("300/1s")).capacity(300).build();
		Priorities priorities = Priorities.of("critical", "batch");
		List<RateLimiterRegistry> registries = instances("priorities", 3, limit, priorities, -1, null);
		List<KafkaTestSupport.Load> warmUp = new ArrayList<>();
		List<KafkaTestSupport.Load> loads = new ArrayList<>();
		for (RateLimiterRegistry registry : registries) {
			warmUp.add(new KafkaTestSupport.Load(registry.priorities("api").forClass("batch"), 400));
			loads.add(new KafkaTestSupport.Load(registry.priorities("api").forClass("batch"), 400));
		}
		KafkaTestSupport.runAll(warmUp, Duration.ofSeconds(3));
		KafkaTestSupport.Load critical = new KafkaTestSupport.Load(registries.get(0).priorities("api")
			.forClass("critical"), 60);
		loads.add(critical);
		// as long as the harness's run (priority-3x300): critical's first calls, before its demand is
		// measured, weigh what they weigh in a run of that length
		Duration duration = Duration.ofSeconds(30);

		long[] admitted = KafkaTestSupport.runAll(loads, duration);

		long batch = admitted[0] + admitted[1] + admitted[2];
		long total = batch + admitted[3];
		System.out.printf("critical %d of %d, batch %d (%d, %d, %d), total %d%n", admitted[3],
				critical.attempts.get(), batch, admitted[0], admitted[1], admitted[2], total);
		assertThat((double) admitted[3]).as("critical admitted").isGreaterThanOrEqualTo(0.99 * critical.attempts.get());
		// the bound over the measured window, with the burst and the warm-up's leases in hand
		assertThat(total).isLessThanOrEqualTo(300 + 300 * duration.toSeconds() + 300);
		assertThat(batch).as("batch gets what is left").isGreaterThan((long) (0.7 * 300 * duration.toSeconds()));
	}

	@Test
	void aRateChangedOnOneInstanceReachesTheClassesOfTheOthersAndTheirListeners() throws Exception {
		RateLimit limit = RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build();
		Priorities priorities = Priorities.of("critical", "batch");
		List<RateLimit> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
		List<RateLimiterRegistry> registries = instances("changes", 2, limit, priorities, 0, heard);
		dev.ratelimit.RateLimiter critical = registries.get(0).priorities("api").forClass("critical");
		await().atMost(Duration.ofSeconds(60)).until(critical::tryAcquire);

		registries.get(1).priorities("api").updateRate(Rate.parse("50/1s"));

		await().atMost(Duration.ofSeconds(60))
			.until(() -> critical.limit().rate().equals(Rate.parse("50/1s")) && !heard.isEmpty());
		assertThat(heard).last().satisfies((current) -> assertThat(current.rate()).isEqualTo(Rate.parse("50/1s")));
	}

	@Test
	void newCapacityAndSharesAppliedOnEveryInstanceReachTheAuthorityAndEachGate() throws Exception {
		RateLimit limit = RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(100).build();
		Priorities priorities = Priorities.of("critical", "batch");
		List<RateLimit> heardBySecond = new java.util.concurrent.CopyOnWriteArrayList<>();
		List<RateLimiterRegistry> registries = instances("shares", 2, limit, priorities, 1, heardBySecond);
		for (RateLimiterRegistry registry : registries) {
			dev.ratelimit.RateLimiter batch = registry.priorities("api").forClass("batch");
			await().atMost(Duration.ofSeconds(60)).until(batch::tryAcquire);
		}
		RateLimit ruled = RateLimit.tokenBucket(Rate.parse("100/1s")).capacity(400).build();
		Priorities shares = priorities.minimumShare("batch", 0.25);

		// the first instance's change reaches the authority, and through it the other instance's
		// shared limit; its shares stay its own
		registries.get(0).updateLimit("api", ruled, shares);
		await().atMost(Duration.ofSeconds(60)).until(() -> registries.get(1).priorities("api").limit().equals(ruled));
		assertThat(registries.get(1).priorities("api").priorities().minimumShare("batch")).isZero();
		// as a runtime rule does: each instance applies it to its own registry. The second one's
		// shared limit is the rule's already, so only its shares change: its listener hears it
		int heard = heardBySecond.size();
		registries.get(1).updateLimit("api", ruled, shares);
		assertThat(heardBySecond).hasSize(heard + 1).last().isEqualTo(ruled);

		for (RateLimiterRegistry registry : registries) {
			dev.ratelimit.PriorityRateLimiter divided = registry.priorities("api");
			assertThat(divided.limit()).isEqualTo(ruled);
			assertThat(divided.priorities().minimumShare("batch")).isEqualTo(0.25);
			assertThat(divided.forClass("batch").snapshot().details()).containsEntry("minimumShares",
					java.util.Map.of("batch", 0.25));
			// batch's own reserve in the gate (a quarter of 400) or the shared 300 less critical's headroom
			assertThat(divided.forClass("batch").snapshot().capacity()).isEqualTo(240);
			dev.ratelimit.RateLimiter critical = divided.forClass("critical");
			await().atMost(Duration.ofSeconds(60)).until(critical::tryAcquire);
		}
	}

	/**
	 * Starts instances of one cluster, each a backend and a registry declaring {@code api} divided
	 * among the classes, once every authority is up.
	 * @param listening the instance whose limit changes go to {@code heard}, or -1 for none
	 */
	private List<RateLimiterRegistry> instances(String cluster, int count, RateLimit limit, Priorities priorities,
			int listening, List<RateLimit> heard) {
		List<RateLimiterRegistry> registries = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			KafkaRateLimiterBackend backend = KafkaRateLimiterBackend
				.start(KafkaTestSupport.config(broker.getBrokersAsString(), cluster, "instance-" + i).build());
			this.backends.add(backend);
			RateLimiterRegistry.Builder builder = RateLimiterRegistry.builder();
			if (i == listening) {
				builder.listeners((name, key) -> new dev.ratelimit.RateLimiterListener() {

					@Override
					public void onLimitChanged(RateLimit previous, RateLimit current) {
						heard.add(current);
					}

				});
			}
			registries.add(builder.build().definePriorities("api", limit, priorities, "batch", backend));
		}
		KafkaTestSupport.awaitAuthorities(this.backends);
		return registries;
	}

}
