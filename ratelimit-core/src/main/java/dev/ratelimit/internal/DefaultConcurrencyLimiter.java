package dev.ratelimit.internal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Concurrency limiter: a count of permits in flight below a bound, changed by CAS. Waiters queue;
 * every release wakes the blocked ones (they retry) and serves asynchronous ones in order.
 * Waiting is for releases, so its timeouts run on the system clock, not the injected ticker.
 */
final class DefaultConcurrencyLimiter extends AbstractRateLimiter implements ConcurrencyLimiter {

	private final AtomicLong inFlight = new AtomicLong();

	private volatile long maxConcurrent;

	private final ConcurrentLinkedQueue<Object> waiters = new ConcurrentLinkedQueue<>();

	DefaultConcurrencyLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		this.maxConcurrent = limit.capacity();
	}

	/** An asynchronous waiter. */
	private record AsyncWaiter(long permits, CompletableFuture<Boolean> future) {
	}

	@Override
	protected boolean tryTake(long permits) {
		for (long current = this.inFlight.get();;) {
			if (current + permits > this.maxConcurrent) {
				return false;
			}
			long witness = this.inFlight.compareAndExchange(current, current + permits);
			if (witness == current) {
				return true;
			}
			current = witness;
		}
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		return tryTake(permits) ? 0 : DENIED_UNKNOWN;
	}

	@Override
	public boolean acquire(long permits, Duration timeout) throws InterruptedException {
		checkPermits(permits);
		long timeoutNanos = timeoutNanos(timeout);
		if (tryTake(permits)) {
			this.listener.onPermitted(permits);
			return true;
		}
		long start = System.nanoTime();
		long deadline = LongMath.saturatedAdd(start, timeoutNanos);
		Thread self = Thread.currentThread();
		this.waiters.add(self);
		try {
			for (;;) {
				// registered before this check, so a release after it is not missed
				if (tryTake(permits)) {
					this.listener.onWaited(System.nanoTime() - start);
					this.listener.onPermitted(permits);
					return true;
				}
				long left = deadline - System.nanoTime();
				if (left <= 0) {
					this.listener.onRejected(permits);
					return false;
				}
				LockSupport.parkNanos(this, left);
				if (Thread.interrupted()) {
					throw new InterruptedException();
				}
			}
		}
		finally {
			this.waiters.remove(self);
		}
	}

	@Override
	public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
		checkPermits(permits);
		long timeoutNanos = timeoutNanos(timeout);
		if (this.waiters.isEmpty() && tryTake(permits)) {
			this.listener.onPermitted(permits);
			return CompletableFuture.completedFuture(Boolean.TRUE);
		}
		if (timeoutNanos == 0) {
			this.listener.onRejected(permits);
			return CompletableFuture.completedFuture(Boolean.FALSE);
		}
		AsyncWaiter waiter = new AsyncWaiter(permits, new CompletableFuture<>());
		this.waiters.add(waiter);
		if (timeoutNanos < Long.MAX_VALUE) {
			this.scheduler.schedule(() -> {
				if (waiter.future().complete(Boolean.FALSE)) {
					this.waiters.remove(waiter);
					this.listener.onRejected(permits);
				}
			}, timeoutNanos);
		}
		serveWaiters();
		return waiter.future();
	}

	/**
	 * A concurrency limiter cannot be switched off: a call that passed while it was off would give
	 * back a permit it never took. Raise its limit instead.
	 * @throws IllegalArgumentException when asked to switch it off
	 */
	@Override
	public void enabled(boolean enabled) {
		if (!enabled) {
			throw new IllegalArgumentException("limiter '" + this.name + "' limits calls in flight and cannot be "
					+ "switched off: raise its limit (max-concurrent) instead");
		}
	}

	/** Wakes blocked waiters and serves asynchronous ones in order while permits last. */
	private void serveWaiters() {
		for (Object waiter : this.waiters) {
			if (waiter instanceof Thread thread) {
				LockSupport.unpark(thread);
			}
			else if (waiter instanceof AsyncWaiter async) {
				if (async.future().isDone()) {
					this.waiters.remove(async);
				}
				else if (tryTake(async.permits())) {
					if (async.future().complete(Boolean.TRUE)) {
						this.waiters.remove(async);
						this.listener.onPermitted(async.permits());
					}
					else {
						release(async.permits()); // timed out meanwhile
					}
				}
				else {
					return; // in order: a later waiter does not overtake this one
				}
			}
		}
	}

	@Override
	public void release(long permits) {
		if (permits <= 0) {
			throw Errors.notPositivePermits(this.name, permits);
		}
		for (long current = this.inFlight.get();;) {
			if (current < permits) {
				throw Errors.releaseWithoutAcquire(this.name, permits, current);
			}
			long witness = this.inFlight.compareAndExchange(current, current - permits);
			if (witness == current) {
				break;
			}
			current = witness;
		}
		if (!this.waiters.isEmpty()) {
			serveWaiters();
		}
	}

	@Override
	public long inFlight() {
		return this.inFlight.get();
	}

	@Override
	public void updateMaxConcurrent(long maxConcurrent) {
		updateLimit(RateLimit.concurrency(maxConcurrent));
	}

	@Override
	protected long available(long now) {
		return this.maxConcurrent - this.inFlight.get();
	}

	@Override
	protected long retryAfter(long permits, long now) {
		return Long.MAX_VALUE; // depends on releases, not on time
	}

	@Override
	protected long resetNanos(long now) {
		return (this.inFlight.get() == 0) ? 0 : Long.MAX_VALUE;
	}

	@Override
	protected void refundTaken(long permits) {
		release(permits);
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		this.maxConcurrent = next.capacity();
		serveWaiters();
	}

	@Override
	protected void applyReset(long now) {
		// Permits in flight belong to callers that will release them; forgetting them would make
		// those releases fail. A reset only wakes waiters.
		serveWaiters();
	}

	@Override
	protected Map<String, Object> details() {
		return Map.of("inFlight", this.inFlight.get(), "waiting", this.waiters.size());
	}

}
