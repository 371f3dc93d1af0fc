package dev.ratelimit.spring.boot.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.spring.config.RateLimitProperties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an IDE reads to complete and check {@code application.yml}: the configuration metadata the
 * build writes, with the hints of {@code additional-spring-configuration-metadata.json} merged.
 * The map-valued groups carry the type of their values, so that an IDE completes and checks the
 * properties under each name ({@code ratelimit.limiters.orders.rate}); the same types are the
 * documented {@code ratelimit.defaults.*}, {@code ratelimit.kafka.listeners} and buffer
 * properties.
 */
class ConfigurationMetadataTests {

	private static JsonNode metadata() throws IOException {
		try (InputStream in = ConfigurationMetadataTests.class.getClassLoader()
			.getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("the metadata the build writes").isNotNull();
			return new ObjectMapper().readTree(in);
		}
	}

	private static Map<String, JsonNode> byName(JsonNode metadata, String section) {
		Map<String, JsonNode> named = new HashMap<>();
		metadata.path(section).forEach((entry) -> named.put(entry.path("name").asString(), entry));
		return named;
	}

	@Test
	void mapValuedGroupsNameTheTypeOfTheirValues() throws IOException {
		Map<String, JsonNode> properties = byName(metadata(), "properties");
		assertThat(properties.get("ratelimit.limiters").path("type").asString())
			.isEqualTo("java.util.Map<java.lang.String," + RateLimitProperties.Limiter.class.getName() + ">");
		assertThat(properties.get("ratelimit.kafka.listeners").path("type").asString())
			.isEqualTo("java.util.Map<java.lang.String," + RateLimitProperties.Kafka.Listener.class.getName() + ">");
		assertThat(properties.get("ratelimit.buffers").path("type").asString())
			.isEqualTo("java.util.Map<java.lang.String,"
					+ dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties.Buffer.class.getName() + ">");
		// a limiter's properties, as ratelimit.defaults shows them, are typed and described
		assertThat(properties.get("ratelimit.defaults.algorithm").path("type").asString())
			.isEqualTo(dev.ratelimit.Algorithm.class.getName());
		assertThat(properties.get("ratelimit.defaults.scope").path("type").asString())
			.isEqualTo(RateLimitProperties.Scope.class.getName());
		assertThat(properties.get("ratelimit.kafka.degraded-policy").path("type").asString())
			.isEqualTo(dev.ratelimit.kafka.DegradedPolicy.class.getName());
		assertThat(properties.entrySet())
			.filteredOn((entry) -> entry.getKey().startsWith("ratelimit.defaults."))
			.isNotEmpty()
			.allSatisfy((entry) -> assertThat(entry.getValue().path("description").asString())
				.as(entry.getKey())
				.isNotBlank());
	}

	@Test
	void stringValuedSettingsHaveHints() throws IOException {
		Map<String, JsonNode> hints = byName(metadata(), "hints");
		assertThat(hints.get("ratelimit.kafka.processing-guarantee").path("values"))
			.extracting((value) -> value.path("value").asString())
			.containsExactly("at_least_once", "exactly_once_v2");
		JsonNode reduceOn = hints.get("ratelimit.defaults.adaptive.reduce-on").path("providers").get(0);
		assertThat(reduceOn.path("name").asString()).isEqualTo("class-reference");
		assertThat(reduceOn.path("parameters").path("target").asString()).isEqualTo(Throwable.class.getName());
		assertThat(hints.get("ratelimit.defaults.rate").path("values")).isNotEmpty();
		assertThat(hints.get("ratelimit.http.trusted-proxies").path("values")).isNotEmpty();
	}

	/**
	 * The defaults an IDE shows for the backend's settings are the builder's: each, set explicitly,
	 * gives the same backend as none.
	 */
	@Test
	void backendDefaultsAreTheBuildersOwn() throws Exception {
		KafkaBackendConfig unset = RateLimitKafkaBackendConfigTests.bind();
		List<String> checked = new ArrayList<>();
		for (Map.Entry<String, JsonNode> property : byName(metadata(), "properties").entrySet()) {
			String name = property.getKey();
			JsonNode value = property.getValue().path("defaultValue");
			if (name.startsWith("ratelimit.kafka.") && !name.startsWith("ratelimit.kafka.backpressure")
					&& !name.startsWith("ratelimit.kafka.listeners") && value.isValueNode()) {
				RateLimitKafkaBackendConfigTests.assertSameBackend(
						RateLimitKafkaBackendConfigTests.bind(name, value.asString()), unset,
						name + " with its metadata default " + value);
				checked.add(name);
			}
		}
		assertThat(checked).hasSizeGreaterThanOrEqualTo(16).contains("ratelimit.kafka.lease-ttl");
	}

}
