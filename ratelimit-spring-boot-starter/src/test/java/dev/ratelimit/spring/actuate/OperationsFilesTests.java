package dev.ratelimit.spring.actuate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.ObjectMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Prometheus rules and the Grafana dashboard in docs/ parse, and name only meters this
 * library registers (as the Prometheus registry names them).
 */
class OperationsFilesTests {

	private static final Set<String> EXPORTED = Set.of("ratelimit_calls_total", "ratelimit_wait_seconds_sum",
			"ratelimit_wait_seconds_count", "ratelimit_wait_seconds_max", "ratelimit_permits_available",
			"ratelimit_utilization", "ratelimit_rate", "ratelimit_keys", "ratelimit_adaptive_severity",
			"ratelimit_backend_status", "ratelimit_backend_state", "ratelimit_adaptive_state", "ratelimit_kafka_consumer_lag", "ratelimit_buffer_utilization",
			"ratelimit_buffer_flushes_total");

	private static final Pattern METER = Pattern.compile("ratelimit_[a-z_]+");

	private static Set<String> meters(String text) {
		Set<String> found = new TreeSet<>();
		Matcher matcher = METER.matcher(text);
		while (matcher.find()) {
			found.add(matcher.group());
		}
		return found;
	}

	@Test
	@SuppressWarnings("unchecked")
	void prometheusRulesParseAndNameKnownMeters() throws IOException {
		String text = Files.readString(Path.of("..", "docs", "prometheus-rules.yml"), StandardCharsets.UTF_8);
		Map<String, Object> rules = new Yaml().load(text);
		List<Map<String, Object>> groups = (List<Map<String, Object>>) rules.get("groups");
		assertThat(groups).isNotEmpty();
		groups.forEach((group) -> assertThat((List<?>) group.get("rules")).isNotEmpty());
		assertThat(meters(text)).isNotEmpty().isSubsetOf(EXPORTED);
	}

	@Test
	void grafanaDashboardParsesAndNamesKnownMeters() throws IOException {
		String text = Files.readString(Path.of("..", "docs", "grafana-dashboard.json"), StandardCharsets.UTF_8);
		assertThat(new ObjectMapper().readTree(text).path("panels").size()).isGreaterThan(5);
		assertThat(meters(text)).isNotEmpty().isSubsetOf(EXPORTED);
	}

}
