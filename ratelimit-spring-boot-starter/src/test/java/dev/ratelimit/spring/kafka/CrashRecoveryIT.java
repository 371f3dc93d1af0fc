package dev.ratelimit.spring.kafka;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A throttled consumer in a separate JVM is killed with SIGKILL halfway through a drain; after a
 * restart every record is processed and none is skipped. At-least-once: records processed but not
 * yet committed when the process died are processed again, and counted.
 */
class CrashRecoveryIT extends BrokerPerClass {

	static final String TOPIC = "crash-orders";

	static final int RECORDS = 400;

	@BeforeAll
	static void createTopics() throws Exception {
		KafkaTestSupport.createTopic(broker, TOPIC, 2);
	}

	private static Process consumer(Path output) throws Exception {
		String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
		return new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
				ThrottledConsumerMain.class.getName(), broker.getBrokersAsString(), TOPIC, output.toString())
			.redirectErrorStream(true)
			.redirectOutput(output.resolveSibling(output.getFileName() + ".log").toFile())
			.start();
	}

	private static List<String> processed(Path output) throws Exception {
		return Files.exists(output) ? Files.readAllLines(output) : List.of();
	}

	@Test
	void nothingIsSkippedWhenTheConsumerIsKilledMidDrain() throws Exception {
		KafkaTestSupport.produce(broker, TOPIC, 2, RECORDS);
		Path output = Files.createTempDirectory("ratelimit-crash").resolve("processed.txt");
		Process first = consumer(output);
		try {
			await().atMost(Duration.ofSeconds(90)).until(() -> processed(output).size() >= RECORDS / 2);
		}
		finally {
			first.destroyForcibly().waitFor(); // SIGKILL, halfway through the throttled drain
		}
		int beforeRestart = processed(output).size();
		Process second = consumer(output);
		try {
			await().atMost(Duration.ofSeconds(120))
				.until(() -> new HashSet<>(processed(output)).size() == RECORDS);
		}
		finally {
			second.destroyForcibly().waitFor();
		}
		List<String> all = processed(output);
		Set<String> distinct = new HashSet<>(all);
		System.out.printf("crash recovery: %d records, %d processed before the kill, %d processings in all, "
				+ "%d duplicates%n", RECORDS, beforeRestart, all.size(), all.size() - distinct.size());
		assertThat(distinct).hasSize(RECORDS);
		assertThat(beforeRestart).isLessThan(RECORDS);
	}

}
