package dev.ratelimit.spring.adaptive;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.search.Search;
import io.micrometer.core.instrument.step.StepDistributionSummary;
import io.micrometer.core.instrument.step.StepFunctionTimer;
import io.micrometer.core.instrument.step.StepTimer;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.spring.config.LimiterDefinitions.LoadSpec;

/**
 * Reads load signals from Micrometer's meters: a gauge's value (a time gauge's in seconds); a
 * timer's mean latency in seconds, and a distribution summary's mean amount, over the calls since
 * the last reading. Of several meters with the name and tags, the highest reading counts. A signal
 * whose meter is missing, or has no new calls, has no reading, and its level stays; a missing meter
 * is logged once per signal.
 *
 * <p>Timers and summaries of a cumulative registry (Prometheus, the simple registry, OTLP with its
 * default cumulative temporality) are read as the difference of their running totals since the
 * last reading. Those of Micrometer's step registries ({@code StepTimer}, {@code StepFunctionTimer},
 * {@code StepDistributionSummary}) already count one step at a time: the last completed step's mean
 * is the reading. With several registries, Boot's composite registry answers from the first of
 * them: keep a cumulative one first, or read a gauge. A meter of another kind (a counter, a long
 * task timer) has no reading, and is logged once.
 */
public class MeterLoadReadings implements LoadReadings {

	private static final Log logger = LogFactory.getLog(MeterLoadReadings.class);

	/** Marks a meter of a kind that has no reading; no real reading is negative infinity. */
	private static final double UNSUPPORTED = Double.NEGATIVE_INFINITY;

	private final Supplier<@Nullable MeterRegistry> meters;

	/** The running totals of each signal's timers and summaries at its last reading. */
	private final Map<String, Map<Meter.Id, double[]>> totals = new ConcurrentHashMap<>();

	private final Set<String> warned = ConcurrentHashMap.newKeySet();

	/**
	 * Creates the readings.
	 * @param meters the application's meter registry, looked up at each reading; {@code null} from
	 * it means none (yet)
	 */
	public MeterLoadReadings(Supplier<@Nullable MeterRegistry> meters) {
		this.meters = meters;
	}

	@Override
	public double read(String limiter, LoadSpec signal) {
		MeterRegistry registry = this.meters.get();
		String key = limiter + "/" + signal.signal();
		if (registry == null) {
			warnOnce(key, "Load signal '" + signal.signal() + "' of limiter '" + limiter
					+ "' has no reading: the application has no MeterRegistry");
			return Double.NaN;
		}
		Search search = registry.find(signal.meter());
		for (Map.Entry<String, String> tag : signal.tags().entrySet()) {
			search = search.tag(tag.getKey(), tag.getValue());
		}
		Collection<Meter> found = search.meters();
		if (found.isEmpty()) {
			warnOnce(key, "Load signal '" + signal.signal() + "' of limiter '" + limiter + "' has no reading: no meter "
					+ "named '" + signal.meter() + "' with tags " + signal.tags() + " is registered (yet); its "
					+ "severity stays as it is until one is");
			return Double.NaN;
		}
		Map<Meter.Id, double[]> previous = this.totals.getOrDefault(key, Map.of());
		Map<Meter.Id, double[]> next = new HashMap<>();
		double highest = Double.NaN;
		for (Meter meter : found) {
			double reading = reading(meter, previous, next);
			if (reading == UNSUPPORTED) {
				warnOnce(key + "/kind", "Load signal '" + signal.signal() + "' of limiter '" + limiter + "' reads meter '"
						+ signal.meter() + "', a " + meter.getId().getType() + ", which has no reading: name a gauge, a "
						+ "timer or a distribution summary");
				continue;
			}
			if (Double.isFinite(reading) && reading >= 0 && !(reading <= highest)) {
				highest = reading;
			}
		}
		// only the meters found now are kept, so meters removed from the registry are forgotten
		this.totals.put(key, next);
		return highest;
	}

	private static double reading(Meter meter, Map<Meter.Id, double[]> previous, Map<Meter.Id, double[]> next) {
		if (meter instanceof TimeGauge gauge) {
			return gauge.value(TimeUnit.SECONDS);
		}
		if (meter instanceof Gauge gauge) {
			return gauge.value();
		}
		if (meter instanceof StepTimer || meter instanceof StepFunctionTimer || meter instanceof StepDistributionSummary) {
			// totals of the last completed step: its mean
			return stepMean(meter);
		}
		if (meter instanceof Timer timer) {
			return intervalMean(meter.getId(), timer.count(), timer.totalTime(TimeUnit.SECONDS), previous, next);
		}
		if (meter instanceof FunctionTimer timer) {
			return intervalMean(meter.getId(), timer.count(), timer.totalTime(TimeUnit.SECONDS), previous, next);
		}
		if (meter instanceof DistributionSummary summary) {
			return intervalMean(meter.getId(), summary.count(), summary.totalAmount(), previous, next);
		}
		return UNSUPPORTED;
	}

	private static double stepMean(Meter meter) {
		double count;
		double total;
		if (meter instanceof Timer timer) {
			count = timer.count();
			total = timer.totalTime(TimeUnit.SECONDS);
		}
		else if (meter instanceof FunctionTimer timer) {
			count = timer.count();
			total = timer.totalTime(TimeUnit.SECONDS);
		}
		else {
			DistributionSummary summary = (DistributionSummary) meter;
			count = summary.count();
			total = summary.totalAmount();
		}
		return (count > 0) ? total / count : Double.NaN;
	}

	/** The mean of the calls since the last reading; none at the first reading or without calls. */
	private static double intervalMean(Meter.Id id, double count, double total, Map<Meter.Id, double[]> previous,
			Map<Meter.Id, double[]> next) {
		next.put(id, new double[] { count, total });
		double[] last = previous.get(id);
		if (last == null) {
			return Double.NaN;
		}
		double calls = count - last[0];
		double time = total - last[1];
		if (calls < 0 || time < 0) {
			// the meter was replaced (removed and registered again): its totals start afresh
			calls = count;
			time = total;
		}
		return (calls > 0) ? time / calls : Double.NaN;
	}

	private void warnOnce(String key, String message) {
		if (this.warned.add(key)) {
			logger.warn(message);
		}
	}

}
