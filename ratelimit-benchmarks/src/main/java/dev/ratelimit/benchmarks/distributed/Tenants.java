package dev.ratelimit.benchmarks.distributed;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.kafka.BackendHealth;
import dev.ratelimit.kafka.KafkaRateLimiterBackend;

/**
 * The per-tenant workload of the harness, in one instance JVM: a registry whose limiter
 * {@code api} is global and per key (as {@code @RateLimited(name = "api", key = "#tenant")} with
 * {@code scope: global} makes it), called open loop at {@code demand} calls per second, each call
 * for a tenant drawn uniformly or from a Zipf distribution over {@code tenants} tenants.
 *
 * <p>Besides the {@code T} lines of every instance it reports {@code K <rank> <admitted> <denied>}
 * for the 200 most likely tenants, {@code C <admitted> <denied>} for the others and
 * {@code P <rank> <admitted in second 0> <in second 1> ...} for the 50 most likely, and on
 * {@code STATS} from the harness (after the idle time) {@code S <live keys in the registry>
 * <limiters in the backend> <authority store entries here> <requests sent>}, preceded by
 * {@code U ...}: where the CPU time since {@code IDLE} went (JIT compilation, GC, the busiest threads).
 * While the calls run, {@code O <millis> <owned request partitions>} each time this instance's
 * authority partitions change (a partition moving while a tenant leases is a moment to look at
 * in its {@code P} line).
 */
final class Tenants {

	static final int RANKED = 200;

	/** The most likely tenants whose admitted calls are reported per second ({@code P} lines). */
	static final int TRACED = 50;

	private Tenants() {
	}

