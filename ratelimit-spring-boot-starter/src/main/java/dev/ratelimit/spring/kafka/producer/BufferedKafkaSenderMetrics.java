package dev.ratelimit.spring.kafka.producer;

import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Meters of every {@link BufferedKafkaSender} of a {@link BufferedKafkaSenders} factory, those
 * created after binding included. All are tagged {@code name} (the sender's name, from
 * configuration or code, never from data):
 * <ul>
 * <li>{@value #SIZE} and {@value #BYTES} (gauges): records and bytes held;</li>
 * <li>{@value #UTILIZATION} (gauge): the larger of the record and byte fill ratios, from 0 to 1;</li>
 * <li>{@value #OFFERS} (counter, tag {@code result} = {@code accepted} or {@code refused}): offers,
 * a refusal being backpressure;</li>
 * <li>{@value #SENT} (counter): records acknowledged by Kafka, once each;</li>
 * <li>{@value #RESENT} (counter, tag {@code reason} = {@code failed} or {@code order}): records sent
 * again after a failed send, or although acknowledged, to keep their key in order (each of those
 * a duplicate);</li>
 * <li>{@value #FLUSHES} (counter, tag {@code result} = {@code success} or {@code failure}): batch
 * attempts.</li>
 * </ul>
 * Counters read the sender's {@link SenderStats} when the registry asks, so offers and sends
 * cost nothing extra. Gauges hold senders weakly: a closed, unreferenced sender reads {@code NaN}.
 */
public class BufferedKafkaSenderMetrics implements MeterBinder {

	/** Gauge of records held. */
	public static final String SIZE = "ratelimit.buffer.size";

	/** Gauge of bytes held. */
	public static final String BYTES = "ratelimit.buffer.bytes";

	/** Gauge of the share of the bounds in use, from 0 to 1. */
	public static final String UTILIZATION = "ratelimit.buffer.utilization";

	/** Counter of offers, tagged {@code result}. */
	public static final String OFFERS = "ratelimit.buffer.offers";

	/** Counter of records acknowledged by Kafka. */
	public static final String SENT = "ratelimit.buffer.sent";

	/** Counter of records sent again, tagged {@code reason}. */
	public static final String RESENT = "ratelimit.buffer.resent";

	/** Counter of batch attempts, tagged {@code result}. */
	public static final String FLUSHES = "ratelimit.buffer.flushes";

	private final BufferedKafkaSenders senders;

	/**
	 * Creates the binder.
	 * @param senders the factory whose senders get meters
	 */
	public BufferedKafkaSenderMetrics(BufferedKafkaSenders senders) {
		this.senders = senders;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		this.senders.forEachSender((sender) -> bind(sender, registry));
	}

	private static void bind(BufferedKafkaSender<?, ?> sender, MeterRegistry registry) {
		String name = sender.name();
		Gauge.builder(SIZE, sender, BufferedKafkaSender::size)
			.description("Records held by a buffered Kafka sender, the batch being sent included")
			.tag("name", name)
			.register(registry);
		Gauge.builder(BYTES, sender, BufferedKafkaSender::bytes)
			.description("Bytes held by a buffered Kafka sender, as measured by its record sizer")
			.baseUnit("bytes")
			.tag("name", name)
			.register(registry);
		Gauge.builder(UTILIZATION, sender, BufferedKafkaSender::utilization)
			.description("Share of a buffered Kafka sender's bounds in use, from 0 (empty) to 1 (full)")
			.tag("name", name)
			.register(registry);
		counter(registry, OFFERS, "Offers to a buffered Kafka sender; refused ones met a full buffer", sender,
				(s) -> s.stats().offered(), "name", name, "result", "accepted");
		counter(registry, OFFERS, "Offers to a buffered Kafka sender; refused ones met a full buffer", sender,
				(s) -> s.stats().refused(), "name", name, "result", "refused");
		counter(registry, SENT, "Records of a buffered Kafka sender acknowledged by Kafka, once each", sender,
				(s) -> s.stats().sent(), "name", name);
		String resent = "Records of a buffered Kafka sender sent again: after a failed send, or to keep their key "
				+ "in order (a duplicate)";
		counter(registry, RESENT, resent, sender, (s) -> s.stats().retried(), "name", name, "reason", "failed");
		counter(registry, RESENT, resent, sender, (s) -> s.stats().duplicated(), "name", name, "reason", "order");
		counter(registry, FLUSHES, "Batch attempts of a buffered Kafka sender", sender, (s) -> s.stats().batches(),
				"name", name, "result", "success");
		counter(registry, FLUSHES, "Batch attempts of a buffered Kafka sender", sender,
				(s) -> s.stats().failedAttempts(), "name", name, "result", "failure");
	}

	private static void counter(MeterRegistry registry, String meter, String description,
			BufferedKafkaSender<?, ?> sender, ToDoubleFunction<BufferedKafkaSender<?, ?>> count, String... tags) {
		FunctionCounter.builder(meter, sender, count).description(description).tags(tags).register(registry);
	}

}
