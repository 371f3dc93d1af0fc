package dev.ratelimit.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

import org.springframework.kafka.test.EmbeddedKafkaBroker;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;
import dev.ratelimit.kafka.internal.KafkaRateLimiter;

/**
 * Runs several Kafka backend instances in one JVM against one shared limit and reports what the
 * lease protocol costs and how well it holds the limit, for a matrix of settings. Not a JMH
 * benchmark: each cell is a load test of fixed length.
 *
 * <p>For every combination of processing guarantee, commit interval and lease horizon given on the
 * command line, it starts {@code --instances} backends (each with its own clients, keeper and
 * Kafka Streams authority, as separate application instances would have) under a fresh cluster id,
 * waits for their authorities, and drives each instance's limiter with an open-loop load of
 * {@code --demand} attempts per second for {@code --seconds} seconds (attempts at fixed times,
 * whatever the answers, like {@code SharedLimitIT}). All instances share one token bucket of
 * {@code --rate} permits per second and a burst of {@code --capacity}. It prints one markdown row
 * per combination:
 * <ul>
 * <li>lease round trip p50 and p99: request sent to grant received, from each instance's
 * {@code runtime().roundTripsSorted()}, merged;
 * <li>Kafka records per 1,000 decisions: {@code (requestsSent + grantsReceived) / admitted * 1000},
 * summed over the instances (changelog records of the authority not included);
 * <li>accuracy: {@code admitted / (rate * T + capacity)}, the share of what the limit allows
 * that was admitted (above 1 is over-admission);
 * <li>utilization: {@code admitted / min(attempts, rate * T + capacity)}, the share of what
 * could have been admitted, given the demand, that was (below 1 is permits left unused in
 * leases, or denials while leases were on their way);
 * <li>degraded: the share of samples (every 100 ms, per instance) in which a limiter decided under
 * its degraded policy;
 * <li>admitted per instance, for fairness.
 * </ul>
 *
 * <p>Usage (from the repository root, after packaging the module):
 * <pre>
 * java -cp ratelimit-benchmarks/target/benchmarks.jar dev.ratelimit.benchmarks.LeaseHarness \
 *     --instances 3 --seconds 20 --rate 1000 \
 *     --guarantee at_least_once,exactly_once_v2 --commit-interval 20,50,100 --horizon 500
 * </pre>
 * {@code --help} lists every option. An in-process KRaft broker is started unless
 * {@code --bootstrap host:port} names one. Settings are compared only within one run.
 */
public final class LeaseHarness {

	private LeaseHarness() {
	}

	/**
	 * Runs every combination of the settings given and prints the report.
	 * @param args the options, see {@code --help}
	 * @throws Exception if a backend cannot start or a run fails
	 */
	public static void main(String[] args) throws Exception {
		Options options;
		try {
			options = Options.parse(args);
		}
		catch (IllegalArgumentException ex) {
			System.err.println(ex.getMessage());
			System.err.println(Options.USAGE);
			System.exit(2);
			return;
		}
		if (options == null) {
			System.out.println(Options.USAGE);
			return;
		}
		EmbeddedKafkaBroker broker = (options.bootstrap == null) ? EmbeddedBroker.start() : null;
		String bootstrap = (broker != null) ? broker.getBrokersAsString() : options.bootstrap;
		try {
			System.out.println(options.describe(bootstrap, broker != null));
			System.out.println();
			System.out.println(Result.HEADER);
			System.out.println(Result.SEPARATOR);
			for (String guarantee : options.guarantees) {
				for (long commitMillis : options.commitIntervals) {
					for (long horizonMillis : options.horizons) {
						Result result = run(options, bootstrap, guarantee, commitMillis, horizonMillis);
						System.out.println(result.row());
					}
				}
			}
		}
		finally {
			if (broker != null) {
				broker.destroy();
			}
		}
		// Kafka clients and the broker may leave non-daemon threads behind
		System.exit(0);
	}

