package dev.ratelimit.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.rules.LimitRule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The Kafka rule book on a real in-process broker: a rule published by one instance reaches the
 * others and instances started later, a clear returns to the configured limit, and hostile records
 * on the topic are skipped without stalling the rules after them.
 */
class KafkaRuleBookIT extends BrokerPerClass {

	private final List<KafkaRuleBook> books = new CopyOnWriteArrayList<>();

	@AfterEach
	void closeBooks() {
		this.books.forEach(KafkaRuleBook::close);
	}

	private KafkaRuleBook book(String cluster, String instance) {
		KafkaRuleBook book = KafkaRuleBook.start(
				KafkaTestSupport.config(broker.getBrokersAsString(), cluster, instance).build(), Duration.ofSeconds(30));
		this.books.add(book);
		return book;
	}

	@Test
	void aRulePublishedOnOneInstanceReachesTheOthersAndInstancesStartedLater() throws Exception {
		KafkaRuleBook first = book("shared", "instance-1");
		KafkaRuleBook second = book("shared", "instance-2");
		List<LimitRule> heard = new CopyOnWriteArrayList<>();
		second.addListener((rule, previous) -> heard.add(rule));

		LimitRule published = first
			.publish(LimitRule.change("orders", Rate.parse("50/1s"), 50L, "alice", "incident 42"), "configured 100/s")
			.get(30, TimeUnit.SECONDS);

		assertThat(published.version()).isPositive();
		assertThat(published.origin()).isEqualTo("instance-1");
		assertThat(published.configured()).isEqualTo("configured 100/s");
		assertThat(first.rule("orders")).contains(published);
		await().atMost(Duration.ofSeconds(30)).until(() -> second.rule("orders").equals(Optional.of(published)));
		assertThat(heard).containsExactly(published);

		KafkaRuleBook later = book("shared", "instance-3");
		assertThat(later.isLoaded()).isTrue();
		assertThat(later.rules()).isEqualTo(Map.of("orders", published));
		List<LimitRule> replayed = new CopyOnWriteArrayList<>();
		later.addListener((rule, previous) -> replayed.add(rule));
		assertThat(replayed).as("a listener hears the rules in force").containsExactly(published);

		LimitRule cleared = second.publish(LimitRule.clear("orders", "bob", "over"), "")
			.get(30, TimeUnit.SECONDS);
		assertThat(cleared.version()).isGreaterThan(published.version());
		await().atMost(Duration.ofSeconds(30))
			.until(() -> first.rules().isEmpty() && later.rules().isEmpty() && second.rules().isEmpty());
		await().atMost(Duration.ofSeconds(30)).until(() -> replayed.size() == 2);
		assertThat(replayed.get(1).isCleared()).isTrue();
		assertThat(replayed.get(1).author()).isEqualTo("bob");
	}

	@Test
	void hostileRecordsAreSkippedAndTheRulesAfterThemStillApply() throws Exception {
		KafkaRuleBook book = book("hostile", "instance-1");
		String topic = book.topic();
		LimitRule valid = book.publish(LimitRule.change("orders", Rate.parse("5/1s"), null, "alice", ""), "")
			.get(30, TimeUnit.SECONDS);
		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
				Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()), new StringSerializer(),
				new ByteArraySerializer())) {
			producer.send(new ProducerRecord<>(topic, "orders", "garbage".getBytes(StandardCharsets.UTF_8)));
			producer.send(new ProducerRecord<>(topic, "orders", new byte[100_000]));
			producer.send(new ProducerRecord<>(topic, "payments",
					dev.ratelimit.kafka.internal.RuleRecords.encode(valid)));
			producer.send(new ProducerRecord<>(topic, "x".repeat(500), null));
			producer.flush();
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> book.malformed() == 4);
		assertThat(book.rule("orders")).as("the rule in force before the bad records stays").contains(valid);
		LimitRule after = book.publish(LimitRule.change("orders", Rate.parse("7/1s"), null, "alice", ""), "")
			.get(30, TimeUnit.SECONDS);
		assertThat(book.rule("orders")).contains(after);

		try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
				Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()), new StringSerializer(),
				new ByteArraySerializer())) {
			producer.send(new ProducerRecord<>(topic, "orders", null)).get(30, TimeUnit.SECONDS);
		}
		await().atMost(Duration.ofSeconds(30)).until(() -> book.rule("orders").isEmpty());
	}

	@Test
	void aBookStartedBeforeKafkaIsReachableStartsEmptyAndCatchesUpOnceItIs() throws Exception {
		try (StandaloneBroker later = new StandaloneBroker()) {
			KafkaRuleBook early = KafkaRuleBook.start(
					KafkaTestSupport.config(later.bootstrap(), "late", "instance-1").build(), Duration.ofSeconds(1));
			this.books.add(early);
			assertThat(early.isLoaded()).isFalse();
			assertThat(early.rules()).isEmpty();

			later.start();
			await().atMost(Duration.ofSeconds(90)).until(early::isLoaded);
			LimitRule published = early.publish(LimitRule.change("orders", Rate.parse("5/1s"), null, "alice", ""), "")
				.get(30, TimeUnit.SECONDS);
			assertThat(early.rule("orders")).contains(published);
		}
	}

	@Test
	void aRulesTopicThatIsNotCompactedIsRefusedWithTheFix() throws Exception {
		KafkaBackendConfig config = KafkaTestSupport.config(broker.getBrokersAsString(), "deleting", "instance-1")
			.build();
		try (Admin admin = Admin
			.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()))) {
			admin.createTopics(List.of(new NewTopic(config.rulesTopic(), 1, (short) 1)
				.configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE))))
				.all()
				.get(30, TimeUnit.SECONDS);
		}
		assertThatExceptionOfType(KafkaTopicConfigurationException.class)
			.isThrownBy(() -> KafkaRuleBook.start(config, Duration.ofSeconds(5)))
			.withMessageContaining("topic 'ratelimit-deleting-rules' holds the runtime rules of limiters but has "
					+ "cleanup.policy=delete")
			.withMessageContaining("--add-config cleanup.policy=compact");
	}

}
