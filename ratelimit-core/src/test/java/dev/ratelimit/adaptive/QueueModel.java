package dev.ratelimit.adaptive;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * A simulated service with a latency knee, to compare adaptive concurrency limits on the same
 * ground: {@link #WORKERS} workers serve calls in arrival order, each in {@link #SERVICE_NANOS} ±20%
 * (so the service completes at most 2,000 calls a second); more calls in flight than workers wait
 * in a queue, and their latency grows with it. Calls arrive as a Poisson stream at 3,000 a second,
 * half again what it can serve, for 60 simulated seconds; from second 30 the service is twice as
 * slow. An admission control lets a call in while fewer than its limit are in flight and hears
 * every completed call's latency; a call slower than its timeout counts as dropped. The time is
 * simulated: a run takes well under a second and is the same for the same seed.
 */
public final class QueueModel {

	/** Calls served at once. */
	public static final int WORKERS = 20;

	/** Mean service time of one call, before the slowdown. */
	public static final long SERVICE_NANOS = 10_000_000L;

	/** Calls arriving per second. */
	public static final double ARRIVALS_PER_SECOND = 3_000;

	/** When the service becomes twice as slow. */
	public static final long SLOWDOWN_NANOS = 30_000_000_000L;

	/** How long a run lasts. */
	public static final long DURATION_NANOS = 60_000_000_000L;

	/** The warm-up left out of each half's figures. */
	public static final long SETTLE_NANOS = 10_000_000_000L;

	/** What decides admission. */
	public interface Admission {

		/**
		 * The most calls in flight now.
		 * @return the limit
		 */
		long limit();

		/**
		 * A call completed, or was dropped.
		 * @param startNanos when it was let in
		 * @param rttNanos how long it took
		 * @param inFlight the calls in flight when it was let in, itself included
		 * @param dropped whether it counts as dropped (slower than the timeout)
		 */
		void onSample(long startNanos, long rttNanos, long inFlight, boolean dropped);

	}

	/**
	 * One half of a run (before or after the slowdown), from its settling time to its end.
	 *
	 * @param meanLimit the limit, averaged over the calls that arrived
	 * @param meanLatencyMillis the mean latency of the calls completed
	 * @param p99LatencyMillis the 99th percentile of their latency
	 * @param throughput calls completed per second
	 * @param rejectedShare the share of arriving calls refused
	 */
	public record Half(double meanLimit, double meanLatencyMillis, double p99LatencyMillis, double throughput,
			double rejectedShare) {

	}

	/**
	 * A run's figures.
	 *
	 * @param before the half at full speed (ideal: a limit near 20, latency near 10 ms, 2,000/s)
	 * @param after the half at half speed (ideal: a limit near 20, latency near 20 ms, 1,000/s)
	 */
	public record Result(Half before, Half after) {

	}

	private QueueModel() {
	}

	/**
	 * Admission by a {@link ConcurrencyControl}: its limit; completed calls are its samples,
	 * dropped ones its drops.
	 * @param control the control
	 * @return the admission
	 */
	public static Admission admission(ConcurrencyControl control) {
		return new Admission() {

			@Override
			public long limit() {
				return control.limit();
			}

			@Override
			public void onSample(long startNanos, long rttNanos, long inFlight, boolean dropped) {
				if (dropped) {
					control.onDropped();
				}
				else {
					control.onSample(rttNanos, inFlight);
				}
			}

		};
	}

	/**
	 * Runs the model.
	 * @param admission the admission control
	 * @param timeoutNanos latency above which a call counts as dropped
	 * @param seed the seed of arrivals and service times
	 * @return the figures
	 */
	public static Result run(Admission admission, long timeoutNanos, long seed) {
		return run(admission, timeoutNanos, seed, Service.UNIFORM);
	}

	/** How service times vary around their mean. */
	public enum Service {

		/** ±20%, evenly. */
		UNIFORM,

		/** Lognormal, sigma 0.5: a long tail. */
		LOGNORMAL,

		/** Exponential: as varied as service times come. */
		EXPONENTIAL,

		/** ±20%, but one call in 500 a cache hit of a hundredth of the time. */
		FAST_HITS

	}

	/**
	 * Runs the model with service times of a given spread.
	 * @param admission the admission control
	 * @param timeoutNanos latency above which a call counts as dropped
	 * @param seed the seed of arrivals and service times
	 * @param service how service times vary
	 * @return the figures
	 */
	public static Result run(Admission admission, long timeoutNanos, long seed, Service service) {
		SplittableRandom random = new SplittableRandom(seed);
		// events: arrivals and completions, by time; a completion carries its call
		PriorityQueue<long[]> events = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]));
		ArrayDeque<long[]> waiting = new ArrayDeque<>();
		long meanGap = (long) (1e9 / ARRIVALS_PER_SECOND);
		events.add(new long[] { 0, 0 });
		int busy = 0;
		long inFlight = 0;
		Tally before = new Tally();
		Tally after = new Tally();
		while (!events.isEmpty()) {
			long[] event = events.poll();
			long now = event[0];
			if (now > DURATION_NANOS) {
				break;
			}
			Tally tally = (now < SLOWDOWN_NANOS) ? ((now >= SETTLE_NANOS) ? before : null)
					: ((now >= SLOWDOWN_NANOS + SETTLE_NANOS) ? after : null);
			if (event[1] == 0) {
				// an arrival, and the next one
				events.add(new long[] { now + Math.max(1, (long) (-Math.log(1 - random.nextDouble()) * meanGap)), 0 });
				long limit = admission.limit();
				if (tally != null) {
					tally.arrived++;
					tally.limitSum += limit;
				}
				if (inFlight >= limit) {
					if (tally != null) {
						tally.rejected++;
					}
					continue;
				}
				inFlight++;
				long[] call = { now, inFlight };
				if (busy < WORKERS) {
					busy++;
					events.add(new long[] { now + serviceTime(random, now, service), 1, call[0], call[1] });
				}
				else {
					waiting.add(call);
				}
				continue;
			}
			// a completion: the worker takes the next call waiting
			inFlight--;
			long rtt = now - event[2];
			admission.onSample(event[2], rtt, event[3], rtt > timeoutNanos);
			if (tally != null) {
				tally.latencies.add(rtt);
			}
			long[] next = waiting.poll();
			if (next != null) {
				events.add(new long[] { now + serviceTime(random, now, service), 1, next[0], next[1] });
			}
			else {
				busy--;
			}
		}
		return new Result(before.half(SLOWDOWN_NANOS - SETTLE_NANOS), after.half(DURATION_NANOS - SLOWDOWN_NANOS - SETTLE_NANOS));
	}

	private static long serviceTime(SplittableRandom random, long now, Service service) {
		long mean = (now < SLOWDOWN_NANOS) ? SERVICE_NANOS : 2 * SERVICE_NANOS;
		double factor = switch (service) {
			case UNIFORM -> 0.8 + 0.4 * random.nextDouble();
			// mean 1: exp(mu + sigma^2 / 2) = 1
			case LOGNORMAL -> Math.exp(-0.125 + 0.5 * gaussian(random));
			case EXPONENTIAL -> -Math.log(1 - random.nextDouble());
			case FAST_HITS -> (random.nextInt(500) == 0) ? 0.01 : 0.8 + 0.4 * random.nextDouble();
		};
		return Math.max(1, (long) (mean * factor));
	}

	private static double gaussian(SplittableRandom random) {
		// Box-Muller, from the seeded generator
		double u = 1 - random.nextDouble();
		double v = random.nextDouble();
		return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
	}

	/**
	 * The rows of the comparison: ours and Netflix's algorithms on the model, one seed.
	 * @param rows a name and a result per algorithm
	 * @return the rows as a Markdown table
	 */
	public static String table(List<Object[]> rows) {
		StringBuilder table = new StringBuilder(
				"| Algorithm | Limit | Latency mean / p99 (ms) | Throughput (/s) | Refused | Limit after slowdown | "
						+ "Latency after (ms) | Throughput after (/s) |\n|---|---|---|---|---|---|---|---|\n");
		for (Object[] row : rows) {
			Result result = (Result) row[1];
			table.append(String.format("| %s | %.1f | %.1f / %.1f | %.0f | %.0f%% | %.1f | %.1f / %.1f | %.0f |%n", row[0],
					result.before().meanLimit(), result.before().meanLatencyMillis(),
					result.before().p99LatencyMillis(), result.before().throughput(),
					100 * result.before().rejectedShare(), result.after().meanLimit(),
					result.after().meanLatencyMillis(), result.after().p99LatencyMillis(), result.after().throughput()));
		}
		return table.toString();
	}

	private static final class Tally {

		long arrived;

		long rejected;

		long limitSum;

		final List<Long> latencies = new ArrayList<>();

		Half half(long nanos) {
			List<Long> sorted = new ArrayList<>(this.latencies);
			Collections.sort(sorted);
			double mean = sorted.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
			double p99 = sorted.isEmpty() ? 0 : sorted.get((int) Math.min(sorted.size() - 1, sorted.size() * 0.99)) / 1e6;
			return new Half((this.arrived == 0) ? 0 : (double) this.limitSum / this.arrived, mean, p99,
					sorted.size() / (nanos / 1e9), (this.arrived == 0) ? 0 : (double) this.rejected / this.arrived);
		}

	}

}
