package dev.ratelimit.kafka;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaClientListenerTest {

	@Test
	void severalListenersHearEachEventInOrder() {
		List<String> heard = new ArrayList<>();
		KafkaClientListener first = new KafkaClientListener() {
			@Override
			public void closing(String id) {
				heard.add("first " + id);
			}
		};
		KafkaClientListener second = new KafkaClientListener() {
			@Override
			public void closing(String id) {
				heard.add("second " + id);
			}
		};
		KafkaClientListener.of(List.of(first, second)).closing("grants");
		assertThat(heard).containsExactly("first grants", "second grants");
	}

	@Test
	void noneOrOneNeedsNoComposite() {
		assertThat(KafkaClientListener.of(List.of())).isSameAs(KafkaClientListener.NONE);
		KafkaClientListener only = new KafkaClientListener() {
		};
		assertThat(KafkaClientListener.of(List.of(only))).isSameAs(only);
		assertThat(KafkaBackendConfig.builder("localhost:9092").build().clientListener())
			.isSameAs(KafkaClientListener.NONE);
	}

}
