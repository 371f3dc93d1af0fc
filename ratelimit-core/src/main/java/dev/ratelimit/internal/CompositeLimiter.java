package dev.ratelimit.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterSnapshot;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Multi-tier limiter: permits are taken from every tier, in order, or from none. When a tier
 * denies, the permits the earlier tiers gave are refunded to them, which leaves each as it was.
 * Each tier's listener hears the outcome for that tier: permitted when all tiers permitted,
 * rejected for the tier that denied. Each tier is asked with a reading of its own ticker: tiers
 * may run on different clocks (a local and a Kafka-backed tier, say).
 */
final class CompositeLimiter extends AbstractRateLimiter {

	private final AbstractRateLimiter[] tiers;

	CompositeLimiter(String name, List<AbstractRateLimiter> tiers, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		super(name, compositeLimit(tiers), ticker, scheduler, listener);
		this.tiers = tiers.toArray(new AbstractRateLimiter[0]);
	}

	private static RateLimit compositeLimit(List<AbstractRateLimiter> tiers) {
		return tiers.get(0).limit();
	}

	/** The first tier's limit: the one the composite reports and updates. */
	@Override
	public RateLimit limit() {
		return this.tiers[0].limit();
	}

	/** The smallest capacity of all tiers: no request may ask for more. */
	@Override
	public long capacity() {
		long smallest = Long.MAX_VALUE;
		for (AbstractRateLimiter tier : this.tiers) {
			smallest = Math.min(smallest, tier.capacity());
		}
		return smallest;
	}

	List<AbstractRateLimiter> tiers() {
		return List.of(this.tiers);
	}

	@Override
	protected boolean tryTake(long permits) {
		for (int i = 0; i < this.tiers.length; i++) {
			AbstractRateLimiter tier = this.tiers[i];
			if (!tier.take(permits)) {
				for (int j = i - 1; j >= 0; j--) {
					this.tiers[j].refundIfTaken(permits);
				}
				tier.listener().onRejected(permits);
				return false;
			}
		}
		for (AbstractRateLimiter tier : this.tiers) {
			tier.listener().onPermitted(permits);
		}
		return true;
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		long wait = 0;
		for (int i = 0; i < this.tiers.length; i++) {
			AbstractRateLimiter tier = this.tiers[i];
			long reservation = tier.reserveOrPass(permits, maxWaitNanos, tier.preciseNow());
			if (reservation < 0) {
				for (int j = i - 1; j >= 0; j--) {
					this.tiers[j].refundIfTaken(permits);
				}
				return reservation;
			}
			wait = Math.max(wait, reservation);
		}
		return wait;
	}

	@Override
	protected long available(long now) {
		long available = Long.MAX_VALUE;
		for (AbstractRateLimiter tier : this.tiers) {
			available = Math.min(available, tier.available(tier.ticker().read()));
		}
		return available;
	}

	@Override
	protected long retryAfter(long permits, long now) {
		long wait = 0;
		for (AbstractRateLimiter tier : this.tiers) {
			long tierNow = tier.ticker().read();
			if (tier.available(tierNow) < permits) {
				wait = Math.max(wait, tier.retryAfter(permits, tierNow));
			}
		}
		if (wait == 0) {
			// no tier shows a shortage: one that is not this library's denied with permits left,
			// and it says when to ask again
			for (AbstractRateLimiter tier : this.tiers) {
				if (tier instanceof ForeignTier) {
					wait = Math.max(wait, tier.retryAfter(permits, tier.ticker().read()));
				}
			}
		}
		return wait;
	}

	@Override
	protected long resetNanos(long now) {
		long wait = 0;
		for (AbstractRateLimiter tier : this.tiers) {
			wait = Math.max(wait, tier.resetNanos(tier.ticker().read()));
		}
		return wait;
	}

	@Override
	protected void refundTaken(long permits) {
		for (AbstractRateLimiter tier : this.tiers) {
			tier.refundIfTaken(permits);
		}
	}

	/** Changes the rate of the first tier, the one the composite reports. */
	@Override
	public void updateRate(Rate rate) {
		this.tiers[0].updateRate(rate);
	}

	@Override
	public void updateLimit(RateLimit next) {
		this.tiers[0].updateLimit(next);
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		// never called: limit changes go to the first tier
	}

	@Override
	public void reset() {
		for (AbstractRateLimiter tier : this.tiers) {
			tier.reset();
		}
	}

	@Override
	protected void applyReset(long now) {
		// never called: reset goes to every tier
	}

	@Override
	public RateLimiterSnapshot snapshot() {
		RateLimiterSnapshot first = this.tiers[0].snapshot();
		long now = this.ticker.read();
		long available = Math.max(0, available(now));
		double utilization = 0;
		Map<String, Object> tierDetails = new LinkedHashMap<>();
		List<String> names = new ArrayList<>();
		for (AbstractRateLimiter tier : this.tiers) {
			RateLimiterSnapshot snapshot = tier.snapshot();
			utilization = Math.max(utilization, snapshot.utilization());
			names.add(tier.name());
			tierDetails.put(tier.name(), Map.of("algorithm", snapshot.algorithm().id(), "rate",
					String.valueOf(snapshot.rate()), "capacity", snapshot.capacity(), "available", snapshot.available()));
		}
		return new RateLimiterSnapshot(this.name, first.algorithm(), first.rate(), capacity(), available,
				utilization, first.backend(), first.distributed(), first.persistent(),
				Map.of("tiers", tierDetails, "tierOrder", names));
	}

}
