package dev.ratelimit.kafka.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;
import dev.ratelimit.kafka.DegradedPolicy;

/**
 * One per-key global limit, its instances' clients and its authority, on one simulated clock: the
 * real {@link KafkaRateLimiter} and {@link AuthorityLogic}, with the runtime's keeper cadence
 * (every pass for active limiters, leasing keys at reports only), its batching of a pass's requests
 * with the report, the authority's handling of reports (notices when the bucket runs low) and
 * requests in order, and a fixed latency each way for Kafka. Calls arrive at each instance as a
 * Poisson stream from a seeded generator, so a run is repeatable. The authority sweeps as the
 * topology does, forgetting a cold key's bucket once full long enough. What it leaves out: Kafka
 * itself (loss, reordering, rebalances), which the multi-process harness measures.
 */
final class SharedKeySimulation {

	private static final String KEY = "api[tenant]";

	private static final long KEEPER_NANOS = Duration.ofMillis(5).toNanos();

	private static final long REQUEST_TIMEOUT_NANOS = Duration.ofSeconds(2).toNanos();

	private static final long IDLE_RETURN_NANOS = Duration.ofSeconds(10).toNanos();

	private static final long LEASE_TTL_MILLIS = 5_000;

	private static final long SWEEP_NANOS = AuthorityTopology.SWEEP_INTERVAL.toNanos();

	private final RateLimit limit;

	private final Duration reportInterval;

	private final long latencyNanos;

	private final SplittableRandom random;

	private final long[] clock = new long[1];

	private final PriorityQueue<Event> events = new PriorityQueue<>();

	private final List<Instance> instances = new ArrayList<>();

	private BucketState state;

	private boolean stored;

	private long order;

	/** Permits the authority granted, and cold permits it was told of in reports. */
	private long granted;

	private long reportedCold;

	private long returned;

	/** Request and answer records (a keeper pass's requests and report travel in one). */
	private long records;

	/** One exact bucket fed the same calls: what a single bucket would have admitted. */
	private long ideal;

	private double idealTokens = -1;

	private long idealAt;

	private final long[] admittedPerSecond = new long[3_600];

	/** The mean of a random delay added to each trip, Kafka's jitter (0: every trip takes the latency). */
	private long jitterNanos;

	/** When the last record reached the request partition: records arrive in the order they were sent. */
	private long lastAtAuthority;

	SharedKeySimulation(RateLimit limit, Duration reportInterval, Duration latency, long seed) {
		this.limit = limit;
		this.reportInterval = reportInterval;
		this.latencyNanos = latency.toNanos();
		this.random = new SplittableRandom(seed);
	}

	/**
	 * Adds to each trip a random delay, exponential with mean {@code jitter}, keeping each
	 * partition's order (a record never overtakes an earlier one on its way).
	 */
	SharedKeySimulation jitter(Duration jitter) {
		this.jitterNanos = jitter.toNanos();
		return this;
	}

	private long trip() {
		return this.latencyNanos + ((this.jitterNanos > 0) ? (long) (-Math.log(1 - this.random.nextDouble()) * this.jitterNanos) : 0);
	}

	/** Adds an instance whose calls for the key arrive at {@code perSecond} on average. */
	SharedKeySimulation instance(double perSecond) {
		this.instances.add(new Instance("i" + (this.instances.size() + 1), perSecond));
		return this;
	}

	/** Runs for {@code duration} of simulated time: the permits admitted over all instances. */
	long run(Duration duration) {
		long end = duration.toNanos();
		for (Instance instance : this.instances) {
			instance.start();
		}
		at(SWEEP_NANOS, this::sweep);
		while (!this.events.isEmpty() && this.events.peek().at < end) {
			Event event = this.events.poll();
			this.clock[0] = event.at;
			event.action.run();
		}
		long admitted = 0;
		for (Instance instance : this.instances) {
			admitted += instance.admitted;
		}
		return admitted;
	}

	/**
	 * The authority's sweep, every {@link AuthorityTopology#SWEEP_INTERVAL}: a cold key's bucket kept
	 * in memory is forgotten once full long enough, a stored one once at rest, as the topology does.
	 */
	private void sweep() {
		long nowMillis = now() / 1_000_000L;
		if (this.state != null && (this.stored ? AuthorityLogic.isAtRest(this.state, nowMillis, LEASE_TTL_MILLIS)
				: AuthorityLogic.isFullFor(this.state, nowMillis, LEASE_TTL_MILLIS))) {
			this.state = null;
			this.stored = false;
		}
		at(now() + SWEEP_NANOS, this::sweep);
	}