	private static Result run(Options options, String bootstrap, String guarantee, long commitMillis,
			long horizonMillis) throws Exception {
		String cluster = "harness-" + UUID.randomUUID().toString().substring(0, 8);
		List<KafkaRateLimiterBackend> backends = new ArrayList<>();
		try {
			for (int i = 0; i < options.instances; i++) {
				backends.add(KafkaRateLimiterBackend.start(KafkaBackendConfig.builder(bootstrap)
					.clusterId(cluster)
					.instanceId("instance-" + i)
					.requestPartitions(3)
					.grantPartitions(3)
					.replicationFactor((short) 1)
					.processingGuarantee(guarantee)
					.commitInterval(Duration.ofMillis(commitMillis))
					.leaseHorizon(Duration.ofMillis(horizonMillis))
					.build()));
			}
			EmbeddedBroker.awaitAuthorities(backends, Duration.ofSeconds(120));
			RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(options.rate)).capacity(options.capacity).build();
			List<Load> loads = new ArrayList<>();
			for (KafkaRateLimiterBackend backend : backends) {
				loads.add(new Load(backend.create("shared", null, limit, RateLimiterListener.NONE), options.demand));
			}
			double degraded = runAll(loads, Duration.ofSeconds(options.seconds));
			return Result.of(options, guarantee, commitMillis, horizonMillis, backends, loads, degraded);
		}
		finally {
			closeAll(backends);
		}
	}

	/**
	 * Runs the loads in parallel until the deadline, sampling every 100 ms whether their limiters
	 * are degraded.
	 * @return the share of samples in which a limiter was degraded
	 */
	private static double runAll(List<Load> loads, Duration duration) throws Exception {
		ExecutorService executor = Executors.newFixedThreadPool(loads.size());
		try {
			long until = System.nanoTime() + duration.toNanos();
			List<Future<?>> futures = new ArrayList<>();
			for (Load load : loads) {
				futures.add(executor.submit(() -> load.run(until)));
			}
			long samples = 0;
			long degraded = 0;
			while (System.nanoTime() < until) {
				TimeUnit.MILLISECONDS.sleep(100);
				for (Load load : loads) {
					samples++;
					if (load.limiter instanceof KafkaRateLimiter kafka && kafka.isDegraded()) {
						degraded++;
					}
				}
			}
			for (Future<?> future : futures) {
				future.get();
			}
			return (samples > 0) ? (double) degraded / samples : 0;
		}
		finally {
			executor.shutdownNow();
		}
	}

	private static void closeAll(List<KafkaRateLimiterBackend> backends) throws InterruptedException {
		// in parallel: each close gives leases back and waits for its Kafka Streams instance
		ExecutorService executor = Executors.newFixedThreadPool(Math.max(1, backends.size()));
		for (KafkaRateLimiterBackend backend : backends) {
			executor.execute(backend::close);
		}
		executor.shutdown();
		executor.awaitTermination(1, TimeUnit.MINUTES);
	}

	/** An instance's client: tries its limiter at a fixed rate, whatever the answers (open loop). */
	static final class Load {

		final RateLimiter limiter;

		final double perSecond;

		final AtomicLong attempts = new AtomicLong();

		final AtomicLong admitted = new AtomicLong();

		Load(RateLimiter limiter, double perSecond) {
			this.limiter = limiter;
			this.perSecond = perSecond;
		}

		void run(long untilNanos) {
			long interval = (long) (1e9 / this.perSecond);
			long next = System.nanoTime();
			while (next < untilNanos) {
				long wait = next - System.nanoTime();
				if (wait > 0) {
					LockSupport.parkNanos(wait); // pacing the load, not waiting for a decision
				}
				this.attempts.incrementAndGet();
				if (this.limiter.tryAcquire()) {
					this.admitted.incrementAndGet();
				}
				next += interval;
			}
		}

	}

	/** One row of the report. */
	record Result(String guarantee, long commitMillis, long horizonMillis, long[] roundTrips, long records,
			long attempts, long admitted, long[] admittedPerInstance, double allowed, double degraded) {

		static final String HEADER = "| guarantee | commit interval | lease horizon | round trip p50 | round trip p99 "
				+ "| records / 1,000 decisions | accuracy | utilization | degraded | admitted / attempts "
				+ "| admitted per instance |";

		static final String SEPARATOR = "|---|---|---|---|---|---|---|---|---|---|---|";

		static Result of(Options options, String guarantee, long commitMillis, long horizonMillis,
				List<KafkaRateLimiterBackend> backends, List<Load> loads, double degraded) {
			long records = 0;
			List<long[]> trips = new ArrayList<>();
			for (KafkaRateLimiterBackend backend : backends) {
				Map<String, Object> metrics = backend.metrics();
				records += ((Number) metrics.get("requestsSent")).longValue()
						+ ((Number) metrics.get("grantsReceived")).longValue();
				trips.add(backend.runtime().roundTripsSorted());
			}
			long[] roundTrips = trips.stream().flatMapToLong(Arrays::stream).sorted().toArray();
			long[] admitted = loads.stream().mapToLong((load) -> load.admitted.get()).toArray();
			long attempts = loads.stream().mapToLong((load) -> load.attempts.get()).sum();
			double allowed = options.rate * options.seconds + options.capacity;
			return new Result(guarantee, commitMillis, horizonMillis, roundTrips, records, attempts,
					Arrays.stream(admitted).sum(), admitted, allowed, degraded);
		}

		String row() {
			return String.format(Locale.ROOT, "| %s | %d ms | %d ms | %s | %s | %.1f | %.3f | %.3f | %.1f%% | %d / %d | %s |",
					this.guarantee, this.commitMillis, this.horizonMillis, percentile(0.50), percentile(0.99),
					(this.admitted > 0) ? 1000.0 * this.records / this.admitted : Double.NaN,
					this.admitted / this.allowed, this.admitted / Math.min(this.attempts, this.allowed),
					100 * this.degraded, this.admitted, this.attempts, Arrays.toString(this.admittedPerInstance));
		}

		private String percentile(double quantile) {
			if (this.roundTrips.length == 0) {
				return "-";
			}
			int index = Math.min(this.roundTrips.length - 1, (int) (this.roundTrips.length * quantile));
			return String.format(Locale.ROOT, "%.1f ms", this.roundTrips[index] / 1e6);
		}

	}

	/** The command line. */
	static final class Options {

		static final String USAGE = """
				Usage: LeaseHarness [options]; lists are comma-separated, every combination is run
				  --instances N             backends in this JVM, sharing the limit (3)
				  --seconds T               length of each run (20)
				  --rate R                  the shared limit, permits per second (1000)
				  --capacity C              its burst, in permits (the rate)
				  --demand D                attempts per second of each instance (the rate)
				  --guarantee G,...         at_least_once and/or exactly_once_v2 (at_least_once)
				  --commit-interval MS,...  commit interval of the authorities' Kafka Streams (50)
				  --horizon MS,...          lease horizon: demand each lease covers (500)
				  --bootstrap HOST:PORT     an existing broker instead of an in-process one
				  --help                    this text""";

		int instances = 3;

		long seconds = 20;

		long rate = 1000;

		long capacity = -1;

		double demand = -1;

		List<String> guarantees = List.of("at_least_once");

		List<Long> commitIntervals = List.of(50L);

		List<Long> horizons = List.of(500L);

		String bootstrap;

		/** Parses the arguments; {@code null} when help was asked for. */
		static Options parse(String[] args) {
			Options options = new Options();
			Map<String, String> values = new LinkedHashMap<>();
			for (int i = 0; i < args.length; i++) {
				if ("--help".equals(args[i]) || "-h".equals(args[i])) {
					return null;
				}
				if (!args[i].startsWith("--") || i + 1 == args.length) {
					throw new IllegalArgumentException("expected --option value but got '" + args[i] + "'");
				}
				values.put(args[i].substring(2), args[++i]);
			}
			values.forEach((name, value) -> {
				switch (name) {
					case "instances" -> options.instances = (int) positive(name, value);
					case "seconds" -> options.seconds = positive(name, value);
					case "rate" -> options.rate = positive(name, value);
					case "capacity" -> options.capacity = positive(name, value);
					case "demand" -> options.demand = positive(name, value);
					case "guarantee" -> options.guarantees = list(value, (guarantee) -> {
						if (!guarantee.equals("at_least_once") && !guarantee.equals("exactly_once_v2")) {
							throw new IllegalArgumentException(
									"--guarantee takes at_least_once or exactly_once_v2, not '" + guarantee + "'");
						}
						return guarantee;
					});
					case "commit-interval" -> options.commitIntervals = list(value, (ms) -> positive(name, ms));
					case "horizon" -> options.horizons = list(value, (ms) -> positive(name, ms));
					case "bootstrap" -> options.bootstrap = value;
					default -> throw new IllegalArgumentException("unknown option --" + name);
				}
			});
			if (options.capacity < 0) {
				options.capacity = options.rate;
			}
			if (options.demand < 0) {
				options.demand = options.rate;
			}
			return options;
		}

		private static long positive(String name, String value) {
			long parsed;
			try {
				parsed = Long.parseLong(value.trim());
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException("--" + name + " takes a whole number, not '" + value + "'");
			}
			if (parsed <= 0) {
				throw new IllegalArgumentException("--" + name + " must be positive, not " + parsed);
			}
			return parsed;
		}

		private static <T> List<T> list(String value, Function<String, T> parser) {
			return Arrays.stream(value.split(",")).map(String::trim).map(parser).toList();
		}

		String describe(String bootstrap, boolean embedded) {
			return String.format(Locale.ROOT,
					"Lease harness: %d instances in one JVM, each demanding %.0f/s for %d s, sharing %d/s "
							+ "(capacity %d); broker %s%s; JDK %s, %d CPUs",
					this.instances, this.demand, this.seconds, this.rate, this.capacity, bootstrap,
					embedded ? " (in-process KRaft)" : "", System.getProperty("java.version"),
					Runtime.getRuntime().availableProcessors());
		}

	}

}
