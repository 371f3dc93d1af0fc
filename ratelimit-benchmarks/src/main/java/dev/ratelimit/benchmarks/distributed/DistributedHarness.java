package dev.ratelimit.benchmarks.distributed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.utils.Utils;

import dev.ratelimit.kafka.StandaloneBroker;

/**
 * The multi-process harness of the Kafka backend: a broker process (or a 3-node cluster) and N
 * instance JVMs ({@link HarnessInstance}) sharing one global limit, with faults injected on a
 * timeline. It prints, per second, what each instance admitted and denied and its health, then
 * the totals against the bound {@code capacity + rate x T} and each scenario's targets.
 *
 * <p>Every distributed figure in the docs comes from here. Usage (see
 * {@code ratelimit-benchmarks/run-distributed-harness.sh}):
 * {@code DistributedHarness [--runs n] scenario...}, scenarios: {@code accuracy-3x200},
 * {@code accuracy-6x1000}, {@code owner-kill}, {@code owner-term}, {@code outage-10s-c100},
 * {@code outage-10s-c1000}, {@code outage-60s-c100}, {@code outage-60s-c1000} (each also as
 * {@code ...-fail-closed}), {@code leader-kill}, {@code restart}, {@code restart-with-broker}, or
 * {@code all}. The system property
 * {@code harness.instance} adds {@code name=value} settings to every instance (see
 * {@link HarnessInstance}), e.g. {@code -Dharness.instance="commit-interval=100"}.
 */
public final class DistributedHarness {

	private static final String KEY = "shared";

	/** The request partitions: the backend's default (instances may override it with HARNESS_INSTANCE). */
	private static final int PARTITIONS = Integer.parseInt(instanceOption("partitions", "6"));

	private final Scenario scenario;

	private final Path logs;

	private final List<Instance> instances = new ArrayList<>();

	private final List<String> events = new CopyOnWriteArrayList<>();

	private StandaloneBroker broker;

	private long start;

	private long end;

	private String cluster;

	private DistributedHarness(Scenario scenario, Path logs) {
		this.scenario = scenario;
		this.logs = logs;
	}

