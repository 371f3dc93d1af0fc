package dev.ratelimit.benchmarks.distributed;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
 * {@code guarantee}, {@code partitions}, {@code replication}, {@code classes} (a limit divided among
 * priority classes: {@code critical:60:i1,batch:400} tries each class at its demand, on the instance
 * named third or on every one, and ends with {@code CLASS <name> <admitted> <denied>}), and in milliseconds
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
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(rate)).capacity(capacity).build();
		// classes=critical:60:i1,batch:400: a limit divided among classes, each tried at its demand
		// (on every instance, or only on the one named third)
		List<String[]> classes = new ArrayList<>();
		if (options.containsKey("classes")) {
			for (String spec : options.get("classes").split(",")) {
				classes.add(spec.split(":"));
			}
		}
		dev.ratelimit.PriorityRateLimiter divided = classes.isEmpty() ? null
				: backend.createPriorities(options.get("key"), limit,
						dev.ratelimit.Priorities.of(classes.stream().map((spec) -> spec[0]).toList()),
						RateLimiterListener.NONE);
		RateLimiter limiter = (divided != null) ? divided.forClass(classes.get(classes.size() - 1)[0])
				: backend.create(options.get("key"), null, limit, RateLimiterListener.NONE);
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
		if (divided == null) {
			drive(limiter, Double.parseDouble(options.get("demand")), start, end, out, stopping, new AtomicBoolean());
		}
		else {
			driveClasses(divided, classes, options.get("instance"), start, end, out, stopping);
		}
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

	/** Each class at its demand in a thread of its own; {@code CLASS <name> <admitted> <denied>} at the end. */
	private static void driveClasses(dev.ratelimit.PriorityRateLimiter divided, List<String[]> classes, String self,
			long startMillis, long endMillis, PrintStream out, AtomicBoolean stopping) throws InterruptedException {
		AtomicBoolean first = new AtomicBoolean();
		List<Thread> threads = new ArrayList<>();
		for (String[] spec : classes) {
			double demand = Double.parseDouble(spec[1]);
			if (demand <= 0 || (spec.length > 2 && !spec[2].equals(self))) {
				continue;
			}
			Thread thread = new Thread(() -> {
				long[] counts = drive(divided.forClass(spec[0]), demand, startMillis, endMillis, out, stopping, first);
				out.println("CLASS " + spec[0] + " " + counts[0] + " " + counts[1]);
			}, "harness-class-" + spec[0]);
			thread.start();
			threads.add(thread);
		}
		for (Thread thread : threads) {
			thread.join();
		}
	}

	/** Tries a limiter at a fixed rate; prints a T line per slot; returns the admitted and denied totals. */
	private static long[] drive(RateLimiter limiter, double demand, long startMillis, long endMillis, PrintStream out,
			AtomicBoolean stopping, AtomicBoolean firstSeen) {
		long allAdmitted = 0;
		long allDenied = 0;
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
				allAdmitted += admitted;
				allDenied += denied;
				admitted = 0;
				denied = 0;
				slot = nowSlot;
			}
			if (limiter.tryAcquire()) {
				admitted++;
				if (first) {
					first = false;
					if (firstSeen.compareAndSet(false, true)) {
						out.println("FIRST " + System.currentTimeMillis());
					}
				}
			}
			else {
				denied++;
			}
			next += interval;
		}
		out.println("T " + slot * SLOT_MILLIS + " " + admitted + " " + denied);
		return new long[] { allAdmitted + admitted, allDenied + denied };
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
