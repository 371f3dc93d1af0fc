package dev.ratelimit.kafka.internal;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;
import dev.ratelimit.internal.Limiters;
import dev.ratelimit.internal.PooledRateLimiter;
import dev.ratelimit.kafka.DegradedPolicy;
import dev.ratelimit.kafka.internal.Messages.Grant;
import dev.ratelimit.kafka.internal.Messages.Spec;

/**
 * A limiter whose bucket is shared through Kafka. Decisions are local: permits leased from the
 * authority sit in the pool of {@link PooledRateLimiter} and are spent with one CAS, no clock
 * read and no network. The backend's keeper thread asks for more ahead of need, gives back what
 * goes unused, forfeits what expires, and measures demand; the receiver thread deposits grants.
 *
 * <p>An empty pool is a denial, decided at once: the hot path never waits on Kafka. While grants
 * do not come (timeouts, send failures), the limiter is degraded and its {@link DegradedPolicy}
 * decides; the first grant ends it.
 *
 * <p>A per-key limiter (a tenant's quota) starts in the <em>cold</em> regime instead: it admits
 * from a local allowance, its part of the key's bucket, and the runtime reports what it admitted
 * in batches; it moves to leases when it needs more than its part or the authority says the
 * bucket ran low. The keeper walks a limiter only while it leases.
 *
 * <p>The rules are small pieces, each tested alone: where decisions come from once the pool is
 * empty ({@link Regime}, one value swapped whole), what the keeper does at a pass
 * ({@link KeeperStep}, a pure function), and the ledger of what was admitted on this instance's own
 * ({@link LocalSpending}). This class holds their state and carries their steps out.
 */
public final class KafkaRateLimiter extends PooledRateLimiter {

	/** The backend's side of a limiter: sending requests and waking the keeper. */
	interface Link {

		/**
		 * Sends a request. Its permits spent locally began to be spent at {@code spentSinceNanos}: the
		 * time they span is measured when the request is handed to Kafka, not before it waited.
		 */
		void send(KafkaRateLimiter limiter, Messages.Request request, long spentSinceNanos);

		/** Wakes the keeper for this limiter, which it keeps from now on (until the limiter rests again). */
		void nudge(KafkaRateLimiter limiter);

		/** Reports this limiter's cold permits with the next report of its partition. */
		void reportLater(KafkaRateLimiter limiter);

		/**
		 * When the runtime next sends its reports (local nanos): a per-key limiter that leases asks
		 * then, so the leasing keys of a partition travel in one record with its report.
		 */
		long nextReportNanos();

		/** How often the runtime sends reports: a leasing per-key limiter's lease lasts that long at least. */
		Duration reportInterval();

		/** A new limiter's incarnation: unique per limiter object of this runtime. */
		long nextIncarnation();

		/** How many instances share the limits, as far as this one knows (at least 1). */
		int fleetSize();

		/** Whether this instance cannot reach Kafka now (its probes go unanswered). */
		boolean unreachable();

		/**
		 * How long a leasing per-key limiter must be idle, its lease given back, before it may be
		 * forgotten: the idle return, and at least a lease lifetime, after which the authority stops
		 * counting it for fair share as well.
		 */
		long restAfterNanos();

		String instanceId();

		DegradedPolicy policy();

		Duration leaseHorizon();

		/** The request partition of a key: the authority task that owns it decides for the key. */
		int partitionOf(String key);

		/** Whether this instance's authority owns a request partition now. */
		boolean owns(int partition);

		/** Counts a limiter moving to its degraded policy (for the meters). */
		default void enteredDegraded() {
		}

	}

	final String key;

	/** The incarnation of this limiter object: a new object for the same key is a new party to its bucket. */
	final long incarnation;

	/**
	 * Where decisions come from once the pool is empty ({@link Regime}): swapped whole, never edited.
	 * A per-key limiter (a tenant's quota) starts cold: it admits from a local allowance, its part of
	 * the bucket ({@code capacity / fleet} refilling at {@code rate / fleet}), and reports what it
	 * admitted in batches, without a lease or a record per call. It moves to leases for good when the
	 * allowance runs out or the authority says the bucket ran low. Named limiters lease from the start.
	 *
	 * <p>Leasing, a per-key limiter spends its share of the rate as it accrues between two answers
	 * (it asks once per report interval): a bucket refilling at the share of the last grant, starting
	 * with its part of what the bucket held, spent once the lease is; what it admits is reported with
	 * the next request and debited as of when it was spent, so a key over its limit gets its share
	 * spread over the interval instead of in one lump per answer. After a lease was given back (idle)
	 * or expired, the first calls of a new burst take from a cold-start allowance instead of being
	 * denied until a grant arrives: this instance's share of what the bucket held at the last grant,
	 * plus its share of the refill since (a limiter that never held a lease knows nothing of the
	 * bucket, so it has none). While a lease request is late (the pool ran dry and no grant came
	 * within {@link KeeperStep#LATE_NANOS}), or while degraded, this instance's local share, starting empty,
	 * decides under the local-share policy. Everything admitted on these is reported and debited.
	 */
	private volatile Regime regime;

	private static final java.lang.invoke.VarHandle REGIME;

