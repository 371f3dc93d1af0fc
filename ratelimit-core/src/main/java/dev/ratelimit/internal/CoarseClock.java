package dev.ratelimit.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import dev.ratelimit.Ticker;

/**
 * A clock read with one volatile load: a daemon thread copies {@link System#nanoTime()} into a
 * field every {@link #PERIOD_NANOS}, and every limiter that uses {@link Ticker#coarse()} reads that
 * field instead of calling the system clock (about 25 ns on these machines) on each decision.
 *
 * <h2>What a reading is</h2>
 * The system clock as of the last tick: never ahead of it, behind it by at most the period while
 * the ticking thread gets the CPU (more when the machine starves it), and never going backwards
 * (every write is a compare-and-set to a larger value). A token bucket reading it refills late,
 * never early: since any start, it admits no more than {@code capacity + rate x elapsed}; over a
 * window that begins while the clock lags, at most {@code rate x lag} more than that window alone
 * would allow, as if those permits had been taken a moment earlier.
 *
 * <h2>Limits that refill faster than it ticks</h2>
 * A decision on a late reading admits nothing the system clock would not; it may deny a call the
 * system clock would admit. A limit that refills its capacity in under {@link #MIN_REFILL_NANOS}
 * would lose refill to that, so the limiters that can ({@code PooledRateLimiter}) recheck such
 * denials on {@link #precise()}, as often as {@link #recheckMask} says, and start later coarse
 * decisions from the last precise reading that admitted; others read the system clock.
 *
 * <h2>No cost at rest</h2>
 * The thread goes dormant after {@link #IDLE_TICKS} ticks in a row without a read (the first read
 * after a tick marks it); a read while it is dormant returns the system clock itself (advancing
 * the field) and wakes it, once. An application that reads its limiters only now and then (a
 * sweep, a metrics scrape) therefore has no thread ticking in between; ticking costs about 2% of a
 * core on these machines while it lasts.
 */
public final class CoarseClock implements Ticker {

	/** How often the running thread copies the system clock. */
	public static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

	/**
	 * The shortest time in which a limit on the coarse clock alone may refill its whole capacity. A
	 * bucket read late cannot take the permits that accrued meanwhile; while they fit in its
	 * capacity they are still there at the next reading, but refill beyond the capacity is
	 * discarded, as it is for any full bucket. A limit that refills from empty in less than this
	 * (20 periods, so that a thread kept from the CPU for several periods still loses nothing)
	 * rechecks its denials on the system clock, or reads it (see {@link #clockFor}).
	 */
	public static final long MIN_REFILL_NANOS = 20 * PERIOD_NANOS;

	/** {@link #recheckMask} for a limiter that never rechecks a denial on the system clock. */
	public static final int NO_RECHECK = -1;

	/** The sparsest recheck: one denial in 16. */
	static final int MAX_RECHECK_MASK = 15;

	/** Ticks in a row without a read after which the thread goes dormant. */
	static final int IDLE_TICKS = 10;

	private static final int DORMANT_STATE = 0;

	private static final int UNREAD = 1;

	private static final int READ = 2;

	private static final VarHandle NOW;

	private static final VarHandle STATE;

