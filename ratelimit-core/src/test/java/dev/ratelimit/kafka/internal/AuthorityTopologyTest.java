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

	private void report(String key, long spent, long appendedAt) {
		Messages.Report report = new Messages.Report("a", 1,
				java.util.List.of(new Messages.Report.Entry(key, 7, spent, 0, SPEC)));
		this.requests.pipeInput("(report)a", report.encode(), appendedAt);
	}

	@Test
	void coldReportsAreDebitedWithoutAnswerOrStoredStateUntilTheBucketRunsLow() {
		KeyValueStore<String, byte[]> store = this.driver.getKeyValueStore(AuthorityTopology.STORE);
		report("tenant", 30, T0);
		assertThat(this.grants.isEmpty()).isTrue(); // a report is not answered
		assertThat(store.get("tenant")).isNull(); // 70 of 100 left: kept in memory, no changelog record
		report("tenant", 30, T0);
		// 40 left, under half the capacity: stored, and the instance told to lease this key
		assertThat(store.get("tenant")).isNotNull();
		Grant notice = Grant.decode(this.grants.readValue());
		assertThat(notice.seq()).isZero();
		assertThat(notice.granted()).isZero();
		assertThat(notice.incarnation()).isEqualTo(7); // the limiter that reported
		assertThat(notice.available()).isEqualTo(40);
		assertThat(lease("tenant", 100, T0).granted()).isEqualTo(40); // leases see the debits
	}

	@Test
	void aColdKeysDebitsInMemoryCountForItsFirstLease() {
		report("tenant", 20, T0);
		assertThat(lease("tenant", 100, T0).granted()).isEqualTo(80);
		assertThat(this.driver.getKeyValueStore(AuthorityTopology.STORE).get("tenant")).isNotNull();
	}

	@Test
	void aStateAtRestIsDeletedAndADrainedOrUpdatedOneIsKept() {
		KeyValueStore<String, byte[]> store = this.driver.getKeyValueStore(AuthorityTopology.STORE);
		assertThat(lease("idle", 100, T0).granted()).isEqualTo(100);
		assertThat(lease("drained", 100, T0).granted()).isEqualTo(100);
		Request update = new Request(Messages.UPDATE, "a", 1, ++this.seq, 0, 0, 0, 500, 0, 0, 0,
				new Spec(100, 200, 1_000_000_000L));
		this.requests.pipeInput("updated", update.encode(), T0);
		this.grants.readValue();
		// 20 s of broker time later (a probe moves the task's clock): "idle" refilled, its lease expired
		this.requests.pipeInput("(probe)a", new Request(Messages.PROBE, "a", 1, 1, 0, 0, 0, 0, 0, 0, 0, SPEC).encode(),
				T0 + 20_000);
		this.grants.readValue();
		assertThat(lease("drained", 100, T0 + 20_000).granted()).isEqualTo(100);
		this.driver.advanceWallClockTime(AuthorityTopology.SWEEP_INTERVAL);
		assertThat(store.get("idle")).isNull(); // a tombstone: the same as a full bucket
		assertThat(store.get("drained")).isNotNull();
		assertThat(store.get("updated")).isNotNull(); // a runtime update outlives idleness
		// a key deleted at rest starts again full
		assertThat(lease("idle", 100, T0 + 20_000).granted()).isEqualTo(100);
	}

	@Test
	void aSweepReadsASliceOfALargeStoreAndTheNextGoesOnUntilEveryKeyAtRestIsGone() {
		KeyValueStore<String, byte[]> store = this.driver.getKeyValueStore(AuthorityTopology.STORE);
		int keys = (int) AuthorityTopology.SWEEP_MIN_KEYS * 2 + 100;
		for (int i = 0; i < keys; i++) {
			assertThat(lease("tenant-" + i, 1, T0).granted()).isEqualTo(1);
		}
		assertThat(lease("drained", 100, T0).granted()).isEqualTo(100);
		// 20 s of broker time later every tenant refilled and its lease expired; "drained" was drained again
		assertThat(lease("drained", 100, T0 + 20_000).granted()).isEqualTo(100);
		this.driver.advanceWallClockTime(AuthorityTopology.SWEEP_INTERVAL);
		// the first slice, in key order: "drained" (kept) and the first tenants (deleted)
		assertThat(store.approximateNumEntries()).isEqualTo(keys + 1 - (AuthorityTopology.SWEEP_MIN_KEYS - 1));
		this.driver.advanceWallClockTime(AuthorityTopology.SWEEP_INTERVAL);
		this.driver.advanceWallClockTime(AuthorityTopology.SWEEP_INTERVAL);
		assertThat(store.approximateNumEntries()).isEqualTo(1);
		assertThat(store.get("drained")).isNotNull();
		for (int i = 0; i < keys; i += 997) {
			assertThat(store.get("tenant-" + i)).isNull();
		}
	}

	@Test
	void aReportWithABadEntryCountsTheOthers() {
		this.requests.pipeInput("(report)a", new byte[] { 1, Messages.REPORT, 0 }, T0); // truncated
		assertThat(this.malformed.sum()).isEqualTo(1);
		report("tenant", 60, T0);
		assertThat(Grant.decode(this.grants.readValue()).available()).isEqualTo(40);
	}

	@Test
	void aKeyTooLongForAnyRecordIsSkippedAndThePartitionGoesOnGranting() {
		String huge = "k".repeat(70_000); // more than a record's string field can hold (65,535 bytes)
		Request request = new Request(Messages.LEASE, "a", 1, ++this.seq, 10, 0, 100, 500, 0, 0, 0, SPEC);
		this.requests.pipeInput(huge, request.encode(), T0);
		assertThat(this.grants.isEmpty()).isTrue();
		assertThat(this.malformed.sum()).isEqualTo(1);
		assertThat(lease("k", 10, T0).granted()).isEqualTo(10);
	}

	@Test
	void aRateUpdateOutsideTheApisBoundsIsRefusedAndTheLimitKept() {
		assertThat(lease("k", 10, T0).granted()).isEqualTo(10);
		// a billion permits per nanosecond: no RateLimit accepts it, so no grant may carry it
		Request update = new Request(Messages.UPDATE, "a", 1, ++this.seq, 0, 0, 0, 500, 0, 0, 0,
				new Spec(100, 1_000_000_000L, 1));
		this.requests.pipeInput("k", update.encode(), T0);
		assertThat(this.grants.isEmpty()).isTrue();
		assertThat(this.malformed.sum()).isEqualTo(1);
		Grant next = lease("k", 10, T0 + 100);
		assertThat(next.spec()).isEqualTo(SPEC);
		assertThat(next.granted()).isEqualTo(10);
	}

	@Test
	void tenThousandMadeUpInstancesCannotGrowAStatePastItsBound() {
		Spec big = new Spec(1_000_000, 1_000_000, 1_000_000_000L);
		for (int i = 0; i < 10_000; i++) {
			Request request = new Request(Messages.LEASE, "fake-" + i, 1, 1, 1, 0, 1, 500, 0, 0, 0, big);
			this.requests.pipeInput("k", request.encode(), T0);
		}
		byte[] state = this.driver.getKeyValueStore(AuthorityTopology.STORE).get("k") instanceof byte[] bytes ? bytes
				: new byte[0];
		assertThat(BucketState.decode(state).instances).hasSize(AuthorityLogic.MAX_INSTANCES_PER_KEY);
		assertThat(state.length).isLessThan(200_000); // far below a broker's 1 MB record limit
		// once their leases expire, a real instance gets its place and its grant
		Request real = new Request(Messages.LEASE, "real", 7, 1, 10, 0, 10, 500, 0, 0, 0, big);
		this.grants.readValuesToList();
		this.requests.pipeInput("k", real.encode(), T0 + 10_000);
		assertThat(Grant.decode(this.grants.readValue()).granted()).isEqualTo(10);
	}

	@Test
	void aCorruptStoredStateIsTakenAsADrainedBucketNeverAsAFullOne() {
		KeyValueStore<String, byte[]> store = this.driver.getKeyValueStore(AuthorityTopology.STORE);
		store.put("k", new byte[] { 1, Messages.STATE, 42 });
		assertThat(lease("k", 100, T0).granted()).isZero(); // nothing granted from a state it cannot read
		assertThat(this.malformed.sum()).isEqualTo(1);
		assertThat(lease("k", 100, T0 + 500).granted()).isEqualTo(50); // and it refills with time
	}

	private Request leaseRequest(long want) {
		return new Request(Messages.LEASE, "a", 1, ++this.seq, want, 0, 100, 500, 0, 0, 0, SPEC);
	}

	@Test
	void aBatchIsHandledInOrderAndAnsweredInOneRecord() {
		Messages.Report report = new Messages.Report("a", 1,
				java.util.List.of(new Messages.Report.Entry("cold", 7, 60, 0, SPEC)));
		Messages.Batch batch = new Messages.Batch("a", report, java.util.List.of("k1", "k2", "k1"),
				java.util.List.of(leaseRequest(70), leaseRequest(100), leaseRequest(100)));
		this.requests.pipeInput("(batch)a", batch.encode(), T0);
		java.util.List<org.apache.kafka.streams.test.TestRecord<String, byte[]>> out = this.grants.readRecordsToList();
		assertThat(out).hasSize(1); // one record for the whole batch
		assertThat(out.get(0).key()).isEqualTo("a");
		java.util.List<Grant> answers = Messages.Grants.decodeAny(out.get(0).value(), (ex) -> {
			throw ex;
		});
		// the report's notice (60 of 100 spent: low), then the three grants in the batch's order
		assertThat(answers).extracting(Grant::key).containsExactly("cold", "k1", "k2", "k1");
		assertThat(answers).extracting(Grant::granted).containsExactly(0L, 70L, 100L, 30L);
		assertThat(answers.get(0).seq()).isZero();
		assertThat(lease("cold", 100, T0).granted()).isEqualTo(40); // the report was debited
	}

	@Test
	void aBatchWithBadEntriesAnswersTheOthersAndABadFrameIsSkipped() {
		Request other = new Request(Messages.LEASE, "someone-else", 1, 1, 10, 0, 100, 500, 0, 0, 0, SPEC);
		Messages.Batch batch = new Messages.Batch("a", null, java.util.List.of("k1", "k2", "k3"),
				java.util.List.of(leaseRequest(10), other, leaseRequest(20)));
		byte[] bytes = batch.encode();
		this.requests.pipeInput("(batch)a", bytes, T0);
		java.util.List<Grant> answers = Messages.Grants.decodeAny(this.grants.readValue(), (ex) -> {
			throw ex;
		});
		assertThat(answers).extracting(Grant::key).containsExactly("k1", "k3"); // the forged entry is left out
		assertThat(this.malformed.sum()).isEqualTo(1);
		this.requests.pipeInput("(batch)a", java.util.Arrays.copyOf(bytes, bytes.length - 5), T0); // truncated
		this.requests.pipeInput("(batch)a", new byte[] { 1, Messages.BATCH, 0, 1, 'a', 0x7f, 0, 0, 0 }, T0);
		assertThat(this.grants.isEmpty()).isTrue();
		assertThat(this.malformed.sum()).isEqualTo(3);
		assertThat(lease("k1", 100, T0).granted()).isEqualTo(90); // the partition goes on granting
	}

	@Test
	void manyGrantsForOneInstanceAreSplitIntoRecordsOfBoundedSize() {
		int count = 2_000;
		java.util.List<String> keys = new java.util.ArrayList<>();
		java.util.List<Request> leases = new java.util.ArrayList<>();
		for (int i = 0; i < count; i++) {
			keys.add("tenant-" + "x".repeat(200) + i);
			leases.add(leaseRequest(1));
		}
		this.requests.pipeInput("(batch)a", new Messages.Batch("a", null, keys, leases).encode(), T0);
		int grants = 0;
		int records = 0;
		while (!this.grants.isEmpty()) {
			byte[] value = this.grants.readValue();
			assertThat(value.length).isLessThanOrEqualTo(Messages.MAX_BATCH_BYTES);
			grants += Messages.Grants.decodeAny(value, (ex) -> {
				throw ex;
			}).size();
			records++;
		}
		assertThat(grants).isEqualTo(count);
		assertThat(records).isGreaterThan(1);
	}

}
