package dev.ratelimit.internal;

import java.util.Map;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Leaky bucket as a pacer: permits leave at the rate, evenly spaced, with no burst. It is a
 * {@link BucketEpoch} of zero capacity: a request is admitted when its slot has come
 * ({@code consumed <= R(now)}) and books the next {@code permits} slots. Waiting callers reserve
 * slots in turn, so they are served in order and evenly spaced.
 */
final class PacerLimiter extends AbstractRateLimiter {

	private volatile BucketEpoch epoch;

	PacerLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler, RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		this.epoch = new BucketEpoch(0, limit.rate(), false, ticker.read(), 0);
	}

	@Override
	protected boolean tryTake(long permits) {
		return reserve(permits, 0, this.ticker.read()) >= 0;
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		for (;;) {
			BucketEpoch epoch = this.epoch;
			long consumed = epoch.consumed();
			if (consumed == BucketEpoch.FROZEN) {
				Thread.onSpinWait();
				continue;
			}
			long refilled = epoch.refilled(now);
			long next = Math.max(consumed, refilled);
			long wait = epoch.nanosUntilRefilled(next, refilled, now);
			if (wait > maxWaitNanos) {
				return denied(wait);
			}
			if (epoch.compareAndSet(consumed, next + permits)) {
				return wait;
			}
		}
	}

	@Override
	protected long available(long now) {
		BucketEpoch epoch = this.epoch;
		long consumed = epoch.consumed();
		return (consumed != BucketEpoch.FROZEN && consumed <= epoch.refilled(now)) ? capacity() : 0;
	}

	@Override
	protected long retryAfter(long permits, long now) {
		return resetNanos(now);
	}

	@Override
	protected long resetNanos(long now) {
		BucketEpoch epoch = this.epoch;
		long consumed = epoch.consumed();
		return (consumed == BucketEpoch.FROZEN) ? 0 : epoch.nanosUntilRefilled(consumed, epoch.refilled(now), now);
	}

	@Override
	protected void refund(long permits) {
		this.epoch.giveBack(permits);
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		BucketEpoch old = this.epoch;
		long consumed = old.freeze();
		long booked = Math.max(0, consumed - old.refilled(now)); // slots already promised
		this.epoch = new BucketEpoch(0, next.rate(), false, now, -booked);
	}

	@Override
	protected void applyReset(long now) {
		this.epoch.freeze();
		this.epoch = new BucketEpoch(0, limit().rate(), false, now, 0);
	}

	@Override
	protected Map<String, Object> details() {
		long now = this.ticker.read();
		return Map.of("nextSlotNanos", resetNanos(now));
	}

}
