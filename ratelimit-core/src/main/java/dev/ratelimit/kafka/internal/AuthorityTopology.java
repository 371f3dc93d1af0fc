package dev.ratelimit.kafka.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.common.config.TopicConfig;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The authority as a Kafka Streams topology: requests (keyed by limiter key) go to a processor
 * that owns the keys of its partitions and keeps their {@link BucketState} in a state store whose
 * changelog is a compacted topic; grants go out keyed by instance id. Kafka Streams assigns
 * owners, moves them on failure, fences zombies and restores the store; none of that is
 * hand-written here.
 *
 * <p>The store is in memory, backed by its changelog: state survives restarts through the topic,
 * restore replays one record per key, and no native library is needed.
 */
public final class AuthorityTopology {

	static final String STORE = "buckets";

	static final Duration SWEEP_INTERVAL = Duration.ofSeconds(2);

	/**
	 * A sweep reads at most this many stored states, or a tenth of the store if that is more, and
	 * the next goes on from there: a store of 20,000 leasing keys cost the stream thread a decode of
	 * each every 2 s (a seventh of its time in a profile of saturated tenants), while a key at rest
	 * can wait a few more seconds for its tombstone (a whole store is walked within 20 s).
	 */
	static final long SWEEP_MIN_KEYS = 4_096;

	private static final System.Logger logger = System.getLogger(AuthorityTopology.class.getName());

	private AuthorityTopology() {
	}

	public static Topology build(String requestTopic, String grantTopic, long leaseTtlMillis, LongAdder malformed) {
		return build(requestTopic, grantTopic, leaseTtlMillis, malformed, new java.util.concurrent.ConcurrentHashMap<>());
	}

