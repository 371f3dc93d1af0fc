package dev.ratelimit.internal;

import java.util.List;
import java.util.Objects;

import dev.ratelimit.Priorities;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * A limit shared by many instances (a global limiter), divided among priority classes on each of
 * them. Two parts decide a call of a class:
 * <ul>
 * <li>a <em>gate</em>, the local policy ({@link PriorityBuckets}: strict priority with reserved
 * minimums) over this instance's share of the rate, which the shared limit's authority sets and
 * {@link #shareChanged(double)} passes on. It keeps lower classes from spending what higher ones
 * on this instance need;</li>
 * <li>the shared limiter itself, which bounds the fleet as a whole. Its permits arrive in leases,
 * and a lower class takes from a lease only while it keeps what the classes above it need until
 * the next one ({@link #floorsChanged(long[])}): the gate says who may have this instance's share,
 * the floors that the lease is not spent by the lower classes first.</li>
 * </ul>
 * A call takes a permit from both or from neither. The gate counts what each class tries, denied
 * attempts included: the instance reports these demands, and the authority fills the instances'
 * shares class by class, so a higher class anywhere in the fleet is served before a lower one
 * anywhere.
 */
public final class SharedPriorities implements dev.ratelimit.PriorityRateLimiter {

	/** A share change smaller than this fraction is not applied to the gate (grants come often). */
	private static final double SHARE_CHANGE = 0.01;

	private final String name;

	private final AbstractRateLimiter shared;

	/** The classes and their minimum shares; replaced by {@link #update(RateLimit, Priorities)}. */
	private volatile Priorities priorities;

	private final PriorityBuckets gate;

	/** The listener of every class, told of a change of shares the shared limiter does not see. */
	private final RateLimiterListener listener;

	private final SharedClassLimiter[] views;

	/** Leased permits each class must leave for the classes above it; none until the backend says. */
	private volatile long[] floors;

	/**
	 * Divides a shared limiter among classes.
	 * @param name the name
	 * @param shared the shared limiter: its limit is the whole's
	 * @param priorities the classes
	 * @param ticker the gate's clock
	 * @param scheduler what waits
	 * @param listener told of every class's calls
	 */
	public SharedPriorities(String name, AbstractRateLimiter shared, Priorities priorities, Ticker ticker,
			Scheduler scheduler, RateLimiterListener listener) {
		this.name = Objects.requireNonNull(name, "name");
		this.shared = Objects.requireNonNull(shared, "shared");
		this.priorities = Objects.requireNonNull(priorities, "priorities");
		this.listener = Objects.requireNonNull(listener, "listener");
		// until the authority says what this instance's share is, the gate lets the whole rate through
		this.gate = new PriorityBuckets(name, gateLimit(shared.limit(), shared.limit().rate()), priorities, ticker,
				scheduler, RateLimiterListener.NONE);
		this.gate.countAttempts();
		List<String> classes = priorities.classes();
		this.views = new SharedClassLimiter[classes.size()];
		this.floors = new long[classes.size()];
		for (int i = 0; i < this.views.length; i++) {
			this.views[i] = new SharedClassLimiter(name, (AbstractRateLimiter) this.gate.forClass(classes.get(i)),
					shared, this, i, ticker, scheduler, listener);
		}
	}

	/**
	 * The gate's limit: the share as its rate, the whole's capacity, starting full (the shared limit
	 * bounds what is admitted; a gate starting empty would hold every class back for a while).
	 */
	private static RateLimit gateLimit(RateLimit whole, Rate share) {
		return RateLimit.tokenBucket(share).capacity(whole.capacity()).build();
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public RateLimit limit() {
		return this.shared.limit();
	}

	@Override
	public Priorities priorities() {
		return this.priorities;
	}

	@Override
	public RateLimiter forClass(String priorityClass) {
		return this.views[this.priorities.index(priorityClass)];
	}

	/** Changes the shared limit's rate; the gate follows the share the authority then sets. */
	@Override
	public void updateRate(Rate rate) {
		this.shared.updateRate(rate);
	}

	/**
	 * Changes the shared limit and the classes' minimum shares: the shared limiter takes the limit
	 * (the fleet's, through the authority), the gate the capacity and the shares, and the next
	 * lease requests carry the new minimums.
	 */
	@Override
	public void update(RateLimit limit, Priorities priorities) {
		Objects.requireNonNull(limit, "limit");
		Objects.requireNonNull(priorities, "priorities");
		Priorities previous = this.priorities;
		long gateCapacity = this.gate.limit().capacity();
		RateLimit before = this.shared.limit();
		// the gate first, so that a listener told of the shared limit's change sees the classes'
		// new capacities; its rate is this instance's share, which the authority sets: kept. It
		// refuses other classes, or a division it cannot make, before anything changes
		this.gate.updateKeepingRate(limit.capacity(), priorities);
		this.priorities = priorities;
		try {
			this.shared.updateLimit(limit);
		}
		catch (RuntimeException ex) {
			this.gate.updateKeepingRate(gateCapacity, previous);
			this.priorities = previous;
			throw ex;
		}
		if (before.equals(this.shared.limit())
				&& (!priorities.equals(previous) || gateCapacity != limit.capacity())) {
			// the shared limiter told of nothing (the authority had brought this limit already,
			// or only the shares changed): what each class can take changed all the same
			this.listener.onLimitChanged(before, before);
		}
	}

	@Override
	public void reset() {
		this.shared.reset();
		this.gate.reset();
	}

	/**
	 * The number of classes.
	 * @return the count, highest class first
	 */
	public int classCount() {
		return this.views.length;
	}

	/**
	 * Permits class {@code index} has tried so far, denied attempts included.
	 * @param index the class, 0 for the highest
	 * @return a running count
	 */
	public long attempts(int index) {
		return this.gate.attempts(index);
	}

	/**
	 * The share of the rate class {@code index} is guaranteed.
	 * @param index the class
	 * @return 0 to 1
	 */
	public double minimumShare(int index) {
		return this.priorities.minimumShare(this.priorities.classes().get(index));
	}

	/**
	 * This instance's share of the shared rate changed: the gate takes it as its rate.
	 * @param share permits per second
	 */
	public void shareChanged(double share) {
		if (!(share > 0) || !Double.isFinite(share)) {
			return;
		}
		// a share too small for a rate (a residue of the authority's division) keeps the gate at the smallest
		double kept = Math.max(MIN_SHARE, Math.min(share, this.shared.limit().rate().perSecond()));
		double current = this.gate.limit().rate().perSecond();
		if (Math.abs(kept - current) <= current * SHARE_CHANGE) {
			return;
		}
		try {
			this.gate.updateRate(Rate.perSecond(kept));
		}
		catch (IllegalArgumentException ex) {
			// the gate keeps its rate; the shared limit still bounds the calls
		}
	}

	/** The smallest rate the gate takes, permits per second. */
	private static final double MIN_SHARE = 0.001;

	/**
	 * How many leased permits each class must leave in the lease for the classes above it: what
	 * they are expected to take before the next lease arrives. Set by the backend as demands and
	 * leases change; zeros while it does not lease (degraded, or a key at rest).
	 * @param floors one per class, highest first (the first is 0)
	 */
	public void floorsChanged(long[] floors) {
		if (floors.length == this.views.length && !java.util.Arrays.equals(floors, this.floors)) {
			this.floors = floors.clone();
		}
	}

	/** What class {@code index} must leave in the lease. */
	long floor(int index) {
		return this.floors[index];
	}

	@Override
	public String toString() {
		return "SharedPriorities[" + this.name + ", " + this.shared.limit() + ", " + this.priorities + "]";
	}

}
