package dev.ratelimit.spring.kafka.producer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;

import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.mock.MockProducerFactory;

/**
 * A {@link KafkaTemplate} over Kafka's {@link MockProducer}: sends are recorded in order, with
 * the time each was made, and answered at once ({@code autoComplete}) or when the test says so.
 */
public final class MockKafka {

	public final RecordingProducer producer;

	public final KafkaTemplate<String, String> template;

	public MockKafka(boolean autoComplete) {
		this(autoComplete, System::nanoTime);
	}

	MockKafka(boolean autoComplete, LongSupplier clock) {
		this.producer = new RecordingProducer(autoComplete, clock);
		this.template = new KafkaTemplate<>(new MockProducerFactory<>(() -> this.producer));
	}

	/** The values sent so far, in send order, repeats included. */
	public List<String> sentValues() {
		return this.producer.history().stream().map(ProducerRecord::value).toList();
	}

	/**
	 * Stays open when the template closes it after each send (a real factory hands out a
	 * close-safe proxy), and records when each send was made.
	 */
	public static final class RecordingProducer extends MockProducer<String, String> {

		final List<Long> sendTimes = new CopyOnWriteArrayList<>();

		private final LongSupplier clock;

		RecordingProducer(boolean autoComplete, LongSupplier clock) {
			super(autoComplete, null, new StringSerializer(), new StringSerializer());
			this.clock = clock;
		}

		@Override
		public Future<RecordMetadata> send(ProducerRecord<String, String> record, Callback callback) {
			if (this.sendException == null) {
				this.sendTimes.add(this.clock.getAsLong());
			}
			return super.send(record, callback);
		}

		@Override
		public void close() {
		}

		@Override
		public void close(Duration timeout) {
		}

	}

}
