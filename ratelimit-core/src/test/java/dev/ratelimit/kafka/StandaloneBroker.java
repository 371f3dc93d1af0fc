package dev.ratelimit.kafka;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.apache.kafka.common.Uuid;

import static org.awaitility.Awaitility.await;

/**
 * A real KRaft cluster of one or more nodes, each a separate process (the broker jars are on the
 * classpath), so a test or the multi-process harness can kill a node and start it again on the
 * same port and data. Each node is broker and controller at once. Public for the starter's tests
 * and the benchmarks module, which get it from this module's test-jar.
 */
public final class StandaloneBroker implements AutoCloseable {

	private final Path directory;

	private final List<Node> nodes = new ArrayList<>();

	/** A single-node cluster. */
	public StandaloneBroker() throws IOException {
		this(1);
	}

	/**
	 * A cluster of {@code size} nodes; internal topics are replicated to all of them (at most 3)
	 * with a minimum in-sync count of 2 when there are 3 or more.
	 */
	public StandaloneBroker(int size) throws IOException {
		this(size, null);
	}

	/**
	 * A single-node cluster whose clients connect over TLS only, with the key and certificate of a
	 * keystore; the controller listener stays in plain text.
	 * @param tls the broker's keystore and the truststore it trusts itself with
	 */
	public StandaloneBroker(Tls tls) throws IOException {
		this(1, tls);
	}

	private StandaloneBroker(int size, Tls tls) throws IOException {
		this.directory = Files.createTempDirectory("ratelimit-broker-");
		for (int id = 1; id <= size; id++) {
			this.nodes.add(new Node(id, freePort(), freePort()));
		}
		String voters = this.nodes.stream()
			.map((node) -> node.id + "@127.0.0.1:" + node.controllerPort)
			.collect(Collectors.joining(","));
		int replication = Math.min(3, size);
		int minIsr = (size >= 3) ? 2 : 1;
		String clusterId = Uuid.randomUuid().toString();
		for (Node node : this.nodes) {
			Files.createDirectories(node.directory());
			String listener = (tls != null) ? "SSL" : "PLAINTEXT";
			Files.writeString(node.properties(), String.join("\n", "process.roles=broker,controller",
					"node.id=" + node.id, "controller.quorum.voters=" + voters,
					"listeners=" + listener + "://127.0.0.1:" + node.port + ",CONTROLLER://127.0.0.1:"
							+ node.controllerPort,
					"advertised.listeners=" + listener + "://127.0.0.1:" + node.port,
					"controller.listener.names=CONTROLLER", "inter.broker.listener.name=" + listener,
					"listener.security.protocol.map=" + listener + ":" + listener + ",CONTROLLER:PLAINTEXT",
					(tls != null) ? tls.brokerProperties() : "",
					"log.dirs=" + node.directory().resolve("logs"), "offsets.topic.replication.factor=" + replication,
					"transaction.state.log.replication.factor=" + replication,
					"transaction.state.log.min.isr=" + minIsr, "group.min.session.timeout.ms=2000",
					"group.initial.rebalance.delay.ms=0", "num.partitions=1", ""));
			Process format = java(node, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c",
					node.properties().toString());
			try {
				if (format.waitFor() != 0) {
					throw new IllegalStateException("formatting the broker's storage failed: "
							+ Files.readString(node.directory().resolve("kafka.tools.StorageTool.log")));
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}
	}

	/** Every node's address, comma-separated. */
	public String bootstrap() {
		return this.nodes.stream().map((node) -> "127.0.0.1:" + node.port).collect(Collectors.joining(","));
	}

	/** Starts every node that is not running and waits until each accepts connections. */
	public void start() throws IOException {
		for (Node node : this.nodes) {
			if (node.process == null) {
				node.process = java(node, "kafka.Kafka", node.properties().toString());
			}
		}
		await().atMost(Duration.ofSeconds(90)).until(() -> this.nodes.stream().allMatch(StandaloneBroker::accepting));
	}

	/** Starts one node again (after {@link #kill(int)}). */
	public void start(int id) throws IOException {
		Node node = this.nodes.get(id - 1);
		if (node.process == null) {
			node.process = java(node, "kafka.Kafka", node.properties().toString());
		}
		await().atMost(Duration.ofSeconds(90)).until(() -> accepting(node));
	}

	/** Kills every node at once (SIGKILL). */
	public void kill() throws InterruptedException {
		for (Node node : this.nodes) {
			kill(node.id);
		}
	}

	/** Kills one node at once (SIGKILL). */
	public void kill(int id) throws InterruptedException {
		Node node = this.nodes.get(id - 1);
		if (node.process != null) {
			node.process.destroyForcibly().waitFor();
			node.process = null;
		}
	}

	private static boolean accepting(Node node) {
		try (Socket socket = new Socket("127.0.0.1", node.port)) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	private Process java(Node node, String mainClass, String... args) throws IOException {
		List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx512m", "-cp",
				System.getProperty("java.class.path"), mainClass));
		command.addAll(List.of(args));
		return new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.appendTo(node.directory().resolve(mainClass + ".log").toFile()))
			.start();
	}

