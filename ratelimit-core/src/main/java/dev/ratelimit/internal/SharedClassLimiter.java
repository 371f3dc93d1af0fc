package dev.ratelimit.internal;

import java.util.Map;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * One priority class of a {@link SharedPriorities}: a permit from the class's gate and one from
 * the shared limiter, or neither. It reports the shared limit's rate with the class's capacity,
 * and a change of rate goes to the shared limiter.
 */
final class SharedClassLimiter extends AbstractRateLimiter {

	private final AbstractRateLimiter gate;

	private final AbstractRateLimiter shared;

	/** The shared limit the class limit below was made from. */
	private volatile RateLimit sharedLimit;

	private volatile RateLimit classLimit;

	private final SharedPriorities whole;

	private final int index;

	SharedClassLimiter(String name, AbstractRateLimiter gate, AbstractRateLimiter shared, SharedPriorities whole,
			int index, Ticker ticker, Scheduler scheduler, RateLimiterListener listener) {
		super(name, classLimit(shared.limit(), gate.capacity()), ticker, scheduler, listener);
		this.gate = gate;
		this.shared = shared;
		this.whole = whole;
		this.index = index;
		this.sharedLimit = shared.limit();
		this.classLimit = classLimit(this.sharedLimit, gate.capacity());
	}

	private static RateLimit classLimit(RateLimit whole, long capacity) {
		return RateLimit.tokenBucket(whole.rate()).capacity(Math.min(capacity, whole.capacity())).build();
	}

	@Override
	public RateLimit limit() {
		RateLimit whole = this.shared.limit();
		RateLimit current = this.classLimit;
		long capacity = Math.min(this.gate.capacity(), whole.capacity());
		if (whole != this.sharedLimit || current.capacity() != capacity) {
			current = classLimit(whole, this.gate.capacity());
			this.classLimit = current;
			this.sharedLimit = whole;
		}
		return current;
	}

	@Override
	public long capacity() {
		return Math.min(this.gate.capacity(), this.shared.capacity());
	}

	@Override
	protected boolean tryTake(long permits) {
		if (!this.gate.tryTake(permits)) {
			return false;
		}
		if (takeShared(permits)) {
			return true;
		}
		this.gate.refundTaken(permits);
		return false;
	}

	/** A permit of the shared limit, leaving in the lease what the classes above need. */
	private boolean takeShared(long permits) {
		long floor = this.whole.floor(this.index);
		if (floor > 0 && this.shared instanceof PooledRateLimiter leased) {
			return leased.takePooledLeaving(permits, floor);
		}
		return this.shared.tryTake(permits);
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		long atGate = this.gate.reserve(permits, maxWaitNanos, this.gate.preciseNow());
		if (atGate < 0) {
			return atGate;
		}
		long floor = this.whole.floor(this.index);
		if (floor > 0 && this.shared instanceof PooledRateLimiter) {
			// a lower class never reserves ahead: it takes from the lease above its floor, or waits
			if (takeShared(permits)) {
				return atGate;
			}
			this.gate.refundTaken(permits);
			return denied(floorWait(permits, floor));
		}
		long atShared = this.shared.reserve(permits, maxWaitNanos, this.shared.preciseNow());
		if (atShared < 0) {
			this.gate.refundTaken(permits);
			return atShared;
		}
		return Math.max(atGate, atShared);
	}

	/** How long a call held back by its floor waits before asking again: the next lease, at the share. */
	private long floorWait(long permits, long floor) {
		long sharedNow = this.shared.ticker().read();
		long wait = this.shared.retryAfter(Math.min(this.shared.capacity(), permits + floor), sharedNow);
		return Math.max(FLOOR_RECHECK_NANOS, wait);
	}

	/** The shortest wait of a call held back by its floor: it asks again once a lease may have come. */
	private static final long FLOOR_RECHECK_NANOS = 1_000_000L;

	@Override
	protected long available(long now) {
		long shared = this.shared.available(this.shared.ticker().read());
		return Math.min(this.gate.available(this.gate.ticker().read()), shared - this.whole.floor(this.index));
	}

	@Override
	protected long retryAfter(long permits, long now) {
		long wait = 0;
		long gateNow = this.gate.ticker().read();
		if (this.gate.available(gateNow) < permits) {
			wait = this.gate.retryAfter(permits, gateNow);
		}
		long floor = this.whole.floor(this.index);
		long sharedNow = this.shared.ticker().read();
		if (this.shared.available(sharedNow) - floor < permits) {
			wait = Math.max(wait, (floor > 0) ? floorWait(permits, floor) : this.shared.retryAfter(permits, sharedNow));
		}
		return wait;
	}

	@Override
	protected long resetNanos(long now) {
		return Math.max(this.gate.resetNanos(this.gate.ticker().read()),
				this.shared.resetNanos(this.shared.ticker().read()));
	}

	@Override
	protected void refundTaken(long permits) {
		this.gate.refundTaken(permits);
		this.shared.refundTaken(permits);
	}

	@Override
	public void updateRate(Rate rate) {
		this.shared.updateRate(rate);
	}

	/** Changes the shared limit (its rate; the gate's capacity stays). */
	@Override
	public void updateLimit(RateLimit next) {
		this.shared.updateLimit(next);
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		// never called: limit changes go to the shared limiter
	}

	@Override
	public void reset() {
		this.gate.reset();
		this.shared.reset();
	}

	@Override
	protected void applyReset(long now) {
		// never called: a reset goes to both parts
	}

	@Override
	protected String backendId() {
		return this.shared.backendId();
	}

	@Override
	protected boolean isDistributed() {
		return this.shared.isDistributed();
	}

	@Override
	protected boolean isPersistent() {
		return this.shared.isPersistent();
	}

	@Override
	protected Map<String, Object> details() {
		Map<String, Object> details = new java.util.LinkedHashMap<>(this.shared.snapshot().details());
		details.put("instanceShare", this.gate.limit().rate().toString());
		details.put("leaseFloor", this.whole.floor(this.index));
		details.put("minimumShares", PriorityClassLimiter.minimumShares(this.whole.priorities()));
		return details;
	}

}
