package dev.ratelimit.sample;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.ratelimit.sample.orders.OrderProcessor;
import dev.ratelimit.sample.orders.OrderStats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample end to end, on its embedded broker: a hot tenant is limited with 429 and the rate
 * limit headers while other tenants pass, the drain holds its rate and processes every accepted
 * order (also across a stop of its listener mid-drain), and the actuator shows the limiters.
 */
@SampleAppTest
class SampleApplicationIT {

	/** The drain's rate and burst, from application.yml. */
	private static final int DRAIN_RATE = 5;

	private static final int DRAIN_BURST = 5;

	/** The most the drain's lease holds: a grant never exceeds the bucket, so its capacity. */
	private static final int DRAIN_LEASE = DRAIN_BURST;

	private final JsonMapper json = JsonMapper.builder().build();

	@LocalServerPort
	private int port;

	@Autowired
	private OrderStats stats;

	@Autowired
	private KafkaListenerEndpointRegistry listeners;

	@Test
	void hotTenantIsLimitedOtherTenantsPassAndTheDrainHoldsItsRate() {
		SampleClient client = new SampleClient(this.port);
		client.awaitSharedLimits("warm-up");
		long acceptedBefore = this.stats.accepted();

		List<HttpResponse<String>> hot = client.burst("hot", 40);
		List<HttpResponse<String>> limited = hot.stream().filter((response) -> response.statusCode() == 429).toList();
		assertThat(limited).as("429s of the hot tenant").isNotEmpty();
		assertThat(hot).as("the hot tenant's answers")
			.allSatisfy((response) -> assertThat(response.statusCode()).isIn(202, 429));
		for (HttpResponse<String> response : limited) {
			assertThat(response.headers().firstValue("Retry-After"))
				.hasValueSatisfying((seconds) -> assertThat(Long.parseLong(seconds)).isPositive());
			assertThat(response.headers().firstValue("RateLimit"))
				.hasValueSatisfying((value) -> assertThat(value).startsWith("\"orders\";r=0"));
			assertThat(response.headers().firstValue("RateLimit-Policy")).hasValue("\"orders\";q=10;w=2");
		}

		List<HttpResponse<String>> others = new ArrayList<>();
		for (String tenant : List.of("acme", "globex", "initech")) {
			for (int i = 0; i < 5; i++) {
				others.add(client.order(tenant));
			}
		}
		assertThat(others).as("other tenants' answers").allSatisfy((response) -> {
			assertThat(response.statusCode()).isEqualTo(202);
			assertThat(response.headers().firstValue("RateLimit")).isPresent();
			// a 202 is an order Kafka has: its answer says where it was written
			assertThat(response.body()).contains("\"offset\"").contains("\"partition\"");
		});

		long accepted = this.stats.accepted() - acceptedBefore;
		assertThat(accepted).isEqualTo(hot.size() - limited.size() + others.size());

		// a backlog for the drain to be stopped in the middle of, however far it got meanwhile (it
		// drains 5 a second; without these it had once caught up with every order before the stop)
		for (String tenant : List.of("umbrella", "hooli", "vandelay")) {
			assertThat(client.burst(tenant, 8)).allSatisfy((response) -> assertThat(response.statusCode()).isEqualTo(202));
		}

		// stop the drain mid-way and start it again: offsets are committed per record, so
		// nothing is skipped and nothing is processed twice
		MessageListenerContainer drain = this.listeners.getListenerContainer(OrderProcessor.LISTENER_ID);
		long stopAt = this.stats.processed() + 5;
		await().atMost(Duration.ofSeconds(30)).until(() -> this.stats.processed() >= stopAt);
		drain.stop();
		assertThat(this.stats.processed()).isLessThan(this.stats.accepted());
		drain.start();
		long started = System.nanoTime();
		await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(this.stats.processed())
			.as("processed (accepted %d, refused %d, unconfirmed %d)", this.stats.accepted(), this.stats.refused(),
					this.stats.unconfirmed())
			// an order answered unconfirmed (Kafka slower than the answer's wait, at the first sends) is
			// buffered all the same, and written once Kafka answers: it is processed too
			.isEqualTo(this.stats.accepted() + this.stats.unconfirmed()));
		double seconds = (System.nanoTime() - started) / 1e9;

		// the bound of a global limit (docs/architecture.md, "Guarantees"): over any interval T,
		// capacity + rate x T + the lease held at its start, at most a capacity here; the times are
		// when the drain let each order through, so a slow first partner call does not bunch them
		assertThat(this.stats.maxProcessedInOneSecond()).as("orders let through in any one second")
			.isLessThanOrEqualTo(DRAIN_RATE + DRAIN_BURST + DRAIN_LEASE);
		long afterRestart = this.stats.processedTimes().stream().filter((time) -> time - started >= 0).count();
		assertThat(afterRestart).as("orders let through after the restart, in %.1f s", seconds)
			.isLessThanOrEqualTo((long) Math.ceil(DRAIN_RATE * seconds) + DRAIN_BURST + DRAIN_LEASE);

		JsonNode limiters = this.json.readTree(client.get("/actuator/ratelimits").body()).get("limiters");
		assertThat(limiters.valueStream().map((limiter) -> limiter.get("name").asString()))
			.contains("orders", "orders-tenant", "orders-global", "drain", "partner", "warehouse");
		JsonNode global = limiters.valueStream()
			.filter((limiter) -> limiter.get("name").asString().equals("orders-global"))
			.findFirst()
			.orElseThrow();
		assertThat(global.get("backend").asString()).isEqualTo("kafka");
		assertThat(global.get("distributed").asBoolean()).isTrue();
		JsonNode health = this.json.readTree(client.get("/actuator/health").body());
		assertThat(health.at("/components/ratelimit/status").asString()).isEqualTo("UP");
		assertThat(client.get("/actuator/prometheus").body())
			.contains("ratelimit_calls_total{name=\"orders\",result=\"rejected\"")
			.contains("ratelimit_buffer_sent_total{name=\"orders\"}")
			.contains("ratelimit_buffer_sent_total{name=\"shipments\"}");
		assertThat(this.stats.refused()).as("orders refused for a full buffer").isZero();

		// a client of the sample cannot open a shared limit: the endpoint's writes are off over HTTP
		assertThat(client.post("/actuator/ratelimits/orders-global", "{\"rate\": \"1000000/1s\"}").statusCode())
			.isBetween(400, 499);
		JsonNode after = this.json.readTree(client.get("/actuator/ratelimits/orders-global").body());
		assertThat(after.get("rate").asString()).isEqualTo(global.get("rate").asString());
	}

}
