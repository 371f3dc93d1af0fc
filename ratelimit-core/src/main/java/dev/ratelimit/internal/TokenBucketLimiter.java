package dev.ratelimit.internal;

import java.util.List;

import dev.ratelimit.Bandwidth;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Token bucket with one or more bandwidths, all enforced together; with intervally refill it is
 * the fixed window. Each bandwidth is a {@link BucketEpoch}; permits are taken from all of them or
 * from none. Decisions go through the pool of {@link PooledRateLimiter}.
 */
final class TokenBucketLimiter extends PooledRateLimiter {

	/** One epoch per bandwidth; the array is replaced, never changed, on a limit change. */
	private volatile BucketEpoch[] epochs;

	TokenBucketLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		this.epochs = initialEpochs(limit, this.ticker.read());
		leaseExtra(leaseExtraFor(limit.capacity()));
	}

	private static BucketEpoch[] initialEpochs(RateLimit limit, long now) {
		List<Bandwidth> bandwidths = limit.bandwidths();
		BucketEpoch[] epochs = new BucketEpoch[bandwidths.size()];
		for (int i = 0; i < epochs.length; i++) {
			long capacity = bandwidths.get(i).capacity();
			epochs[i] = new BucketEpoch(bandwidths.get(i), now, Math.min(limit.initialPermits().orElse(capacity), capacity));
		}
		return epochs;
	}

	@Override
	protected long lease(long min, long max, long now) {
		outer: for (;;) {
			BucketEpoch[] epochs = this.epochs;
			if (epochs.length == 1) {
				// one bandwidth: the refill at now is read once, whatever the CAS retries
				BucketEpoch epoch = epochs[0];
				long refilled = epoch.refilled(now);
				for (;;) {
					long consumed = epoch.consumed();
					if (consumed == BucketEpoch.FROZEN) {
						Thread.onSpinWait();
						continue outer;
					}
					long take = Math.min(max, epoch.available(consumed, refilled));
					if (take < min) {
						return DENIED_UNKNOWN;
					}
					if (epoch.compareAndSet(consumed, Math.max(consumed, refilled) + take)) {
						return take;
					}
				}
			}
			long take = max;
			for (BucketEpoch epoch : epochs) {
				long consumed = epoch.consumed();
				if (consumed == BucketEpoch.FROZEN) {
					Thread.onSpinWait();
					continue outer;
				}
				take = Math.min(take, epoch.available(consumed, epoch.refilled(now)));
			}
			if (take < min) {
				return DENIED_UNKNOWN; // callers that need the wait ask authorityRetryAfter
			}
			for (int i = 0; i < epochs.length; i++) {
				if (charge(epochs[i], take, now, 0) < 0) {
					for (int j = 0; j < i; j++) {
						epochs[j].giveBack(take);
					}
					continue outer;
				}
			}
			return take;
		}
	}

	@Override
	protected long seen() {
		return this.epochs[0].seen();
	}

	@Override
	protected void see(long precise) {
		this.epochs[0].see(precise);
	}

	/**
	 * Takes {@code permits} from one epoch if it has them now or, when {@code maxWaitNanos} allows,
	 * reserves them against future refill. Returns the wait before they may be used, or -1 if
	 * they were not taken.
	 */
	private static long charge(BucketEpoch epoch, long permits, long now, long maxWaitNanos) {
		for (;;) {
			long consumed = epoch.consumed();
			if (consumed == BucketEpoch.FROZEN) {
				return -1;
			}
			long refilled = epoch.refilled(now);
			long wait = epoch.nanosUntilAvailable(permits, consumed, refilled, now);
			if (wait > maxWaitNanos) {
				return -1;
			}
			if (epoch.compareAndSet(consumed, Math.max(consumed, refilled) + permits)) {
				return wait;
			}
		}
	}

	private static long retryAfterIn(BucketEpoch[] epochs, long permits, long now) {
		long wait = 0;
		for (BucketEpoch epoch : epochs) {
			long consumed = epoch.consumed();
			if (consumed != BucketEpoch.FROZEN) {
				wait = Math.max(wait, epoch.nanosUntilAvailable(permits, consumed, epoch.refilled(now), now));
			}
		}
		return wait;
	}

	@Override
	protected long authorityReserve(long permits, long maxWaitNanos, long now) {
		outer: for (;;) {
			BucketEpoch[] epochs = this.epochs;
			long wait = 0;
			for (BucketEpoch epoch : epochs) {
				long consumed = epoch.consumed();
				if (consumed == BucketEpoch.FROZEN) {
					Thread.onSpinWait();
					continue outer;
				}
				wait = Math.max(wait, epoch.nanosUntilAvailable(permits, consumed, epoch.refilled(now), now));
			}
			if (wait > maxWaitNanos) {
				return denied(wait);
			}
			long waited = 0;
			for (int i = 0; i < epochs.length; i++) {
				long epochWait = charge(epochs[i], permits, now, maxWaitNanos);
				if (epochWait < 0) {
					for (int j = 0; j < i; j++) {
						epochs[j].giveBack(permits);
					}
					continue outer;
				}
				waited = Math.max(waited, epochWait);
			}
			return waited;
		}
	}

	@Override
	protected void giveBack(long permits) {
		for (BucketEpoch epoch : this.epochs) {
			epoch.giveBack(permits);
		}
	}

	/** A count past the refill by more than the capacity is exactly a negative availability. */
	@Override
	protected boolean countedPast(long now) {
		return authorityAvailable(now) < 0;
	}

	@Override
	protected long authorityAvailable(long now) {
		long available = Long.MAX_VALUE;
		for (BucketEpoch epoch : this.epochs) {
			long consumed = epoch.consumed();
			if (consumed != BucketEpoch.FROZEN) {
				available = Math.min(available, epoch.available(consumed, epoch.refilled(now)));
			}
		}
		return (available == Long.MAX_VALUE) ? 0 : available;
	}

	@Override
	protected long authorityRetryAfter(long permits, long now) {
		return retryAfterIn(this.epochs, permits, now);
	}

	@Override
	protected long resetNanos(long now) {
		long wait = 0;
		for (BucketEpoch epoch : this.epochs) {
			long consumed = epoch.consumed();
			if (consumed != BucketEpoch.FROZEN) {
				wait = Math.max(wait, epoch.nanosUntilRefilled(consumed, epoch.refilled(now), now));
			}
		}
		return wait;
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		BucketEpoch[] current = this.epochs;
		List<Bandwidth> bandwidths = next.bandwidths();
		BucketEpoch[] updated = new BucketEpoch[bandwidths.size()];
		for (int i = 0; i < updated.length; i++) {
			Bandwidth bandwidth = bandwidths.get(i);
			if (i < current.length && previous.bandwidths().get(i).equals(bandwidth)) {
				updated[i] = current[i];
				continue;
			}
			long available = bandwidth.capacity();
			if (i < current.length) {
				BucketEpoch old = current[i];
				long consumed = old.freeze();
				// keep what was available (or owed), never more than the new capacity
				available = Math.min(bandwidth.capacity(), old.available(consumed, old.refilled(now)));
			}
			updated[i] = new BucketEpoch(bandwidth, now, available);
		}
		for (int i = updated.length; i < current.length; i++) {
			current[i].freeze();
		}
		this.epochs = updated;
		leaseExtra(leaseExtraFor(next.capacity()));
	}

	@Override
	protected void applyReset(long now) {
		for (BucketEpoch epoch : this.epochs) {
			epoch.freeze();
		}
		this.epochs = initialEpochs(limit(), now);
		drainPool();
	}

}
