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

	private static final int PARTITIONS = 12;

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
		List<String> command = new ArrayList<>(List.of(StandaloneBroker.javaBinary(), "-Xmx256m", "-cp",
				System.getProperty("java.class.path"), HarnessInstance.class.getName(),
				"bootstrap=" + this.broker.bootstrap(), "cluster=" + cluster, "instance=" + name, "key=" + KEY,
				"rate=" + this.scenario.rate, "capacity=" + this.scenario.capacity,
				"demand=" + this.scenario.demand, "policy=" + this.scenario.policy,
				"partitions=" + PARTITIONS, "replication=" + Math.min(3, this.scenario.brokers),
				"guarantee=" + this.scenario.guarantee));
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
		System.out.println();
		this.events.forEach((event) -> System.out.println("   " + event));
		for (Check check : checks) {
			System.out.printf("   %s: %s (target %s) %s%n", check.name, check.value, check.target,
					check.passed ? "pass" : "FAIL");
		}
		return checks;
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
			first = Math.min(first, instance.firstOwning(partition, millis));
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
				case "T" -> this.slots.put(Long.parseLong(line[1]),
						new long[] { Long.parseLong(line[2]), Long.parseLong(line[3]) });
				case "H" -> this.health.put(Long.parseLong(line[1]), new String[] { line[2], line[3] });
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
			ALL.put("restart", new Restart(false));
			ALL.put("restart-with-broker", new Restart(true));
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

	int killedNode;

	volatile long restartedAt;

	volatile long killed;

	volatile long recovered;

}
