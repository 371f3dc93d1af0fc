package dev.ratelimit.spring.rules;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ratelimit.kafka.StandaloneBroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runtime rules across instance processes against a broker process: three JVMs of one web
 * application ({@link FleetInstanceMain}); a change made on one through the actuator (of a rate,
 * a capacity, or a priority limiter's class shares) reaches the others within a second, is in
 * force for a whole new fleet after every instance was killed, stays in force after a redeploy
 * with another configured value (as documented), and a clear returns every instance to its own
 * configured limit.
 */
class FleetRulesAcrossProcessesIT {

	/** The bound on how long a change takes to reach the other instances. */
	private static final long WITHIN_MILLIS = 1000;

	private static StandaloneBroker broker;

	private static Path logs;

	private final List<Instance> instances = new ArrayList<>();

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

	@BeforeAll
	static void startBroker() throws Exception {
		broker = new StandaloneBroker();
		broker.start();
		logs = Files.createTempDirectory("ratelimit-fleet-rules");
	}

	@AfterAll
	static void stopBroker() throws Exception {
		broker.close();
	}

	@AfterEach
	void killInstances() throws Exception {
		for (Instance instance : this.instances) {
			instance.process.destroyForcibly().waitFor();
		}
	}

	@Test
	void aChangeOnOneInstanceReachesTheOthersSurvivesRestartsAndIsClearedEverywhere() throws Exception {
		List<Instance> fleet = startFleet("first", "100/1s");
		assertThat(fleet).allSatisfy((instance) -> assertThat(instance.startLimit).isEqualTo("100/s,100"));
		assertThat(fleet).allSatisfy((instance) -> assertThat(instance.startTiered).isEqualTo("100/s,100,none"));

		// changes made on one instance, timed from just before the request to each other's apply
		List<Long> delays = new ArrayList<>();
		String[][] changes = { { "40/1s", "40" }, { "60/1s", "30" }, { "25/1s", "25" } };
		for (int i = 0; i < changes.length; i++) {
			Instance origin = fleet.get(i % fleet.size());
			long before = System.currentTimeMillis();
			HttpResponse<String> response = send(origin, "orders", "POST", "{\"rate\":\"" + changes[i][0] + "\",\"capacity\":"
					+ changes[i][1] + ",\"fleet\":true,\"reason\":\"incident 42, step " + i + "\"}");
			assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
			assertThat(response.body()).contains("\"author\":\"anonymous\"", "\"reason\":\"incident 42, step " + i + "\"");
			long version = version(response.body());
			String expected = rate(changes[i][0]) + "," + changes[i][1];
			for (Instance other : fleet) {
				long appliedAt = await().atMost(Duration.ofSeconds(30)).until(() -> other.applied(version), Optional::isPresent)
					.get();
				assertThat(other.appliedLimit(version)).isEqualTo(expected);
				if (other != origin) {
					delays.add(appliedAt - before);
				}
			}
		}
		// a priority limiter's capacity and class shares, from the second instance
		long beforeShares = System.currentTimeMillis();
		HttpResponse<String> shares = send(fleet.get(1), "tiered", "POST",
				"{\"capacity\":400,\"shares\":\"batch:0.25\",\"fleet\":true,\"reason\":\"batch backlog\"}");
		assertThat(shares.statusCode()).as(shares.body()).isEqualTo(200);
		long sharesVersion = version(shares.body());
		for (Instance other : fleet) {
			long appliedAt = await().atMost(Duration.ofSeconds(30))
				.until(() -> other.applied(sharesVersion), Optional::isPresent)
				.get();
			assertThat(other.appliedLimit(sharesVersion)).isEqualTo("100/s,400,batch:0.25");
			if (other != fleet.get(1)) {
				delays.add(appliedAt - beforeShares);
			}
		}
		System.out.println("Rule propagation to the other instances, ms from request to apply: " + delays);
		assertThat(delays).allSatisfy((delay) -> assertThat(delay).isLessThanOrEqualTo(WITHIN_MILLIS));

		// the whole fleet killed and replaced: the new instances start with the rule in force
		killAll();
		List<Instance> restarted = startFleet("restarted", "100/1s");
		assertThat(restarted).allSatisfy((instance) -> assertThat(instance.startLimit).isEqualTo("25/s,25"));
		assertThat(restarted).allSatisfy((instance) -> assertThat(instance.startTiered).isEqualTo("100/s,400,batch:0.25"));

		// a redeploy with another configured value: the rule stays in force, each instance says so
		killAll();
		List<Instance> redeployed = startFleet("redeployed", "200/1s");
		assertThat(redeployed).allSatisfy((instance) -> {
			assertThat(instance.startLimit).isEqualTo("25/s,25");
			assertThat(instance.log()).contains("is configured here as token-bucket[200/s capacity=200] but runtime "
					+ "rule version");
		});

		// cleared on one: every instance returns to its own configured limit
		long before = System.currentTimeMillis();
		HttpResponse<String> cleared = send(redeployed.get(1), "orders", "DELETE", null);
		assertThat(cleared.statusCode()).as(cleared.body()).isEqualTo(200);
		long version = version(cleared.body());
		for (Instance instance : redeployed) {
			long appliedAt = await().atMost(Duration.ofSeconds(30)).until(() -> instance.applied(version), Optional::isPresent)
				.get();
			assertThat(instance.appliedLimit(version)).isEqualTo("200/s,200");
			assertThat(appliedAt - before).isLessThanOrEqualTo(WITHIN_MILLIS);
		}
		assertThat(send(redeployed.get(2), "orders", "GET", null).body()).contains("\"rate\":\"200/s\"",
				"\"inForce\":false");
		HttpResponse<String> sharesCleared = send(redeployed.get(0), "tiered", "DELETE", null);
		assertThat(sharesCleared.statusCode()).as(sharesCleared.body()).isEqualTo(200);
		long sharesClearedVersion = version(sharesCleared.body());
		for (Instance instance : redeployed) {
			await().atMost(Duration.ofSeconds(30)).until(() -> instance.applied(sharesClearedVersion), Optional::isPresent);
			assertThat(instance.appliedLimit(sharesClearedVersion)).isEqualTo("100/s,100,none");
		}
	}

	private static String rate(String configured) {
		return configured.replace("/1s", "/s");
	}

	private static long version(String body) {
		int at = body.indexOf("\"version\":");
		assertThat(at).as(body).isPositive();
		int end = at + "\"version\":".length();
		while (end < body.length() && Character.isDigit(body.charAt(end))) {
			end++;
		}
		return Long.parseLong(body.substring(at + "\"version\":".length(), end));
	}

	private HttpResponse<String> send(Instance instance, String limiter, String method, String json) throws Exception {
		HttpRequest.Builder request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + instance.port + "/actuator/ratelimits/" + limiter))
			.timeout(Duration.ofSeconds(30));
		if (json != null) {
			request.header("Content-Type", "application/json");
		}
		request.method(method, (json != null) ? HttpRequest.BodyPublishers.ofString(json)
				: HttpRequest.BodyPublishers.noBody());
		return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private List<Instance> startFleet(String round, String configuredRate) throws Exception {
		List<Instance> fleet = new ArrayList<>();
		for (int i = 1; i <= 3; i++) {
			fleet.add(Instance.start(round + "-" + i, configuredRate));
		}
		this.instances.addAll(fleet);
		for (Instance instance : fleet) {
			instance.awaitReady();
		}
		return fleet;
	}

	private void killAll() throws Exception {
		for (Instance instance : this.instances) {
			instance.process.destroyForcibly().waitFor();
		}
		this.instances.clear();
	}

	private static final class Instance {

		private final Process process;

		private final Path output;

		private int port;

		private String startLimit;

		private String startTiered;

		private Instance(Process process, Path output) {
			this.process = process;
			this.output = output;
		}

		static Instance start(String id, String configuredRate) throws Exception {
			Path output = logs.resolve(id + ".log");
			String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
			String capacity = configuredRate.substring(0, configuredRate.indexOf('/'));
			Process process = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
					System.getProperty("java.class.path"), FleetInstanceMain.class.getName(),
					"--ratelimit.kafka.bootstrap-servers=" + broker.bootstrap(), "--ratelimit.kafka.cluster-id=fleet",
					"--ratelimit.kafka.instance-id=" + id, "--ratelimit.limiters.orders.rate=" + configuredRate,
					"--ratelimit.limiters.orders.capacity=" + capacity)
				.redirectErrorStream(true)
				.redirectOutput(output.toFile())
				.start();
			return new Instance(process, output);
		}

		void awaitReady() {
			String ready = await().atMost(Duration.ofMinutes(3))
				.until(() -> line("READY "), Optional::isPresent)
				.get();
			String[] fields = ready.split(" ");
			this.port = Integer.parseInt(fields[1]);
			this.startLimit = fields[2];
			this.startTiered = fields[3];
		}

		Optional<Long> applied(long version) throws Exception {
			return line("RULE " + version + " ").map((line) -> Long.parseLong(line.split(" ")[2]));
		}

		String appliedLimit(long version) throws Exception {
			return line("RULE " + version + " ").map((line) -> line.split(" ")[3]).orElseThrow();
		}

		Optional<String> line(String prefix) throws Exception {
			if (!this.process.isAlive() && !Files.readString(this.output).contains(prefix)) {
				throw new IllegalStateException("instance exited with " + this.process.exitValue() + ":\n" + log());
			}
			return Files.readAllLines(this.output).stream().filter((line) -> line.startsWith(prefix)).findFirst();
		}

		String log() throws Exception {
			return Files.readString(this.output);
		}

	}

}
