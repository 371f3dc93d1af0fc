package dev.ratelimit.internal;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Decision;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.RefundableRateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * What every limiter of this library shares: validation, listener calls, blocking and
 * asynchronous waits, snapshots and serialized limit changes. An algorithm supplies the few
 * primitives below; each must be lock-free and must never block.
 *
 * <p>Reservation results are encoded in one {@code long} so that the hot paths allocate nothing:
 * a value {@code >= 0} means the permits were taken and may be used after that many nanoseconds; a
 * negative value means they were not, and {@link #retryAfterOf(long)} recovers the nanoseconds
 * after which a retry could succeed ({@link Long#MAX_VALUE} when unknown).
 */
public abstract class AbstractRateLimiter implements RefundableRateLimiter {

	/** Encoded "denied, retry time unknown". */
	protected static final long DENIED_UNKNOWN = Long.MIN_VALUE;

	protected final String name;

	/**
	 * The clock decisions read: the configured ticker, or the system clock where the coarse one
	 * would lose refill ({@link CoarseClock#clockFor}); chosen again when the limit changes.
	 */
	protected volatile Ticker ticker;

	/** How denials on the coarse clock are rechecked ({@link CoarseClock#recheckMask}); chosen with the clock. */
	protected volatile int recheckMask;

	private final Ticker configuredTicker;

	protected final Scheduler scheduler;

	protected final RateLimiterListener listener;

	/** Serializes limit changes and resets; never taken on a decision path. */
	private final ReentrantLock updateLock = new ReentrantLock();

	private volatile RateLimit limit;

	private volatile long capacity;

	protected AbstractRateLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		this.name = Objects.requireNonNull(name, "name");
		this.limit = Objects.requireNonNull(limit, "limit");
		this.capacity = limit.capacity();
		this.configuredTicker = Objects.requireNonNull(ticker, "ticker");
		chooseClock(limit);
		this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
		this.listener = Objects.requireNonNull(listener, "listener");
	}

	/**
	 * Chooses the clock a limit reads and how its denials are rechecked ({@link CoarseClock}), at
	 * construction and on every limit change.
	 */
	private void chooseClock(RateLimit limit) {
		this.ticker = CoarseClock.clockFor(this.configuredTicker, limit, rechecksDenials());
		this.recheckMask = rechecksDenials() ? CoarseClock.recheckMask(this.ticker, limit) : CoarseClock.NO_RECHECK;
	}

	// ---- primitives an algorithm supplies ----------------------------------------------------

	/** Takes {@code permits} now if all are available; reads the ticker only if it must. */
	protected abstract boolean tryTake(long permits);

	/**
	 * Takes {@code permits} now or reserves them for use within {@code maxWaitNanos}. Returns the
	 * wait (see the class comment for the encoding). Algorithms that cannot reserve return a
	 * denial with the time after which to retry; the caller then polls.
	 */
	protected abstract long reserve(long permits, long maxWaitNanos, long now);

	/** Permits that could be taken now; may be negative while reservations are outstanding. */
	protected abstract long available(long now);

	/** Nanoseconds after which {@code permits} could be taken, assuming nothing else is. */
	protected abstract long retryAfter(long permits, long now);

	/** Nanoseconds until the capacity is fully available again. */
	protected abstract long resetNanos(long now);

	/** Gives back permits that were taken but will not be used (composite rollback, interrupt). */
	protected abstract void refundTaken(long permits);

	/** Moves the algorithm's state to a new limit; called under the update lock. */
	protected abstract void applyLimit(RateLimit previous, RateLimit next, long now);

	/** Returns the algorithm to its initial state; called under the update lock. */
	protected abstract void applyReset(long now);

	/**
	 * Whether the algorithm rechecks a denial decided on the coarse clock on the system clock
	 * ({@link CoarseClock#recheckMask}), so that it may read the coarse clock for a limit that
	 * refills faster than the clock could serve alone. Must return a constant: it is called while
	 * the limiter is built.
	 */
	protected boolean rechecksDenials() {
		return false;
	}

	/** Backend-specific facts for snapshots. */
	protected Map<String, Object> details() {
		return Map.of();
	}

	// ---- shared behaviour --------------------------------------------------------------------

	protected static long denied(long retryAfterNanos) {
		return (retryAfterNanos >= Long.MAX_VALUE - 1) ? DENIED_UNKNOWN : -Math.max(1, retryAfterNanos) - 1;
	}

	protected static long retryAfterOf(long reservation) {
		return (reservation == DENIED_UNKNOWN) ? Long.MAX_VALUE : -reservation - 1;
	}

	@Override
	public final String name() {
		return this.name;
	}

	@Override
	public RateLimit limit() {
		return this.limit;
	}

	/** The capacity requests are checked against. */
	public long capacity() {
		return this.capacity;
	}

	public final RateLimiterListener listener() {
		return this.listener;
	}

	/** The ticker the limiter was built with (tiers of a composite share it). */
	public final Ticker ticker() {
		return this.configuredTicker;
	}

	/** The clock its decisions read now: {@link #ticker()}, or the system clock (see {@link CoarseClock#clockFor}). */
	public final Ticker clock() {
		return this.ticker;
	}

	/**
	 * A reading for a path that waits anyway (blocking and asynchronous acquires): the coarse
	 * clock's source itself where the limiter reads the coarse clock, so that a wait is worked out
	 * from the time it starts and not up to a period earlier; the clock otherwise.
	 */
	protected final long preciseNow() {
		Ticker clock = this.ticker;
		return (clock instanceof CoarseClock coarse) ? coarse.precise() : clock.read();
	}

	public final Scheduler scheduler() {
		return this.scheduler;
	}

	/** Whether the limiter is back at its full capacity, so forgetting it would change nothing. */
	public boolean isAtRest() {
		return available(this.ticker.read()) >= capacity();
	}

	protected final void checkPermits(long permits) {
		if (permits <= 0) {
			throw Errors.notPositivePermits(this.name, permits);
		}
		if (permits > capacity()) {
			throw Errors.permitsOverCapacity(this.name, permits, capacity());
		}
	}

	/**
	 * Gives back permits this limiter granted that will not be used; the listener hears nothing,
	 * as the grant was already heard.
	 */
	@Override
	public final void refund(long permits) {
		checkPermits(permits);
		refundIfTaken(permits);
	}

	/** Whether this limiter is switched off: every call is permitted, nothing is taken. */
	private volatile boolean off;

	/**
	 * Switches this limiter off (every call is permitted and nothing is taken, until it is switched
	 * on again) or on. For a runtime rule that lifts a limit at once, on every instance, without
	 * forgetting it: switched on, the limiter goes on from the state it had.
	 * @param enabled {@code false} to switch it off
	 */
	public void enabled(boolean enabled) {
		this.off = !enabled;
	}

	/**
	 * Whether this limiter limits: {@code false} while it is switched off.
	 * @return whether it is on
	 */
	public final boolean isEnabled() {
		return !this.off;
	}

	/** Takes permits, or none while switched off (then every call passes). */
	final boolean take(long permits) {
		return this.off || tryTake(permits);
	}

	/** Reserves permits, or none while switched off. */
	final long reserveOrPass(long permits, long maxWaitNanos, long now) {
		return this.off ? 0 : reserve(permits, maxWaitNanos, now);
	}

	/** Gives permits back, unless switched off (then none were taken). */
	final void refundIfTaken(long permits) {
		if (!this.off) {
			refundTaken(permits);
		}
	}

	@Override
	public boolean tryAcquire(long permits) {
		checkPermits(permits);
		if (take(permits)) {
			this.listener.onPermitted(permits);
			return true;
		}
		this.listener.onRejected(permits);
		return false;
	}

	@Override
	public Decision decide(long permits) {
		checkPermits(permits);
		if (!take(permits)) {
			this.listener.onRejected(permits);
			return denial(permits);
		}
		this.listener.onPermitted(permits);
		long now = this.ticker.read();
		return new Decision(true, Math.max(0, available(now)), 0, resetNanos(now));
	}

	/**
	 * The decision of a call denied {@code permits} a moment ago. What it reports remaining is read
	 * after the denial and never {@code permits} or more: permits that came meanwhile (a refill, a
	 * lease's grant) do not make a denial say there was room for it, as a 429 with {@code r=1} would.
	 */
	final Decision denial(long permits) {
		long now = this.ticker.read();
		long remaining = Math.min(Math.max(0, available(now)), permits - 1);
		return new Decision(false, remaining, Math.max(1, retryAfter(permits, now)), resetNanos(now));
	}

	@Override
	public boolean acquire(long permits, Duration timeout) throws InterruptedException {
		checkPermits(permits);
		long timeoutNanos = timeoutNanos(timeout);
		if (take(permits)) {
			this.listener.onPermitted(permits);
			return true;
		}
		long start = preciseNow();
		long now = start;
		for (;;) {
			long left = LongMath.saturatedAdd(start, timeoutNanos) - now;
			long reservation = reserve(permits, Math.max(0, left), now);
			if (reservation >= 0) {
				if (reservation > 0) {
					try {
						this.scheduler.sleep(reservation);
					}
					catch (InterruptedException ex) {
						refundTaken(permits);
						throw ex;
					}
				}
				this.listener.onWaited(now - start + reservation);
				this.listener.onPermitted(permits);
				return true;
			}
			long retryAfter = retryAfterOf(reservation);
			if (retryAfter > left) {
				this.listener.onRejected(permits);
				return false;
			}
			this.scheduler.sleep(retryAfter);
			now = preciseNow();
		}
	}

	@Override
	public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
		checkPermits(permits);
		long timeoutNanos = timeoutNanos(timeout);
		if (take(permits)) {
			this.listener.onPermitted(permits);
			return CompletableFuture.completedFuture(Boolean.TRUE);
		}
		CompletableFuture<Boolean> future = new CompletableFuture<>();
		long start = preciseNow();
		attemptAsync(permits, start, LongMath.saturatedAdd(start, timeoutNanos), start, future);
		return future;
	}

	private void attemptAsync(long permits, long start, long deadline, long now, CompletableFuture<Boolean> future) {
		if (future.isDone()) {
			return; // cancelled by the caller
		}
		long left = deadline - now;
		long reservation = reserve(permits, Math.max(0, left), now);
		if (reservation >= 0) {
			long waited = now - start + reservation;
			if (reservation == 0) {
				grant(permits, waited, future);
			}
			else {
				this.scheduler.schedule(() -> grant(permits, waited, future), reservation);
			}
			return;
		}
		long retryAfter = retryAfterOf(reservation);
		if (retryAfter > left) {
			this.listener.onRejected(permits);
			future.complete(Boolean.FALSE);
			return;
		}
		this.scheduler.schedule(() -> attemptAsync(permits, start, deadline, preciseNow(), future),
				retryAfter);
	}

	private void grant(long permits, long waited, CompletableFuture<Boolean> future) {
		if (future.complete(Boolean.TRUE)) {
			if (waited > 0) {
				this.listener.onWaited(waited);
			}
			this.listener.onPermitted(permits);
		}
		else {
			refundTaken(permits); // the caller cancelled the future while it waited
		}
	}

	protected static long timeoutNanos(Duration timeout) {
		Objects.requireNonNull(timeout, "timeout");
		if (timeout.isNegative()) {
			throw Errors.negative("timeout", timeout);
		}
		return saturatedNanos(timeout);
	}

	private static long saturatedNanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	@Override
	public RateLimiterSnapshot snapshot() {
		long now = this.ticker.read();
		RateLimit current = limit();
		long available = Math.max(0, available(now));
		long capacity = capacity();
		double utilization = Math.min(1.0, Math.max(0.0, 1.0 - (double) available / capacity));
		Map<String, Object> details = details();
		if (this.off) {
			details = new java.util.LinkedHashMap<>(details);
			details.put("enabled", false);
		}
		return new RateLimiterSnapshot(this.name, current.algorithm(), current.rate(), capacity, available,
				utilization, backendId(), isDistributed(), isPersistent(), details);
	}

	/** Where the authoritative state lives, for snapshots. */
	protected String backendId() {
		return "in-memory";
	}

	/** Whether the limit is shared by several instances. */
	protected boolean isDistributed() {
		return false;
	}

	/** Whether the state survives a restart. */
	protected boolean isPersistent() {
		return false;
	}

	@Override
	public void updateRate(Rate rate) {
		Objects.requireNonNull(rate, "rate");
		if (this.limit.algorithm() == Algorithm.CONCURRENCY) {
			throw Errors.notRateBased(this.name);
		}
		change(null, rate);
	}

	/**
	 * Replaces the limit with another of the same algorithm.
	 * @param next the new limit
	 */
	public void updateLimit(RateLimit next) {
		Objects.requireNonNull(next, "limit");
		change(next, null);
	}

	/**
	 * Applies a new limit, or a new rate to the limit in force when the lock is taken: a rate
	 * change racing a change of capacity keeps that capacity.
	 */
	private void change(RateLimit replacement, Rate rate) {
		RateLimit previous;
		RateLimit next;
		this.updateLock.lock();
		try {
			previous = this.limit;
			next = (replacement != null) ? replacement : previous.withRate(rate);
			if (previous.algorithm() != next.algorithm()) {
				throw new IllegalArgumentException("limiter '" + this.name + "' uses " + previous.algorithm().id()
						+ " and cannot switch to " + next.algorithm().id() + ": create a new limiter instead");
			}
			if (previous.equals(next)) {
				return;
			}
			// the clock the new limit reads first, so that its state starts on that clock
			chooseClock(next);
			applyLimit(previous, next, this.ticker.read());
			this.limit = next;
			this.capacity = next.capacity();
		}
		finally {
			this.updateLock.unlock();
		}
		this.listener.onLimitChanged(previous, next);
	}

	/**
	 * Takes on a limit that was changed elsewhere (by a shared authority), without applying it to
	 * the algorithm's state. Listeners hear of the change.
	 * @param next the limit now in force
	 */
	protected final void adoptLimit(RateLimit next) {
		RateLimit previous = adoptLimitQuietly(next);
		if (previous != null) {
			this.listener.onLimitChanged(previous, next);
		}
	}

	/**
	 * Takes on a limit changed elsewhere without telling the listener, for a caller that tells it
	 * once, outside its own locks.
	 * @param next the limit now in force
	 * @return the limit before, or {@code null} if it was the same
	 */
	final RateLimit adoptLimitQuietly(RateLimit next) {
		this.updateLock.lock();
		try {
			RateLimit previous = this.limit;
			if (previous.equals(next)) {
				return null;
			}
			this.limit = next;
			this.capacity = next.capacity();
			return previous;
		}
		finally {
			this.updateLock.unlock();
		}
	}

	@Override
	public void reset() {
		this.updateLock.lock();
		try {
			applyReset(this.ticker.read());
		}
		finally {
			this.updateLock.unlock();
		}
		this.listener.onLimitChanged(this.limit, this.limit);
	}

	@Override
	public String toString() {
		return getClass().getSimpleName() + "[" + this.name + ", " + this.limit + "]";
	}

}
