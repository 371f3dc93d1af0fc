package dev.ratelimit.internal;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Priorities;
import dev.ratelimit.PriorityRateLimiter;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * A token bucket divided for {@link Priorities}: one bucket per class with a reserved minimum
 * share, of that share of the rate and the capacity, and one shared bucket of the rest. The
 * buckets' capacities add up to the limit's capacity, and their rates to its rate: each is an exact
 * fraction of it, in millionths, unless that fraction's period would overflow (periods of hours
 * with uneven shares), when {@link Rate#scaled(double)} rounds it to a millionth of a permit per
 * second. So the limit's bound holds for every mix of classes, to that rounding.
 *
 * <p>A class takes, in order: from its own reserved bucket; from the shared bucket while that
 * keeps its floor (the headroom of each class above it, in whole permits); from another class's
 * reserved bucket while that stays at least half full. The floor and the half are checked and then
 * taken in two steps, so concurrent callers of one class can go below them by one call each; the
 * bound of the whole never moves, since every permit comes out of a bucket.
 */
public final class PriorityBuckets implements PriorityRateLimiter {

	private static final long MILLIONTHS = 1_000_000L;

	private final String name;

	private final Priorities priorities;

	private final AbstractRateLimiter shared;

	/** Per class: its reserved bucket, or null. */
	private final AbstractRateLimiter[] reserved;

	/** Per class: its reserved share, in millionths of the rate. */
	private final long[] reservedShares;

	/** The shared bucket's share, in millionths of the rate: what the reserved shares leave. */
	private final long sharedShare;

	/** Per class: what it leaves in the shared bucket for the classes above it. */
	private final long[] floors;

	/** Per class with a reserved bucket: what a borrowing class leaves in it. */
	private final long[] halves;

	private final PriorityClassLimiter[] views;

	private final ReentrantLock updateLock = new ReentrantLock();

	/** The listener of every class, told of limit changes once per change. */
	private final RateLimiterListener listener;

	private volatile RateLimit limit;

	/**
	 * Divides a limit.
	 * @param name the name
	 * @param limit a token bucket of one bandwidth, without warm-up
	 * @param priorities the classes
	 * @param ticker the time source
	 * @param scheduler what waits
	 * @param listener told of every class's calls
	 * @throws IllegalArgumentException for a limit that cannot be divided
	 */
	public PriorityBuckets(String name, RateLimit limit, Priorities priorities, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		this.name = Objects.requireNonNull(name, "name");
		this.priorities = Objects.requireNonNull(priorities, "priorities");
		this.listener = Objects.requireNonNull(listener, "listener");
		this.limit = checked(name, Objects.requireNonNull(limit, "limit"));
		List<String> classes = priorities.classes();
		int count = classes.size();
		this.reserved = new AbstractRateLimiter[count];
		this.reservedShares = new long[count];
		this.floors = new long[count];
		this.halves = new long[count];
		long capacity = limit.capacity();
		long[] owns = new long[count];
		long reservedCapacity = 0;
		long reservedTotal = 0;
		for (int i = 0; i < count; i++) {
			double share = priorities.minimumShare(classes.get(i));
			if (share > 0) {
				this.reservedShares[i] = Math.max(1, Math.round(share * MILLIONTHS));
				reservedTotal += this.reservedShares[i];
				owns[i] = Math.max(1, (long) Math.floor(share * capacity));
				this.halves[i] = (owns[i] + 1) / 2;
				reservedCapacity += owns[i];
			}
		}
		this.sharedShare = MILLIONTHS - reservedTotal;
		long sharedCapacity = capacity - reservedCapacity;
		if (this.sharedShare <= 0) {
			throw new IllegalArgumentException("the minimum shares of limiter '" + name + "' round to the whole rate "
					+ "(each is kept to a millionth): some of the rate has to be shared; lower them");
		}
		if (sharedCapacity < 1) {
			throw new IllegalArgumentException("limiter '" + name + "' has a capacity of " + capacity
					+ ", too small to give each reserved minimum share at least one permit and keep one to share: "
					+ "raise the capacity or lower the minimum shares");
		}
		Rate rate = limit.rate();
		for (int i = 0; i < count; i++) {
			if (this.reservedShares[i] > 0) {
				this.reserved[i] = bucket(name + "[" + classes.get(i) + "]", share(rate, this.reservedShares[i]),
						owns[i], limit, ticker, scheduler);
			}
			// whole permits, and always one left for the class itself
			this.floors[i] = Math.min(sharedCapacity - 1, (long) Math.floor(i * priorities.headroom() * sharedCapacity));
		}
		this.shared = bucket(name, share(rate, this.sharedShare), sharedCapacity, limit, ticker, scheduler);
		this.views = new PriorityClassLimiter[count];
		for (int i = 0; i < count; i++) {
			this.views[i] = new PriorityClassLimiter(this, i, name, limit, ticker, scheduler, listener);
		}
	}

	private static RateLimit checked(String name, RateLimit limit) {
		if (limit.algorithm() != Algorithm.TOKEN_BUCKET || limit.bandwidths().size() != 1 || !limit.warmup().isZero()) {
			throw new IllegalArgumentException("limiter '" + name + "' cannot take priorities: it is a "
					+ limit.algorithm().id() + ((limit.bandwidths().size() > 1) ? " of several bandwidths" : "")
					+ (limit.warmup().isZero() ? "" : " with a warm-up")
					+ "; priorities divide a token bucket of one bandwidth without warm-up");
		}
		return limit;
	}

	/** A share of a rate: a fraction in millionths, as an exact rational where its period fits a long. */
	private static Rate share(Rate rate, long millionths) {
		return (millionths >= MILLIONTHS) ? rate : rate.scaled(millionths / (double) MILLIONTHS);
	}

	private static AbstractRateLimiter bucket(String name, Rate rate, long capacity, RateLimit whole, Ticker ticker,
			Scheduler scheduler) {
		RateLimit.TokenBucketBuilder builder = RateLimit.tokenBucket(rate).capacity(capacity);
		if (whole.initialPermits().isPresent()) {
			// the whole's start, in proportion
			builder.initialPermits(LongMath.mulDiv(whole.initialPermits().getAsLong(), capacity, whole.capacity()));
		}
		return Limiters.create(name, builder.build(), ticker, scheduler, RateLimiterListener.NONE);
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public RateLimit limit() {
		return this.limit;
	}

	@Override
	public Priorities priorities() {
		return this.priorities;
	}

	@Override
	public RateLimiter forClass(String priorityClass) {
		return this.views[this.priorities.index(priorityClass)];
	}

	@Override
	public void updateRate(Rate rate) {
		Objects.requireNonNull(rate, "rate");
		update(this.limit.withRate(rate));
	}

	/** Returns every bucket to its start: full, or its share of the limit's initial permits. */
	@Override
	public void reset() {
		this.updateLock.lock();
		try {
			this.shared.reset();
			for (AbstractRateLimiter own : this.reserved) {
				if (own != null) {
					own.reset();
				}
			}
		}
		finally {
			this.updateLock.unlock();
		}
		RateLimit current = this.limit;
		this.listener.onLimitChanged(current, current);
	}

	@Override
	public String toString() {
		return "PriorityRateLimiter[" + this.name + ", " + this.limit + ", " + this.priorities + "]";
	}

	// ---- the classes' decisions ---------------------------------------------------------------

	/** Takes {@code permits} for a class now, if any of its sources has them. */
	/** Permits each class tried, once {@link #countAttempts()} was called; {@code null} before. */
	private volatile java.util.concurrent.atomic.LongAdder[] attempts;

	/** Counts from now on the permits each class tries, for {@link #attempts(int)}. */
	void countAttempts() {
		java.util.concurrent.atomic.LongAdder[] counters = new java.util.concurrent.atomic.LongAdder[this.views.length];
		for (int i = 0; i < counters.length; i++) {
			counters[i] = new java.util.concurrent.atomic.LongAdder();
		}
		this.attempts = counters;
	}

	/** Permits class {@code index} tried since {@link #countAttempts()}, denied ones included. */
	long attempts(int index) {
		java.util.concurrent.atomic.LongAdder[] counters = this.attempts;
		return (counters != null) ? counters[index].sum() : 0;
	}

	boolean take(int index, long permits) {
		java.util.concurrent.atomic.LongAdder[] counters = this.attempts;
		if (counters != null) {
			counters[index].add(permits);
		}
		AbstractRateLimiter own = this.reserved[index];
		if (own != null && permits <= own.capacity() && own.tryTake(permits)) {
			return true;
		}
		long floor = this.floors[index];
		AbstractRateLimiter shared = this.shared;
		if (permits <= shared.capacity() - floor
				&& (floor == 0 || shared.available(shared.ticker.read()) - permits >= floor)
				&& shared.tryTake(permits)) {
			return true;
		}
		for (int j = 0; j < this.reserved.length; j++) {
			AbstractRateLimiter other = this.reserved[j];
			if (j != index && other != null && permits <= other.capacity() - this.halves[j]
					&& other.available(other.ticker.read()) - permits >= this.halves[j] && other.tryTake(permits)) {
				return true;
			}
		}
		return false;
	}

	/** What a class could take now, from all its sources. */
	long available(int index) {
		long available = 0;
		AbstractRateLimiter own = this.reserved[index];
		if (own != null) {
			available += Math.max(0, own.available(own.ticker.read()));
		}
		available += Math.max(0, this.shared.available(this.shared.ticker.read()) - this.floors[index]);
		for (int j = 0; j < this.reserved.length; j++) {
			AbstractRateLimiter other = this.reserved[j];
			if (j != index && other != null) {
				available += Math.max(0, other.available(other.ticker.read()) - this.halves[j]);
			}
		}
		return available;
	}

	/** The most one call of a class can take: the most any one of its sources holds for it. */
	long capacity(int index) {
		long capacity = this.shared.capacity() - this.floors[index];
		AbstractRateLimiter own = this.reserved[index];
		if (own != null) {
			capacity = Math.max(capacity, own.capacity());
		}
		for (int j = 0; j < this.reserved.length; j++) {
			if (j != index && this.reserved[j] != null) {
				capacity = Math.max(capacity, this.reserved[j].capacity() - this.halves[j]);
			}
		}
		return capacity;
	}

	/** How long until one of a class's sources could give it {@code permits}, were no one else to take. */
	long retryAfter(int index, long permits) {
		long wait = Long.MAX_VALUE;
		AbstractRateLimiter own = this.reserved[index];
		if (own != null && permits <= own.capacity()) {
			wait = Math.min(wait, own.retryAfter(permits, own.ticker.read()));
		}
		long floor = this.floors[index];
		if (permits <= this.shared.capacity() - floor) {
			wait = Math.min(wait, this.shared.retryAfter(permits + floor, this.shared.ticker.read()));
		}
		for (int j = 0; j < this.reserved.length; j++) {
			AbstractRateLimiter other = this.reserved[j];
			if (j != index && other != null && permits <= other.capacity() - this.halves[j]) {
				wait = Math.min(wait, other.retryAfter(permits + this.halves[j], other.ticker.read()));
			}
		}
		return Math.max(0, wait);
	}

	/** How long until every bucket is full. */
	long resetNanos() {
		long wait = this.shared.resetNanos(this.shared.ticker.read());
		for (AbstractRateLimiter own : this.reserved) {
			if (own != null) {
				wait = Math.max(wait, own.resetNanos(own.ticker.read()));
			}
		}
		return wait;
	}

	/**
	 * Gives back permits a class took and will not use. Which bucket they came from is not kept, so
	 * they go where there is room, in the order the class takes: its own bucket, the shared one,
	 * the others' reserves. A bucket never holds more than its capacity, so a permit finds no room
	 * only when every bucket is full, when it could not have been spent anyway; the bound of the
	 * whole holds either way.
	 */
	void refund(int index, long permits) {
		long rest = permits;
		AbstractRateLimiter own = this.reserved[index];
		if (own != null) {
			rest = refundInto(own, rest);
		}
		rest = refundInto(this.shared, rest);
		for (int j = 0; j < this.reserved.length && rest > 0; j++) {
			if (j != index && this.reserved[j] != null) {
				rest = refundInto(this.reserved[j], rest);
			}
		}
	}

	private static long refundInto(AbstractRateLimiter bucket, long permits) {
		if (permits <= 0) {
			return 0;
		}
		long room = bucket.capacity() - Math.max(0, bucket.available(bucket.ticker.read()));
		long back = Math.min(permits, room);
		if (back > 0) {
			bucket.refundTaken(back);
		}
		return permits - back;
	}

	/**
	 * Applies a new limit to every bucket and every class, then tells the listener once, with no
	 * lock held: a listener that takes a lock of its own (an adaptive controller taking the new
	 * rate on) cannot deadlock with a change coming from it.
	 */
	void update(RateLimit next) {
		RateLimit previous;
		this.updateLock.lock();
		try {
			previous = this.limit;
			if (next.capacity() != this.limit.capacity()) {
				throw new IllegalArgumentException("limiter '" + this.name + "' divides a capacity of "
						+ this.limit.capacity() + " among its priority classes, which a change cannot move: change the "
						+ "rate only, or create a new limiter");
			}
			Rate rate = checked(this.name, next).rate();
			for (int i = 0; i < this.reserved.length; i++) {
				if (this.reserved[i] != null) {
					this.reserved[i].updateRate(share(rate, this.reservedShares[i]));
				}
			}
			this.shared.updateRate(share(rate, this.sharedShare));
			this.limit = next;
			for (PriorityClassLimiter view : this.views) {
				view.adoptWhole(next);
			}
		}
		finally {
			this.updateLock.unlock();
		}
		if (!previous.equals(next)) {
			this.listener.onLimitChanged(previous, next);
		}
	}

}
