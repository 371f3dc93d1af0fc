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
 * for the 200 most likely tenants and {@code C <admitted> <denied>} for the others, and on
 * {@code STATS} from the harness (after the idle time) {@code S <live keys in the registry>
 * <limiters in the backend> <authority store entries here> <requests sent>}.
 */
final class Tenants {

	static final int RANKED = 200;

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
			if (ok) {
				admitted++;
			}
			else {
				denied++;
			}
			next += interval;
		}
		out.println("T " + slot * HarnessInstance.SLOT_MILLIS + " " + admitted + " " + denied);
		for (int rank = 0; rank < RANKED; rank++) {
			out.println("K " + rank + " " + ranked[rank][0] + " " + ranked[rank][1] + " " + ranked[rank][2]);
		}
		out.println("C " + cold[0] + " " + cold[1]);
		System.gc(); // the heap the live keys need, not garbage
		Runtime heap = Runtime.getRuntime();
		out.println("M " + registry.keyCount("api") + " " + (heap.totalMemory() - heap.freeMemory()));
		out.println("END " + backend.metrics());
		for (String line = in.readLine(); line != null; line = in.readLine()) {
			if (line.startsWith("STATS")) {
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

}
