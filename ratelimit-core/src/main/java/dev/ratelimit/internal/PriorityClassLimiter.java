package dev.ratelimit.internal;

import java.util.Map;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * One priority class of a {@link PriorityBuckets}: a limiter that takes permits at that class's
 * priority. It cannot reserve permits ahead, so a wait polls at the time the class's sources say
 * ({@link AbstractRateLimiter#acquire}). Its limit is the whole's rate with, as capacity, the most
 * one call of the class can take, so that whatever sizes its calls by {@code limit().capacity()}
 * (batches of a listener or a buffer, a composite, the rate limit headers) asks for what the class
 * can have; its available permits are what the class could take now.
 */
final class PriorityClassLimiter extends AbstractRateLimiter {

	private final PriorityBuckets buckets;

	private final int index;

	/** The whole's rate with this class's capacity; replaced when the whole changes. */
	private volatile RateLimit classLimit;

	PriorityClassLimiter(PriorityBuckets buckets, int index, String name, RateLimit limit, Ticker ticker,
			Scheduler scheduler, RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		this.buckets = buckets;
		this.index = index;
		this.classLimit = classLimit(limit);
	}

	private RateLimit classLimit(RateLimit whole) {
		return RateLimit.tokenBucket(whole.rate()).capacity(this.buckets.capacity(this.index)).build();
	}

	@Override
	public RateLimit limit() {
		return this.classLimit;
	}

	/** Takes the whole's new limit on, quietly: the buckets tell the listener once. */
	void adoptWhole(RateLimit whole) {
		adoptLimitQuietly(whole);
		this.classLimit = classLimit(whole);
	}

	@Override
	public long capacity() {
		return this.buckets.capacity(this.index);
	}

	@Override
	protected boolean tryTake(long permits) {
		return this.buckets.take(this.index, permits);
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		if (tryTake(permits)) {
			return 0;
		}
		return denied(this.buckets.retryAfter(this.index, permits));
	}

	@Override
	protected long available(long now) {
		return this.buckets.available(this.index);
	}

	@Override
	protected long retryAfter(long permits, long now) {
		return this.buckets.retryAfter(this.index, permits);
	}

	@Override
	protected long resetNanos(long now) {
		return this.buckets.resetNanos();
	}

	@Override
	protected void refundTaken(long permits) {
		this.buckets.refund(this.index, permits);
	}

	/** Changes the rate of every class, on the limit in force when the buckets apply it. */
	@Override
	public void updateRate(dev.ratelimit.Rate rate) {
		this.buckets.updateRate(rate);
	}

	/** Changes the limit of every class: the buckets apply it, and each class takes it on. */
	@Override
	public void updateLimit(RateLimit next) {
		this.buckets.update(next);
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		throw new IllegalStateException("a priority class changes its limit through its buckets");
	}

	@Override
	public void reset() {
		this.buckets.reset();
	}

	@Override
	protected void applyReset(long now) {
		throw new IllegalStateException("a priority class resets through its buckets");
	}

	@Override
	protected Map<String, Object> details() {
		dev.ratelimit.Priorities priorities = this.buckets.priorities();
		return Map.of("priority", priorities.classes().get(this.index), "priorities", priorities.classes(),
				"minimumShares", minimumShares(priorities));
	}

	/** The classes that have a reserved minimum share, with it, in the classes' order. */
	static Map<String, Double> minimumShares(dev.ratelimit.Priorities priorities) {
		Map<String, Double> shares = new java.util.LinkedHashMap<>();
		for (String priorityClass : priorities.classes()) {
			double share = priorities.minimumShare(priorityClass);
			if (share > 0) {
				shares.put(priorityClass, share);
			}
		}
		return shares;
	}

}
