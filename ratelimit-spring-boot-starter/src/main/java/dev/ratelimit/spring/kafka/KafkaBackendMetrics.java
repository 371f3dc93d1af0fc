package dev.ratelimit.spring.kafka;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.springframework.util.Assert;

import dev.ratelimit.kafka.BackendCounters;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;

/**
 * Publishes what the Kafka backend of this instance does: records sent and received, failures,
 * skipped records, the limiters it keeps, and the lease round trip as a timer (percentiles and
 * histograms come from Micrometer's distribution settings, like any timer's).
 *
 * <p>Counters are read from the backend when the registry reads them; the timer records each
 * round trip on the thread that receives grants. Meter names start with {@code ratelimit.kafka.}.
 */
public class KafkaBackendMetrics implements MeterBinder {

	/** Timer of the time from a lease request's send to the grant that answers it. */
	public static final String ROUND_TRIP = "ratelimit.kafka.lease.round.trip";

	private final KafkaRateLimiterBackend backend;

	/**
	 * Creates the meters of a backend.
	 * @param backend the Kafka backend
	 */
	public KafkaBackendMetrics(KafkaRateLimiterBackend backend) {
		Assert.notNull(backend, "'backend' must not be null");
		this.backend = backend;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		counter(registry, "ratelimit.kafka.requests", "Lease requests, returns, updates and probes sent",
				BackendCounters::requestsSent);
		counter(registry, "ratelimit.kafka.reports", "Reports of permits admitted locally for cold keys",
				BackendCounters::reportsSent);
		counter(registry, "ratelimit.kafka.batches", "Records carrying a request partition's requests and report",
				BackendCounters::batchesSent);
		counter(registry, "ratelimit.kafka.grants", "Answers received for this instance's limiters",
				BackendCounters::grantsReceived);
		counter(registry, "ratelimit.kafka.send.failures", "Records Kafka refused or did not acknowledge in time",
				BackendCounters::sendFailures);
		counter(registry, "ratelimit.kafka.records.skipped",
				"Records skipped: unreadable, out of bounds, or a grant whose limiter's listener threw",
				BackendCounters::malformedRecords);
		counter(registry, "ratelimit.kafka.degraded", "Times a limiter moved to its degraded policy",
				BackendCounters::degradedTransitions);
		gauge(registry, "ratelimit.kafka.limiters", "Limiters the backend keeps (named, and keys in use)",
				BackendCounters::limiters);
		gauge(registry, "ratelimit.kafka.limiters.leasing", "Limiters the backend's keeper walks (named, and keys that lease)",
				BackendCounters::leasingLimiters);
		Timer roundTrip = Timer.builder(ROUND_TRIP)
			.description("Time from a lease request's send to the grant that answers it")
			.maximumExpectedValue(Duration.ofSeconds(30))
			.register(registry);
		this.backend.onRoundTrip((nanos) -> roundTrip.record(nanos, TimeUnit.NANOSECONDS));
	}

	private void counter(MeterRegistry registry, String name, String description,
			ToDoubleFunction<BackendCounters> value) {
		FunctionCounter.builder(name, this.backend, (backend) -> value.applyAsDouble(backend.counters()))
			.description(description)
			.register(registry);
	}

	private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<BackendCounters> value) {
		Gauge.builder(name, this.backend, (backend) -> value.applyAsDouble(backend.counters()))
			.description(description)
			.strongReference(false)
			.register(registry);
	}

}
