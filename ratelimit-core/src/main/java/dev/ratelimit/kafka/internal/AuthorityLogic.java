package dev.ratelimit.kafka.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.ratelimit.kafka.internal.BucketState.Instance;
import dev.ratelimit.kafka.internal.Messages.Grant;
import dev.ratelimit.kafka.internal.Messages.Request;

/**
 * What the authority does with one request for one key: a pure function of the stored state, the
 * request and the request's time (the broker's append time), so it is tested without Kafka. A
 * bucket's time only moves forward: a request stamped earlier than one already handled is handled
 * as of the later time, so no clock, of an instance or a broker, can refill a bucket twice.
 *
 * <h2>Guarantees</h2>
 * <ul>
 * <li>Tokens leave the bucket only through grants, and a grant never exceeds what the exact
 * bucket holds: the global limit holds by construction, however many instances ask.</li>
 * <li>A request whose sequence number was already answered changes nothing and gets the same
 * answer again (idempotent under at-least-once redelivery).</li>
 * <li>Permits an instance admitted on its own under the local-share policy, while leases could not
 * flow, are debited when it reports them, as of when it began to spend them (so a bucket that
 * refilled to its capacity meanwhile does not swallow the debit), so an outage does not admit the
 * same period twice.</li>
 * <li>An instance counts for fair share only while it holds an unexpired lease or has asked within
 * one lease lifetime, and not at all once it said goodbye ({@link Messages#LEAVE}): a crashed or
 * stopped instance's share goes to the others within one lease lifetime, at once when it left.</li>
 * <li>Each instance gets at least its max-min fair share when it wants it: shares are water-filled
 * over the instances' reported demands (what no one wants is spread evenly), and each instance
 * draws its grants from a share bucket refilled at its share and holding its share of the
 * capacity, so an instance that asks more often does not take another's share. Bucket tokens that
 * no share bucket could claim are spare and go to whoever asks, so no capacity is stranded.</li>
 * </ul>
 */
public final class AuthorityLogic {

	/**
	 * The most instances one key's state keeps: a bound on the state's size (about 100 bytes each),
	 * so that made-up instance ids cannot grow a record past what the broker accepts.
	 */
	static final int MAX_INSTANCES_PER_KEY = 1_000;

	/** The longest period of local spending debited in the past; older spending is debited as of then. */
	static final long MAX_SPENT_OVER_MILLIS = 3_600_000;

	private static final AtomicBoolean WARMED_UP = new AtomicBoolean();

	private AuthorityLogic() {
	}

	/**
	 * The new state and the answer.
	 *
	 * @param state the state to store (never null after a request)
	 * @param grant the answer to send to the requester
	 */
	public record Result(BucketState state, Grant grant) {
	}

	public static Result handle(String key, BucketState stored, Request request, long clockMillis,
			long leaseTtlMillis) {
		BucketState state = (stored != null) ? stored
				: created(request.spec(), clockMillis, request.spentOverMillis(), leaseTtlMillis);
		// the bucket's time never goes back, whatever clock stamped the request
		long nowMillis = Math.max(clockMillis, state.clockMillis);
		state.clockMillis = nowMillis;
		forgetInactive(state, request, nowMillis, leaseTtlMillis);
		Instance instance = instance(state, request, nowMillis);
		if (request.seq() == instance.lastSeq) {
			// already answered: the same answer again, nothing debited twice
			return new Result(state, grant(key, state, instance, instance.lastGranted, request, leaseTtlMillis, nowMillis));
		}
		if (request.seq() < instance.lastSeq) {
			// older than the last answer, whose grant is not kept: answer nothing rather than twice
			return new Result(state, grant(key, state, instance, 0, request, leaseTtlMillis, nowMillis));
		}
		instance.lastSeq = request.seq();
		instance.lastSeenMillis = nowMillis;
		switch (request.type()) {
			case Messages.LEAVE -> {
				debitSpentLocally(state, instance, request, nowMillis);
				state.giveBack(Math.min(request.returned(), unexpired(instance, nowMillis)));
				state.instances.remove(instance.key());
				return new Result(state, grant(key, state, instance, 0, request, leaseTtlMillis, nowMillis));
			}
			case Messages.UPDATE -> {
				state.overridden = true;
				state.rebase(request.spec(), nowMillis);
				instance.lastGranted = 0;
				return new Result(state, grant(key, state, instance, 0, request, leaseTtlMillis, nowMillis));
			}
			case Messages.RESET -> {
				state.overridden = false;
				state.inForce = state.configured;
				state.originMillis = nowMillis;
				state.consumed = 0;
				state.liftedBy = 0;
				state.version++;
				instance.lastGranted = 0;
				return new Result(state, grant(key, state, instance, 0, request, leaseTtlMillis, nowMillis));
			}
			default -> {
				return lease(key, state, instance, request, nowMillis, leaseTtlMillis);
			}
		}
	}

