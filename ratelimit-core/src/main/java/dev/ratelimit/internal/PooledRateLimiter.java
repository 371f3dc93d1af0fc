package dev.ratelimit.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * A limiter whose decisions are split in two, like the Kafka backend's leases: an exact
 * <em>authority</em> (the algorithm's state, read with the clock) and a <em>pool</em> of permits
 * already taken from the authority and not yet handed out.
 *
 * <h2>Why</h2>
 * Reading the clock costs more than the rest of a decision. When the authority has permits to
 * spare, a slow-path call takes up to {@code leaseExtra} more than it needs (at most 1% of the
 * capacity) and parks them in the pool; following calls take from the pool with one CAS and no
 * clock read.
 *
 * <h2>Guarantee</h2>
 * The authority is exact: over any interval it hands out no more than its algorithm allows. A
 * permit from the pool was handed out by the authority earlier, so permits admitted in an
 * interval are at most those the authority handed out in it plus what the pool held at its start:
 * over-admission is bounded by the pool, {@code leaseExtra <= capacity / 100} (zero below a
 * capacity of 100, where every decision is exact). Nothing is lost: pooled permits stay until
 * taken, and a denial is decided only after reading the clock.
 *
 * <h2>Memory ordering</h2>
 * The pool is one {@code long} on a cache line of its own but for the read-mostly
 * {@code leaseExtra} and the rarely written {@code seen} (padded by inheritance), changed only by
 * compare-and-exchange with volatile semantics. It guards no other data: a permit is a count, so
 * no ordering with other fields is needed beyond the atomicity of each CAS.
 */
public abstract class PooledRateLimiter extends PoolPadAfter {

	protected PooledRateLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
	}

	// ---- the authority -----------------------------------------------------------------------

	/**
	 * Takes between {@code min} and {@code max} permits from the authority, as many as it has up
	 * to {@code max}; returns how many, or a negative value when it has fewer than {@code min}.
	 * It does not work out the wait on a denial: the hot deny path has no use for it, and
	 * {@link #authorityRetryAfter} computes it where it is needed.
	 */
	protected abstract long lease(long min, long max, long now);

	/** Returns permits to the authority. */
	protected abstract void giveBack(long permits);

	/** Permits the authority could hand out now (negative while reservations are outstanding). */
	protected abstract long authorityAvailable(long now);

	/** Nanoseconds until the authority alone could hand out {@code permits}. */
	protected abstract long authorityRetryAfter(long permits, long now);

	/** Reserves permits at the authority for use within {@code maxWaitNanos}, if it can. */
	protected abstract long authorityReserve(long permits, long maxWaitNanos, long now);

	/** Permits a slow-path call may take beyond its need, at most 1% of the capacity. */
	protected static long leaseExtraFor(long capacity) {
		return capacity / 100;
	}

	/** Changes how much a slow-path call may take ahead. */
	protected final void leaseExtra(long leaseExtra) {
		this.leaseExtra = leaseExtra;
	}

	protected final long pooled() {
		return (long) POOL.getVolatile(this);
	}

	/** Empties the pool and returns what it held. */
	protected final long drainPool() {
		return Math.max(0, (long) POOL.getAndSet(this, 0L));
	}

	/**
	 * Adds permits handed out by a remote authority to the pool, without the local bound: a
	 * backend whose authority is elsewhere (Kafka) keeps its leases here.
	 */
	protected final void deposit(long permits) {
		if (permits > 0) {
			POOL.getAndAdd(this, permits);
		}
	}

	// ---- decisions ---------------------------------------------------------------------------

	/**
	 * True: a pooled limiter rechecks denials on the system clock. A subclass whose
	 * {@link #lease} does more than take permits (a remote authority's) must return false.
	 */
	@Override
	protected boolean rechecksDenials() {
		return true;
	}

	@Override
	protected final boolean tryTake(long permits) {
		return takePooled(permits) || takeTimed(permits);
	}

	/**
	 * Takes from the authority at the clock's reading; on the coarse clock, for a limit that
	 * refills faster than it alone could serve, no earlier than the last system-clock reading that
	 * admitted, and a denial rechecked on the system clock as often as
	 * {@link CoarseClock#recheckMask} says. A coarse reading is never ahead of the system clock, so
	 * a decision on it admits nothing the system clock would not: only denials need a second look.
	 */
	private boolean takeTimed(long permits) {
		Ticker clock = this.ticker;
		long now = clock.read();
		int mask = this.recheckMask;
		if (mask < 0 || !(clock instanceof CoarseClock coarse)) {
			if (takeSlow(permits, now)) {
				return true;
			}
			// on the system clock, a take at a later reading may have overtaken this one (see below)
			return !(clock instanceof CoarseClock) && countedPast(now) && takeSlow(permits, clock.read());
		}
		long seen = seen();
		if (takeSlow(permits, Math.max(now, seen))) {
			return true;
		}
		if (mask != 0 && (ThreadLocalRandom.current().nextInt() & mask) != 0) {
			return false;
		}
		long latest = seen();
		if (latest > seen && takeSlow(permits, latest)) {
			return true; // another thread read the system clock meanwhile
		}
		long precise = coarse.precise();
		if (!takeSlow(permits, precise)) {
			// Another call may have taken at a later reading between this one and the take: at
			// 10^8/s a reading 100 ns old is a capacity of 10 behind. Its reading, if it admitted
			// and published it already, decides as that call did; otherwise, where the state shows
			// a take past this reading, a fresh one. Only for a limit that rechecks every denial
			// (a small capacity refilled in under 2 ms): one that samples its rechecks accepts
			// a few wrong denials already, and its saturated denials would pay for the look.
			if (mask != 0) {
				return false;
			}
			long later = seen();
			if (later > precise && takeSlow(permits, later)) {
				return true;
			}
			if (!countedPast(precise)) {
				return false;
			}
			precise = coarse.precise();
			if (!takeSlow(permits, precise)) {
				return false;
			}
		}
		// later coarse readings start from here: the refill this reading found is not hidden again
		// until the coarse clock catches up
		see(precise);
		return true;
	}

	/**
	 * Whether the authority's state counts more than its capacity beyond what it had refilled at
	 * {@code now} (its {@link #authorityAvailable} is negative): a take at a later reading (or a
	 * reservation) is in it, so a denial at
	 * {@code now} may be one a fresh reading would not make, and the call reads the clock once more
	 * and asks {@link #lease} again. False by default; it must stay false where {@link #lease}
	 * asks a remote authority.
	 */
	protected boolean countedPast(long now) {
		return false;
	}

	/**
	 * The last system-clock reading at which a recheck admitted (see {@link #takeTimed}), or
	 * {@link Long#MIN_VALUE}; an algorithm may keep it beside the state its admits change, so that
	 * writing it moves no other cache line.
	 */
	protected long seen() {
		return this.seen;
	}

	/** Records a system-clock reading at which a recheck admitted; never moves {@link #seen()} back but for a race. */
	protected void see(long precise) {
		if (precise > this.seen) {
			SEEN.setRelease(this, precise);
		}
	}

	/**
	 * {@link #tryTake(long)} at a time the caller read from this limiter's ticker already: a limiter
	 * that spends from a local bucket of its own after its pool reads its clock once. No listener is
	 * told; {@code permits} must be within the capacity.
	 */
	public final boolean tryTakeAt(long permits, long now) {
		return takePooled(permits) || takeSlow(permits, now);
	}

	/**
	 * How long from {@code now} (read from this limiter's ticker) until {@code permits} could be
	 * taken, were no one else to take meanwhile: 0 when they could be now.
	 */
	public final long nanosUntilAt(long permits, long now) {
		return Math.max(0, retryAfter(permits, now));
	}

	/**
	 * Takes permits from the pool only if it keeps at least {@code floor} after them (for a lower
	 * priority class, which leaves what higher classes need until the pool is refilled).
	 * @return whether they were taken
	 */
	final boolean takePooledLeaving(long permits, long floor) {
		long pool = (long) POOL.getVolatile(this);
		while (pool - permits >= floor) {
			long witness = (long) POOL.compareAndExchange(this, pool, pool - permits);
			if (witness == pool) {
				return true;
			}
			pool = witness;
		}
		return false;
	}

	/** Takes {@code permits} from the pool if it holds them: no clock read. */
	private boolean takePooled(long permits) {
		long pool = (long) POOL.getVolatile(this);
		while (pool >= permits) {
			long witness = (long) POOL.compareAndExchange(this, pool, pool - permits);
			if (witness == pool) {
				return true;
			}
			pool = witness;
		}
		return false;
	}

	private boolean takeSlow(long permits, long now) {
		for (;;) {
			long room = Math.max(0, this.leaseExtra - (long) POOL.getVolatile(this));
			long leased = lease(permits, LongMath.saturatedAdd(permits, room), now);
			if (leased >= 0) {
				if (leased > permits) {
					refundTaken(leased - permits); // into the pool, never beyond its bound
				}
				return true;
			}
			// The authority alone is short; what the pool still holds may make up the difference.
			long pool = (long) POOL.getVolatile(this);
			if (pool >= permits) {
				if (POOL.compareAndSet(this, pool, pool - permits)) {
					return true;
				}
				continue;
			}
			if (pool <= 0) {
				return false;
			}
			if (!POOL.compareAndSet(this, pool, 0L)) {
				continue;
			}
			long rest = permits - pool;
			if (lease(rest, rest, now) >= 0) {
				return true;
			}
			refundTaken(pool);
			return false;
		}
	}

	@Override
	protected final long reserve(long permits, long maxWaitNanos, long now) {
		if (tryTake(permits)) {
			return 0;
		}
		return authorityReserve(permits, maxWaitNanos, now);
	}

	@Override
	protected final long available(long now) {
		return Math.max(0, authorityAvailable(now)) + pooled();
	}

	@Override
	protected final long retryAfter(long permits, long now) {
		long fromAuthority = permits - pooled();
		return (fromAuthority <= 0) ? 0 : authorityRetryAfter(fromAuthority, now);
	}

	/**
	 * Returns permits to the pool, up to {@code leaseExtra}, and the rest to the authority: a
	 * permit returned where it came from leaves the limiter as it was, and the pool never holds
	 * more than its bound (the guarantee above rests on that).
	 */
	@Override
	protected final void refundTaken(long permits) {
		long rest = permits;
		long extra = this.leaseExtra;
		for (long pool = (long) POOL.getVolatile(this); rest > 0 && pool < extra;) {
			long toPool = Math.min(rest, extra - pool);
			long witness = (long) POOL.compareAndExchange(this, pool, pool + toPool);
			if (witness == pool) {
				rest -= toPool;
				break;
			}
			pool = witness;
		}
		if (rest > 0) {
			giveBack(rest);
		}
	}

	@Override
	protected Map<String, Object> details() {
		return Map.of("prefetched", pooled(), "prefetchLimit", this.leaseExtra);
	}

}

