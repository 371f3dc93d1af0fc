package dev.ratelimit.sample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.awaitility.Awaitility.await;

/**
 * Talks to a running sample app over HTTP, as a user would.
 */
final class SampleClient {

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private final String base;

	SampleClient(int port) {
		this.base = "http://localhost:" + port;
	}

	String base() {
		return this.base;
	}

	HttpResponse<String> get(String path) {
		return send(HttpRequest.newBuilder(URI.create(this.base + path)).timeout(Duration.ofSeconds(10)).build());
	}

	/** Posts a JSON body to a path, as any client of the application could. */
	HttpResponse<String> post(String path, String json) {
		return send(HttpRequest.newBuilder(URI.create(this.base + path))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(json))
			.build());
	}

	HttpResponse<String> order(String tenant) {
		return send(orderRequest(tenant));
	}

	/** Sends orders of one tenant all at once and returns every answer. */
	List<HttpResponse<String>> burst(String tenant, int count) {
		List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			answers.add(this.http.sendAsync(orderRequest(tenant), HttpResponse.BodyHandlers.ofString()));
		}
		return answers.stream().map(CompletableFuture::join).toList();
	}

	/**
	 * Waits until the limits shared through Kafka grant permits: the backend's first leases take
	 * a moment after start-up, and an idle instance gives its lease back.
	 */
	void awaitSharedLimits(String tenant) {
		await().atMost(Duration.ofSeconds(60)).until(() -> order(tenant).statusCode() == 202);
	}

	private HttpRequest orderRequest(String tenant) {
		return HttpRequest.newBuilder(URI.create(this.base + "/orders"))
			.timeout(Duration.ofSeconds(10))
			.header("Content-Type", "application/json")
			.header("X-Tenant", tenant)
			.POST(HttpRequest.BodyPublishers.ofString("{\"item\":\"book\",\"quantity\":1}"))
			.build();
	}

	private HttpResponse<String> send(HttpRequest request) {
		try {
			return this.http.send(request, HttpResponse.BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