	static {
		try {
			REGIME = java.lang.invoke.MethodHandles.lookup().findVarHandle(KafkaRateLimiter.class, "regime", Regime.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	final boolean keyed;

	/** The limiter name a per-key limiter belongs to (its name without the key), for the metrics. */
	volatile String group;

	/** Permits admitted in the cold regime and not yet handed to a report. */
	private final AtomicLong coldSpent = new AtomicLong();

	/** When the first of {@link #coldSpent} was admitted (local nanos). */
	private volatile long coldSinceNanos;

	/** Whether this limiter waits in its runtime's report queue. */
	private final java.util.concurrent.atomic.AtomicBoolean queued = new java.util.concurrent.atomic.AtomicBoolean();

	private final Link link;

	private final AtomicLong sequence = new AtomicLong();

	/** Calls that found the pool empty: denied, or admitted by the degraded policy. Demand counts them. */
	private final LongAdder slowAttempts = new LongAdder();

	private final AtomicLong deposited = new AtomicLong();

	private final AtomicLong drained = new AtomicLong();

	/** What this limiter admitted on its own and the authority has not debited yet. */
	private final LocalSpending spending = new LocalSpending();


	private volatile long inFlightSeq;

	private volatile long inFlightSinceNanos;

	private volatile long inFlightWant;

	/** After a short grant, no new request before this time: the share needs time to accrue. */
	private volatile long notBeforeNanos;

	private volatile long lastAppliedSeq;

	private volatile long lastGranted;

	/** Local time after which pooled permits may no longer be spent; 0 when nothing is leased. */
	private volatile long expiryNanos;

	private volatile double share;

	private volatile int instances;

	private volatile long version = -1;

	private volatile long lastRoundTripNanos = -1;

	/** The longest lease lifetime a grant is taken at: a longer one is read as this. */
	static final long MAX_TTL_MILLIS = 3_600_000;


	/** Permits the shared bucket held after the last grant, and when that grant arrived. */
	private volatile long lastAvailable;

	/** What the bucket owed by the last answer (its level below zero), 0 when it owed nothing. */
	private volatile long lastDebt;

	private volatile long lastGrantNanos;

	private volatile boolean nudged;

	/** The classes of a limit divided among priority classes, or {@code null}. */
	private volatile Classes classes;

	// owned by the keeper thread
	double demand;

	/** Leased permits the lowest class must leave for those above it (keeper thread). */
	private long reservedForClasses;

	/** Each priority class's demand, permits per second, highest class first (keeper thread). */
	private double[] classDemands;

	private long[] lastClassAttempts;

	/** Each class's demand rising faster than it falls, for the lease floors (keeper thread). */
	private double[] classPeaks;

	private long lastConsumed;

	private long lastSlow;

	long lastTickNanos;

	/** When this limiter was made: its cold regime's demand is measured from then. */
	private final long createdNanos;

	/** Cold permits handed to reports so far (written by the keeper). */
	private volatile long coldReported;

	/**
	 * When the cold regime ended (0 once the keeper took note) and the rate at which it admitted:
	 * the keeper starts its demand estimate from there, so the first lease requests carry the demand
	 * the key had, not an average over a cold regime it never walked (which the authority would take
	 * for no demand, and give this instance almost no share).
	 */
	private volatile long leftColdNanos;

	private volatile double coldRate;

	long lastActivityNanos;

	/** The keeper's set this limiter is walked in, and its index there (owned by the keeper thread). */
	KeptLimiters keptIn;

	int keptIndex = -1;

	/** Set once its runtime forgot this limiter: the keeper drops it. */
	volatile boolean released;

	/** Its lease asks the authority and counts attempts: a denial is never tried again on another clock. */
	@Override
	protected boolean rechecksDenials() {
		return false;
	}

	KafkaRateLimiter(String key, boolean keyed, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener, Link link) {
		super(key, limit, ticker, scheduler, listener);
		this.key = key;
		this.keyed = keyed;
		this.link = link;
		this.incarnation = link.nextIncarnation();
		leaseExtra(0);
		long now = ticker().read();
		this.createdNanos = now;
		this.lastTickNanos = now;
		this.lastActivityNanos = now;
		if (keyed) {
			int fleet = Math.max(1, link.fleetSize());
			this.instances = fleet;
			this.share = limit.rate().perSecond() / fleet;
			this.regime = Regime.cold(localShare(limit.capacity() / fleet)); // full: the bucket of a key at rest is
		}
		else {
			this.regime = Regime.LEASING;
		}
	}

	/** Moves the regime by {@code move} (retried on a race): the regime it moved from. */
	private Regime move(java.util.function.UnaryOperator<Regime> move) {
		for (;;) {
			Regime current = this.regime;
			Regime next = move.apply(current);
			if (next == current || REGIME.compareAndSet(this, current, next)) {
				return current;
			}
		}
	}

	static Spec spec(RateLimit limit) {
		return new Spec(limit.capacity(), limit.rate().permits(), limit.rate().periodNanos());
	}

	// ---- decisions (any thread) ----------------------------------------------------------------

	@Override
	protected long lease(long min, long max, long now) {
		Regime regime = this.regime;
		if (regime.cold) {
			long admitted = coldLease(regime, min, now);
			if (admitted != 0) {
				return admitted;
			}
			toLeases(Regime::leftCold); // the allowance ran out: this instance needs more than its part, so it leases
			regime = this.regime;
		}
		if (this.inFlightSeq == 0 && !this.nudged) {
			// wake the keeper once; it clears the flag when it sends (denials stay cheap meanwhile)
			this.nudged = true;
			this.link.nudge(this);
		}
		this.slowAttempts.increment();
		if (!regime.degraded && (spentFrom(regime.between, min, now) || spentFrom(regime.allowance, min, now))) {
			return min;
		}
		DegradedPolicy policy = this.link.policy();
		if (regime.degraded && policy == DegradedPolicy.FAIL_OPEN) {
			return min;
		}
		if (policy == DegradedPolicy.LOCAL_SHARE && spentFrom(regime.fallback, min, now)) {
			return min;
		}
		return DENIED_UNKNOWN;
	}

	/**
	 * Takes {@code min} permits from one of this instance's own buckets (the share between answers,
	 * the cold-start allowance, the local share) and counts them for the authority. Only when the
	 * bucket holds all {@code min}: never min(n, capacity) taken and n admitted.
	 */
	private boolean spentFrom(Regime.Share share, long min, long now) {
		if (share == null || !share.spend(min, now)) {
			return false;
		}
		spentLocally(min, now);
		return true;
	}

	private boolean spentFrom(PooledRateLimiter bucket, long min, long now) {
		if (bucket == null || min > bucket.capacity() || !bucket.tryTakeAt(min, now)) {
			return false;
		}
		spentLocally(min, now);
		return true;
	}

	/**
	 * A decision in the cold regime: {@code min} when admitted, {@link #DENIED_UNKNOWN} when denied
	 * by the degraded policy, 0 when the allowance ran out.
	 */
	private long coldLease(Regime regime, long min, long now) {
		if (this.link.unreachable()) {
			DegradedPolicy policy = this.link.policy();
			if (policy == DegradedPolicy.FAIL_OPEN) {
				return min;
			}
			if (policy == DegradedPolicy.FAIL_CLOSED) {
				return DENIED_UNKNOWN;
			}
		}
		PooledRateLimiter allowance = regime.allowance;
		// n permits only when the allowance holds n: more than this instance's part goes to leases
		if (allowance == null || min > allowance.capacity() || !allowance.tryTakeAt(min, now)) {
			return 0;
		}
		if (this.coldSpent.getAndAdd(min) == 0) {
			this.coldSinceNanos = now;
		}
		if (!this.queued.get() && this.queued.compareAndSet(false, true)) {
			this.link.reportLater(this);
		}
		return min;
	}

	/**
	 * Leaves the cold regime for leases: what was admitted and not yet reported goes with the lease
	 * requests' running total from now on.
	 */
	private void toLeases(java.util.function.UnaryOperator<Regime> out) {
		if (!move(out).cold) {
			return; // left already (by another thread, which does what follows)
		}
		long since = this.coldSinceNanos;
		long unreported = this.coldSpent.getAndSet(0);
		if (unreported > 0) {
			spentLocally(unreported, since);
		}
		long now = ticker().read();
		double admitted = this.coldReported + unreported;
		this.coldRate = Math.min(limit().rate().perSecond(), admitted * 1e9 / Math.max(now - this.createdNanos, 1_000_000L));
		this.leftColdNanos = now;
	}

	/**
	 * Takes what this limiter admitted in the cold regime for a report: permits, and how long ago
	 * the first of them (0 when none).
	 */
	long[] takeColdReport(long nowNanos) {
		this.queued.set(false); // first: a permit admitted from here on queues the limiter again
		long since = this.coldSinceNanos;
		long spent = this.coldSpent.getAndSet(0);
		this.coldReported += spent;
		return new long[] { spent, Math.max(0, (nowNanos - since) / 1_000_000L) };
	}

	/** A report could not be sent: its permits go with the next one. */
	void reportFailed(long spent) {
		if (!this.regime.cold) {
			spentLocally(spent);
			return;
		}
		this.coldSpent.addAndGet(spent);
		if (this.queued.compareAndSet(false, true)) {
			this.link.reportLater(this);
		}
	}

	boolean isCold() {
		return this.regime.cold;
	}

	/** What the key's bucket owed by the last answer this limiter got (0 when nothing). */
	long debt() {
		return this.lastDebt;
	}

	/** Permits admitted in the cold regime and not yet handed to a report. */
	long unreportedColdPermits() {
		return this.coldSpent.get();
	}

	/**
	 * Whether this per-key limiter holds nothing anyone needs: in the cold regime, its allowance full
	 * and everything reported; leasing, no lease, nothing in flight or unreported, and idle. Its
	 * registry may then forget its key; the runtime forgets it with it.
	 */
	@Override
	public boolean isAtRest() {
		Regime regime = this.regime;
		if (regime.degraded || this.coldSpent.get() > 0 || this.queued.get() || owes()) {
			return false;
		}
		if (regime.cold) {
			RateLimiter allowance = regime.allowance;
			return allowance == null || allowance.snapshot().available() >= allowance.limit().capacity();
		}
		return pooled() == 0 && this.inFlightSeq == 0 && this.expiryNanos == 0
				&& ticker().read() - this.lastActivityNanos > this.link.restAfterNanos();
	}

	/** Whether the keeper can stop walking this limiter until it is used again. */
	boolean isQuiet(long now, long idleReturnNanos) {
		Regime regime = this.regime;
		return this.keyed && (regime.cold || (pooled() == 0 && this.inFlightSeq == 0 && this.expiryNanos == 0
				&& !owes() && !regime.degraded
				&& regime.fallback == null && now - this.lastActivityNanos > idleReturnNanos));
	}

	private void spentLocally(long permits) {
		spentLocally(permits, ticker().read());
	}

	/**
	 * Counts permits admitted on this instance's own, the first of them at {@code sinceNanos}: the
	 * authority debits them as of then, so the refill since pays for them as it would have in one
	 * bucket (cold permits handed over to the lease path keep the time they were spent).
	 */
	private void spentLocally(long permits, long sinceNanos) {
		this.spending.spent(permits, sinceNanos);
	}

	@Override
	protected long authorityReserve(long permits, long maxWaitNanos, long now) {
		// leases cannot be reserved remotely without waiting on Kafka: callers poll
		return denied(authorityRetryAfter(permits, now));
	}

	@Override
	protected long authorityAvailable(long now) {
		Regime regime = this.regime;
		return (regime.degraded && regime.fallback != null) ? regime.fallback.snapshot().available() : 0;
	}

	@Override
	protected long authorityRetryAfter(long permits, long now) {
		double share = this.share;
		long roundTrip = Math.max(this.lastRoundTripNanos, 1_000_000L);
		if (share > 0) {
			return Math.max(roundTrip, (long) (permits * 1e9 / share));
		}
		return roundTrip;
	}

	@Override
	protected void giveBack(long permits) {
		deposit(permits); // leased permits stay valid: back to the pool
	}

	@Override
	protected long resetNanos(long now) {
		long expiry = this.expiryNanos;
		return (expiry == 0) ? 0 : Math.max(0, expiry - ticker().read());
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		checkShareable(name(), next);
		send(Messages.UPDATE, 0, 0, spec(next));
	}

	@Override
	protected void applyReset(long now) {
		this.drained.addAndGet(drainPool());
		send(Messages.RESET, 0, 0, spec(limit()));
	}

	static void checkShareable(String name, RateLimit limit) {
		if (limit.algorithm() != dev.ratelimit.Algorithm.TOKEN_BUCKET || limit.bandwidths().size() != 1
				|| !limit.warmup().isZero()) {
			throw new IllegalArgumentException("limiter '" + name + "' is " + limit + ": a limit shared through Kafka "
					+ "must be a token bucket with one bandwidth and no warm-up; keep other limits local "
					+ "(scope: local) or combine a global token bucket with local tiers in a composite");
		}
	}

	@Override
	protected String backendId() {
		return "kafka";
	}

	@Override
	protected boolean isDistributed() {
		return true;
	}

	@Override
	protected boolean isPersistent() {
		return true;
	}

	@Override
	protected Map<String, Object> details() {
		Map<String, Object> details = new LinkedHashMap<>();
		int partition = this.link.partitionOf(this.key);
		Regime regime = this.regime;
		details.put("regime", regime.cold ? "cold" : "leased");
		if (regime.cold) {
			details.put("unreportedColdPermits", this.coldSpent.get());
		}
		details.put("partition", partition);
		details.put("ownedHere", this.link.owns(partition));
		details.put("leased", pooled());
		long expiry = this.expiryNanos;
		details.put("leaseExpiresInMillis", (expiry == 0) ? 0 : Math.max(0, (expiry - ticker().read()) / 1_000_000));
		details.put("lastRoundTripMillis", (this.lastRoundTripNanos < 0) ? -1 : this.lastRoundTripNanos / 1e6);
		details.put("share", this.share);
		details.put("instances", this.instances);
		details.put("demand", this.demand);
		details.put("lastGranted", this.lastGranted);
		long inFlight = this.inFlightSeq;
		details.put("requestInFlightMillis", (inFlight == 0) ? 0 : (ticker().read() - this.inFlightSinceNanos) / 1_000_000);
		details.put("unreportedLocalPermits", this.spending.unreported());
		details.put("bridging", regime.bridging());
		Regime.Share between = regime.between;
		if (between != null) {
			details.put("shareBetweenAnswers", between.bucket.snapshot().available());
		}
		details.put("debt", this.lastDebt);
		details.put("degraded", regime.degraded);
		if (regime.degraded) {
			details.put("degradedReason", String.valueOf(regime.reason));
			details.put("policy", this.link.policy().name());
		}
		RateLimiter fallback = regime.fallback;
		if (fallback != null) {
			details.put("localSharePerSecond", fallback.limit().rate().perSecond());
		}
		details.put("version", this.version);
		return details;
	}

	/**
	 * Whether the keeper need walk this limiter only when its instance reports: a per-key limiter that
	 * has leased asks only then (see {@link KeeperStep}), degraded or not, and between two reports
	 * its lease, its share between answers or the degraded policy decide alone; an answer that does
	 * not come is noticed at the report after its timeout. With thousands of keys over their limit (or
	 * degraded together by an outage), walking them every few milliseconds would cost a core for
	 * nothing.
	 */
	boolean walkedAtReportsOnly() {
		return this.keyed && this.lastAppliedSeq > 0;
	}

	/** Whether a lease request has waited longer than {@link KeeperStep#LATE_NANOS} with the lease spent. */
	boolean isLate() {
		return KeeperStep.isLate(this.inFlightSeq != 0, this.inFlightSinceNanos, pooled(), ticker().read());
	}

	public boolean isDegraded() {
		return this.regime.degraded;
	}

	public long lastRoundTripNanos() {
		return this.lastRoundTripNanos;
	}

	// ---- the keeper thread -----------------------------------------------------------------------

	/** One keeper pass: demand, expiry, timeouts, returns and renewals. */
	void keep(long now, long requestTimeoutNanos, long idleReturnNanos, double lowWater) {
		// walked once per report interval: give the lease up that much early rather than up to that late
		long early = walkedAtReportsOnly() ? this.link.reportInterval().toNanos() : 0;
		long leftCold = this.leftColdNanos;
		if (leftCold != 0) {
			this.leftColdNanos = 0;
			this.demand = Math.max(this.demand, this.coldRate);
			this.lastTickNanos = Math.min(leftCold, now);
		}
		long pool = pooled();
		long consumed = this.deposited.get() - this.drained.get() - pool;
		long slowNow = this.slowAttempts.sum();
		long attempts = Math.max(0, consumed - this.lastConsumed) + (slowNow - this.lastSlow);
		this.lastConsumed = consumed;
		this.lastSlow = slowNow;
		long elapsed = now - this.lastTickNanos;
		this.lastTickNanos = now;
		if (elapsed > 0) {
			// exponential moving average over about a quarter of a second
			double weight = Math.min(1.0, elapsed / 250_000_000.0);
			this.demand += weight * (attempts * 1e9 / elapsed - this.demand);
			Classes divided = this.classes;
			if (divided != null) {
				// what each class tried, denied at its class's gate or here alike: the demand the
				// authority divides the rate by, so it is the sum of the classes'
				attempts += measureClasses(divided, weight, elapsed);
				long[] floors = floors(divided);
				this.reservedForClasses = floors[floors.length - 1];
				divided.floorsChanged(floors);
			}
		}
		if (attempts > 0) {
			this.lastActivityNanos = now;
		}
		KeeperStep.Facts facts = new KeeperStep.Facts();
		facts.now = now;
		facts.pool = pool;
		facts.expiryNanos = this.expiryNanos;
		facts.earlyNanos = early;
		facts.inFlight = this.inFlightSeq != 0;
		facts.inFlightSinceNanos = this.inFlightSinceNanos;
		facts.requestTimeoutNanos = requestTimeoutNanos;
		Regime regime = this.regime;
		facts.bridgeable = regime.mayBridge() && this.share > 0;
		facts.keyed = this.keyed;
		facts.leasedKey = this.keyed && this.lastAppliedSeq > 0;
		facts.neverSent = this.sequence.get() == 0;
		facts.nudged = this.nudged;
		facts.owes = owes();
		facts.lastSentNanos = this.spending.lastTakenNanos();
		facts.lastActivityNanos = this.lastActivityNanos;
		facts.idleReturnNanos = idleReturnNanos;
		facts.notBeforeNanos = this.notBeforeNanos;
		facts.holdsAllowance = regime.allowance != null;
		facts.nextReportNanos = this.link.nextReportNanos();
		facts.demand = this.demand;
		facts.reserved = this.reservedForClasses;
		facts.lastGranted = this.lastGranted;
		facts.lowWater = lowWater;
		KeeperStep.Step step = KeeperStep.decide(facts);
		if (step.forfeit()) {
			// the allowance first: a call that finds the pool drained must find it in place
			takeAllowance(now);
			takePool(); // forfeit: the authority no longer counts them as ours
		}
		if (step.timedOut()) {
			this.inFlightSeq = 0;
			enterDegraded("no grant within " + Duration.ofNanos(requestTimeoutNanos).toMillis() + " ms");
		}
		if (step.bridge()) {
			// bridge a late grant on this instance's last share (a leasing per-key limiter spends that
			// share between answers already: a bridge too would spend it twice until the answer came)
			PooledRateLimiter bridge = localShare(0);
			move((current) -> current.mayBridge() ? current.bridged(bridge) : current);
		}
		if (step.dropShare()) {
			move(Regime::withoutBetween);
		}
		switch (step.send()) {
			case REPORT -> send(Messages.LEASE, 0, 0, spec(limit()));
			case ASK -> {
				this.nudged = false;
				send(Messages.LEASE, want(), 0, spec(limit()));
			}
			case RETURN -> {
				// the allowance first: a call that finds the pool drained must find it in place
				takeAllowance(now);
				send(Messages.LEASE, 0, takePool(), spec(limit()));
			}
			case RETURN_KEY -> send(Messages.LEASE, 0, (!step.forfeit() && facts.pool > 0) ? takePool() : 0, spec(limit()));
			case NONE -> {
			}
		}
	}

	/**
	 * What a limit divided among priority classes tells its global limiter: how many permits each
	 * class has tried so far (a running count), the share of the rate each class is guaranteed, and
	 * who hears of this instance's share of the rate as the authority sets it.
	 */
	public interface Classes {

		/** The number of classes, highest first. */
		int count();

		/** Permits class {@code index} has tried since it was made, denied attempts included. */
		long attempts(int index);

		/** The share of the rate class {@code index} is guaranteed, 0 to 1. */
		double minimumShare(int index);

		/** The part of a lease each class leaves for each class above it, at the least (0 to 1). */
		double headroom();

		/** This instance's share of the rate changed, permits per second (on the receiver thread). */
		void shareChanged(double share);

		/** What each class must leave in the lease for the classes above it (on the keeper thread). */
		void floorsChanged(long[] floors);

	}

	/**
	 * Divides this limit among priority classes: from now on each lease request carries every
	 * class's demand, and the authority fills the instances' shares class by class.
	 * @param classes the classes
	 */
	public void divide(Classes classes) {
		this.classes = classes;
	}

	/**
	 * Whether this limit is divided among priority classes.
	 * @return {@code true} once {@link #divide(Classes)} was called
	 */
	public boolean isDivided() {
		return this.classes != null;
	}

	/** A class demand below this, permits per second, is none. */
	private static final double NO_DEMAND = 1e-3;

	/** Updates each class's demand; the attempts since the last pass, over all classes. */
	private long measureClasses(Classes divided, double weight, long elapsed) {
		int count = divided.count();
		if (this.classDemands == null || this.classDemands.length != count) {
			this.classDemands = new double[count];
			this.classPeaks = new double[count];
			this.lastClassAttempts = new long[count];
			for (int c = 0; c < count; c++) {
				this.lastClassAttempts[c] = divided.attempts(c);
			}
			return 0;
		}
		long all = 0;
		double sum = 0;
		for (int c = 0; c < count; c++) {
			long now = divided.attempts(c);
			long tried = Math.max(0, now - this.lastClassAttempts[c]);
			this.lastClassAttempts[c] = now;
			all += tried;
			double sample = tried * 1e9 / elapsed;
			this.classDemands[c] += weight * (sample - this.classDemands[c]);
			// for the lease floors, a demand that rises four times faster than it falls: calls of a class
			// that starts have the lease kept for them within tens of milliseconds (the authority gets
			// the plain average: shares follow what classes take, not their peaks)
			double rising = (sample > this.classPeaks[c]) ? Math.min(1.0, 4 * weight) : weight;
			this.classPeaks[c] += rising * (sample - this.classPeaks[c]);
			if (this.classDemands[c] < NO_DEMAND) {
				this.classDemands[c] = 0; // an average decaying to nothing reaches it, not a subnormal forever
			}
			if (this.classPeaks[c] < NO_DEMAND) {
				this.classPeaks[c] = 0;
			}
			sum += this.classDemands[c];
		}
		this.demand = sum;
		return all;
	}

	/**
	 * What each class must leave in the lease: the demand of the classes above it over the time a
	 * lease lasts at this instance's share (until the next one), plus a round trip, and at the least
	 * the headroom the local policy leaves for each class above; never more than a lease, and less
	 * the part of a lease that the class's own minimum share (and those below) guarantees. Zeros while this instance does not lease (cold, degraded, or no share yet).
	 */
	private long[] floors(Classes divided) {
		int count = divided.count();
		long[] floors = new long[count];
		double share = this.share;
		long granted = this.lastGranted;
		Regime regime = this.regime;
		if (this.classDemands == null || regime.cold || regime.degraded || share <= 0 || granted <= 0) {
			return floors;
		}
		double seconds = granted / share + Math.max(0, this.lastRoundTripNanos) / 1e9;
		double above = 0;
		for (int c = 0; c < count; c++) {
			if (c > 0) {
				// the part of a lease this class and those below are guaranteed, as the gate divides the share
				double reservedBelow = 0;
				for (int k = c; k < count; k++) {
					reservedBelow += divided.minimumShare(k);
				}
				double kept = granted * (1 - Math.min(1, reservedBelow));
				// at the least the headroom, as the local policy leaves: calls of a class above that
				// start now find permits before its demand has been measured
				double needed = Math.max(above * seconds, c * divided.headroom() * granted);
				floors[c] = (long) Math.ceil(Math.min(kept, needed) - 1e-9);
			}
			above += this.classPeaks[c];
		}
		return floors;
	}

	/** The classes' demands and minimums for a request, or {@code null} for an undivided limit. */
	private Messages.Classes classesForRequest() {
		Classes divided = this.classes;
		double[] demands = this.classDemands;
		if (divided == null || demands == null || demands.length != divided.count()) {
			return null;
		}
		double[] minimums = new double[demands.length];
		for (int c = 0; c < minimums.length; c++) {
			minimums[c] = divided.minimumShare(c);
		}
		return new Messages.Classes(demands.clone(), minimums);
	}

	/** Whether permits admitted on this instance's own wait to be reported or acknowledged. */
	private boolean owes() {
		return this.spending.owes();
	}

	/** Takes every pooled permit out of the pool and ends the lease: the permits taken. */
	private long takePool() {
		long taken = drainPool();
		this.drained.addAndGet(taken);
		this.expiryNanos = 0;
		return taken;
	}

	/** Permits to ask for: a horizon at the measured demand, at least one, at most the capacity. */
	private long want() {
		double rate = Math.max(this.demand, 1.0);
		if (this.lastGranted == 0) {
			// no lease yet and no demand history: ask for a horizon at the full rate, the authority
			// cuts it to the fair share; otherwise the first leases are a permit or two each
			rate = Math.max(rate, limit().rate().perSecond());
		}
		long want = (long) Math.ceil(rate * horizonNanos() / 1e9);
		return Math.max(1, Math.min(want, limit().capacity()));
	}

	/**
	 * Gives every pooled permit back and leaves the key (graceful shutdown), so this instance stops
	 * counting for fair share at once.
	 */
	void leave() {
		long returned = takePool();
		if (returned > 0 || this.lastAppliedSeq > 0 || owes()) {
			send(Messages.LEAVE, 0, returned, spec(limit()));
		}
	}

	private void send(byte type, long want, long returned, Spec spec) {
		long seq = this.sequence.incrementAndGet();
		if (type == Messages.LEASE && want > 0) {
			this.inFlightSinceNanos = ticker().read();
			this.inFlightWant = want;
			this.inFlightSeq = seq;
		}
		long total = this.spending.takeForRequest(ticker().read());
		Messages.Request request = new Messages.Request(type, this.link.instanceId(), this.incarnation, seq, want,
				returned, this.demand, horizonNanos() / 1_000_000L, total, Math.min(total, this.spending.acked()), 0, spec,
				classesForRequest());
		this.link.send(this, request, this.spending.sinceNanos());
	}

	/**
	 * How long a lease is meant to last: the lease horizon, and for a per-key limiter, which asks
	 * once per report interval, at least that interval.
	 */
	private long horizonNanos() {
		long horizon = this.link.leaseHorizon().toNanos();
		return this.keyed ? Math.max(horizon, this.link.reportInterval().toNanos()) : horizon;
	}

	/** A request could not be sent (called from the producer's callback). */
	void sendFailed(Messages.Request request, Exception failure) {
		if (this.inFlightSeq == request.seq()) {
			this.inFlightSeq = 0;
		}
		// what it reported is in the running total, which the next request carries again
		enterDegraded("request not sent: " + failure.getMessage());
	}

	void enterDegraded(String reason) {
		PooledRateLimiter localShare = (this.regime.fallback == null) ? localShare(0) : null;
		Regime before = move((regime) -> regime.failed(reason,
				(regime.fallback != null) ? null : (localShare != null) ? localShare : localShare(0)));
		if (!before.degraded) {
			this.link.enteredDegraded();
		}
	}

	/**
	 * This instance's share of the limit, enforced locally: under {@link DegradedPolicy#LOCAL_SHARE}
	 * (starting empty, so an outage does not open with a burst) and as the cold-start allowance. The
	 * share is the last one the authority granted, or the rate divided by the instances last seen.
	 */
	private PooledRateLimiter localShare(long initialPermits) {
		RateLimit limit = limit();
		double rate = limit.rate().perSecond();
		double share = this.share;
		if (!(share > 0)) {
			share = rate / knownInstances();
		}
		double fraction = Math.min(1.0, share / rate);
		long capacity = Math.max(1, (long) Math.floor(limit.capacity() * fraction));
		return localBucket("(local share)", share, capacity, initialPermits);
	}

	/**
	 * A bucket of this instance's own, on this limiter's ticker: {@code perSecond} (at least a
	 * millionth), {@code capacity}, starting with {@code initialPermits} (within 0 and the capacity).
	 */
	private PooledRateLimiter localBucket(String what, double perSecond, long capacity, long initialPermits) {
		RateLimit local = RateLimit.tokenBucket(Rate.perSecond(Math.max(perSecond, 1e-6)))
			.capacity(capacity)
			.initialPermits(Math.min(capacity, Math.max(0, initialPermits)))
			.build();
		return (PooledRateLimiter) Limiters.create(name() + what, local, this.ticker, Scheduler.system(),
				RateLimiterListener.NONE); // a token bucket
	}

	/**
	 * The share to spend between two answers, starting empty (see {@link #regime}): the share the
	 * authority computed, but no more than the rate over the group's size while the authority counts
	 * fewer instances on the key than there are (the others may still admit from their cold parts,
	 * which it learns of only from their reports), less this instance's part of what the bucket owes
	 * spread over the interval (so the debt is paid back by the next answers), and holding one report
	 * interval of it. It starts with this instance's part of what the bucket still holds after the
	 * grant, so a key just moved to leases, or one that had a quiet interval, is not denied while
	 * its share accrues again.
	 */
	private Regime.Share between(double share, int instances, long available) {
		double rate = limit().rate().perSecond();
		int fleet = Math.max(1, this.link.fleetSize());
		double interval = this.link.reportInterval().toNanos() / 1e9;
		double perSecond = (instances >= fleet) ? share : Math.min(share, rate / fleet);
		if (available < 0) {
			perSecond += available * (perSecond / rate) / interval;
		}
		perSecond = Math.max(perSecond, 1e-6);
		long capacity = Math.max(1, (long) Math.ceil(perSecond * interval));
		long initial = (long) Math.floor(Math.max(0, available) * Math.min(1.0, perSecond / rate));
		return new Regime.Share(localBucket("(share between answers)", perSecond, capacity, initial), ticker().read());
	}

	/**
	 * The instances on this key as last granted, or before any grant the group's size as far as
	 * this instance knows it (its expected size before Kafka was reached).
	 */
	private int knownInstances() {
		int instances = this.instances;
		return (instances > 0) ? instances : Math.max(1, this.link.fleetSize());
	}

	/** The cold-start allowance after a lease was given back or expired (see {@link #regime}). */
	private void takeAllowance(long now) {
		// none while the share since the last grant was spent on the local share, or is spent between
		// answers, already (see Regime.mayTakeAllowance)
		PooledRateLimiter allowance = this.regime.mayTakeAllowance() ? coldStartAllowance(now) : null;
		move((regime) -> regime.withAllowance(regime.mayTakeAllowance() ? allowance : null));
	}

	private PooledRateLimiter coldStartAllowance(long now) {
		double rate = limit().rate().perSecond();
		double share = (this.share > 0) ? this.share : rate / knownInstances();
		double fraction = Math.min(1.0, share / rate);
		double sinceGrant = Math.max(0, now - this.lastGrantNanos) / 1e9;
		long known = (long) Math.floor(this.lastAvailable * fraction + share * sinceGrant);
		return (known > 0) ? localShare(known) : null;
	}

	// ---- the receiver thread ---------------------------------------------------------------------

	/** A grant for this instance arrived. Grants of one key arrive in order; duplicates are skipped. */
	void onGrant(Grant grant, long receivedNanos) {
		if (grant.seq() == 0) {
			// a notice: the bucket of this cold key ran low, lease it from now on (nothing was granted)
			Regime seen = this.regime;
			if (seen.cold) {
				this.lastAvailable = Math.max(0, grant.available());
				// the part goes even if a call moved the key to leases meanwhile (it ran out, or nearly)
				toLeases((regime) -> regime.cold ? regime.noticed()
						: (regime.allowance == seen.allowance) ? regime.withAllowance(null) : regime);
				this.nudged = true;
				this.link.nudge(this);
			}
			return;
		}
		if (grant.seq() <= this.lastAppliedSeq || grant.seq() > this.sequence.get()) {
			return; // a duplicate, or an answer to a request this limiter never sent (forged)
		}
		this.lastAppliedSeq = grant.seq();
		// never more than was asked for (the request in flight), or than the bucket can hold
		long granted = Math.min(grant.granted(),
				(grant.seq() == this.inFlightSeq) ? this.inFlightWant : limit().capacity());
		this.spending.acknowledged(grant.debitedTotal());
		if (grant.seq() == this.inFlightSeq) {
			this.lastRoundTripNanos = receivedNanos - this.inFlightSinceNanos;
			long shortBy = this.inFlightWant - granted;
			if (shortBy > 0 && grant.share() > 0) {
				// the authority had less than asked for: ask again once half the rest can have accrued at
				// our share (at most half a horizon), rather than every few milliseconds for nothing; with
				// nothing at all, as soon as one permit can have accrued
				long permits = (granted == 0) ? 1 : Math.max(1, shortBy / 2);
				long accrue = (long) (permits * 1e9 / grant.share());
				this.notBeforeNanos = receivedNanos + Math.min(accrue, this.link.leaseHorizon().toNanos() / 2);

			}
			this.inFlightSeq = 0;
		}
		double previousShare = this.share;
		this.share = grant.share();
		Classes divided = this.classes;
		if (divided != null && grant.share() > 0 && grant.share() != previousShare) {
			try {
				divided.shareChanged(grant.share());
			}
			catch (RuntimeException ex) {
				// the grant is applied whatever the classes make of the share
			}
		}
		this.instances = grant.instances();
		this.lastAvailable = Math.max(0, grant.available());
		this.lastDebt = Math.max(0, -grant.available());
		this.lastGrantNanos = receivedNanos;
		if (granted > 0) {
			// Permits admitted locally (cold-start allowance, local share) since the request left are
			// unknown to the authority, which took this grant from the same bucket: pay for them out
			// of the grant, or a burst could get both the allowance and a full lease. What the grant
			// cannot cover is reported with the next request, as before.
			long paid = this.spending.payFrom(granted);
			this.deposited.addAndGet(granted - paid);
			deposit(granted - paid);
			this.lastGranted = granted;
		}
		if (granted > 0 || pooled() > 0) {
			// The authority's expiry started when it sent the grant, a return trip ago: stop spending
			// that much earlier, but never by more than a tenth of the lease, or one slow round trip
			// (a rebalance) would forfeit a fresh lease at once.
			long ttlNanos = Math.min(grant.ttlMillis(), MAX_TTL_MILLIS) * 1_000_000L; // no overflow
			long margin = Math.min(Math.max(this.lastRoundTripNanos, 0), ttlNanos / 10);
			this.expiryNanos = receivedNanos + ttlNanos - margin;
		}
		Throwable listenerFailure = null;
		if (grant.version() != this.version) {
			this.version = grant.version();
			try {
				adoptLimit(grant.spec().toRateLimit()); // in the API's bounds: checked when the grant was read
			}
			catch (RuntimeException | Error ex) {
				// the limit changed and then the listener threw: the grant is applied all the same, and
				// the failure goes to the receiving thread (which counts it and goes on) afterwards
				if (Causes.isFatal(ex)) {
					throw ex;
				}
				listenerFailure = ex;
			}
		}
		settle(grant, granted, receivedNanos);
		if (listenerFailure instanceof RuntimeException failure) {
			throw failure;
		}
		if (listenerFailure instanceof Error failure) {
			throw failure;
		}
	}

	/** The rest of a grant: decisions come from the lease, the share between answers or nothing. */
	private void settle(Grant grant, long granted, long receivedNanos) {
		if (this.keyed) {
			// the share from now until the next answer, spent after the lease
			Regime.Share between = between(grant.share(), grant.instances(), grant.available());
			move((regime) -> regime.granted(between, null));
			return;
		}
		// A lease is held: decisions come from it again. Nothing granted to an instance that held
		// leases before and holds none now (it gave its lease back, or an outage ended): the allowance
		// is what this news of the bucket allows, never older news (an outage's share was spent).
		PooledRateLimiter allowance = (granted == 0 && this.lastGranted > 0 && pooled() == 0)
				? coldStartAllowance(receivedNanos) : null;
		move((regime) -> regime.granted(null, allowance));
	}

}