	public static void main(String[] args) throws Exception {
		int runs = 1;
		List<String> names = new ArrayList<>();
		for (int i = 0; i < args.length; i++) {
			if (args[i].equals("--runs")) {
				runs = Integer.parseInt(args[++i]);
			}
			else {
				names.add(args[i]);
			}
		}
		if (names.isEmpty() || names.contains("all")) {
			names = new ArrayList<>(Scenario.ALL.keySet());
		}
		List<String> summary = new ArrayList<>();
		boolean allPassed = true;
		for (String name : names) {
			Scenario scenario = Scenario.ALL.get(name);
			if (scenario == null) {
				throw new IllegalArgumentException("unknown scenario '" + name + "'; known: " + Scenario.ALL.keySet());
			}
			for (int run = 1; run <= runs; run++) {
				Path logs = Path.of("target", "harness", name + "-" + run);
				Files.createDirectories(logs);
				System.out.printf("%n## %s, run %d of %d%n%n", name, run, runs);
				List<Check> checks = new DistributedHarness(scenario, logs).run();
				for (Check check : checks) {
					summary.add(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s |", name, run, check.name,
							check.value, check.target, check.passed ? "pass" : "**FAIL**"));
					allPassed &= check.passed;
				}
			}
		}
		System.out.printf("%n## Summary%n%n| scenario | run | measure | value | target | |%n|---|---|---|---|---|---|%n");
		summary.forEach(System.out::println);
		System.exit(allPassed ? 0 : 1);
	}

	private List<Check> run() throws Exception {
		this.broker = new StandaloneBroker(this.scenario.brokers);
		try {
			this.broker.start();
			this.cluster = "harness-" + Long.toHexString(System.nanoTime());
			for (int i = 0; i < this.scenario.instances; i++) {
				this.instances.add(launch(i));
			}
			awaitReady(this.instances);
			this.scenario.beforeStart(this);
			this.start = System.currentTimeMillis() + 1000;
			this.end = this.start + this.scenario.seconds * 1000L;
			for (Instance instance : this.instances) {
				instance.send("GO " + this.start + " " + this.end);
			}
			for (Fault fault : this.scenario.faults) {
				sleepUntil(this.start + fault.atMillis);
				fault.action.apply(this);
			}
			for (Instance instance : this.instances) {
				if (instance.process.isAlive()) {
					instance.awaitEnd(this.end + 60_000);
				}
			}
			this.scenario.afterRun(this);
			for (Instance instance : this.instances) {
				instance.send("STOP");
				instance.process.waitFor(30, TimeUnit.SECONDS);
				instance.process.destroyForcibly();
			}
			return report();
		}
		finally {
			for (Instance instance : this.instances) {
				instance.process.destroyForcibly();
			}
			this.broker.close();
		}
	}

	private void awaitReady(List<Instance> instances) throws InterruptedException {
		long deadline = System.currentTimeMillis() + 180_000;
		for (Instance instance : instances) {
			while (instance.ready == 0) {
				if (System.currentTimeMillis() > deadline || !instance.process.isAlive()) {
					throw new IllegalStateException(instance.name + " did not become ready; see " + this.logs);
				}
				Thread.sleep(20); // the harness waits for child processes; not a test
			}
		}
	}

	/**
	 * Every live instance killed (SIGKILL), and with {@code broker} every broker too (started again
	 * at once); then as many new instance JVMs started, which join the run once all are ready.
	 */
	void restartFleet(boolean broker) throws Exception {
		List<Instance> live = this.instances.stream().filter((instance) -> instance.process.isAlive()).toList();
		for (Instance instance : live) {
			instance.kill();
		}
		event("SIGKILL of every instance " + live.stream().map((instance) -> instance.name).toList());
		if (broker) {
			this.broker.kill();
			event("broker killed");
			this.broker.start();
			event("broker accepting");
		}
		List<Instance> fresh = new ArrayList<>();
		for (int i = 0; i < live.size(); i++) {
			fresh.add(launch(this.instances.size()));
			this.instances.add(fresh.get(i));
		}
		awaitReady(fresh);
		long go = System.currentTimeMillis() + 200;
		this.restartedAt = go;
		for (Instance instance : fresh) {
			instance.send("GO " + go + " " + this.end);
		}
		event("new instances " + fresh.stream().map((instance) -> instance.name).toList() + " ready, start at "
				+ String.format(Locale.ROOT, "%+.1f s", (go - this.start) / 1000.0));
	}

	private Instance launch(int index) throws IOException {
		String name = "i" + (index + 1);
		String cluster = this.cluster;
		List<String> command = new ArrayList<>(List.of(StandaloneBroker.javaBinary(), "-Xmx256m"));
		// HARNESS_JVM: extra options for the instance JVMs (diagnostics, e.g. -Xlog:jit+compilation=debug:file=...)
		String jvm = System.getenv("HARNESS_JVM");
		if (jvm != null && !jvm.isBlank()) {
			command.addAll(List.of(jvm.trim().split("\\s+")));
		}
		command.addAll(List.of("-cp", System.getProperty("java.class.path"), HarnessInstance.class.getName(),
				"bootstrap=" + this.broker.bootstrap(), "cluster=" + cluster, "instance=" + name, "key=" + KEY,
				"rate=" + this.scenario.rate, "capacity=" + this.scenario.capacity,
				"demand=" + this.scenario.demand, "policy=" + this.scenario.policy,
				"partitions=" + PARTITIONS, "replication=" + Math.min(3, this.scenario.brokers),
				"guarantee=" + this.scenario.guarantee));
		command.addAll(this.scenario.options);
		String extra = System.getProperty("harness.instance", "").trim();
		if (!extra.isEmpty()) {
			command.addAll(List.of(extra.split("\\s+"))); // backend settings to try, name=value
		}
		Process process = new ProcessBuilder(command).redirectError(this.logs.resolve(name + ".err").toFile()).start();
		Instance instance = new Instance(name, process, this.logs.resolve(name + ".log"));
		instance.startReading();
		return instance;
	}

	private static void sleepUntil(long millis) throws InterruptedException {
		long wait = millis - System.currentTimeMillis();
		if (wait > 0) {
			Thread.sleep(wait); // the harness's timeline, not a test
		}
	}

	/** An option of {@code -Dharness.instance} ("name=value ..."), or the fallback. */
	private static String instanceOption(String name, String fallback) {
		for (String option : System.getProperty("harness.instance", "").trim().split("\\s+")) {
			if (option.startsWith(name + "=")) {
				return option.substring(name.length() + 1);
			}
		}
		return fallback;
	}

	static int partitionOf(String key) {
		return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
	}

	/** The instance whose authority owns the key's partition now. */
	Instance owner() {
		int partition = partitionOf(KEY);
		for (Instance instance : this.instances) {
			if (instance.process.isAlive() && instance.owns(partition)) {
				return instance;
			}
		}
		throw new IllegalStateException("no live instance owns partition " + partition);
	}

	void event(String what) {
		long at = System.currentTimeMillis() - this.start;
		this.events.add(String.format(Locale.ROOT, "%+.1f s: %s", at / 1000.0, what));
		System.out.println("   " + this.events.get(this.events.size() - 1));
	}

	// ---- the report --------------------------------------------------------------------------------

	private List<Check> report() throws IOException {
		int seconds = this.scenario.seconds;
		StringBuilder table = new StringBuilder("| s |");
		StringBuilder rule = new StringBuilder("|---|");
		for (Instance instance : this.instances) {
			table.append(' ').append(instance.name).append(" adm/den health |");
			rule.append("---|");
		}
		table.append(" total |\n").append(rule).append("---|\n");
		long[] totals = new long[seconds];
		for (int s = 0; s < seconds; s++) {
			table.append("| ").append(s + 1).append(" |");
			for (Instance instance : this.instances) {
				long[] second = instance.second(this.start + s * 1000L);
				totals[s] += second[0];
				table.append(' ').append(second[0]).append('/').append(second[1]).append(' ')
					.append(instance.healthIn(this.start + s * 1000L)).append(" |");
			}
			table.append(' ').append(totals[s]).append(" |\n");
		}
		System.out.print(table);
		Files.writeString(this.logs.resolve("seconds.md"), table);
		long admitted = 0;
		for (long total : totals) {
			admitted += total;
		}
		double bound = this.scenario.capacity + this.scenario.rate * (double) seconds;
		double ratio = admitted / bound;
		List<Check> checks = new ArrayList<>();
		if (this.scenario instanceof TenantScenario) {
			checks.addAll(this.scenario.extraChecks(this, totals)); // many keys: each tenant has its own bound
			printChecks(checks);
			return checks;
		}
		checks.add(new Check("admitted / (capacity + rate x T)",
				String.format(Locale.ROOT, "%.4f (%d / %.0f)", ratio, admitted, bound),
				String.format(Locale.ROOT, "[%.2f, %.2f]", this.scenario.minRatio, this.scenario.maxRatio),
				ratio >= this.scenario.minRatio && ratio <= this.scenario.maxRatio));
		long worstFirst = 0;
		for (Instance instance : this.instances) {
			if (instance.first > 0) {
				worstFirst = Math.max(worstFirst, instance.first - this.start);
			}
			else if (instance.killedAt == 0) {
				worstFirst = Long.MAX_VALUE;
			}
		}
		if (this.scenario.faults.isEmpty()) {
			checks.add(new Check("first permit after start (worst instance)",
					(worstFirst == Long.MAX_VALUE) ? "never" : worstFirst + " ms", "<= 100 ms", worstFirst <= 100));
			double p50 = 0;
			double p99 = 0;
			for (Instance instance : this.instances) {
				p50 = Math.max(p50, instance.p50);
				p99 = Math.max(p99, instance.p99);
			}
			checks.add(new Check("lease round trip p50 (worst instance)", p50 + " ms", "<= 10 ms", p50 <= 10));
			checks.add(new Check("lease round trip p99 (worst instance)", p99 + " ms", "<= 50 ms", p99 <= 50));
		}
		checks.addAll(this.scenario.extraChecks(this, totals));
		printChecks(checks);
		return checks;
	}

	private void printChecks(List<Check> checks) {
		System.out.println();
		this.events.forEach((event) -> System.out.println("   " + event));
		for (Check check : checks) {
			System.out.printf("   %s: %s (target %s) %s%n", check.name, check.value, check.target,
					check.passed ? "pass" : "FAIL");
		}
	}

	/** Seconds (from the start) in which a live instance admitted nothing while its health said UP. */
	List<String> zeroSecondsWhileUp(int fromSecond) {
		List<String> zero = new ArrayList<>();
		for (Instance instance : this.instances) {
			for (int s = fromSecond; s < this.scenario.seconds; s++) {
				long at = this.start + s * 1000L;
				if (instance.killedAt != 0 && instance.killedAt < at + 1000) {
					break;
				}
				if (instance.second(at)[0] == 0 && instance.healthIn(at).equals("UP")) {
					zero.add(instance.name + "@" + (s + 1));
				}
			}
		}
		return zero;
	}

	long survivorsIn(long fromMillis) {
		long admitted = 0;
		for (Instance instance : this.instances) {
			if (instance.killedAt == 0) {
				admitted += instance.admittedBetween(fromMillis, fromMillis + 1000);
			}
		}
		return admitted;
	}

	/** When an instance first reported owning the key's partition after {@code millis}. */
	long firstOwnedAfter(long millis) {
		int partition = partitionOf(KEY);
		long first = Long.MAX_VALUE;
		for (Instance instance : this.instances) {
			if (instance.killedAt == 0) { // the lost owner may report its partition until it dies
				first = Math.min(first, instance.firstOwning(partition, millis));
			}
		}
		return first;
	}

	long start() {
		return this.start;
	}

	StandaloneBroker broker() {
		return this.broker;
	}

	String bootstrap() {
		return this.broker.bootstrap();
	}

	/** The broker node that leads the key's request partition. */
	int requestPartitionLeader() throws Exception {
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
			String topic = admin.listTopics().names().get().stream()
				.filter((name) -> name.endsWith("-requests"))
				.findFirst()
				.orElseThrow();
			TopicDescription description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
			return description.partitions().get(partitionOf(KEY)).leader().id();
		}
	}

	// ---- one instance process ------------------------------------------------------------------------

	/** An instance JVM and what it reported. */
	static final class Instance {

		final String name;

		final Process process;

		final Path log;

		final Writer input;

		final ConcurrentSkipListMap<Long, long[]> slots = new ConcurrentSkipListMap<>();

		final ConcurrentSkipListMap<Long, String[]> health = new ConcurrentSkipListMap<>();

		volatile long ready;

		final Map<Integer, long[]> ranked = new java.util.concurrent.ConcurrentHashMap<>();

		/** Admitted and denied per priority class, over the run. */
		final Map<String, long[]> classes = new java.util.concurrent.ConcurrentHashMap<>();

		volatile long[] cold;

		/** Live keys and heap used (after a GC) when the run ended. */
		volatile long[] endOfRun;

		/** Registry keys, backend limiters, authority store entries, requests sent, heap bytes. */
		volatile long[] stats;

		/** Where the idle window's CPU time went (the U line): JIT, GC, the JVM's threads, in ms. */
		volatile long[] idleSplit;

		volatile long first;

		volatile long ended;

		volatile long killedAt;

		volatile double p50 = -1;

		volatile double p99 = -1;

		Instance(String name, Process process, Path log) {
			this.name = name;
			this.process = process;
			this.log = log;
			this.input = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
		}

		void send(String line) {
			try {
				this.input.write(line + "\n");
				this.input.flush();
			}
			catch (IOException ex) {
				// a killed instance reads nothing
			}
		}

		void startReading() {
			Thread reader = new Thread(() -> {
				try (BufferedReader in = new BufferedReader(
						new InputStreamReader(this.process.getInputStream(), StandardCharsets.UTF_8));
						PrintWriter log = new PrintWriter(Files.newBufferedWriter(this.log))) {
					for (String line = in.readLine(); line != null; line = in.readLine()) {
						log.println(line);
						log.flush();
						read(line.split(" "));
					}
				}
				catch (IOException ex) {
					// the process is gone
				}
			}, "harness-" + this.name);
			reader.setDaemon(true);
			reader.start();
		}

		private void read(String[] line) {
			switch (line[0]) {
				case "READY" -> this.ready = Long.parseLong(line[1]);
				case "FIRST" -> this.first = Long.parseLong(line[1]);
				// several classes of one instance may report the same slot: summed
				case "T" -> this.slots.merge(Long.parseLong(line[1]),
						new long[] { Long.parseLong(line[2]), Long.parseLong(line[3]) },
						(a, b) -> new long[] { a[0] + b[0], a[1] + b[1] });
				case "CLASS" -> this.classes.merge(line[1], new long[] { Long.parseLong(line[2]), Long.parseLong(line[3]) },
						(a, b) -> new long[] { a[0] + b[0], a[1] + b[1] });
				case "H" -> this.health.put(Long.parseLong(line[1]), new String[] { line[2], line[3] });
				case "K" -> this.ranked.put(Integer.parseInt(line[1]), new long[] { Long.parseLong(line[2]),
						Long.parseLong(line[3]), (line.length > 4) ? Long.parseLong(line[4]) : 0 });
				case "C" -> this.cold = new long[] { Long.parseLong(line[1]), Long.parseLong(line[2]) };
				case "M" -> this.endOfRun = new long[] { Long.parseLong(line[1]), Long.parseLong(line[2]) };
				case "U" -> this.idleSplit = new long[] { field(line, "jit-ms"), field(line, "gc-ms"),
						field(line, "threads-ms") };
				case "S" -> this.stats = new long[] { Long.parseLong(line[1]), Long.parseLong(line[2]),
						Long.parseLong(line[3]), Long.parseLong(line[4]), Long.parseLong(line[5]) };
				case "END" -> {
					for (String part : line) {
						if (part.startsWith("p50=")) {
							this.p50 = Double.parseDouble(part.substring(4));
						}
						else if (part.startsWith("p99=")) {
							this.p99 = Double.parseDouble(part.substring(4));
						}
					}
					this.ended = System.currentTimeMillis();
				}
				default -> {
				}
			}
		}

		private static long field(String[] line, String name) {
			for (String part : line) {
				if (part.startsWith(name + "=")) {
					return Long.parseLong(part.substring(name.length() + 1));
				}
			}
			return -1;
		}

		void awaitEnd(long deadline) throws InterruptedException {
			while (this.ended == 0 && this.process.isAlive() && System.currentTimeMillis() < deadline) {
				Thread.sleep(50); // waiting for a child process
			}
		}

		boolean owns(int partition) {
			Map.Entry<Long, String[]> last = this.health.lastEntry();
			return last != null && List.of(last.getValue()[1].split(",")).contains(String.valueOf(partition));
		}

		long firstOwning(int partition, long after) {
			for (Map.Entry<Long, String[]> entry : this.health.tailMap(after).entrySet()) {
				if (List.of(entry.getValue()[1].split(",")).contains(String.valueOf(partition))) {
					return entry.getKey();
				}
			}
			return Long.MAX_VALUE;
		}

		/** Admitted and denied in the second starting at {@code millis}. */
		long[] second(long millis) {
			long[] sum = new long[2];
			for (long[] slot : this.slots.subMap(millis, millis + 1000).values()) {
				sum[0] += slot[0];
				sum[1] += slot[1];
			}
			return sum;
		}

		long admittedBetween(long from, long to) {
			long sum = 0;
			for (long[] slot : this.slots.subMap(from, to).values()) {
				sum += slot[0];
			}
			return sum;
		}

		/** The worst health reported in the second starting at {@code millis} ("-" if none). */
		String healthIn(long millis) {
			String worst = "-";
			for (String[] report : this.health.subMap(millis, millis + 1000).values()) {
				if (worst.equals("-") || rank(report[0]) > rank(worst)) {
					worst = report[0];
				}
			}
			return worst;
		}

		private static int rank(String status) {
			return switch (status) {
				case "UP" -> 0;
				case "DEGRADED" -> 1;
				default -> 2;
			};
		}

		void kill() throws InterruptedException {
			this.killedAt = System.currentTimeMillis();
			this.process.destroyForcibly().waitFor();
		}

		void terminate() throws InterruptedException {
			this.killedAt = System.currentTimeMillis();
			this.process.destroy();
			this.process.waitFor(30, TimeUnit.SECONDS);
		}

	}

	/** One measured figure against its target. */
	record Check(String name, String value, String target, boolean passed) {
	}

	/** Something done to the fleet at a time after the start. */
	record Fault(long atMillis, Action action) {
	}

	@FunctionalInterface
	interface Action {

		void apply(DistributedHarness harness) throws Exception;

	}

	/** A workload, its faults and its targets. */
	static class Scenario {

		static final Map<String, Scenario> ALL = new LinkedHashMap<>();

		int brokers = 1;

		int instances = 3;

		long rate = 200;

		long capacity = 200;

		double demand = 200;

		int seconds = 20;

		String policy = "LOCAL_SHARE";

		String guarantee = "at_least_once";

		double minRatio = 0.97;

		double maxRatio = 1.01;

		final List<Fault> faults = new ArrayList<>();

		/** More {@code name=value} arguments for every instance. */
		final List<String> options = new ArrayList<>();

		/** What to do once the instances are ready, before they are told when to start. */
		void beforeStart(DistributedHarness harness) throws Exception {
		}

		/** What to do once the instances have ended their run, before they are stopped. */
		void afterRun(DistributedHarness harness) throws Exception {
		}

		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			return List.of();
		}

		static {
			ALL.put("accuracy-3x200", new Scenario());
			Scenario six = new Scenario();
			six.instances = 6;
			six.rate = 1000;
			six.capacity = 1000;
			six.demand = 1000;
			six.minRatio = 0.95;
			ALL.put("accuracy-6x1000", six);
			ALL.put("accuracy-3x200-eos", new Scenario() {
				{
					this.guarantee = "exactly_once_v2";
				}
			});
			ALL.put("owner-kill", new OwnerLoss(true));
			ALL.put("owner-term", new OwnerLoss(false));
			for (int outage : new int[] { 10, 60 }) {
				for (long capacity : new long[] { 100, 1000 }) {
					ALL.put("outage-" + outage + "s-c" + capacity, new Outage(outage, capacity, "LOCAL_SHARE"));
					ALL.put("outage-" + outage + "s-c" + capacity + "-fail-closed",
							new Outage(outage, capacity, "FAIL_CLOSED"));
				}
			}
			ALL.put("leader-kill", new LeaderKill());
			ALL.put("tenants-uniform", new TenantScenario(20_000, 0, 2, 2_000));
			ALL.put("tenants-zipf", new TenantScenario(100_000, 1.1, 3, 2_000));
			ALL.put("priority-3x300", new PriorityScenario());
			ALL.put("restart", new Restart(false));
			ALL.put("restart-with-broker", new Restart(true));
		}

	}

	/**
	 * A global limit divided among classes ({@code critical}, {@code batch}), every instance saturating
	 * it with batch calls at 4/3 of the rate each, and critical calls at 20% of the rate, all on one
	 * instance: critical gets at least 99% of its calls, batch the rest, and the fleet stays within
	 * its bound.
	 */
	static final class PriorityScenario extends Scenario {

		PriorityScenario() {
			this.rate = 300;
			this.capacity = 300;
			this.demand = 400;
			this.seconds = 30;
			this.minRatio = 0.95;
			this.options.add("classes=critical:60:i1,batch:400");
		}

		@Override
		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			long[] critical = new long[2];
			long[] batch = new long[2];
			for (Instance instance : harness.instances) {
				long[] c = instance.classes.getOrDefault("critical", new long[2]);
				long[] b = instance.classes.getOrDefault("batch", new long[2]);
				critical[0] += c[0];
				critical[1] += c[1];
				batch[0] += b[0];
				batch[1] += b[1];
			}
			double criticalRatio = critical[0] / (double) Math.max(1, critical[0] + critical[1]);
			double bound = this.capacity + this.rate * (double) this.seconds;
			return List.of(
					new Check("critical admitted / tried (20% of the rate, one instance)",
							String.format(Locale.ROOT, "%.4f (%d / %d)", criticalRatio, critical[0],
									critical[0] + critical[1]),
							">= 0.99", criticalRatio >= 0.99),
					new Check("batch admitted (the rest)",
							String.format(Locale.ROOT, "%d (%.2f of the bound)", batch[0], batch[0] / bound),
							">= 0.70 of the bound", batch[0] >= 0.70 * bound));
		}

	}

	/** The instance owning the key's partition is killed (SIGKILL) or stopped (SIGTERM). */
	static final class OwnerLoss extends Scenario {

		static final long AT = 8_000;

		final boolean kill;

		OwnerLoss(boolean kill) {
			this.kill = kill;
			this.seconds = 30;
			this.minRatio = 0.90; // the dead instance's unspent lease is lost with it
			this.faults.add(new Fault(AT, (harness) -> {
				Instance owner = harness.owner();
				harness.event((kill ? "SIGKILL " : "SIGTERM ") + owner.name + " (owner of partition "
						+ partitionOf(KEY) + ")");
				if (kill) {
					owner.kill();
				}
				else {
					owner.terminate();
				}
			}));
		}

		@Override
		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			List<Check> checks = new ArrayList<>();
			long lost = harness.start() + AT;
			long moved = harness.firstOwnedAfter(lost);
			long movedAfter = (moved == Long.MAX_VALUE) ? -1 : moved - lost;
			long reached = -1;
			for (long at = lost; at + 1000 <= harness.start() + this.seconds * 1000L; at += HarnessInstance.SLOT_MILLIS) {
				if (harness.survivorsIn(at) >= 0.9 * this.rate) {
					reached = at + 1000 - lost; // the end of the first full second at 90% of the rate
					break;
				}
			}
			checks.add(new Check("partition moved after loss", (movedAfter < 0) ? "never" : movedAfter + " ms", "report",
					movedAfter >= 0));
			long ttlPlusOne = 5_000 + 1_000;
			long sinceMove = (reached < 0 || movedAfter < 0) ? -1 : reached - movedAfter;
			checks.add(new Check("survivors at >= 90% of the rate, after the move",
					(reached < 0) ? "never" : sinceMove + " ms", "<= " + ttlPlusOne + " ms",
					reached >= 0 && sinceMove <= ttlPlusOne));
			List<String> zero = harness.zeroSecondsWhileUp(1);
			checks.add(new Check("seconds with 0 admitted while UP", zero.isEmpty() ? "none" : zero.toString(), "none",
					zero.isEmpty()));
			return checks;
		}

	}

	/** Every broker killed for a while, then started again. */
	static final class Outage extends Scenario {

		/** How long a broker process takes to accept connections after a crash, on these machines. */
		static final int BROKER_START_SECONDS = 11;

		static final long AT = 5_000;

		Outage(int outageSeconds, long capacity, String policy) {
			this.capacity = capacity;
			this.policy = policy;
			this.seconds = outageSeconds + 20;
			// fail-closed admits nothing while Kafka is away: only the upper bound is promised
			this.minRatio = policy.equals("FAIL_CLOSED") ? 0 : 0.90;
			this.faults.add(new Fault(AT, (harness) -> {
				harness.event("broker killed");
				harness.broker().kill();
				harness.killed = System.currentTimeMillis();
			}));
			// a broker takes a while to start after a crash (log recovery): start it that much earlier,
			// so the outage (killed until accepting again) is about as long as asked
			this.faults.add(new Fault(AT + Math.max(1, outageSeconds - BROKER_START_SECONDS) * 1000L, (harness) -> {
				harness.event("broker starting");
				harness.broker().start();
				harness.recovered = System.currentTimeMillis();
				harness.event("broker accepting");
			}));
		}

		@Override
		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			// recovery without restart: the last five seconds admit at >= 90% of the rate
			long last = 0;
			for (int s = totals.length - 5; s < totals.length; s++) {
				last += totals[s];
			}
			double perSecond = last / 5.0;
			List<String> zero = harness.zeroSecondsWhileUp(1);
			return List.of(new Check("admitted per second, last 5 s (recovered)",
					String.format(Locale.ROOT, "%.1f", perSecond), ">= " + (long) (0.9 * this.rate),
					perSecond >= 0.9 * this.rate),
					new Check("outage (broker killed until it accepted again)",
							String.format(Locale.ROOT, "%.1f s", (harness.recovered - harness.killed) / 1000.0), "report",
							true),
					new Check("seconds with 0 admitted while UP", zero.isEmpty() ? "none" : zero.toString(), "none",
							zero.isEmpty()));
		}

	}

	/** A 3-node cluster, replication factor 3; the leader of the key's request partition is killed. */
	static final class LeaderKill extends Scenario {

		static final long AT = 8_000;

		LeaderKill() {
			this.brokers = 3;
			this.seconds = 30;
			this.minRatio = 0.90;
			this.faults.add(new Fault(AT, (harness) -> {
				int leader = harness.requestPartitionLeader();
				harness.event("SIGKILL broker " + leader + " (leader of request partition " + partitionOf(KEY) + ")");
				harness.broker().kill(leader);
				harness.killedNode = leader;
			}));
			this.faults.add(new Fault(AT + 10_000, (harness) -> {
				harness.event("broker " + harness.killedNode + " starting");
				harness.broker().start(harness.killedNode);
				harness.event("broker " + harness.killedNode + " accepting");
			}));
		}

		@Override
		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			List<String> zero = new ArrayList<>();
			for (int s = 1; s < totals.length; s++) {
				if (totals[s] == 0) {
					zero.add(String.valueOf(s + 1));
				}
			}
			return List.of(new Check("seconds with nothing admitted", zero.isEmpty() ? "none" : zero.toString(), "none",
					zero.isEmpty()));
		}

	}

	/**
	 * A drained bucket stays drained: the whole fleet is killed once the bucket is empty (and with
	 * the broker, every broker too), and new instance JVMs take over. The limit is small next to its
	 * capacity, so a bucket restored full would show as 1.6 x the bound.
	 */
	static final class Restart extends Scenario {

		static final long AT = 6_000;

		Restart(boolean broker) {
			this.rate = 20;
			this.capacity = 1000;
			this.demand = 200;
			this.seconds = 30;
			this.minRatio = 0.90;
			this.faults.add(new Fault(AT, (harness) -> harness.restartFleet(broker)));
		}

		@Override
		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			long down = harness.restartedAt - (harness.start() + AT);
			long before = 0;
			for (int s = 0; s < AT / 1000; s++) {
				before += totals[s];
			}
			long after = 0;
			for (int s = (int) (AT / 1000); s < totals.length; s++) {
				after += totals[s];
			}
			// after the restart, at most what was left (the bound less what the old fleet took)
			double left = this.capacity + this.rate * (double) this.seconds - before;
			long last = 0;
			for (int s = totals.length - 5; s < totals.length; s++) {
				last += totals[s];
			}
			return List.of(
					new Check("fleet down (kill until the new instances start)",
							String.format(Locale.ROOT, "%.1f s", down / 1000.0), "report", true),
					new Check("admitted before the kill / after it",
							before + " / " + after, "after <= " + (long) (1.01 * left), after <= 1.01 * left),
					new Check("admitted per second, last 5 s", String.format(Locale.ROOT, "%.1f", last / 5.0),
							">= " + (long) (0.9 * this.rate), last / 5.0 >= 0.9 * this.rate));
		}

	}

	/**
	 * Per-tenant quotas shared by the fleet: one global per-key limiter, many tenants, uniform or Zipf
	 * demand. Measures denials, Kafka records per decision, CPU while idle and keys kept after it.
	 */
	static final class TenantScenario extends Scenario {

		static final int KEY_IDLE_SECONDS = 20;

		/**
		 * How long idle CPU is measured: long enough that a compilation burst of the JIT (a JVM a
		 * minute old still compiles what the idle loops of its Kafka clients made hot, 0.1-0.8 s of
		 * a core once) counts at its weight in what an idle instance costs, rather than as 10 s.
		 */
		static final int IDLE_WINDOW_SECONDS = 30;

		final int tenants;

		final double zipf;

		Map<String, Long> recordsAtStart = Map.of();

		Map<String, Long> recordsAtEnd = Map.of();

		final Map<String, Double> idleCpu = new LinkedHashMap<>();

		TenantScenario(int tenants, double zipf, int instances, double demand) {
			this.tenants = tenants;
			this.zipf = zipf;
			this.instances = instances;
			this.demand = demand;
			this.rate = 10;
			this.capacity = 20;
			this.seconds = 30;
			this.options.addAll(List.of("tenants=" + tenants, "zipf=" + zipf, "key-idle-seconds=" + KEY_IDLE_SECONDS));
		}

		@Override
		void beforeStart(DistributedHarness harness) throws Exception {
			// before the calls start, not at their start: the first Admin client of the harness's JVM
			// took seconds on a loaded host, and the records of those seconds went uncounted
			this.recordsAtStart = harness.recordsByTopic();
		}

		@Override
		void afterRun(DistributedHarness harness) throws Exception {
			this.recordsAtEnd = harness.recordsByTopic();
			// twice the key idle timeout (the registry sweeps every half of it), and five seconds more
			harness.event("run ended; idle for twice the key idle timeout (" + KEY_IDLE_SECONDS + " s) and 5 s");
			Thread.sleep((KEY_IDLE_SECONDS * 2 + 5) * 1000L); // the idle time being measured, not a test
			Map<String, Long> before = new LinkedHashMap<>();
			for (Instance instance : harness.instances) {
				before.put(instance.name, cpuNanos(instance.process));
				instance.send("IDLE"); // the instance splits its idle CPU by thread, JIT and GC (its U line)
			}
			long from = System.nanoTime();
			Thread.sleep(IDLE_WINDOW_SECONDS * 1000L); // the idle seconds of CPU time measured
			double elapsed = System.nanoTime() - from;
			for (Instance instance : harness.instances) {
				this.idleCpu.put(instance.name, (cpuNanos(instance.process) - before.get(instance.name)) / elapsed);
				instance.send("STATS");
			}
			long deadline = System.currentTimeMillis() + 30_000;
			for (Instance instance : harness.instances) {
				while (instance.stats == null && System.currentTimeMillis() < deadline) {
					Thread.sleep(50); // waiting for a child process
				}
			}
		}

		private static long cpuNanos(Process process) {
			return process.toHandle().info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(-1L);
		}

		/** Fleet demand of a tenant rank, calls per second. */
		double demandOf(int rank) {
			double total = this.demand * this.instances;
			if (this.zipf <= 0) {
				return total / this.tenants;
			}
			double sum = 0;
			for (int i = 1; i <= this.tenants; i++) {
				sum += 1 / Math.pow(i, this.zipf);
			}
			return total / Math.pow(rank + 1, this.zipf) / sum;
		}

		@Override
		List<Check> extraChecks(DistributedHarness harness, long[] totals) {
			List<Check> checks = new ArrayList<>();
			long admitted = 0;
			long denied = 0;
			long coldAdmitted = 0;
			long coldDenied = 0;
			Map<Integer, long[]> ranked = new java.util.TreeMap<>();
			for (Instance instance : harness.instances) {
				for (Map.Entry<Integer, long[]> entry : instance.ranked.entrySet()) {
					long[] sum = ranked.computeIfAbsent(entry.getKey(), (rank) -> new long[3]);
					sum[0] += entry.getValue()[0];
					sum[1] += entry.getValue()[1];
					sum[2] += entry.getValue()[2];
				}
				if (instance.cold != null) {
					coldAdmitted += instance.cold[0];
					coldDenied += instance.cold[1];
				}
			}
			admitted += coldAdmitted;
			denied += coldDenied;
			double bound = this.capacity + this.rate * (double) this.seconds;
			double worstLow = Double.MAX_VALUE;
			double worstHigh = 0;
			int lowRank = -1;
			int highRank = -1;
			int hot = 0;
			for (Map.Entry<Integer, long[]> entry : ranked.entrySet()) {
				long[] counts = entry.getValue();
				admitted += counts[0];
				denied += counts[1];
				double demandOf = demandOf(entry.getKey());
				if (demandOf > 1.5 * this.rate) {
					hot++;
					double ratio = counts[0] / bound;
					if (ratio < worstLow) {
						worstLow = ratio;
						lowRank = entry.getKey();
					}
					if (ratio > worstHigh) {
						worstHigh = ratio;
						highRank = entry.getKey();
					}
				}
				else if (demandOf < 0.5 * this.rate) {
					coldAdmitted += counts[0];
					coldDenied += counts[1];
				}
			}
			// a new key's first second: the instances' cold parts and first leases may together admit
			// more than capacity + rate x 1 s; the documented bound is one capacity more
			long firstSecond = 0;
			int firstRank = -1;
			for (Map.Entry<Integer, long[]> entry : ranked.entrySet()) {
				if (entry.getValue()[2] > firstSecond) {
					firstSecond = entry.getValue()[2];
					firstRank = entry.getKey();
				}
			}
			long firstBound = 2 * (long) this.capacity + (long) Math.ceil(this.rate);
			checks.add(new Check("most admitted for one tenant in the first second (cold start), all instances",
					firstSecond + " (rank " + firstRank + ")", "<= " + firstBound + " (capacity + rate x 1 s + one capacity)",
					firstSecond <= firstBound));
			double deniedShare = denied / (double) Math.max(1, admitted + denied);
			double coldShare = coldDenied / (double) Math.max(1, coldAdmitted + coldDenied);
			Map<String, Long> byTopic = new java.util.TreeMap<>();
			this.recordsAtEnd.forEach((topic, end) -> byTopic.put(topic, end - this.recordsAtStart.getOrDefault(topic, 0L)));
			long records = byTopic.values().stream().mapToLong(Long::longValue).sum();
			double perThousand = records * 1000.0 / Math.max(1, admitted + denied);
			if (this.zipf <= 0) {
				checks.add(new Check("calls denied (every tenant under its limit)",
						String.format(Locale.ROOT, "%.2f%% (%d of %d)", 100 * deniedShare, denied, admitted + denied),
						"<= 1%", deniedShare <= 0.01));
			}
			else {
				checks.add(new Check("hot tenants (over 1.5 x their limit): admitted / (capacity + rate x T)",
						(hot == 0) ? "none" : String.format(Locale.ROOT, "%d tenants, %.3f (rank %d) to %.3f (rank %d)", hot,
								worstLow, lowRank, worstHigh, highRank),
						"[0.95, 1.01]", hot > 0 && worstLow >= 0.95 && worstHigh <= 1.01));
				checks.add(new Check("cold tenants (under half their limit) denied",
						String.format(Locale.ROOT, "%.2f%% (%d of %d)", 100 * coldShare, coldDenied, coldAdmitted + coldDenied),
						"<= 1%", coldShare <= 0.01));
			}
			checks.add(new Check("Kafka records per 1,000 decisions (all backend topics)",
					String.format(Locale.ROOT, "%.1f (%d records: %s)", perThousand, records, byTopic), "<= 10",
					perThousand <= 10));
			double worstCpu = this.idleCpu.values().stream().mapToDouble(Double::doubleValue).max().orElse(-1);
			checks.add(new Check("CPU while idle (worst instance, share of one core)",
					String.format(Locale.ROOT, "%.1f%% %s", 100 * worstCpu, this.idleCpu.entrySet().stream()
						.map((entry) -> entry.getKey() + String.format(Locale.ROOT, " %.1f%%", 100 * entry.getValue()))
						.toList()), "<= 5%",
					worstCpu >= 0 && worstCpu <= 0.05));
			StringBuilder split = new StringBuilder();
			for (Instance instance : harness.instances) {
				long[] idle = instance.idleSplit;
				if (idle != null) {
					split.append((split.length() > 0) ? "; " : "").append(String.format(Locale.ROOT,
							"%s threads %.1f%%, JIT %.1f%%, GC %.1f%%", instance.name, idle[2] / (IDLE_WINDOW_SECONDS * 10.0),
							idle[0] / (IDLE_WINDOW_SECONDS * 10.0), idle[1] / (IDLE_WINDOW_SECONDS * 10.0)));
				}
			}
			checks.add(new Check("CPU while idle by where it went (Java threads, JIT compilation, GC; share of one core)",
					(split.length() > 0) ? split.toString() : "not reported", "report", true));
			long keys = 0;
			long limiters = 0;
			long store = 0;
			long heap = 0;
			for (Instance instance : harness.instances) {
				long[] stats = instance.stats;
				if (stats != null) {
					keys = Math.max(keys, stats[0]);
					limiters = Math.max(limiters, stats[1]);
					store += Math.max(0, stats[2]);
					heap = Math.max(heap, stats[4]);
				}
			}
			long live = Math.max(Math.max(keys, limiters), store);
			checks.add(new Check("live keys after idle (registry, backend, authority store)",
					keys + ", " + limiters + ", " + store, "<= " + this.tenants / 100, live <= this.tenants / 100));
			double perKey = 0;
			long liveAtEnd = 0;
			for (Instance instance : harness.instances) {
				long[] end = instance.endOfRun;
				long[] stats = instance.stats;
				if (end != null && stats != null && end[0] > 0) {
					liveAtEnd = Math.max(liveAtEnd, end[0]);
					perKey = Math.max(perKey, (end[1] - stats[4]) / (double) end[0]);
				}
			}
			checks.add(new Check("heap used after idle, worst instance; heap per live key at the end of the run",
					String.format(Locale.ROOT, "%.1f MB; %.0f bytes per key (%d keys)", heap / 1e6, perKey, liveAtEnd),
					"report", true));
			return checks;
		}

	}

	/** Records on every topic of the harness's cluster (end offsets summed), internal topics aside. */
	long records() throws Exception {
		return recordsByTopic().values().stream().mapToLong(Long::longValue).sum();
	}

	/** Records on each topic of the harness's cluster (end offsets), internal topics aside. */
	Map<String, Long> recordsByTopic() throws Exception {
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap()))) {
			List<org.apache.kafka.common.TopicPartition> partitions = new ArrayList<>();
			Map<String, TopicDescription> topics = admin
				.describeTopics(admin.listTopics().names().get().stream().filter((name) -> !name.startsWith("__")).toList())
				.allTopicNames()
				.get();
			topics.forEach((name, description) -> description.partitions()
				.forEach((partition) -> partitions.add(new org.apache.kafka.common.TopicPartition(name, partition.partition()))));
			Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
			partitions.forEach((partition) -> latest.put(partition, org.apache.kafka.clients.admin.OffsetSpec.latest()));
			Map<String, Long> byTopic = new java.util.TreeMap<>();
			admin.listOffsets(latest).all().get().forEach((partition, info) -> byTopic.merge(
					partition.topic().replaceAll("^.*-(requests|grants|changelog)$", "$1"), info.offset(), Long::sum));
			return byTopic;
		}
	}

	int killedNode;

	volatile long restartedAt;

	volatile long killed;

	volatile long recovered;

}
