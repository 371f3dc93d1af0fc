package dev.ratelimit.spring.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.ClassPathResource;

import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.config.RateLimitProperties;

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
		for (String snippet : new String[] { KafkaTestSupport.GLOBAL_YAML, KafkaTestSupport.THROTTLING_YAML,
				KafkaTestSupport.LAG_YAML, KafkaTestSupport.ADAPTIVE_YAML,
				KafkaTestSupport.FIRST_CALL_YAML }) {
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
	void theGlobalSnippetDeclaresASharedAndALocalLimiter() throws IOException {
		// binding and mapping only: the Kafka backend itself is tested against a broker elsewhere
		List<org.springframework.core.env.PropertySource<?>> sources = new org.springframework.boot.env.YamlPropertySourceLoader()
			.load(KafkaTestSupport.GLOBAL_YAML, new ClassPathResource(KafkaTestSupport.GLOBAL_YAML));
		org.springframework.boot.convert.ApplicationConversionService conversion = new org.springframework.boot.convert.ApplicationConversionService();
		conversion.addConverter(String.class, dev.ratelimit.Rate.class, dev.ratelimit.Rate::parse);
		RateLimitProperties properties = new org.springframework.boot.context.properties.bind.Binder(
				org.springframework.boot.context.properties.source.ConfigurationPropertySources.from(sources), null,
				conversion)
			.bindOrCreate("ratelimit", RateLimitProperties.class);
		assertThat(properties.getBackend()).isEqualTo(RateLimitProperties.Backend.KAFKA);
		assertThat(properties.getKafka().getClusterId()).isEqualTo("checkout");
		var declared = dev.ratelimit.spring.config.LimiterDefinitions.of(properties).declared();
		assertThat(declared.get("payments").global()).isTrue();
		assertThat(declared.get("payments").limit().rate().perSecond()).isEqualTo(200.0);
		assertThat(declared.get("per-instance-guard").global()).isFalse();
	}

	@Test
	void theAdaptiveSnippetBindsItsSignals() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class))
			.withInitializer(KafkaTestSupport.yaml(KafkaTestSupport.ADAPTIVE_YAML))
			.run((context) -> {
				var producer = context.getBean(dev.ratelimit.spring.config.LimiterDefinitions.class)
					.declared()
					.get("producer");
				assertThat(producer.adaptive().lagSource()).isEqualTo("downstream");
				assertThat(producer.adaptive().reduceOn()).containsExactly(
						org.springframework.web.client.HttpClientErrorException.TooManyRequests.class);
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
