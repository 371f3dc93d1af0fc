package dev.ratelimit.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A minimal client of the Chrome DevTools protocol over a WebSocket: commands with their results,
 * and events to listeners. Thread-safe.
 */
final class DevTools implements AutoCloseable {

	private static final Duration TIMEOUT = Duration.ofSeconds(30);

	private final JsonMapper json = JsonMapper.builder().build();

	private final AtomicInteger ids = new AtomicInteger();

	private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

	private final List<Consumer<JsonNode>> listeners = new CopyOnWriteArrayList<>();

	private WebSocket socket;

	private DevTools() {
	}

	static DevTools connect(URI endpoint) throws IOException {
		DevTools devTools = new DevTools();
		try {
			devTools.socket = HttpClient.newHttpClient()
				.newWebSocketBuilder()
				.connectTimeout(TIMEOUT)
				.buildAsync(endpoint, devTools.new Receiver())
				.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
		}
		catch (Exception ex) {
			throw new IOException("Could not connect to " + endpoint, ex);
		}
		return devTools;
	}

	/**
	 * Listens to every event ({@code method} and {@code params}).
	 * @param listener called on the socket's thread
	 */
	void onEvent(Consumer<JsonNode> listener) {
		this.listeners.add(listener);
	}

	/**
	 * Runs a command and returns its result.
	 * @param method the command, for example {@code Page.navigate}
	 * @param params its parameters
	 * @return the result
	 */
	JsonNode send(String method, Map<String, ?> params) {
		int id = this.ids.incrementAndGet();
		ObjectNode command = this.json.createObjectNode();
		command.put("id", id);
		command.put("method", method);
		command.set("params", this.json.valueToTree(params));
		CompletableFuture<JsonNode> answer = new CompletableFuture<>();
		this.pending.put(id, answer);
		this.socket.sendText(this.json.writeValueAsString(command), true).join();
		JsonNode response = answer.orTimeout(TIMEOUT.toSeconds(), TimeUnit.SECONDS).join();
		if (response.has("error")) {
			throw new IllegalStateException(method + " failed: " + response.get("error"));
		}
		return response.get("result");
	}

	/**
	 * Evaluates a JavaScript expression in the page.
	 * @param expression the expression
	 * @return its value, as JSON
	 */
	JsonNode evaluate(String expression) {
		JsonNode result = send("Runtime.evaluate", Map.of("expression", expression, "returnByValue", true));
		if (result.has("exceptionDetails")) {
			throw new IllegalStateException(expression + " threw " + result.get("exceptionDetails"));
		}
		return result.at("/result/value");
	}

	@Override
	public void close() {
		this.socket.sendClose(WebSocket.NORMAL_CLOSURE, "done")
			.orTimeout(5, TimeUnit.SECONDS)
			.exceptionally((ex) -> null)
			.join();
	}

	private final class Receiver implements WebSocket.Listener {

		// messages arrive in parts; the parts of one message come one at a time, in order
		private final StringBuilder message = new StringBuilder();

		@Override
		public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
			this.message.append(data);
			if (last) {
				JsonNode received = DevTools.this.json.readTree(this.message.toString());
				this.message.setLength(0);
				if (received.has("id")) {
					CompletableFuture<JsonNode> answer = DevTools.this.pending.remove(received.get("id").asInt());
					if (answer != null) {
						answer.complete(received);
					}
				}
				else {
					DevTools.this.listeners.forEach((listener) -> listener.accept(received));
				}
			}
			webSocket.request(1);
			return null;
		}

	}

}
