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
		}

		@Override
		public void process(Record<String, byte[]> record) {
			String key = record.key();
			Messages.Request request;
			BucketState stored;
			try {
				if (key == null) {
					throw new MalformedRecordException("request without a limiter key");
				}
				request = Messages.Request.decode(record.value());
				byte[] bytes = this.store.get(key);
				stored = (bytes != null) ? BucketState.decode(bytes) : null;
			}
			catch (MalformedRecordException ex) {
				skip(ex);
				return;
			}
			long now = this.context.currentSystemTimeMs();
			AuthorityLogic.Result result = AuthorityLogic.handle(key, stored, request, now, this.leaseTtlMillis);
			this.store.put(key, result.state().encode());
			this.context.forward(new Record<>(request.instance(), result.grant().encode(), now));
		}

		private void skip(MalformedRecordException ex) {
			this.malformed.increment();
			if (!this.loggedMalformed) {
				this.loggedMalformed = true;
				this.context.recordMetadata()
					.ifPresent((metadata) -> logger.log(System.Logger.Level.WARNING,
							"Skipping malformed record at {0}-{1} offset {2}: {3} (further ones are only counted)",
							metadata.topic(), metadata.partition(), metadata.offset(), ex.getMessage()));
			}
		}

	}

}