	/**
	 * The topology; {@code coldKeys} receives, per task, how many cold keys' buckets it keeps in
	 * memory (refreshed at each sweep).
	 */
	public static Topology build(String requestTopic, String grantTopic, long leaseTtlMillis, LongAdder malformed,
			Map<String, Integer> coldKeys) {
		// states of keys at rest are deleted: compact the tombstones away within minutes, not days.
		// Kafka Streams' record cache writes a key's state to the changelog once per commit however
		// often it changed (the commit interval is 5 s under at-least-once unless set, while a leasing
		// key is asked by each instance once per report interval): the changelog costs one record per
		// active key per commit, not one per request. A grant is never held back by it (forwarded at once),
		// and a crashed owner's successor replays the requests since the last commit onto the state
		// as of that commit.
		StoreBuilder<KeyValueStore<String, byte[]>> store = Stores
			.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray())
			.withLoggingEnabled(Map.of(TopicConfig.SEGMENT_MS_CONFIG, "600000",
					TopicConfig.MIN_CLEANABLE_DIRTY_RATIO_CONFIG, "0.1", TopicConfig.DELETE_RETENTION_MS_CONFIG, "600000"))
			.withCachingEnabled();
		Topology topology = new Topology();
		topology.addSource("requests", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), requestTopic);
		topology.addProcessor("authority", () -> new AuthorityProcessor(leaseTtlMillis, malformed, coldKeys), "requests");
		topology.addStateStore(store, "authority");
		topology.addSink("grants", grantTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(),
				"authority");
		return topology;
	}

	/** Answers each request with the state of its key. */
	static final class AuthorityProcessor implements Processor<String, byte[], String, byte[]> {

		private final long leaseTtlMillis;

		private final LongAdder malformed;

		private ProcessorContext<String, byte[]> context;

		private KeyValueStore<String, byte[]> store;

		/** The last key the last sweep read, when it stopped before the end of the store. */
		private String sweptTo;

		/** Causes of skipped records logged so far: each once. */
		private final Causes loggedCauses = new Causes();

		/**
		 * Buckets of cold keys that are not full for a lease lifetime, kept in memory only: a cold key's
		 * state is written to the store (and its changelog) once it runs low or is leased, so keys far
		 * below their limit cost no record. Lost when the partition moves: a new owner sees those
		 * buckets full again, which over-admits at most half a capacity per cold key per move.
		 */
		private final Map<String, BucketState> cold = new HashMap<>();

		/** The latest record time this task has seen (the broker's clock), and when (local nanos). */
		private long clockMillis;

		private long clockAtNanos;

		private final Map<String, Integer> coldKeys;

		AuthorityProcessor(long leaseTtlMillis, LongAdder malformed, Map<String, Integer> coldKeys) {
			this.leaseTtlMillis = leaseTtlMillis;
			this.malformed = malformed;
			this.coldKeys = coldKeys;
		}

		@Override
		public void close() {
			this.coldKeys.remove(this.context.taskId().toString());
		}

		@Override
		public void init(ProcessorContext<String, byte[]> context) {
			this.context = context;
			this.store = context.getStateStore(STORE);
			AuthorityLogic.warmUp();
			context.schedule(SWEEP_INTERVAL, PunctuationType.WALL_CLOCK_TIME, (timestamp) -> sweep());
		}

		/** The broker's time now, as far as this task can tell: its latest record's, plus elapsed time. */
		private long now() {
			return (this.clockMillis == 0) ? 0 : this.clockMillis + (System.nanoTime() - this.clockAtNanos) / 1_000_000L;
		}

		/** Forgets the buckets at rest: cold buckets full for a lease lifetime, and stored states equal to a missing one. */
		void sweep() {
			long now = now();
			if (now == 0) {
				return;
			}
			// full for a lease lifetime, longer than any cold key's report or first lease looks back
			this.cold.values().removeIf((state) -> AuthorityLogic.isFullFor(state, now, this.leaseTtlMillis));
			List<String> atRest = new ArrayList<>();
			long budget = Math.max(SWEEP_MIN_KEYS, this.store.approximateNumEntries() / 10);
			String from = this.sweptTo;
			String last = null;
			boolean more = false;
			try (KeyValueIterator<String, byte[]> all = (from == null) ? this.store.all() : this.store.range(from, null)) {
				for (long read = 0; all.hasNext();) {
					if (read == budget) {
						more = true;
						break;
					}
					KeyValue<String, byte[]> entry = all.next();
					if (entry.key.equals(from)) {
						continue; // where the last sweep stopped: read then
					}
					read++;
					last = entry.key;
					try {
						if (AuthorityLogic.isAtRest(BucketState.decode(entry.value), now, this.leaseTtlMillis)) {
							atRest.add(entry.key);
						}
					}
					catch (RuntimeException ex) {
						skip(ex); // a corrupt state is kept: a request for its key replaces it
					}
				}
			}
			this.sweptTo = more ? last : null; // from the start again once the end was reached
			atRest.forEach(this.store::delete);
			this.coldKeys.put(this.context.taskId().toString(), this.cold.size());
		}

		/** The states of cold keys kept in memory (not full, not yet low). */
		int coldKeys() {
			return this.cold.size();
		}

		@Override
		public void process(Record<String, byte[]> record) {
			String key = record.key();
			// the broker's append time (the request topic has message.timestamp.type=LogAppendTime): one
			// clock for every owner of the partition, whatever the clocks of the application nodes
			long now = record.timestamp();
			if (now > this.clockMillis) {
				this.clockMillis = now;
				this.clockAtNanos = System.nanoTime();
			}
			int type = Messages.Report.typeOf(record.value());
			if (type == Messages.REPORT) {
				report(record.value(), now);
				return;
			}
			if (type == Messages.BATCH) {
				batch(record.value(), now);
				return;
			}
			byte[] grant;
			String instance;
			try {
				if (key == null) {
					throw new MalformedRecordException("request without a limiter key");
				}
				Messages.Request request = Messages.Request.decode(record.value());
				instance = request.instance();
				grant = handle(key, request, now);
			}
			catch (RuntimeException ex) {
				// one bad record (or state) must never stop the partition: skip it, count it, log it once
				skip(ex);
				return;
			}
			answer(instance, List.of(grant));
		}

		/**
		 * Handles one request for one key: the new state is stored and the encoded answer returned; a
		 * request that cannot be answered (a key too long for any record) changes nothing.
		 */
		private byte[] handle(String key, Messages.Request request, long now) {
			if (request.type() == Messages.PROBE) {
				return AuthorityLogic.probe(key, request, this.leaseTtlMillis).encode();
			}
			BucketState stored = stored(key, request.spec(), now);
			AuthorityLogic.Result result = AuthorityLogic.handle(key, stored, request, now, this.leaseTtlMillis);
			byte[] state = result.state().encode();
			byte[] grant = result.grant().encode();
			this.store.put(key, state);
			this.cold.remove(key); // leased from now on: kept in the store
			return grant;
		}

		/**
		 * Handles the requests and the report of one instance's batch, in order, and answers with one
		 * record: one bad entry is skipped, the others still count.
		 */
		private void batch(byte[] value, long now) {
			Messages.Batch batch;
			List<RuntimeException> badEntries = new ArrayList<>();
			try {
				batch = Messages.Batch.decode(value, badEntries::add);
			}
			catch (RuntimeException ex) {
				skip(ex); // the whole record: counted once
				return;
			}
			badEntries.forEach(this::skip);
			List<byte[]> answers = new ArrayList<>(batch.requests().size() + 1);
			if (batch.report() != null) {
				report(batch.report(), now, answers);
			}
			for (int i = 0; i < batch.requests().size(); i++) {
				try {
					answers.add(handle(batch.keys().get(i), batch.requests().get(i), now));
				}
				catch (RuntimeException ex) {
					skip(ex);
				}
			}
			answer(batch.instance(), answers);
		}

		/**
		 * Sends encoded grants to their instance: one grant as it is, more in {@link Messages.Grants}
		 * records of at most {@link Messages#MAX_BATCH_BYTES} bytes each, none for none.
		 */
		private void answer(String instance, List<byte[]> grants) {
			if (grants.size() == 1) {
				forward(instance, grants.get(0));
				return;
			}
			List<byte[]> chunk = new ArrayList<>();
			int bytes = 16;
			for (byte[] grant : grants) {
				if (!chunk.isEmpty() && bytes + grant.length + 4 > Messages.MAX_BATCH_BYTES) {
					forward(instance, Messages.Grants.encode(chunk));
					chunk = new ArrayList<>();
					bytes = 16;
				}
				chunk.add(grant);
				bytes += grant.length + 4;
			}
			if (!chunk.isEmpty()) {
				forward(instance, Messages.Grants.encode(chunk));
			}
		}

		private void forward(String instance, byte[] value) {
			this.context.forward(new Record<>(instance, value, this.context.currentSystemTimeMs()));
		}

		/**
		 * The state of a key: stored, or kept in memory (cold), or null (a full bucket). A stored state
		 * that cannot be read is counted and taken as a drained bucket, which refills with time: the
		 * key goes on deciding, and the bad record opens nothing.
		 */
		private BucketState stored(String key, Messages.Spec spec, long now) {
			byte[] bytes = this.store.get(key);
			return (bytes != null) ? decoded(bytes, spec, now) : this.cold.get(key);
		}

		private BucketState decoded(byte[] bytes, Messages.Spec spec, long now) {
			try {
				return BucketState.decode(bytes);
			}
			catch (RuntimeException ex) {
				skip(ex);
				return BucketState.drained(spec, now);
			}
		}

		/**
		 * Debits what an instance admitted locally for cold keys. A key whose bucket ran low moves to
		 * the store, and the instance gets a notice for it, so it leases that key from now on.
		 */
		private void report(byte[] value, long now) {
			Messages.Report report;
			try {
				report = Messages.Report.decode(value);
			}
			catch (RuntimeException ex) {
				skip(ex);
				return;
			}
			List<byte[]> notices = new ArrayList<>();
			report(report, now, notices);
			answer(report.instance(), notices);
		}

		private void report(Messages.Report report, long now, List<byte[]> notices) {
			for (Messages.Report.Entry entry : report.entries()) {
				try {
					String key = entry.key();
					byte[] bytes = this.store.get(key); // once: a lookup in the cached store is most of a report's cost
					boolean kept = bytes != null;
					BucketState state = AuthorityLogic.report(kept ? decoded(bytes, entry.spec(), now) : this.cold.get(key),
							entry, now, this.leaseTtlMillis);
					if (!kept && !AuthorityLogic.isLow(state, now)) {
						this.cold.put(key, state);
						continue;
					}
					byte[] notice = AuthorityLogic.isLow(state, now) ? AuthorityLogic
						.notice(key, state, report.instance(), entry.limiterIncarnation(), this.leaseTtlMillis, now)
						.encode() : null;
					this.cold.remove(key);
					this.store.put(key, state.encode());
					if (notice != null) {
						notices.add(notice);
					}
				}
				catch (RuntimeException ex) {
					skip(ex); // one bad entry: the others of the report still count
				}
			}
		}

		private void skip(RuntimeException ex) {
			this.malformed.increment();
			if (this.loggedCauses.firstOf(ex)) {
				this.context.recordMetadata()
					.ifPresent((metadata) -> logger.log(System.Logger.Level.WARNING,
							"Skipping malformed record at {0}-{1} offset {2}: {3} (further ones of this cause are "
									+ "only counted)",
							metadata.topic(), metadata.partition(), metadata.offset(), String.valueOf(ex)));
			}
		}

	}

}