	/**
	 * Runs the logic and the wire formats on made-up keys, touching no store: a new authority task
	 * calls it before its first record, so the first lease of a key is not paid for with class
	 * loading and interpretation (measured: 150-300 ms across processes without it). Once per
	 * process: the tasks created by each rebalance find it done.
	 */
	static void warmUp() {
		if (!WARMED_UP.compareAndSet(false, true)) {
			return;
		}
		Messages.Spec spec = new Messages.Spec(100, 100, 1_000_000_000L);
		BucketState state = null;
		long now = 1;
		for (int seq = 1; seq <= 2_000; seq++) {
			Request request = new Request(Messages.LEASE, "warm-up-" + (seq % 3), 1, seq, 10, seq % 5, 50, 500, seq / 2,
					0, seq % 7, spec);
			Result result = handle("warm-up", state, Request.decode(request.encode()), now += 3, 5_000);
			state = BucketState.decode(result.state().encode());
			Grant.decode(result.grant().encode());
		}
	}

	/**
	 * The state of a key the authority holds nothing for: a key at rest, whose bucket is full. It was
	 * full when the permits now reported began to be spent ({@code overMillis} ago), not only when
	 * their report arrived: the refill while the report waited to be sent (up to a report interval)
	 * made room, as it would have in one bucket, rather than being discarded by a bucket that
	 * looked full because it had not heard yet. Never further back than a lease lifetime
	 * ({@code leaseTtlMillis}): a state
	 * is forgotten only once full that long ({@link #isFullFor}), so the new one is full no earlier
	 * than the forgotten one was; older spending (an outage's, on a key the authority forgot) is
	 * taken as of then, which may leave a debt one bucket would not have had, never a refill paid
	 * twice.
	 */
	private static BucketState created(Messages.Spec spec, long clockMillis, long overMillis, long leaseTtlMillis) {
		BucketState state = BucketState.create(spec, clockMillis);
		long lookBack = Math.min(Math.min(overMillis, MAX_SPENT_OVER_MILLIS), leaseTtlMillis);
		state.originMillis = clockMillis - Math.max(0, lookBack);
		return state;
	}

	/**
	 * Debits permits an instance admitted locally for a cold key (a {@link Messages.Report} entry),
	 * as of when they began to be spent; the bucket may go into debt. A missing state is a full
	 * bucket with the reported limit.
	 */
	public static BucketState report(BucketState stored, Messages.Report.Entry entry, long clockMillis,
			long leaseTtlMillis) {
		long over = Math.min(entry.spentOverMillis(), MAX_SPENT_OVER_MILLIS);
		BucketState state = (stored != null) ? stored : created(entry.spec(), clockMillis, over, leaseTtlMillis);
		long nowMillis = Math.max(clockMillis, state.clockMillis);
		state.clockMillis = nowMillis;
		configure(state, entry.spec(), nowMillis);
		state.takeSpentSince(entry.spent(), Math.max(state.originMillis, nowMillis - over));
		return state;
	}

	/**
	 * Whether a bucket holds less than half its capacity: its key leaves the cold regime (local
	 * allowances reported afterwards) for leases, which never grant more than the bucket holds.
	 */
	public static boolean isLow(BucketState state, long nowMillis) {
		return state.available(Math.max(nowMillis, state.clockMillis)) * 2 < state.inForce.capacity();
	}

