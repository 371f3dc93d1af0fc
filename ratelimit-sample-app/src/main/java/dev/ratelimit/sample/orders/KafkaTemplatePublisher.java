package dev.ratelimit.sample.orders;

import java.util.concurrent.CompletableFuture;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Publishes with Spring Boot's {@link KafkaTemplate}: one send per record, no buffering and no
 * retry beyond the producer's own. A record the producer gives up on is logged and lost.
 */
@Component
public class KafkaTemplatePublisher implements RecordPublisher {

	private static final Log logger = LogFactory.getLog(KafkaTemplatePublisher.class);

	private final KafkaTemplate<String, String> template;

	private final JsonMapper json;

	public KafkaTemplatePublisher(KafkaTemplate<String, String> template, JsonMapper json) {
		this.template = template;
		this.json = json;
	}

	@Override
	public CompletableFuture<Void> publish(String topic, String key, Object value) {
		return this.template.send(topic, key, this.json.writeValueAsString(value))
			.<Void>thenApply((result) -> null)
			.whenComplete((result, ex) -> {
				if (ex != null) {
					logger.error("Could not send to " + topic + " (key " + key + "): " + value, ex);
				}
			});
	}

}
