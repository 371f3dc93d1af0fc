package dev.ratelimit.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.limit.AIMDLimit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.adaptive.ConcurrencyControl;
import dev.ratelimit.adaptive.QueueModel;

/**
 * Our adaptive concurrency limits and Netflix's on the same simulated service
 * ({@link QueueModel}: 20 workers, 10 ms a call, offered 3,000 calls a second, twice as slow from
 * second 30), each with its defaults and an initial limit of 10, averaged over three seeds. Prints
 * the table of docs/core/adaptive.md:
 *
 * <pre>
 * ./mvnw -B -q -pl ratelimit-benchmarks -am -DskipTests package
 * java -cp "ratelimit-benchmarks/target/benchmarks.jar" dev.ratelimit.benchmarks.AdaptiveConcurrencyComparison
 * </pre>
 */
public final class AdaptiveConcurrencyComparison {

	/** A drop: a call slower than this (five times the service time), for the AIMD variants. */
	private static final long TIMEOUT = Duration.ofMillis(50).toNanos();

	private static final long[] SEEDS = { 42, 7, 2026 };

	private AdaptiveConcurrencyComparison() {
	}

	public static void main(String[] args) {
		for (QueueModel.Service service : new QueueModel.Service[] { QueueModel.Service.UNIFORM,
				QueueModel.Service.LOGNORMAL }) {
			System.out.println("Service times: " + service);
			table(service);
		}
	}

	private static void table(QueueModel.Service service) {
		List<Object[]> rows = new ArrayList<>();
		rows.add(new Object[] { "ours, gradient", average(() -> ours(ConcurrencyControl.Algorithm.GRADIENT), service) });
		rows.add(new Object[] { "ours, AIMD (50 ms timeout)",
				average(() -> ours(ConcurrencyControl.Algorithm.AIMD), service) });
		rows.add(new Object[] { "Netflix Gradient2",
				average(() -> netflix(Gradient2Limit.newBuilder().initialLimit(10).build()), service) });
		rows.add(new Object[] { "Netflix Vegas",
				average(() -> netflix(VegasLimit.newBuilder().initialLimit(10).build()), service) });
		rows.add(new Object[] { "Netflix AIMD (50 ms timeout)", average(() -> netflix(
				AIMDLimit.newBuilder().initialLimit(10).timeout(TIMEOUT, TimeUnit.NANOSECONDS).build()), service) });
		rows.add(new Object[] { "fixed limit of 20 (the workers)", average(() -> fixed(20), service) });
		System.out.print(QueueModel.table(rows));
	}

	private static QueueModel.Result average(Supplier<QueueModel.Admission> admissions, QueueModel.Service service) {
		List<QueueModel.Result> results = new ArrayList<>();
		for (long seed : SEEDS) {
			results.add(QueueModel.run(admissions.get(), TIMEOUT, seed, service));
		}
		return new QueueModel.Result(mean(results.stream().map(QueueModel.Result::before).toList()),
				mean(results.stream().map(QueueModel.Result::after).toList()));
	}

	private static QueueModel.Half mean(List<QueueModel.Half> halves) {
		return new QueueModel.Half(halves.stream().mapToDouble(QueueModel.Half::meanLimit).average().orElse(0),
				halves.stream().mapToDouble(QueueModel.Half::meanLatencyMillis).average().orElse(0),
				halves.stream().mapToDouble(QueueModel.Half::p99LatencyMillis).average().orElse(0),
				halves.stream().mapToDouble(QueueModel.Half::throughput).average().orElse(0),
				halves.stream().mapToDouble(QueueModel.Half::rejectedShare).average().orElse(0));
	}

	private static QueueModel.Admission ours(ConcurrencyControl.Algorithm algorithm) {
		return QueueModel.admission(ConcurrencyControl.builder(ConcurrencyLimiter.of("service", 10))
			.algorithm(algorithm)
			.timeout(Duration.ofNanos(TIMEOUT))
			.build());
	}

	private static QueueModel.Admission netflix(Limit limit) {
		return new QueueModel.Admission() {

			@Override
			public long limit() {
				return limit.getLimit();
			}

			@Override
			public void onSample(long startNanos, long rttNanos, long inFlight, boolean dropped) {
				limit.onSample(startNanos, rttNanos, (int) inFlight, dropped);
			}

		};
	}

	private static QueueModel.Admission fixed(long bound) {
		return new QueueModel.Admission() {

			@Override
			public long limit() {
				return bound;
			}

			@Override
			public void onSample(long startNanos, long rttNanos, long inFlight, boolean dropped) {
			}

		};
	}

}
