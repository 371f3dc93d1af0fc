package dev.ratelimit.internal;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
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

	/** The rate a replaced bucket is left with, so a call that still holds it finds next to nothing. */
	private static final Rate RETIRED = Rate.of(1, java.time.Duration.ofDays(3650));

	private final String name;

	private final Ticker ticker;

	private final Scheduler scheduler;

	/** The buckets and what each class leaves in them; replaced whole when the capacity or the shares change. */
	private volatile Layout layout;

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
		this.listener = Objects.requireNonNull(listener, "listener");
		this.ticker = Objects.requireNonNull(ticker, "ticker");
		this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
		this.limit = checked(name, Objects.requireNonNull(limit, "limit"));
		this.layout = new Layout(name, limit, Objects.requireNonNull(priorities, "priorities"), ticker, scheduler);
		int count = priorities.classes().size();
		this.views = new PriorityClassLimiter[count];
		for (int i = 0; i < count; i++) {
			this.views[i] = new PriorityClassLimiter(this, i, name, limit, ticker, scheduler, listener);
		}
	}

	/**
	 * The buckets of one division: per class its reserved bucket (or none) and what it leaves in
	 * the shared bucket and in the other classes' reserves. Immutable but for the buckets' permits.
	 */
	private static final class Layout {

		final Priorities priorities;

		final AbstractRateLimiter shared;

		/** Per class: its reserved bucket, or null. */
		final AbstractRateLimiter[] reserved;

		/** Per class: its reserved share, in millionths of the rate. */
		final long[] reservedShares;

		/** The shared bucket's share, in millionths of the rate: what the reserved shares leave. */
		final long sharedShare;

		/** Per class: what it leaves in the shared bucket for the classes above it. */
		final long[] floors;

		/** Per class with a reserved bucket: what a borrowing class leaves in it. */
		final long[] halves;

		/**
		 * Set once this layout is being replaced: its buckets are drained and refill at next to
		 * no rate, so what they say about waits no longer holds.
		 */
		volatile boolean retired;

		/** Builds the buckets of a division, each starting as the limit says (full, or its share of the start). */
		Layout(String name, RateLimit limit, Priorities priorities, Ticker ticker, Scheduler scheduler) {
			this.priorities = priorities;
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
				throw new IllegalArgumentException("the minimum shares of limiter '" + name + "' round to the whole "
						+ "rate (each is kept to a millionth): some of the rate has to be shared; lower them");
			}
			if (sharedCapacity < 1) {
				throw new IllegalArgumentException("limiter '" + name + "' has a capacity of " + capacity
						+ ", too small to give each reserved minimum share at least one permit and keep one to "
						+ "share: raise the capacity or lower the minimum shares");
			}
			Rate rate = limit.rate();
			for (int i = 0; i < count; i++) {
				if (this.reservedShares[i] > 0) {
					this.reserved[i] = bucket(name + "[" + classes.get(i) + "]", share(rate, this.reservedShares[i]),
							owns[i], limit, ticker, scheduler);
				}
				// whole permits, and always one left for the class itself
				this.floors[i] = Math.min(sharedCapacity - 1,
						(long) Math.floor(i * priorities.headroom() * sharedCapacity));
			}
			this.shared = bucket(name, share(rate, this.sharedShare), sharedCapacity, limit, ticker, scheduler);
		}

		/** Each bucket takes its share of a new rate, keeping its permits. */
		void updateRate(Rate rate) {
			for (int i = 0; i < this.reserved.length; i++) {
				if (this.reserved[i] != null) {
					this.reserved[i].updateRate(share(rate, this.reservedShares[i]));
				}
			}
			this.shared.updateRate(share(rate, this.sharedShare));
		}

		/**
		 * Takes every permit out of these buckets, for the layout that replaces them, and leaves
		 * them next to no rate: a call that read this layout just before it was replaced finds
		 * them empty. Permits a racing call takes meanwhile are not moved, so none is counted twice.
		 * @return per bucket, the permits taken out: the classes' reserves in order, then the shared bucket
		 */
		long[] retire() {
			this.retired = true;
			long[] drained = new long[this.reserved.length + 1];
			for (int i = 0; i < this.reserved.length; i++) {
				if (this.reserved[i] != null) {
					this.reserved[i].updateRate(RETIRED);
					drained[i] = drain(this.reserved[i]);
				}
			}
			this.shared.updateRate(RETIRED);
			drained[this.reserved.length] = drain(this.shared);
			return drained;
		}

		/**
		 * Fills these buckets, emptied first, with the permits a replaced layout held: each class's
		 * reserve takes what its reserve held, the shared bucket what the shared one held, and what
		 * does not fit goes where there is room. Never more than was drained, so the bound of the
		 * whole holds across the change.
		 */
		void fill(long[] drained) {
			// not yet in use: nothing races the emptying
			for (AbstractRateLimiter own : this.reserved) {
				if (own != null) {
					drain(own);
				}
			}
			drain(this.shared);
			// moved into each bucket's state itself, not its pool: the pool's permits are not
			// counted when the bucket refills, so permits moved there would be counted twice
			long rest = 0;
			for (int i = 0; i < this.reserved.length; i++) {
				rest += (this.reserved[i] != null) ? putInto(this.reserved[i], drained[i], false) : drained[i];
			}
			rest = putInto(this.shared, rest + drained[this.reserved.length], false);
			for (int i = 0; i < this.reserved.length && rest > 0; i++) {
				if (this.reserved[i] != null) {
					rest = putInto(this.reserved[i], rest, false);
				}
			}
		}

	}

	/** Takes what a bucket holds, as far as racing calls leave it. */
	private static long drain(AbstractRateLimiter bucket) {
		long drained = 0;
		for (int attempt = 0; attempt < 64; attempt++) {
			long available = Math.min(bucket.available(bucket.ticker.read()), bucket.capacity());
			if (available <= 0) {
				break;
			}
			if (bucket.tryTake(available)) {
				drained += available;
			}
			else if (available > 1 && bucket.tryTake(available / 2)) {
				drained += available / 2;
			}
		}
		return drained;
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
		return this.layout.priorities;
	}

	@Override
	public RateLimiter forClass(String priorityClass) {
		return this.views[this.layout.priorities.index(priorityClass)];
	}

	@Override
	public void updateRate(Rate rate) {
		Objects.requireNonNull(rate, "rate");
		update((current) -> current.withRate(rate), null);
	}

	@Override
	public void update(RateLimit next, Priorities priorities) {
		Objects.requireNonNull(next, "limit");
		Objects.requireNonNull(priorities, "priorities");
		update((current) -> next, priorities);
	}

	/**
	 * Changes the capacity and the shares, keeping whatever rate is in force when the change is
	 * made (a gate's rate follows the authority, which may set it meanwhile).
	 * @param capacity the new capacity
	 * @param priorities the same classes with the new shares
	 */
	void updateKeepingRate(long capacity, Priorities priorities) {
		update((current) -> current.withCapacity(capacity), Objects.requireNonNull(priorities, "priorities"));
	}

	/** Returns every bucket to its start: full, or its share of the limit's initial permits. */
	@Override
	public void reset() {
		this.updateLock.lock();
		try {
			Layout current = this.layout;
			current.shared.reset();
			for (AbstractRateLimiter own : current.reserved) {
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
		return "PriorityRateLimiter[" + this.name + ", " + this.limit + ", " + this.layout.priorities + "]";
	}

	// ---- the classes' decisions ---------------------------------------------------------------

	/** Permits each class tried, once {@link #countAttempts()} was called; {@code null} before. */
	private volatile LongAdder[] attempts;

	/** Counts from now on the permits each class tries, for {@link #attempts(int)}. */
	void countAttempts() {
		LongAdder[] counters = new LongAdder[this.views.length];
		for (int i = 0; i < counters.length; i++) {
			counters[i] = new LongAdder();
		}
		this.attempts = counters;
	}

	/** Permits class {@code index} tried since {@link #countAttempts()}, denied ones included. */
	long attempts(int index) {
		LongAdder[] counters = this.attempts;
		return (counters != null) ? counters[index].sum() : 0;
	}

	/** Takes {@code permits} for a class now, if any of its sources has them. */
	boolean take(int index, long permits) {
		LongAdder[] counters = this.attempts;
		if (counters != null) {
			counters[index].add(permits);
		}
		Layout layout = this.layout;
		if (take(layout, index, permits)) {
			return true;
		}
		// denied by buckets being drained for a replacement: the new ones may have the permits
		if (layout.retired) {
			Layout replacement = replacementOf(layout);
			return replacement != null && take(replacement, index, permits);
		}
		return false;
	}

	private static boolean take(Layout layout, int index, long permits) {
		AbstractRateLimiter own = layout.reserved[index];
		if (own != null && permits <= own.capacity() && own.tryTake(permits)) {
			return true;
		}
		long floor = layout.floors[index];
		AbstractRateLimiter shared = layout.shared;
		if (permits <= shared.capacity() - floor
				&& (floor == 0 || shared.available(shared.ticker.read()) - permits >= floor)
				&& shared.tryTake(permits)) {
			return true;
		}
		AbstractRateLimiter[] reserved = layout.reserved;
		long[] halves = layout.halves;
		for (int j = 0; j < reserved.length; j++) {
			AbstractRateLimiter other = reserved[j];
			if (j != index && other != null && permits <= other.capacity() - halves[j]
					&& other.available(other.ticker.read()) - permits >= halves[j] && other.tryTake(permits)) {
				return true;
			}
		}
		return false;
	}

	/** What a class could take now, from all its sources. */
	long available(int index) {
		Layout layout = this.layout;
		long available = 0;
		AbstractRateLimiter own = layout.reserved[index];
		if (own != null) {
			available += Math.max(0, own.available(own.ticker.read()));
		}
		available += Math.max(0, layout.shared.available(layout.shared.ticker.read()) - layout.floors[index]);
		for (int j = 0; j < layout.reserved.length; j++) {
			AbstractRateLimiter other = layout.reserved[j];
			if (j != index && other != null) {
				available += Math.max(0, other.available(other.ticker.read()) - layout.halves[j]);
			}
		}
		return available;
	}

	/** The most one call of a class can take: the most any one of its sources holds for it. */
	long capacity(int index) {
		return capacity(this.layout, index);
	}

	private static long capacity(Layout layout, int index) {
		long capacity = layout.shared.capacity() - layout.floors[index];
		AbstractRateLimiter own = layout.reserved[index];
		if (own != null) {
			capacity = Math.max(capacity, own.capacity());
		}
		for (int j = 0; j < layout.reserved.length; j++) {
			if (j != index && layout.reserved[j] != null) {
				capacity = Math.max(capacity, layout.reserved[j].capacity() - layout.halves[j]);
			}
		}
		return capacity;
	}

	/**
	 * The most one call of each class could take under another limit and other shares, for a
	 * check before a change: a call sized for its class today may not fit its class then.
	 * @param name the limiter's name, for errors
	 * @param limit the limit as a whole
	 * @param priorities the classes and their shares
	 * @return per class, highest first
	 * @throws IllegalArgumentException if the limit cannot be divided so
	 */
	public static long[] classCapacities(String name, RateLimit limit, Priorities priorities) {
		Layout layout = new Layout(name, checked(name, limit), priorities, Ticker.system(), Scheduler.system());
		long[] capacities = new long[priorities.classes().size()];
		for (int i = 0; i < capacities.length; i++) {
			capacities[i] = capacity(layout, i);
		}
		return capacities;
	}

	/**
	 * The layout that replaced a retired one, or {@code null} while the replacement is still
	 * being made (it takes microseconds, under the update lock): nothing here waits for it, as the
	 * decision primitives never block.
	 */
	private Layout replacementOf(Layout retired) {
		Layout current = this.layout;
		return (current != retired && !current.retired) ? current : null;
	}

	/**
	 * How long until one of a class's sources could give it {@code permits}, were no one else to
	 * take. A retired layout's buckets, drained and left next to no rate, would tell a wait of
	 * years: a wait worked out on a layout retired meanwhile (retired is set before any of its
	 * buckets changes) is worked out again on the one that replaced it, or, while that is being
	 * made, is a short wait to ask again.
	 */
	long retryAfter(int index, long permits) {
		Layout layout = this.layout;
		long wait = retryAfter(layout, index, permits);
		if (!layout.retired) {
			return wait;
		}
		Layout replacement = replacementOf(layout);
		return (replacement != null) ? retryAfter(replacement, index, permits) : Math.min(wait, REPLACING_NANOS);
	}

	/** How soon a call denied while the buckets are being replaced asks again. */
	private static final long REPLACING_NANOS = 1_000_000L;

	private static long retryAfter(Layout layout, int index, long permits) {
		long wait = Long.MAX_VALUE;
		AbstractRateLimiter own = layout.reserved[index];
		if (own != null && permits <= own.capacity()) {
			wait = Math.min(wait, own.retryAfter(permits, own.ticker.read()));
		}
		long floor = layout.floors[index];
		if (permits <= layout.shared.capacity() - floor) {
			wait = Math.min(wait, layout.shared.retryAfter(permits + floor, layout.shared.ticker.read()));
		}
		for (int j = 0; j < layout.reserved.length; j++) {
			AbstractRateLimiter other = layout.reserved[j];
			if (j != index && other != null && permits <= other.capacity() - layout.halves[j]) {
				wait = Math.min(wait, other.retryAfter(permits + layout.halves[j], other.ticker.read()));
			}
		}
		return Math.max(0, wait);
	}

	/** How long until every bucket is full (worked out again on a replacement, as above). */
	long resetNanos() {
		Layout layout = this.layout;
		long wait = resetNanos(layout);
		if (!layout.retired) {
			return wait;
		}
		Layout replacement = replacementOf(layout);
		return (replacement != null) ? resetNanos(replacement) : Math.min(wait, REPLACING_NANOS);
	}

	private static long resetNanos(Layout layout) {
		long wait = layout.shared.resetNanos(layout.shared.ticker.read());
		for (AbstractRateLimiter own : layout.reserved) {
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
		Layout layout = this.layout;
		long rest = permits;
		AbstractRateLimiter own = layout.reserved[index];
		if (own != null) {
			rest = putInto(own, rest, true);
		}
		rest = putInto(layout.shared, rest, true);
		for (int j = 0; j < layout.reserved.length && rest > 0; j++) {
			if (j != index && layout.reserved[j] != null) {
				rest = putInto(layout.reserved[j], rest, true);
			}
		}
	}

	/**
	 * Puts permits into a bucket, as many as it has room for: as a refund (which a pooled bucket
	 * may keep in its pool) or into its state itself.
	 * @return the permits that found no room
	 */
	private static long putInto(AbstractRateLimiter bucket, long permits, boolean refund) {
		if (permits <= 0) {
			return 0;
		}
		long room = bucket.capacity() - Math.max(0, bucket.available(bucket.ticker.read()));
		long put = Math.min(permits, room);
		if (put > 0) {
			if (!refund && bucket instanceof PooledRateLimiter pooled) {
				pooled.giveBack(put);
			}
			else {
				bucket.refundTaken(put);
			}
		}
		return permits - put;
	}

	/** Applies a new limit, its rate only or its capacity too, keeping the classes' shares. */
	void update(RateLimit next) {
		update((current) -> next, null);
	}

	/**
	 * Applies a new limit and, if given, new minimum shares to every bucket and every class, then
	 * tells the listener once, with no lock held: a listener that takes a lock of its own (an
	 * adaptive controller taking the new rate on) cannot deadlock with a change coming from it.
	 * A change of rate alone keeps the buckets; a change of capacity or shares replaces them with
	 * buckets of the new division, holding the permits the old ones held (none created).
	 */
	private void update(java.util.function.UnaryOperator<RateLimit> change, Priorities shares) {
		RateLimit previous;
		RateLimit next;
		boolean divided;
		this.updateLock.lock();
		try {
			previous = this.limit;
			next = checked(this.name, change.apply(previous));
			Layout current = this.layout;
			Priorities priorities = (shares != null) ? shares : current.priorities;
			if (!priorities.classes().equals(current.priorities.classes())) {
				throw new IllegalArgumentException("limiter '" + this.name + "' has the priority classes "
						+ current.priorities.classes() + ", and a change cannot make them " + priorities.classes()
						+ ": give shares of the same classes, or create a new limiter");
			}
			divided = !priorities.equals(current.priorities);
			if (next.capacity() == previous.capacity() && !divided) {
				current.updateRate(next.rate());
			}
			else {
				// built first: a division that cannot be made fails before anything changes
				Layout replacement = new Layout(this.name, next, priorities, this.ticker, this.scheduler);
				replacement.fill(current.retire());
				this.layout = replacement;
			}
			this.limit = next;
			for (PriorityClassLimiter view : this.views) {
				view.adoptWhole(next);
			}
		}
		finally {
			this.updateLock.unlock();
		}
		if (!previous.equals(next) || divided) {
			// new shares change what each class can take: told as a change, even at the same limit
			this.listener.onLimitChanged(previous, next);
		}
	}

}
