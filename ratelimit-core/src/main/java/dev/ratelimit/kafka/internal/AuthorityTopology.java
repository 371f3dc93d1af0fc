package dev.ratelimit.kafka.internal;

import java.util.concurrent.atomic.LongAdder;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
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

	private static final System.Logger logger = System.getLogger(AuthorityTopology.class.getName());

	private AuthorityTopology() {
	}

	public static Topology build(String requestTopic, String grantTopic, long leaseTtlMillis, LongAdder malformed) {
		StoreBuilder<KeyValueStore<String, byte[]>> store = Stores
			.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray());
		Topology topology = new Topology();
		topology.addSource("requests", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), requestTopic);
		topology.addProcessor("authority", () -> new AuthorityProcessor(leaseTtlMillis, malformed), "requests");
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

		private boolean loggedMalformed;

		AuthorityProcessor(long leaseTtlMillis, LongAdder malformed) {
			this.leaseTtlMillis = leaseTtlMillis;
			this.malformed = malformed;
		}

		@Override
		public void init(ProcessorContext<String, byte[]> context) {
			this.context = context;
			this.store = context.getStateStore(STORE);
			AuthorityLogic.warmUp();
		}

		@Override
		public void process(Record<String, byte[]> record) {
			String key = record.key();
			// the broker's append time (the request topic has message.timestamp.type=LogAppendTime): one
			// clock for every owner of the partition, whatever the clocks of the application nodes
			long now = record.timestamp();
			byte[] state = null;
			byte[] grant;
			String instance;
			try {
				if (key == null) {
					throw new MalformedRecordException("request without a limiter key");
				}
				Messages.Request request = Messages.Request.decode(record.value());
				instance = request.instance();
				if (request.type() == Messages.PROBE) {
					grant = AuthorityLogic.probe(key, request, this.leaseTtlMillis).encode();
				}
				else {
					byte[] bytes = this.store.get(key);
					BucketState stored = (bytes != null) ? BucketState.decode(bytes) : null;
					AuthorityLogic.Result result = AuthorityLogic.handle(key, stored, request, now, this.leaseTtlMillis);
					state = result.state().encode();
					grant = result.grant().encode();
				}
			}
			catch (RuntimeException ex) {
				// one bad record (or state) must never stop the partition: skip it, count it, log it once
				skip(ex);
				return;
			}
			if (state != null) {
				this.store.put(key, state);
			}
			this.context.forward(new Record<>(instance, grant, this.context.currentSystemTimeMs()));
		}

		private void skip(RuntimeException ex) {
			this.malformed.increment();
			if (!this.loggedMalformed) {
				this.loggedMalformed = true;
				this.context.recordMetadata()
					.ifPresent((metadata) -> logger.log(System.Logger.Level.WARNING,
							"Skipping malformed record at {0}-{1} offset {2}: {3} (further ones are only counted)",
							metadata.topic(), metadata.partition(), metadata.offset(), String.valueOf(ex)));
			}
		}

	}

}
