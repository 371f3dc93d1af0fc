package dev.ratelimit.internal;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.RefundableRateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * A refundable limiter that is not this library's own, seen as a tier of a composite or of an
 * all-or-nothing decision. It is asked through its public methods only: it permits or denies at
 * once (it cannot reserve ahead), and waits are worked out from its snapshot. Its own listener
 * hears its decisions, so this adapter has none.
 */
final class ForeignTier extends AbstractRateLimiter {

	private static final long MIN_RETRY_NANOS = 1_000_000;

	private final RefundableRateLimiter limiter;

	ForeignTier(RefundableRateLimiter limiter) {
		super(limiter.name(), limiter.limit(), Ticker.system(), Scheduler.system(), RateLimiterListener.NONE);
		this.limiter = limiter;
	}

	@Override
	public RateLimit limit() {
		return this.limiter.limit();
	}

	@Override
	public long capacity() {
		return this.limiter.limit().capacity();
	}

	@Override
	protected boolean tryTake(long permits) {
		return this.limiter.tryAcquire(permits);
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		return this.limiter.tryAcquire(permits) ? 0 : denied(retryAfter(permits, now));
	}

	@Override
	protected long available(long now) {
		return this.limiter.snapshot().available();
	}

	/**
	 * The time its rate takes to refill what is missing, and at least the time of the permits
	 * themselves when its snapshot shows them available although it denied (a stale snapshot, or
	 * a limiter that denies for reasons of its own); never under a millisecond, so that a wait on
	 * a composite polls it gently.
	 */
	@Override
	protected long retryAfter(long permits, long now) {
		RateLimiterSnapshot snapshot = this.limiter.snapshot();
		long missing = permits - snapshot.available();
		if (missing <= 0 && snapshot.rate() == null) {
			return MIN_RETRY_NANOS; // denied with permits showing and no rate to go by: ask again soon
		}
		long wait = nanosToRefill(snapshot, (missing > 0) ? missing : permits);
		return Math.max(MIN_RETRY_NANOS, wait);
	}

	@Override
	protected long resetNanos(long now) {
		RateLimiterSnapshot snapshot = this.limiter.snapshot();
		return nanosToRefill(snapshot, snapshot.capacity() - snapshot.available());
	}

	/** The time its rate takes to refill {@code missing} permits; unknown without a rate. */
	private static long nanosToRefill(RateLimiterSnapshot snapshot, long missing) {
		if (missing <= 0) {
			return 0;
		}
		Rate rate = snapshot.rate();
		return (rate == null || rate.permits() <= 0) ? Long.MAX_VALUE : rate.nanosFor(missing);
	}

	@Override
	protected void refundTaken(long permits) {
		this.limiter.refund(permits);
	}

	@Override
	public void updateRate(Rate rate) {
		this.limiter.updateRate(rate);
	}

	@Override
	public void updateLimit(RateLimit next) {
		throw new UnsupportedOperationException("limiter '" + this.name + "' is not this library's own: change its "
				+ "limit on the limiter itself, or with updateRate");
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		// never called: updateLimit is not supported
	}

	@Override
	public void reset() {
		this.limiter.reset();
	}

	@Override
	protected void applyReset(long now) {
		// never called: reset goes to the limiter
	}

	@Override
	public RateLimiterSnapshot snapshot() {
		return this.limiter.snapshot();
	}

	@Override
	public String toString() {
		return this.limiter.toString();
	}

}
