package dev.ratelimit.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RefundableRateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Creates the in-memory implementation for a limit.
 */
public final class Limiters {

	private Limiters() {
	}

	public static AbstractRateLimiter create(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		Objects.requireNonNull(limit, "limit");
		return switch (limit.algorithm()) {
			case TOKEN_BUCKET -> limit.warmup().isZero()
					? new TokenBucketLimiter(name, limit, ticker, scheduler, listener)
					: new WarmingUpLimiter(name, limit, ticker, scheduler, listener);
			case FIXED_WINDOW -> new TokenBucketLimiter(name, limit, ticker, scheduler, listener);
			case SLIDING_WINDOW -> new SlidingWindowLimiter(name, limit, ticker, scheduler, listener);
			case LEAKY_BUCKET -> new PacerLimiter(name, limit, ticker, scheduler, listener);
			case CONCURRENCY -> new DefaultConcurrencyLimiter(name, limit, ticker, scheduler, listener);
		};
	}

	/**
	 * A limiter as a tier of a composite or an all-or-nothing decision: this library's own as it
	 * is, another refundable one through an adapter.
	 * @throws IllegalArgumentException if the limiter cannot give back permits
	 */
	static AbstractRateLimiter tier(RateLimiter limiter) {
		if (limiter instanceof AbstractRateLimiter own) {
			return own;
		}
		if (limiter instanceof RefundableRateLimiter refundable) {
			return new ForeignTier(refundable);
		}
		throw Errors.notRefundable(String.valueOf((limiter != null) ? limiter.name() : null));
	}

	/** A composite on the clock and scheduler of its first tier. */
	public static RateLimiter composite(String name, List<? extends RateLimiter> tiers) {
		Objects.requireNonNull(tiers, "tiers");
		if (!tiers.isEmpty() && tiers.get(0) instanceof AbstractRateLimiter first) {
			return composite(name, tiers, first.ticker(), first.scheduler(), RateLimiterListener.NONE);
		}
		return composite(name, tiers, Ticker.coarse(), Scheduler.system(), RateLimiterListener.NONE);
	}

	public static AbstractRateLimiter composite(String name, List<? extends RateLimiter> tiers, Ticker ticker,
			Scheduler scheduler, RateLimiterListener listener) {
		Objects.requireNonNull(name, "name");
		Objects.requireNonNull(tiers, "tiers");
		if (tiers.isEmpty()) {
			throw new IllegalArgumentException("a composite limiter needs at least one tier, but none were given");
		}
		List<AbstractRateLimiter> checked = new ArrayList<>(tiers.size());
		for (RateLimiter tier : tiers) {
			checked.add(tier(tier));
		}
		return new CompositeLimiter(name, checked, ticker, scheduler, listener);
	}

}
