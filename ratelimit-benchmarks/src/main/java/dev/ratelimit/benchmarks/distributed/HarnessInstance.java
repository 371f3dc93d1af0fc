package dev.ratelimit.benchmarks.distributed;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.kafka.BackendHealth;
import dev.ratelimit.kafka.DegradedPolicy;
import dev.ratelimit.kafka.KafkaBackendConfig;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;

/**
 * One application instance of the multi-process harness, in its own JVM: it starts the Kafka
 * backend, creates one global limiter, says {@code READY} once the backend's health is UP, and on
 * {@code GO <startMillis> <endMillis>} (from the harness, on standard input) tries the limiter at
 * a fixed rate from the start to the end time, whatever the answers (open loop).
 *
 * <p>It reports on standard output, one line each: {@code T <slotMillis> <admitted> <denied>} per
 * 100 ms slot of wall-clock time, {@code H <millis> <status> <owned partitions>} twice a second,
 * {@code FIRST <millis>} at the first permit, and {@code END ...} with its totals and lease round
 * trips. SIGTERM closes the backend gracefully (leases given back, group left); SIGKILL is a crash.
 *
 * <p>Arguments are {@code name=value} pairs: {@code bootstrap}, {@code cluster}, {@code instance},
 * {@code key}, {@code rate}, {@code capacity}, {@code demand} (tries per second), {@code policy},
 * {@code guarantee}, {@code partitions}, {@code replication}, and in milliseconds
 * {@code session-timeout}, {@code commit-interval}, {@code report-interval}, {@code lease-horizon}, {@code lease-ttl},
 * {@code request-timeout}.
 */
public final class HarnessInstance {

	static final long SLOT_MILLIS = 100;

	private HarnessInstance() {
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> options = new HashMap<>();
		for (String arg : args) {
			int eq = arg.indexOf('=');
			options.put(arg.substring(0, eq), arg.substring(eq + 1));
		}
		PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
				StandardCharsets.UTF_8);
		KafkaBackendConfig.Builder config = KafkaBackendConfig.builder(options.get("bootstrap"))
			.clusterId(options.get("cluster"))
			.instanceId(options.get("instance"))
			.requestPartitions(Integer.parseInt(options.getOrDefault("partitions", "6")))
			.grantPartitions(Integer.parseInt(options.getOrDefault("partitions", "12")))
			.replicationFactor(Short.parseShort(options.getOrDefault("replication", "1")))
			.degradedPolicy(DegradedPolicy.valueOf(options.getOrDefault("policy", "LOCAL_SHARE")))
			.processingGuarantee(options.getOrDefault("guarantee", "at_least_once"));
		millis(options, "session-timeout").ifPresent(config::sessionTimeout);
		millis(options, "commit-interval").ifPresent(config::commitInterval);
		millis(options, "report-interval").ifPresent(config::reportInterval);
		millis(options, "lease-horizon").ifPresent(config::leaseHorizon);
		millis(options, "lease-ttl").ifPresent(config::leaseTtl);
		millis(options, "request-timeout").ifPresent(config::requestTimeout);
		KafkaRateLimiterBackend backend = KafkaRateLimiterBackend.start(config.build());
		if (options.containsKey("tenants")) {
			Tenants.run(backend, options, out);
			return;
		}
		long rate = Long.parseLong(options.get("rate"));
		long capacity = Long.parseLong(options.getOrDefault("capacity", options.get("rate")));
		RateLimiter limiter = backend.create(options.get("key"), null,
				RateLimit.tokenBucket(Rate.perSecond(rate)).capacity(capacity).build(), RateLimiterListener.NONE);
		AtomicBoolean stopping = new AtomicBoolean();
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			stopping.set(true);
			out.println("TERM " + System.currentTimeMillis());
			backend.close();
			out.println("CLOSED " + System.currentTimeMillis());
		}));
		Thread health = new Thread(() -> reportHealth(backend, limiter, out, stopping), "harness-health");
		health.setDaemon(true);
		health.start();
		while (backend.health().status() != BackendHealth.Status.UP) {
			LockSupport.parkNanos(Duration.ofMillis(5).toNanos()); // polling the health, not pacing work
		}
		out.println("READY " + System.currentTimeMillis());
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String[] go = in.readLine().split(" ");
		long start = Long.parseLong(go[1]);
		long end = Long.parseLong(go[2]);
		drive(limiter, Double.parseDouble(options.get("demand")), start, end, out, stopping);
		long[] trips = backend.runtime().roundTripsSorted();
		out.println("END " + backend.metrics() + " trips=" + trips.length + " p50="
				+ ((trips.length > 0) ? trips[trips.length / 2] / 1e6 : -1) + " p99="
				+ ((trips.length > 0) ? trips[Math.min(trips.length - 1, (int) (trips.length * 0.99))] / 1e6 : -1));
		out.println("TRIPS " + java.util.Arrays.toString(java.util.Arrays.stream(trips).map((t) -> t / 100_000).toArray()));
		String line = in.readLine(); // wait for the harness to say when to stop
		System.exit((line == null || line.startsWith("STOP")) ? 0 : 1);
	}

	private static java.util.Optional<Duration> millis(Map<String, String> options, String name) {
		return java.util.Optional.ofNullable(options.get(name)).map((value) -> Duration.ofMillis(Long.parseLong(value)));
	}

	private static void drive(RateLimiter limiter, double demand, long startMillis, long endMillis, PrintStream out,
			AtomicBoolean stopping) {
		long interval = (long) (1e9 / demand);
		long offset = System.nanoTime() - System.currentTimeMillis() * 1_000_000L; // wall clock to nanoTime
		long startNanos = startMillis * 1_000_000L + offset;
		long endNanos = endMillis * 1_000_000L + offset;
		long next = startNanos;
		long slot = startMillis / SLOT_MILLIS;
		long admitted = 0;
		long denied = 0;
		boolean first = true;
		while (next < endNanos && !stopping.get()) {
			long wait = next - System.nanoTime();
			if (wait > 0) {
				LockSupport.parkNanos(wait); // pacing the open-loop demand
			}
			long nowSlot = (next - offset) / 1_000_000L / SLOT_MILLIS;
			if (nowSlot != slot) {
				out.println("T " + slot * SLOT_MILLIS + " " + admitted + " " + denied);
				admitted = 0;
				denied = 0;
				slot = nowSlot;
			}
			if (limiter.tryAcquire()) {
				admitted++;
				if (first) {
					first = false;
					out.println("FIRST " + System.currentTimeMillis());
				}
			}
			else {
				denied++;
			}
			next += interval;
		}
		out.println("T " + slot * SLOT_MILLIS + " " + admitted + " " + denied);
	}

	private static void reportHealth(KafkaRateLimiterBackend backend, RateLimiter limiter, PrintStream out,
			AtomicBoolean stopping) {
		long reports = 0;
		while (!stopping.get()) {
			if (reports++ % 4 == 0) {
				out.println("D " + System.currentTimeMillis() + " " + limiter.snapshot().details() + " "
						+ backend.health().details().get("reason"));
			}
			BackendHealth health = backend.health();
			String owned = backend.runtime().ownedPartitions().toString().replaceAll("[\\[\\] ]", "");
			out.println("H " + System.currentTimeMillis() + " " + health.status() + " " + (owned.isEmpty() ? "-" : owned));
			LockSupport.parkNanos(Duration.ofMillis(250).toNanos()); // a report every quarter second
		}
	}

}