	private void at(long nanos, Runnable action) {
		this.events.add(new Event(nanos, this.order++, action));
	}

	long records() {
		return this.records;
	}

	long ideal() {
		return this.ideal;
	}

	/** Permits admitted over all instances in the given second of the run. */
	long admittedIn(int second) {
		return this.admittedPerSecond[second];
	}

	private void feedIdeal() {
		if (this.idealTokens < 0) {
			this.idealTokens = this.limit.capacity();
		}
		double perNano = this.limit.rate().perSecond() / 1e9;
		this.idealTokens = Math.min(this.limit.capacity(), this.idealTokens + (now() - this.idealAt) * perNano);
		this.idealAt = now();
		if (this.idealTokens >= 1) {
			this.idealTokens -= 1;
			this.ideal++;
		}
	}

	/**
	 * Refill the authority's bucket discarded as overflow (it was full, as far as it knew): what it
	 * consumed beyond what it granted, was told of and got back.
	 */
	long discarded() {
		return (this.state == null) ? 0 : this.state.consumed - this.granted - this.reportedCold - debited() + this.returned;
	}

	private long debited() {
		long debited = 0;
		for (BucketState.Instance each : this.state.instances.values()) {
			debited += each.debitedTotal;
		}
		return debited;
	}

	private long now() {
		return this.clock[0];
	}

	private long exponential(double perSecond) {
		return (long) (-Math.log(1 - this.random.nextDouble()) / perSecond * 1e9);
	}

	/** The authority receives one record of an instance: its report first, then its requests. */
	private void authority(Instance from, Messages.Report report, List<Messages.Request> requests) {
		long nowMillis = now() / 1_000_000L;
		List<Messages.Grant> answers = new ArrayList<>();
		if (report != null) {
			for (Messages.Report.Entry entry : report.entries()) {
				boolean kept = this.stored;
				this.reportedCold += entry.spent();
				this.state = AuthorityLogic.report(this.state, entry, nowMillis, LEASE_TTL_MILLIS);
				boolean low = AuthorityLogic.isLow(this.state, nowMillis);
				if (!kept && !low) {
					continue;
				}
				this.stored = true;
				if (low) {
					answers.add(AuthorityLogic.notice(KEY, this.state, report.instance(), entry.limiterIncarnation(),
							LEASE_TTL_MILLIS, nowMillis));
				}
			}
		}
		for (Messages.Request request : requests) {
			this.returned += request.returned();
			AuthorityLogic.Result result = AuthorityLogic.handle(KEY, this.state, request, nowMillis, LEASE_TTL_MILLIS);
			this.state = result.state();
			this.stored = true;
			this.granted += result.grant().granted();
			answers.add(result.grant());
		}
		if (!answers.isEmpty()) {
			this.records++;
			long arrives = Math.max(from.lastAtInstance, now() + trip());
			from.lastAtInstance = arrives;
			at(arrives, () -> {
				for (Messages.Grant grant : answers) {
					if (grant.incarnation() == from.limiter.incarnation) {
						from.limiter.onGrant(grant, now());
					}
				}
			});
		}
	}

	private record Event(long at, long order, Runnable action) implements Comparable<Event> {

		@Override
		public int compareTo(Event other) {
			int byTime = Long.compare(this.at, other.at);
			return (byTime != 0) ? byTime : Long.compare(this.order, other.order);
		}

	}

	/** An instance: its limiter for the key, its keeper, and the calls it gets. */
	private final class Instance implements KafkaRateLimiter.Link {

		private final String id;

		private final double perSecond;

		private KafkaRateLimiter limiter;

		private final List<Messages.Request> pass = new ArrayList<>();

		private final List<Long> passSpentSince = new ArrayList<>();

		private boolean active;

		private boolean reportQueued;

		/** When the last answer reached this instance (answers arrive in order). */
		long lastAtInstance;

		private long lastReport;

		private long nextReport;

		private long serial;

		long admitted;

		Instance(String id, double perSecond) {
			this.id = id;
			this.perSecond = perSecond;
		}

