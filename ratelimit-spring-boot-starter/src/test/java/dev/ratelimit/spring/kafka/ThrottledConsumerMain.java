package dev.ratelimit.spring.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.annotation.KafkaListener;

/**
 * A throttled consumer in its own JVM, for the test that kills it with SIGKILL mid-drain.
 * Arguments: bootstrap servers, topic, output file. Each processed record's value is appended to
 * the output file (and forced to disk) before the listener returns, so the file is what was
 * processed when the process dies.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
public class ThrottledConsumerMain {

	static Path output;

	public static void main(String[] args) {
		output = Path.of(args[2]);
		new SpringApplicationBuilder(ThrottledConsumerMain.class).web(WebApplicationType.NONE)
			.properties("spring.kafka.bootstrap-servers=" + args[0], "spring.kafka.consumer.group-id=crash-group",
					"spring.kafka.consumer.auto-offset-reset=earliest", "crash.topic=" + args[1],
					"ratelimit.limiters.drain.rate=50/1s", "ratelimit.limiters.drain.capacity=10",
					"ratelimit.kafka.listeners.crash.limiter=drain", "spring.main.banner-mode=off",
					"logging.level.root=warn")
			.run(args);
	}

	@KafkaListener(id = "crash", topics = "${crash.topic}")
	void process(String value) {
		try {
			Files.write(output, (value + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
					StandardOpenOption.APPEND, StandardOpenOption.SYNC);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
