package dev.ratelimit.spring.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.ClassPathResource;

import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitProperties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration snippets of docs/kafka.md are the YAML files the integration tests load: the
 * document must show them exactly, and they must bind as the document says.
 */
class KafkaDocumentationTests {

	private static final Path DOCUMENT = Path.of("..", "docs", "kafka.md");

	@Test
	void documentShowsTheTestedSnippets() throws IOException {
		String document = Files.readString(DOCUMENT, StandardCharsets.UTF_8);
		for (String snippet : new String[] { KafkaTestSupport.THROTTLING_YAML, KafkaTestSupport.LAG_YAML }) {
			String yaml = new ClassPathResource(snippet).getContentAsString(StandardCharsets.UTF_8);
			assertThat(document).as(snippet).contains("```yaml\n" + yaml + "```\n");
		}
	}

	@Test
	void snippetsBindAsDocumented() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class))
			.withInitializer(KafkaTestSupport.yaml(KafkaTestSupport.THROTTLING_YAML))
			.withInitializer(KafkaTestSupport.yaml(KafkaTestSupport.LAG_YAML))
			.run((context) -> {
				RateLimitProperties.Kafka kafka = context.getBean(RateLimitProperties.class).getKafka();
				assertThat(kafka.getListeners()).containsOnlyKeys("orders");
				assertThat(kafka.getListeners().get("orders").getLimiter()).isEqualTo("orders-drain");
				assertThat(kafka.getListeners().get("orders").getPermitsPerRecord()).isOne();
				assertThat(kafka.getBackpressure().getLagInterval()).isEqualTo(Duration.ofSeconds(5));
				assertThat(kafka.getBackpressure().getWatch()).singleElement().satisfies((watch) -> {
					assertThat(watch.getGroup()).isEqualTo("billing");
					assertThat(watch.getTopics()).containsExactly("invoices");
				});
			});
	}

	@Test
	void backpressureHasItsDefaultsWithoutConfiguration() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class))
			.run((context) -> {
				RateLimitProperties.Kafka kafka = context.getBean(RateLimitProperties.class).getKafka();
				assertThat(kafka.getListeners()).isEmpty();
				assertThat(kafka.getBackpressure().getWatch()).isEmpty();
				assertThat(kafka.getBackpressure().getLagInterval()).isEqualTo(Duration.ofSeconds(5));
			});
	}

}