	/** The java binary of this JVM, for child processes. */
	public static String javaBinary() {
		return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
	}

	static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	@Override
	public void close() throws InterruptedException {
		kill();
	}

	/**
	 * A broker's TLS material, made with the JDK's {@code keytool}: a PKCS12 keystore with a
	 * self-signed key for 127.0.0.1 and localhost, the certificate in PEM, and a PKCS12 truststore
	 * that holds it.
	 *
	 * @param keystore the keystore
	 * @param certificate the certificate, PEM
	 * @param truststore the truststore
	 * @param password the password of both stores and of the key
	 */
	public record Tls(Path keystore, Path certificate, Path truststore, String password) {

		/**
		 * Makes the key, certificate and truststore in a new temporary directory.
		 * @return the material
		 */
		public static Tls generate() throws IOException, InterruptedException {
			Path directory = Files.createTempDirectory("ratelimit-tls-");
			Tls tls = new Tls(directory.resolve("broker.p12"), directory.resolve("broker.pem"),
					directory.resolve("trust.p12"), "changeit-" + Uuid.randomUuid());
			keytool(directory, "-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity",
					"2", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-storetype", "PKCS12",
					"-keystore", tls.keystore.toString(), "-storepass", tls.password, "-keypass", tls.password);
			keytool(directory, "-exportcert", "-rfc", "-alias", "broker", "-keystore", tls.keystore.toString(),
					"-storepass", tls.password, "-file", tls.certificate.toString());
			keytool(directory, "-importcert", "-noprompt", "-alias", "broker", "-file", tls.certificate.toString(),
					"-storetype", "PKCS12", "-keystore", tls.truststore.toString(), "-storepass", tls.password);
			return tls;
		}

		private static void keytool(Path directory, String... args) throws IOException, InterruptedException {
			List<String> command = new ArrayList<>();
			command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool");
			command.addAll(List.of(args));
			Path log = directory.resolve("keytool.log");
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
				.start();
			if (process.waitFor() != 0) {
				throw new IllegalStateException("keytool " + args[0] + " failed: " + Files.readString(log));
			}
		}

		String brokerProperties() {
			return String.join("\n", "ssl.keystore.type=PKCS12", "ssl.keystore.location=" + this.keystore,
					"ssl.keystore.password=" + this.password, "ssl.key.password=" + this.password,
					"ssl.truststore.type=PKCS12", "ssl.truststore.location=" + this.truststore,
					"ssl.truststore.password=" + this.password);
		}

	}

	private final class Node {

		final int id;

		final int port;

		final int controllerPort;

		Process process;

		Node(int id, int port, int controllerPort) {
			this.id = id;
			this.port = port;
			this.controllerPort = controllerPort;
		}

		Path directory() {
			return StandaloneBroker.this.directory.resolve("node-" + this.id);
		}

		Path properties() {
			return directory().resolve("server.properties");
		}

	}

}
