package dev.ratelimit.sample;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real headless Chromium, driven through the DevTools protocol: the page loads
 * with its charts, they update once load is sent, and the browser reports no console error, no
 * uncaught exception and no failed request. Leaves a screenshot in
 * {@code target/dashboard.png}.
 */
@SampleAppTest
class DashboardBrowserIT {

	/** Charts always shown: drain, lag and severity, process CPU, and one per declared limiter (six). */
	private static final int CHARTS = 9;

	@LocalServerPort
	private int port;

	@Test
	void chartsUpdateWhenLoadIsSentAndThePageHasNoErrors() throws Exception {
		Optional<Path> executable = Chromium.find();
		assumeTrue(executable.isPresent(), "Chromium is missing and could not be installed (" + Chromium.INSTALL + ")");
		SampleClient client = new SampleClient(this.port);
		List<String> errors = new CopyOnWriteArrayList<>();
		try (Chromium chromium = Chromium.start(executable.get()); DevTools page = chromium.openPage()) {
			page.onEvent((event) -> {
				String method = event.get("method").asString();
				JsonNode params = event.get("params");
				if (method.equals("Runtime.exceptionThrown")) {
					errors.add("exception: " + params.at("/exceptionDetails"));
				}
				else if (method.equals("Runtime.consoleAPICalled")
						&& List.of("error", "assert").contains(params.get("type").asString())) {
					errors.add("console." + params.get("type").asString() + ": " + params.get("args"));
				}
				else if (method.equals("Log.entryAdded") && params.at("/entry/level").asString().equals("error")) {
					errors.add("log: " + params.at("/entry/text").asString() + " " + params.at("/entry/url").asString());
				}
			});
			page.send("Runtime.enable", Map.of());
			page.send("Log.enable", Map.of());
			page.send("Page.enable", Map.of());
			page.send("Page.navigate", Map.of("url", client.base() + "/"));

			await().atMost(Duration.ofSeconds(20))
				.until(() -> page.evaluate("window.dashboard ? window.dashboard.samples : 0").asInt() >= 2);
			assertThat(page.evaluate("document.querySelectorAll('#charts .card canvas').length").asInt())
				.isGreaterThanOrEqualTo(CHARTS);
			assertThat(page.evaluate("document.title").asString()).isEqualTo("ratelimit sample");
			int pointsBefore = page.evaluate("window.dashboard.charts['orders-global'].data[0].length").asInt();

			client.awaitSharedLimits("browser-warm-up");
			client.burst("browser-hot", 40);
			for (String tenant : List.of("acme", "globex")) {
				client.order(tenant);
			}

			// the counters on the page and the charts' series follow the load
			await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
				assertThat(page.evaluate("Number(document.getElementById('rejected').textContent)").asInt())
					.isPositive();
				assertThat(page.evaluate("Number(document.getElementById('accepted').textContent)").asInt())
					.isPositive();
				assertThat(page.evaluate("window.dashboard.charts['orders-global'].data[0].length").asInt())
					.isGreaterThan(pointsBefore + 2);
				// a nonzero permitted/s and rejected/s point in the chart of the limiter orders
				assertThat(page.evaluate("Math.max(0, ...window.dashboard.charts['orders'].data[2].filter(v => v != null))")
					.asDouble()).isPositive();
				assertThat(page.evaluate("Math.max(0, ...window.dashboard.charts['orders'].data[3].filter(v => v != null))")
					.asDouble()).isPositive();
				assertThat(page.evaluate("Number(document.getElementById('processed').textContent)").asInt())
					.isPositive();
				// the CPU signal of the instance's sends: a reading on the page and in its chart
				assertThat(page.evaluate("document.getElementById('load-shipments-out-process-cpu').textContent").asString())
					.startsWith("process-cpu ");
				assertThat(page.evaluate("window.dashboard.charts['load'].data[1].filter(v => v != null).length")
					.asInt()).isPositive();
			});
			assertThat(page.evaluate("window.dashboard.errors").asInt()).as("failed polls").isZero();

			String screenshot = page.send("Page.captureScreenshot", Map.of("format", "png")).get("data").asString();
			Files.write(Path.of("target", "dashboard.png"), Base64.getDecoder().decode(screenshot));
		}
		assertThat(errors).as("errors in the browser").isEmpty();
	}

}