/** Padding before the pool, so that read-mostly fields do not share its cache line. */
abstract class PoolPadBefore extends AbstractRateLimiter {

	long p00, p01, p02, p03, p04, p05, p06, p07;

	long p10, p11, p12, p13, p14, p15, p16, p17;

	PoolPadBefore(String name, RateLimit limit, Ticker ticker, Scheduler scheduler, RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
	}

}

/** The pool: permits taken from the authority and not yet handed out. */
abstract class PoolField extends PoolPadBefore {

	static final VarHandle POOL;

	static {
		try {
			POOL = MethodHandles.lookup().findVarHandle(PoolField.class, "pool", long.class);
			SEEN = MethodHandles.lookup().findVarHandle(PoolField.class, "seen", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	volatile long pool;

	static final VarHandle SEEN;

	/**
	 * The last system-clock reading that admitted, for limiters that recheck denials on it and keep
	 * it nowhere else (see {@code PooledRateLimiter.seen()}); written only by such admits, with a
	 * release store, so a racing older reading may overwrite a newer one, which only delays refill.
	 */
	volatile long seen = Long.MIN_VALUE;

	/** Written rarely (limit changes), read on slow paths. */
	volatile long leaseExtra;

	PoolField(String name, RateLimit limit, Ticker ticker, Scheduler scheduler, RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
	}

}

/** Padding after the pool. */
abstract class PoolPadAfter extends PoolField {

	long q00, q01, q02, q03, q04, q05, q06, q07;

	long q10, q11, q12, q13, q14, q15, q16, q17;

	PoolPadAfter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler, RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
	}

}