	static {
		try {
			MethodHandles.Lookup lookup = MethodHandles.lookup();
			NOW = lookup.findVarHandle(CoarseClock.class, "now", long.class);
			STATE = lookup.findVarHandle(CoarseClock.class, "state", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private static final CoarseClock SHARED = new CoarseClock(System::nanoTime, CoarseClock::startThread);

	// the two hot fields share a cache line of their own: written once per tick, read by every decision
	long p00, p01, p02, p03, p04, p05, p06, p07;

	private volatile long now;

	/** {@link #DORMANT_STATE}, or ticking and {@link #UNREAD} or {@link #READ} since the last tick. */
	private volatile int state = DORMANT_STATE;

	long q00, q01, q02, q03, q04, q05, q06, q07;

	private final LongSupplier source;

	private final Runnable wake;

	/** Ticks in a row without a read; the ticking side's own. */
	private int idleTicks;

	private volatile Thread thread;

	/**
	 * A clock over {@code source}, woken by {@code wake}, which must lead to {@link #resumed()} and
	 * then {@link #tick()} every period until it returns false: the shared clock starts or unparks
	 * its thread; a test calls them itself.
	 */
	CoarseClock(LongSupplier source, Runnable wake) {
		this.source = source;
		this.wake = wake;
		this.now = source.getAsLong();
	}

	/** The clock every limiter built with {@link Ticker#coarse()} reads. */
	public static CoarseClock shared() {
		return SHARED;
	}

	/**
	 * The clock a limit should read when {@code configured} is: the coarse clock for a limit it
	 * serves without loss (every bandwidth refills its capacity in {@link #MIN_REFILL_NANOS} or
	 * more), and for a faster one too when the limiter {@code rechecks} its denials on the system
	 * clock ({@link #recheckMask}); the system clock for the other faster ones and for a pacer,
	 * which spaces calls more finely than the period; any other ticker as it is.
	 */
	public static Ticker clockFor(Ticker configured, dev.ratelimit.RateLimit limit, boolean rechecks) {
		if (configured != SHARED) {
			return configured;
		}
		return switch (limit.algorithm()) {
			case CONCURRENCY -> configured;
			case LEAKY_BUCKET -> Ticker.system();
			default -> (rechecks || refillsSlowly(limit)) ? configured : Ticker.system();
		};
	}

	/**
	 * How a limiter reading {@code clock} for {@code limit} rechecks a denial on the system clock:
	 * {@link #NO_RECHECK} when it never does (another clock, or a limit the coarse clock serves
	 * alone); otherwise a mask {@code m} of low bits, a denial being rechecked when a random number
	 * has none of them set, so one denial in {@code m + 1}.
	 *
	 * <p>A reading late by the lag hides the refill of the lag: a decision on it admits no more than
	 * one on the system clock would, and a denial may be one that the system clock would have
	 * admitted. Such a denial costs nothing lasting while the bucket can hold what refilled
	 * meanwhile: the next reading finds it. A bucket that refills its capacity within the lag loses
	 * the rest, so a limit that refills its capacity in under {@link #MIN_REFILL_NANOS} rechecks:
	 * <ul>
	 * <li>when the refill is under {@code 2 x PERIOD}: every denial if the smallest capacity of the
	 * fast bandwidths is under 128, where a wrong denial is a large
	 * share of what the bucket holds (a capacity of 10 at 10<sup>8</sup>/s refills in 100 ns: on
	 * the coarse clock alone it would admit 10 per tick);</li>
	 * <li>otherwise one denial in about {@code capacity / 64} (the nearest power of two, at most one
	 * in 16; 1,000,000/s burst 1,000 rechecks one in 16): a saturated limit sees
	 * a system-clock reading many times per refill of its capacity, so nothing is lost to its
	 * capacity, and a limit that is not saturated wrongly denies about {@code capacity / 64} calls
	 * before each recheck that finds the hidden refill, about 1.6% of what it admits.</li>
	 * </ul>
	 * A limit refilling in {@code 2 x PERIOD} or more (the coarse clock alone serves it while the
	 * ticking thread gets the CPU) rechecks one denial in 16, which costs a saturated limit little and
	 * bounds what a starved clock thread would cost it.
	 */
	public static int recheckMask(Ticker clock, dev.ratelimit.RateLimit limit) {
		if (!(clock instanceof CoarseClock) || limit.algorithm() == dev.ratelimit.Algorithm.CONCURRENCY
				|| limit.algorithm() == dev.ratelimit.Algorithm.LEAKY_BUCKET) {
			return NO_RECHECK;
		}
		long fastest = Long.MAX_VALUE;
		long smallest = Long.MAX_VALUE; // of the bandwidths the coarse clock alone would not serve
		for (dev.ratelimit.Bandwidth bandwidth : limit.bandwidths()) {
			long refill = refillNanos(bandwidth);
			fastest = Math.min(fastest, refill);
			if (refill < MIN_REFILL_NANOS) {
				smallest = Math.min(smallest, bandwidth.capacity());
			}
		}
		if (fastest >= MIN_REFILL_NANOS) {
			return NO_RECHECK; // the coarse clock alone serves every bandwidth
		}
		if (fastest >= 2 * PERIOD_NANOS) {
			return MAX_RECHECK_MASK;
		}
		if (smallest < 128) {
			return 0;
		}
		return (int) Math.min(MAX_RECHECK_MASK, Long.highestOneBit((smallest + 32) / 64) - 1);
	}

	/** A reading of the source itself, as the coarse readings are copies of it: for rechecks. */
	public long precise() {
		return this.source.getAsLong();
	}

	private static boolean refillsSlowly(dev.ratelimit.RateLimit limit) {
		for (dev.ratelimit.Bandwidth bandwidth : limit.bandwidths()) {
			if (refillNanos(bandwidth) < MIN_REFILL_NANOS) {
				return false;
			}
		}
		return true;
	}

	/** How long a bandwidth takes to refill its whole capacity. */
	private static long refillNanos(dev.ratelimit.Bandwidth bandwidth) {
		return bandwidth.rate().nanosFor(bandwidth.capacity());
	}

	@Override
	public long read() {
		int state = this.state;
		if (state == READ) {
			return this.now;
		}
		// the first read since the tick marks it; a CAS, never a write over the ticker's dormant
		if ((state == UNREAD && STATE.compareAndSet(this, UNREAD, READ)) || this.state != DORMANT_STATE) {
			return this.now;
		}
		return wakeUp();
	}

	/** Read while dormant: the system clock itself, and the thread woken by the one reader that flips the flag. */
	private long wakeUp() {
		long reading = advance(this.source.getAsLong());
		if (STATE.compareAndSet(this, DORMANT_STATE, READ)) {
			this.wake.run();
		}
		return reading;
	}

	/** The ticking side, woken: it counts idle ticks afresh. */
	void resumed() {
		this.idleTicks = 0;
		STATE.compareAndSet(this, DORMANT_STATE, READ); // a spurious wake-up runs as if read
	}

	/**
	 * One tick: copies the source, and tells whether to go on ticking; after {@link #IDLE_TICKS}
	 * ticks without a read the clock turns dormant (a reader wakes it again).
	 */
	boolean tick() {
		advance(this.source.getAsLong());
		if (STATE.compareAndSet(this, READ, UNREAD)) {
			this.idleTicks = 0;
			return true;
		}
		if (++this.idleTicks < IDLE_TICKS) {
			return true;
		}
		// a read that lands now keeps it ticking
		return !STATE.compareAndSet(this, UNREAD, DORMANT_STATE);
	}

	/** Moves the reading forward to {@code reading}, never back; returns the reading in force. */
	private long advance(long reading) {
		for (;;) {
			long current = (long) NOW.getVolatile(this);
			if (reading - current <= 0) {
				return current;
			}
			if (NOW.compareAndSet(this, current, reading)) {
				return reading;
			}
		}
	}

	private static void startThread() {
		CoarseClock clock = SHARED;
		Thread thread = clock.thread;
		if (thread != null) {
			LockSupport.unpark(thread);
			return;
		}
		thread = new Thread(() -> {
			clock.resumed();
			for (;;) {
				while (clock.tick()) {
					LockSupport.parkNanos(PERIOD_NANOS);
				}
				// dormant: wait for a reader's unpark (a spurious return just runs once more)
				LockSupport.park(clock);
				clock.resumed();
			}
		}, "ratelimit-coarse-clock");
		thread.setDaemon(true);
		clock.thread = thread;
		thread.start();
	}

}