	static void run(KafkaRateLimiterBackend backend, Map<String, String> options, PrintStream out) throws Exception {
		int tenants = Integer.parseInt(options.get("tenants"));
		double zipf = Double.parseDouble(options.getOrDefault("zipf", "0"));
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(Long.parseLong(options.get("rate"))))
			.capacity(Long.parseLong(options.get("capacity")))
			.build();
		RateLimiterRegistry registry = RateLimiterRegistry.builder()
			.maxKeys(Integer.parseInt(options.getOrDefault("max-keys", "1000000")))
			.keyIdleTimeout(Duration.ofSeconds(Long.parseLong(options.getOrDefault("key-idle-seconds", "20"))))
			.build()
			.define("api", limit, backend);
		while (backend.health().status() != BackendHealth.Status.UP) {
			LockSupport.parkNanos(Duration.ofMillis(5).toNanos()); // polling the health, not pacing work
		}
		out.println("READY " + System.currentTimeMillis());
		java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
		Thread owned = new Thread(() -> {
			String last = "";
			while (running.get()) {
				String now = backend.runtime().ownedPartitions().toString().replaceAll("[\\[\\] ]", "");
				if (!now.equals(last)) {
					out.println("O " + System.currentTimeMillis() + " " + (now.isEmpty() ? "-" : now));
					last = now;
				}
				LockSupport.parkNanos(Duration.ofMillis(50).toNanos()); // watching the assignment, not pacing work
			}
		}, "harness-owned");
		owned.setDaemon(true);
		owned.start();
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
		String[] go = in.readLine().split(" ");
		long start = Long.parseLong(go[1]);
		long end = Long.parseLong(go[2]);
		double[] cumulative = (zipf > 0) ? zipfCumulative(tenants, zipf) : null;
		SplittableRandom random = new SplittableRandom(options.get("instance").hashCode());
		String[] names = new String[tenants];
		for (int i = 0; i < tenants; i++) {
			names[i] = "t" + i;
		}
		long[][] ranked = new long[RANKED][3]; // admitted, denied, admitted in the first second
		long[][] traced = new long[TRACED][(int) ((end - start) / 1000) + 1]; // admitted per second
		long[] cold = new long[2];
		double demand = Double.parseDouble(options.get("demand"));
		long interval = (long) (1e9 / demand);
		long offset = System.nanoTime() - System.currentTimeMillis() * 1_000_000L;
		long next = start * 1_000_000L + offset;
		long endNanos = end * 1_000_000L + offset;
		long slot = start / HarnessInstance.SLOT_MILLIS;
		long admitted = 0;
		long denied = 0;
		while (next < endNanos) {
			long wait = next - System.nanoTime();
			if (wait > 0) {
				LockSupport.parkNanos(wait); // pacing the open-loop demand
			}
			long nowSlot = (next - offset) / 1_000_000L / HarnessInstance.SLOT_MILLIS;
			if (nowSlot != slot) {
				out.println("T " + slot * HarnessInstance.SLOT_MILLIS + " " + admitted + " " + denied);
				admitted = 0;
				denied = 0;
				slot = nowSlot;
			}
			int tenant = (cumulative != null) ? draw(cumulative, random.nextDouble()) : random.nextInt(tenants);
			boolean ok = registry.limiter("api", names[tenant]).tryAcquire();
			long[] counts = (tenant < RANKED) ? ranked[tenant] : cold;
			counts[ok ? 0 : 1]++;
			if (ok && tenant < RANKED && next - offset < (start + 1000) * 1_000_000L) {
				counts[2]++;
			}
			if (ok && tenant < TRACED) {
				traced[tenant][(int) Math.min(traced[tenant].length - 1, ((next - offset) / 1_000_000L - start) / 1000)]++;
			}
			if (ok) {
				admitted++;
			}
			else {
				denied++;
			}
			next += interval;
		}
		out.println("T " + slot * HarnessInstance.SLOT_MILLIS + " " + admitted + " " + denied);
		running.set(false); // the idle time measured afterwards is the backend's alone
		for (int rank = 0; rank < RANKED; rank++) {
			out.println("K " + rank + " " + ranked[rank][0] + " " + ranked[rank][1] + " " + ranked[rank][2]);
		}
		out.println("C " + cold[0] + " " + cold[1]);
		for (int rank = 0; rank < TRACED; rank++) {
			StringBuilder line = new StringBuilder("P ").append(rank);
			for (long second : traced[rank]) {
				line.append(' ').append(second);
			}
			out.println(line);
		}
		System.gc(); // the heap the live keys need, not garbage
		Runtime heap = Runtime.getRuntime();
		out.println("M " + registry.keyCount("api") + " " + (heap.totalMemory() - heap.freeMemory()));
		out.println("END " + backend.metrics());
		IdleCpu idle = null;
		for (String line = in.readLine(); line != null; line = in.readLine()) {
			if (line.startsWith("IDLE")) {
				idle = new IdleCpu();
			}
			else if (line.startsWith("STATS")) {
				if (idle != null) {
					out.println(idle.since());
				}
				System.gc(); // the heap the live state needs, not garbage
				out.println("S " + registry.keyCount("api") + " " + backend.runtime().limiterCount() + " "
						+ backend.runtime().authorityKeys() + " " + backend.runtime().requestsSent() + " "
						+ (heap.totalMemory() - heap.freeMemory()));
			}
			else if (line.startsWith("STOP")) {
				break;
			}
		}
		System.exit(0);
	}

	/** P(rank <= i) for ranks 0..n-1 with weights 1 / (rank + 1)^s. */
	static double[] zipfCumulative(int n, double s) {
		double[] cumulative = new double[n];
		double sum = 0;
		for (int i = 0; i < n; i++) {
			sum += 1 / Math.pow(i + 1, s);
			cumulative[i] = sum;
		}
		for (int i = 0; i < n; i++) {
			cumulative[i] /= sum;
		}
		return cumulative;
	}

	private static int draw(double[] cumulative, double u) {
		int index = java.util.Arrays.binarySearch(cumulative, u);
		return Math.min(cumulative.length - 1, (index >= 0) ? index : -index - 1);
	}

	/** CPU time of this JVM's threads, its JIT and its GC from a start: what an idle instance spends. */
	private static final class IdleCpu {

		private final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory
			.getThreadMXBean();

		private final Map<Long, Long> cpu = new java.util.HashMap<>();

		private final long jitMillis = jitMillis();

		private final long gcMillis = gcMillis();

		private final long start = System.nanoTime();

		IdleCpu() {
			for (long id : this.threads.getAllThreadIds()) {
				this.cpu.put(id, this.threads.getThreadCpuTime(id));
			}
		}

		String since() {
			double seconds = (System.nanoTime() - this.start) / 1e9;
			StringBuilder line = new StringBuilder("U seconds=").append(String.format(java.util.Locale.ROOT, "%.1f", seconds))
				.append(" jit-ms=")
				.append(jitMillis() - this.jitMillis)
				.append(" gc-ms=")
				.append(gcMillis() - this.gcMillis);
			java.util.List<Map.Entry<String, Long>> busy = new java.util.ArrayList<>();
			long total = 0;
			for (java.lang.management.ThreadInfo info : this.threads.getThreadInfo(this.threads.getAllThreadIds())) {
				if (info == null) {
					continue;
				}
				long now = this.threads.getThreadCpuTime(info.getThreadId());
				long spent = now - this.cpu.getOrDefault(info.getThreadId(), 0L);
				if (now >= 0 && spent > 0) {
					total += spent;
					busy.add(Map.entry(info.getThreadName().replace(' ', '_'), spent));
				}
			}
			line.append(" threads-ms=").append(total / 1_000_000);
			busy.sort(Map.Entry.<String, Long>comparingByValue().reversed());
			for (Map.Entry<String, Long> thread : busy.subList(0, Math.min(8, busy.size()))) {
				line.append(' ').append(thread.getKey()).append('=').append(thread.getValue() / 1_000_000);
			}
			return line.toString();
		}

		private static long jitMillis() {
			java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
			return (jit != null && jit.isCompilationTimeMonitoringSupported()) ? jit.getTotalCompilationTime() : -1;
		}

		private static long gcMillis() {
			long total = 0;
			for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory
				.getGarbageCollectorMXBeans()) {
				total += Math.max(0, gc.getCollectionTime());
			}
			return total;
		}

	}

}
