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

import org.apache.kafka.common.Uuid;

import static org.awaitility.Awaitility.await;

/**
 * A real single-node KRaft broker in a separate process (the broker jars are on the test
 * classpath), so a test can kill it and start it again on the same port and data. Public for the
 * starter's tests, which get it from this module's test-jar.
 */
public final class StandaloneBroker implements AutoCloseable {

	private final Path directory;

	private final int port;

	private final Path properties;

	private Process process;

	public StandaloneBroker() throws IOException {
		this.directory = Files.createTempDirectory("ratelimit-broker-");
		this.port = freePort();
		int controllerPort = freePort();
		this.properties = this.directory.resolve("server.properties");
		Files.writeString(this.properties, String.join("\n", "process.roles=broker,controller", "node.id=1",
				"controller.quorum.voters=1@127.0.0.1:" + controllerPort,
				"listeners=PLAINTEXT://127.0.0.1:" + this.port + ",CONTROLLER://127.0.0.1:" + controllerPort,
				"advertised.listeners=PLAINTEXT://127.0.0.1:" + this.port, "controller.listener.names=CONTROLLER",
				"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
				"log.dirs=" + this.directory.resolve("logs"), "offsets.topic.replication.factor=1",
				"transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
				"group.min.session.timeout.ms=2000", "group.initial.rebalance.delay.ms=0", "num.partitions=1", ""));
		Process format = java("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(), "-c",
				this.properties.toString());
		try {
			if (format.waitFor() != 0) {
				throw new IllegalStateException("formatting the broker's storage failed: "
						+ Files.readString(this.directory.resolve("kafka.tools.StorageTool.log")));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	public String bootstrap() {
		return "127.0.0.1:" + this.port;
	}

	public void start() throws IOException {
		this.process = java("kafka.Kafka", this.properties.toString());
		await().atMost(Duration.ofSeconds(60)).until(this::accepting);
	}

	/** Kills the broker at once (SIGKILL). */
	public void kill() throws InterruptedException {
		if (this.process != null) {
			this.process.destroyForcibly().waitFor();
			this.process = null;
		}
	}

	private boolean accepting() {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	private Process java(String mainClass, String... args) throws IOException {
		List<String> command = new ArrayList<>(List.of(javaBinary(), "-Xmx512m", "-cp", System.getProperty("java.class.path"),
				mainClass));
		command.addAll(List.of(args));
		return new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(this.directory.resolve(mainClass + ".log").toFile())
			.start();
	}

	static String javaBinary() {
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

}
