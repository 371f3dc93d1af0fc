package dev.ratelimit;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A refundable limiter of the kind an application might write itself: a fixed number of permits
 * that never refill, counted in an {@link AtomicLong}.
 */
final class CountingLimiter implements RefundableRateLimiter {

	private final String name;

	private final long capacity;

	final AtomicLong available;

	/** Whether it denies every call, whatever it has. */
	volatile boolean refusing;

	CountingLimiter(String name, long capacity) {
		this.name = name;
		this.capacity = capacity;
		this.available = new AtomicLong(capacity);
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public RateLimit limit() {
		return RateLimit.tokenBucket(Rate.perMinute(this.capacity)).build();
	}

	@Override
	public boolean tryAcquire(long permits) {
		if (this.refusing) {
			return false;
		}
		for (long now = this.available.get(); now >= permits; now = this.available.get()) {
			if (this.available.compareAndSet(now, now - permits)) {
				return true;
			}
		}
		return false;
	}

	@Override
	public void refund(long permits) {
		this.available.addAndGet(permits);
	}

	@Override
	public boolean acquire(long permits, Duration timeout) {
		return tryAcquire(permits);
	}

	@Override
	public CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout) {
		return CompletableFuture.completedFuture(tryAcquire(permits));
	}

	@Override
	public Decision decide(long permits) {
		return new Decision(tryAcquire(permits), this.available.get(), 0, 0);
	}

	@Override
	public RateLimiterSnapshot snapshot() {
		long left = this.available.get();
		return new RateLimiterSnapshot(this.name, Algorithm.TOKEN_BUCKET, Rate.perMinute(this.capacity), this.capacity,
				left, 1 - (double) left / this.capacity, "counting", false, false, Map.of());
	}

	@Override
	public void updateRate(Rate rate) {
	}

	@Override
	public void reset() {
		this.available.set(this.capacity);
	}

}
