package dev.ratelimit.sample;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Debian's Chromium, headless, driven through the DevTools protocol: {@link #find()} locates it
 * (installing the {@code chromium} package with apt-get when it is missing and this process may),
 * {@link #start()} launches it with a fresh profile, and {@link #openPage()} connects to its first
 * tab.
 */
final class Chromium implements AutoCloseable {

	/** The command that installs it on Debian, as the CI script runs it. */
	static final String INSTALL = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium";

	private static final List<Path> CANDIDATES = List.of(Path.of("/usr/bin/chromium"),
			Path.of("/usr/bin/chromium-browser"), Path.of("/usr/bin/google-chrome"));

	private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://[^\\s]+)");

	private final Process process;

	private final Path profile;

	private final URI browserEndpoint;

	private final List<String> output = new ArrayList<>();

	private Chromium(Process process, Path profile, URI browserEndpoint) {
		this.process = process;
		this.profile = profile;
		this.browserEndpoint = browserEndpoint;
	}

	/**
	 * Finds Chromium, installing it first when it is missing and apt-get is there to do it.
	 * @return the executable, or empty when it is missing and could not be installed
	 */
	static Optional<Path> find() {
		Optional<Path> found = CANDIDATES.stream().filter(Files::isExecutable).findFirst();
		if (found.isPresent() || !Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
			return found;
		}
		try {
			Process install = new ProcessBuilder("sh", "-c", INSTALL).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
			if (!install.waitFor(10, TimeUnit.MINUTES)) {
				install.destroyForcibly();
			}
		}
		catch (IOException ex) {
			return Optional.empty();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return Optional.empty();
		}
		return CANDIDATES.stream().filter(Files::isExecutable).findFirst();
	}

	/**
	 * Starts a headless Chromium with an empty profile, listening for DevTools on a free port.
	 * @param executable the browser
	 * @return the running browser
	 * @throws IOException if it cannot be started
	 */
	static Chromium start(Path executable) throws IOException {
		Path profile = Files.createTempDirectory("sample-chromium-");
		// the flags that keep Chromium from reaching out to the network at start-up, which fails here
		Process process = new ProcessBuilder(executable.toString(), "--headless", "--no-sandbox", "--disable-gpu",
				"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
				"--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--remote-debugging-port=0",
				"--window-size=1400,1000", "about:blank")
			.redirectErrorStream(true)
			.start();
		CompletableFuture<URI> endpoint = new CompletableFuture<>();
		List<String> output = new ArrayList<>();
		Thread reader = new Thread(() -> {
			try (BufferedReader lines = new BufferedReader(
					new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
				for (String line = lines.readLine(); line != null; line = lines.readLine()) {
					Matcher matcher = DEVTOOLS.matcher(line);
					if (matcher.find()) {
						endpoint.complete(URI.create(matcher.group(1)));
					}
					else if (output.size() < 200) {
						output.add(line);
					}
				}
			}
			catch (IOException ex) {
				// the browser went away
			}
			endpoint.completeExceptionally(new IllegalStateException("Chromium exited before DevTools listened"));
		}, "chromium-output");
		reader.setDaemon(true);
		reader.start();
		try {
			Chromium chromium = new Chromium(process, profile, endpoint.get(30, TimeUnit.SECONDS));
			chromium.output.addAll(output);
			return chromium;
		}
		catch (Exception ex) {
			process.destroyForcibly();
			throw new IOException("Chromium did not start: " + output, ex);
		}
	}

	/**
	 * Connects to the browser's first tab.
	 * @return a DevTools session of the tab
	 * @throws IOException if the tab cannot be reached
	 */
	DevTools openPage() throws IOException {
		URI list = URI.create("http://" + this.browserEndpoint.getAuthority() + "/json/list");
		try {
			HttpResponse<String> response = HttpClient.newHttpClient()
				.send(HttpRequest.newBuilder(list).build(), HttpResponse.BodyHandlers.ofString());
			JsonNode targets = JsonMapper.builder().build().readTree(response.body());
			String page = targets.valueStream()
				.filter((target) -> "page".equals(target.get("type").asString()))
				.map((target) -> target.get("webSocketDebuggerUrl").asString())
				.findFirst()
				.orElseThrow(() -> new IOException("no page among " + targets));
			return DevTools.connect(URI.create(page));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IOException(ex);
		}
	}

	@Override
	public void close() throws InterruptedException {
		// the browser's helpers (network service, renderers) write to the profile too: all of them
		// end before it is deleted, or a file they write meanwhile makes the walk fail
		List<ProcessHandle> helpers = this.process.descendants().toList();
		this.process.destroy();
		if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
			this.process.destroyForcibly().waitFor();
		}
		for (ProcessHandle helper : helpers) {
			helper.destroy();
		}
		for (ProcessHandle helper : helpers) {
			try {
				helper.onExit().get(10, TimeUnit.SECONDS);
			}
			catch (ExecutionException | TimeoutException ex) {
				helper.destroyForcibly();
			}
		}
		try (Stream<Path> files = Files.walk(this.profile)) {
			files.sorted(Comparator.reverseOrder()).forEach((file) -> file.toFile().delete());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (UncheckedIOException ex) {
			// a file that went away during the walk all the same: what is left is a temporary directory
			if (!(ex.getCause() instanceof NoSuchFileException)) {
				throw ex;
			}
		}
	}

}