		void start() {
			Ticker ticker = SharedKeySimulation.this::now;
			this.limiter = new KafkaRateLimiter(KEY, true, SharedKeySimulation.this.limit, ticker, Scheduler.system(),
					RateLimiterListener.NONE, this);
			// each instance's keeper reports at its own phase
			long phase = (long) (SharedKeySimulation.this.random.nextDouble() * SharedKeySimulation.this.reportInterval.toNanos());
			this.lastReport = phase - SharedKeySimulation.this.reportInterval.toNanos();
			this.nextReport = phase;
			at(phase % KEEPER_NANOS, this::keeperPass);
			if (this.perSecond > 0) {
				at(exponential(this.perSecond), this::call);
			}
		}

		private void call() {
			feedIdeal();
			if (this.limiter.tryAcquire()) {
				this.admitted++;
				SharedKeySimulation.this.admittedPerSecond[(int) Math.min(3_599, now() / 1_000_000_000L)]++;
			}
			at(now() + exponential(this.perSecond), this::call);
		}

		/** The runtime's keeper: active limiters every pass, leasing keys at reports only. */
		private void keeperPass() {
			long now = now();
			boolean reporting = now - this.lastReport >= SharedKeySimulation.this.reportInterval.toNanos();
			if (this.active || (reporting && this.limiter.walkedAtReportsOnly())) {
				if (reporting || !this.limiter.walkedAtReportsOnly()) {
					this.limiter.keep(now, REQUEST_TIMEOUT_NANOS, IDLE_RETURN_NANOS, 0.5);
				}
				if (this.limiter.isQuiet(now, IDLE_RETURN_NANOS)) {
					this.active = false;
				}
			}
			Messages.Report report = null;
			if (reporting) {
				this.lastReport = now;
				this.nextReport = now + SharedKeySimulation.this.reportInterval.toNanos();
				if (this.reportQueued) {
					this.reportQueued = false;
					long[] taken = this.limiter.takeColdReport(now);
					if (taken[0] > 0) {
						report = new Messages.Report(this.id, 1, List.of(new Messages.Report.Entry(KEY,
								this.limiter.incarnation, taken[0], taken[1], KafkaRateLimiter.spec(this.limiter.limit()))));
					}
				}
			}
			if (report != null || !this.pass.isEmpty()) {
				List<Messages.Request> requests = new ArrayList<>();
				for (int i = 0; i < this.pass.size(); i++) {
					Messages.Request request = this.pass.get(i);
					requests.add((request.spentTotal() > request.spentAcked())
							? request.withSpentOver((now - this.passSpentSince.get(i)) / 1_000_000L) : request);
				}
				this.pass.clear();
				this.passSpentSince.clear();
				Messages.Report sent = report;
				SharedKeySimulation.this.records++;
				long arrives = Math.max(SharedKeySimulation.this.lastAtAuthority, now + trip());
				SharedKeySimulation.this.lastAtAuthority = arrives;
				at(arrives, () -> authority(this, sent, requests));
			}
			at(now + KEEPER_NANOS, this::keeperPass);
		}

		@Override
		public void send(KafkaRateLimiter limiter, Messages.Request request, long spentSinceNanos) {
			this.pass.add(request);
			this.passSpentSince.add(spentSinceNanos);
		}

		@Override
		public void nudge(KafkaRateLimiter limiter) {
			this.active = true;
		}

		@Override
		public void reportLater(KafkaRateLimiter limiter) {
			this.reportQueued = true;
		}

		@Override
		public long nextReportNanos() {
			return this.nextReport;
		}

		@Override
		public Duration reportInterval() {
			return SharedKeySimulation.this.reportInterval;
		}

		@Override
		public long nextIncarnation() {
			return ++this.serial;
		}

		@Override
		public int fleetSize() {
			return SharedKeySimulation.this.instances.size();
		}

		@Override
		public boolean unreachable() {
			return false;
		}

		@Override
		public long restAfterNanos() {
			return IDLE_RETURN_NANOS;
		}

		@Override
		public String instanceId() {
			return this.id;
		}

		@Override
		public DegradedPolicy policy() {
			return DegradedPolicy.LOCAL_SHARE;
		}

		@Override
		public Duration leaseHorizon() {
			return Duration.ofMillis(500);
		}

		@Override
		public int partitionOf(String key) {
			return 0;
		}

		@Override
		public boolean owns(int partition) {
			return false;
		}

	}

}