	/**
	 * Whether a bucket is at rest: full for a lease lifetime at least, its limit the configured one,
	 * and no instance holding a lease or having asked within a lease lifetime. Such a state equals a
	 * missing one, so it is deleted (a tombstone in the changelog): the store holds only the keys in
	 * use.
	 */
	public static boolean isAtRest(BucketState state, long nowMillis, long leaseTtlMillis) {
		long now = Math.max(nowMillis, state.clockMillis);
		if (state.overridden || !isFullFor(state, nowMillis, leaseTtlMillis)) {
			return false;
		}
		for (Instance instance : state.instances.values()) {
			if (instance.expiryMillis > now || instance.lastSeenMillis > now - leaseTtlMillis) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Whether a bucket has been full for the last {@code windowMillis}: with everything it consumed
	 * so far, full already that long ago. Only such a state may be forgotten. A state made for a key
	 * the authority holds nothing for is full as of when the permits it is told of began to be spent,
	 * up to a report interval or more in the past ({@link #created}); had the forgotten state been
	 * full only since a moment ago, the refill before that moment would pay for its permits once in
	 * it and again in the new state (measured: up to half a capacity more for a tenant over its limit,
	 * whose cold state was swept the moment it looked full, just before its first lease request).
	 */
	public static boolean isFullFor(BucketState state, long nowMillis, long windowMillis) {
		// on this task's time, not the state's when that is ahead: the window in real time at least
		return state.consumed <= state.refilled(nowMillis - windowMillis);
	}

	/**
	 * Tells an instance that a key it admits from a local allowance ran low: a grant with sequence 0,
	 * nothing granted, which moves the key to leases on that instance.
	 */
	public static Grant notice(String key, BucketState state, String instance, long limiterIncarnation,
			long leaseTtlMillis, long nowMillis) {
		return new Grant(key, instance, limiterIncarnation, 0, 0, leaseTtlMillis, state.inForce, state.version, 0,
				state.instances.size(), Math.max(0, state.available(Math.max(nowMillis, state.clockMillis))), 0);
	}

	/** The answer to a health probe: nothing granted, no bucket touched. */
	static Grant probe(String key, Request request, long leaseTtlMillis) {
		return new Grant(key, request.instance(), request.incarnation(), request.seq(), 0, leaseTtlMillis,
				request.spec(), 0, 0, 0, 0, 0);
	}

	private static Result lease(String key, BucketState state, Instance instance, Request request, long nowMillis,
			long leaseTtlMillis) {
		configure(state, request.spec(), nowMillis);
		instance.outstanding = unexpired(instance, nowMillis);
		debitSpentLocally(state, instance, request, nowMillis);
		long returned = Math.min(request.returned(), instance.outstanding);
		if (returned > 0) {
			state.giveBack(returned);
			instance.outstanding -= returned;
		}
		instance.demand = request.demand();
		instance.classes = request.classes();
		instance.horizonMillis = request.horizonMillis();
		refillShares(state, nowMillis);
		long available = state.available(nowMillis);
		// Tokens of the bucket that no instance's share bucket could claim are spare: anyone may have
		// them, so changing shares (a newcomer, shifting demands) never strands capacity.
		long claimed = 0;
		for (Instance each : state.instances.values()) {
			claimed += (long) Math.floor(each.shareTokens);
		}
		long spare = Math.max(0, available - claimed);
		long own = (long) Math.floor(instance.shareTokens);
		if (claimed > available && available > 0) {
			// the share buckets claim more than the bucket holds (after an outage, or when instances
			// join): each gets its part of what there is, so the first to ask does not take the others'
			own = Math.min(own, (long) Math.ceil((double) available * own / claimed));
		}
		long granted = Math.max(0, Math.min(Math.min(request.want(), available), own + spare));
		if (granted > 0) {
			state.take(granted, nowMillis);
			instance.shareTokens -= Math.min(granted, own);
			instance.outstanding += granted;
		}
		if (granted > 0 || instance.outstanding > 0) {
			instance.expiryMillis = nowMillis + leaseTtlMillis;
		}
		instance.lastGranted = granted;
		return new Result(state, grant(key, state, instance, granted, request, leaseTtlMillis, nowMillis));
	}

	/**
	 * Takes the limit an instance is configured with. A new one wins (a redeploy), but the one it
	 * replaced does not come back while an instance configured with the new one has asked within a
	 * lease lifetime: during a rolling deploy, old and new instances ask in turn, and the limit would
	 * otherwise flap between their two versions. A runtime update still wins over both.
	 */
	private static void configure(BucketState state, Messages.Spec spec, long nowMillis) {
		if (spec.equals(state.configured)) {
			state.configuredSeenMillis = nowMillis;
			return;
		}
		if (spec.equals(state.superseded) && nowMillis - state.configuredSeenMillis <= CONFIGURED_HOLD_MILLIS) {
			return; // an instance not yet redeployed: the newer limit holds
		}
		state.superseded = state.configured;
		state.configured = spec;
		state.configuredSeenMillis = nowMillis;
		if (!state.overridden) {
			state.rebase(spec, nowMillis);
		}
	}

	/** How long the newest configured limit holds against the one it replaced without being asked for. */
	static final long CONFIGURED_HOLD_MILLIS = 5_000;

	/** What an instance holds that it may still spend: an expired lease is forfeit. */
	private static long unexpired(Instance instance, long nowMillis) {
		return (instance.expiryMillis <= nowMillis) ? 0 : instance.outstanding;
	}

	/**
	 * Permits admitted under the local-share policy while leases did not flow: the bucket pays for
	 * them (it may go into debt), so an outage does not hand out the same period twice. They are
	 * taken as of when the instance began to spend them: the bucket's refill since then pays for
	 * them first, and only what it cannot cover becomes debt.
	 */
	private static void debitSpentLocally(BucketState state, Instance instance, Request request, long nowMillis) {
		// the report is a running total: debit only what was not debited yet (a retried or repeated
		// report debits nothing twice); an instance forgotten meanwhile is taken at its own word of
		// what was acknowledged
		long debited = Math.max(instance.debitedTotal, request.spentAcked());
		long due = request.spentTotal() - debited;
		if (due > 0) {
			long over = Math.min(request.spentOverMillis(), MAX_SPENT_OVER_MILLIS);
			state.takeSpentSince(due, Math.max(state.originMillis, nowMillis - over));
			instance.debitedTotal = request.spentTotal();
		}
	}

	private static Instance instance(BucketState state, Request request, long nowMillis) {
		String id = Instance.key(request.instance(), request.incarnation());
		Instance instance = state.instances.get(id);
		if (instance != null) {
			return instance;
		}
		// a new incarnation of the same instance means the old process is gone: forget it
		state.instances.values().removeIf((old) -> old.id.equals(request.instance()));
		if (state.instances.size() >= MAX_INSTANCES_PER_KEY && !forgetOneIdle(state, nowMillis)) {
			// every party holds a lease: a newcomer waits, rather than growing the state without bound
			Instance refused = new Instance(request.instance(), request.incarnation());
			refused.lastSeq = Long.MAX_VALUE;
			return refused;
		}
		instance = new Instance(request.instance(), request.incarnation());
		instance.lastSeenMillis = nowMillis;
		instance.shareAtMillis = nowMillis;
		instance.horizonMillis = request.horizonMillis();
		instance.demand = request.demand();
		instance.classes = request.classes();
		state.instances.put(id, instance);
		// a newcomer starts with its share of the capacity, so the bucket's burst is shared too
		double[] shares = shares(state);
		int index = new ArrayList<>(state.instances.values()).indexOf(instance);
		instance.shareTokens = state.inForce.capacity() * shares[index] / state.inForce.perSecond();
		return instance;
	}

	/**
	 * Forgets the instance seen least recently among those holding no unexpired lease: room for a
	 * newcomer once a key has {@link #MAX_INSTANCES_PER_KEY} parties.
	 */
	private static boolean forgetOneIdle(BucketState state, long nowMillis) {
		Instance oldest = null;
		for (Instance each : state.instances.values()) {
			if (each.expiryMillis <= nowMillis && (oldest == null || each.lastSeenMillis < oldest.lastSeenMillis)) {
				oldest = each;
			}
		}
		if (oldest == null) {
			return false;
		}
		state.instances.remove(oldest.key());
		return true;
	}

	/** Forgets instances that hold no unexpired lease and have not asked for a lease lifetime. */
	private static void forgetInactive(BucketState state, Request request, long nowMillis, long leaseTtlMillis) {
		long cutoff = nowMillis - leaseTtlMillis;
		for (Iterator<Instance> it = state.instances.values().iterator(); it.hasNext();) {
			Instance instance = it.next();
			boolean requester = instance.id.equals(request.instance()) && instance.incarnation == request.incarnation();
			if (!requester && instance.lastSeenMillis < cutoff && instance.expiryMillis <= nowMillis) {
				it.remove();
			}
		}
	}

	/** Refills every instance's share bucket up to now, at its current share. */
	private static void refillShares(BucketState state, long nowMillis) {
		double[] shares = shares(state);
		double ratePerSecond = state.inForce.perSecond();
		int i = 0;
		for (Instance instance : state.instances.values()) {
			double share = shares[i++];
			double elapsed = Math.max(0, nowMillis - instance.shareAtMillis) / 1000.0;
			// enough for its share of the burst, or two horizons of its share, whichever is more
			double cap = Math.max(share * 2 * instance.horizonMillis / 1000.0,
					state.inForce.capacity() * share / ratePerSecond);
			instance.shareTokens = Math.min(Math.max(cap, 1), instance.shareTokens + share * elapsed);
			instance.shareAtMillis = nowMillis;
		}
	}

	/**
	 * Max-min fair shares of the rate over the instances' demands, in their map order: the small
	 * demands are served whole, the rest is split evenly, and what no one asks for is spread evenly
	 * so that the shares always add up to the rate.
	 *
	 * <p>For a limit divided among priority classes (instances report each class's demand), the
	 * rate is filled class by class: first each class's guaranteed minimum share (the largest any
	 * instance declares), over the instances' demands of that class; then each class in order, the
	 * highest first, over what its demands still want. So the fleet's critical calls are served
	 * before any instance's batch calls, wherever they arrive, and a class with a minimum is never
	 * starved. An instance that reports no classes counts as the lowest class.
	 */
	static double[] shares(BucketState state) {
		List<Instance> instances = new ArrayList<>(state.instances.values());
		int count = instances.size();
		double[] shares = new double[count];
		if (count == 0) {
			return shares;
		}
		int levels = 1;
		for (Instance instance : instances) {
			if (instance.classes != null) {
				levels = Math.max(levels, instance.classes.demands().length);
			}
		}
		double[][] demands = new double[levels][count];
		double[] minimums = new double[levels];
		for (int i = 0; i < count; i++) {
			Messages.Classes classes = instances.get(i).classes;
			if (classes == null) {
				demands[levels - 1][i] = instances.get(i).demand;
				continue;
			}
			for (int c = 0; c < classes.demands().length; c++) {
				demands[c][i] = classes.demands()[c];
				minimums[c] = Math.max(minimums[c], classes.minimums()[c]);
			}
		}
		double rate = state.inForce.perSecond();
		double left = rate;
		for (int c = 0; c < levels; c++) {
			// what a class's demand does not take of its minimum stays for the classes in order
			double reserve = Math.min(minimums[c] * rate, left);
			if (reserve > 0) {
				left -= fill(reserve, demands[c], shares);
			}
		}
		for (int c = 0; c < levels && left > 0; c++) {
			left -= fill(left, demands[c], shares);
		}
		for (int i = 0; i < count; i++) {
			shares[i] += left / count;
		}
		return shares;
	}

	/**
	 * Max-min fair fill of an amount over demands: the small ones are served whole, the rest split
	 * evenly. Adds each part to {@code shares}, takes it from {@code demands}, returns the sum given.
	 */
	private static double fill(double amount, double[] demands, double[] shares) {
		int count = demands.length;
		Integer[] order = new Integer[count];
		for (int i = 0; i < count; i++) {
			order[i] = i;
		}
		java.util.Arrays.sort(order, Comparator.comparingDouble((Integer i) -> demands[i]));
		double left = amount;
		for (int k = 0; k < count; k++) {
			int i = order[k];
			double part = Math.max(0, Math.min(demands[i], left / (count - k)));
			shares[i] += part;
			demands[i] -= part;
			left -= part;
		}
		return amount - left;
	}

	private static Grant grant(String key, BucketState state, Instance instance, long granted, Request request,
			long leaseTtlMillis, long nowMillis) {
		double[] shares = shares(state);
		int index = new ArrayList<>(state.instances.values()).indexOf(instance);
		double share = (index >= 0) ? shares[index] : 0;
		// what the bucket holds, or owes (negative): a per-key limiter spending its share between two
		// answers slows down by its part of a debt, so what it admitted on its own is paid back
		return new Grant(key, request.instance(), request.incarnation(), request.seq(), granted, leaseTtlMillis,
				state.inForce, state.version, share, state.instances.size(), state.available(nowMillis),
				instance.debitedTotal);
	}

}
