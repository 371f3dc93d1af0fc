package dev.ratelimit.spring.boot.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/configuration.md and the generated configuration metadata cannot drift: every property of
 * the metadata is documented, and every property the page names exists.
 */
class ConfigurationDocumentationTests {

	private static final Path DOCUMENT = Path.of("..", "docs", "configuration.md");

	private static final Pattern NAMED = Pattern.compile("`((?:ratelimit|management)\\.[a-z0-9<>\\[\\].*-]+)`");

	private static Set<String> metadata() throws IOException {
		Set<String> names = new TreeSet<>();
		for (String file : new String[] { "META-INF/spring-configuration-metadata.json",
				"META-INF/additional-spring-configuration-metadata.json" }) {
			try (InputStream in = ConfigurationDocumentationTests.class.getClassLoader().getResourceAsStream(file)) {
				if (in == null) {
					continue;
				}
				JsonNode root = new ObjectMapper().readTree(in);
				root.path("properties").forEach((property) -> names.add(property.path("name").asString()));
			}
		}
		names.removeIf((name) -> !name.startsWith("ratelimit.") && !name.contains("ratelimit"));
		return names;
	}

	private static Set<String> documented() throws IOException {
		Set<String> names = new TreeSet<>();
		Matcher matcher = NAMED.matcher(Files.readString(DOCUMENT, StandardCharsets.UTF_8));
		while (matcher.find()) {
			names.add(matcher.group(1));
		}
		return names;
	}

	/** The metadata name a documented name stands for: map keys and list items fold into their property. */
	private static String canonical(String documented) {
		String name = documented.replace("ratelimit.limiters.<name>.", "ratelimit.defaults.");
		name = name.replaceAll("\\.<[a-z-]+>.*$", "").replaceAll("\\[[0-9]*\\].*$", "").replaceAll("\\.\\*$", "");
		return name;
	}

	@Test
	void everyPropertyIsDocumented() throws IOException {
		Set<String> documented = documented();
		Set<String> canonical = new TreeSet<>();
		documented.forEach((name) -> canonical.add(canonical(name)));
		assertThat(metadata()).allSatisfy((property) -> assertThat(canonical)
			.as("docs/configuration.md documents %s", property)
			.contains(property));
	}

	@Test
	void everyDocumentedPropertyExists() throws IOException {
		Set<String> metadata = metadata();
		assertThat(documented()).allSatisfy((name) -> {
			String property = canonical(name);
			// a property, or a group of properties (ratelimit.defaults, ...adaptive)
			assertThat(metadata.stream().anyMatch((known) -> known.equals(property) || known.startsWith(property + ".")))
				.as("%s (documented as %s) is a property or a group of properties", property, name)
				.isTrue();
		});
	}

}
