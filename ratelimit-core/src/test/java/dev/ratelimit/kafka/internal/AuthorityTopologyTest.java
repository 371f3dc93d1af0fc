package dev.ratelimit.kafka.internal;

import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.ratelimit.kafka.internal.Messages.Grant;
import dev.ratelimit.kafka.internal.Messages.Request;
import dev.ratelimit.kafka.internal.Messages.Spec;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authority's topology with Kafka Streams' test driver: its clock is the requests' record time
 * (the broker's append time), never the wall clock of the node that owns the partition, and a bad
 * record never stops a partition.
 */
class AuthorityTopologyTest {

	private static final Spec SPEC = new Spec(100, 100, 1_000_000_000L); // 100/s, burst 100

	private static final long T0 = 1_700_000_000_000L;

	private final LongAdder malformed = new LongAdder();

	private TopologyTestDriver driver;

	private TestInputTopic<String, byte[]> requests;

	private TestOutputTopic<String, byte[]> grants;

	private long seq;

	@BeforeEach
	void start() {
		Properties properties = new Properties();
		properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "authority-test");
		properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
		// the owner's wall clock is an hour ahead of the broker's: it must not matter
		this.driver = new TopologyTestDriver(AuthorityTopology.build("requests", "grants", 5_000, this.malformed),
				properties, Instant.ofEpochMilli(T0 + 3_600_000));
		this.requests = this.driver.createInputTopic("requests", new StringSerializer(), new ByteArraySerializer());
		this.grants = this.driver.createOutputTopic("grants", new StringDeserializer(), new ByteArrayDeserializer());
	}

	@AfterEach
	void close() {
		this.driver.close();
	}

	private Grant lease(String key, long want, long appendedAt) {
		Request request = new Request(Messages.LEASE, "a", 1, ++this.seq, want, 0, 100, 500, 0, 0, 0, SPEC);
		this.requests.pipeInput(key, request.encode(), appendedAt);
		return Grant.decode(this.grants.readValue());
	}

	@Test
	void bucketsRefillByTheBrokersAppendTimeNotTheOwnersClock() {
		assertThat(lease("k", 100, T0).granted()).isEqualTo(100);
		this.driver.advanceWallClockTime(java.time.Duration.ofMinutes(10));
		// half a second of broker time refilled 50, whatever the owner's clock did meanwhile
		assertThat(lease("k", 100, T0 + 500).granted()).isEqualTo(50);
	}

	@Test
	void aRequestStampedEarlierThanOneHandledDoesNotRefillTwice() {
		assertThat(lease("k", 100, T0).granted()).isEqualTo(100);
		assertThat(lease("k", 100, T0 + 1_000).granted()).isEqualTo(100);
		// a new partition leader whose clock is half a second behind: time does not go back
		assertThat(lease("k", 100, T0 + 500).granted()).isZero();
		assertThat(lease("k", 100, T0 + 1_200).granted()).isEqualTo(20);
	}

	@Test
	void aBadRecordIsSkippedAndCountedAndThePartitionGoesOnGranting() {
		this.requests.pipeInput("k", new byte[] { 1, 1, 0 }, T0); // truncated
		this.requests.pipeInput(null, new Request(Messages.LEASE, "a", 1, 99, 1, 0, 1, 500, 0, 0, 0, SPEC).encode(), T0);
		this.requests.pipeInput("k", "{\"not\":\"ours\"}".getBytes(), T0);
		assertThat(this.grants.isEmpty()).isTrue();
		assertThat(this.malformed.sum()).isEqualTo(3);
		assertThat(lease("k", 10, T0).granted()).isEqualTo(10);
	}

	@Test
	void aProbeIsAnsweredAndLeavesNoState() {
		Request probe = new Request(Messages.PROBE, "a", 1, 5, 0, 0, 0, 0, 0, 0, 0, SPEC);
		this.requests.pipeInput("(probe)a", probe.encode(), T0);
		Grant answer = Grant.decode(this.grants.readValue());
		assertThat(answer.seq()).isEqualTo(5);
		assertThat(answer.instance()).isEqualTo("a");
		KeyValueStore<String, byte[]> store = this.driver.getKeyValueStore(AuthorityTopology.STORE);
		assertThat(store.get("(probe)a")).isNull();
	}

}
