package dev.ratelimit.internal;

import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * Token bucket with warm-up, with the semantics of Guava's {@code SmoothWarmingUp}: the limiter
 * stores unused permits up to {@code maxPermits} while idle; spending a stored permit above the
 * threshold costs more time than a fresh one (from three times the stable interval at the cold
 * end, falling linearly to the stable interval at the threshold), so after idling the rate starts
 * at a third and reaches the full rate after the warm-up period of steady use.
 *
 * <p>Like Guava, a request is admitted when the previous one's cost has elapsed, and its own cost
 * is paid by the next one. The state is an immutable object replaced by CAS: one small allocation
 * per admitted request, the price of the two numbers (stored permits, next free time) that must
 * change together.
 */
final class WarmingUpLimiter extends AbstractRateLimiter {

	private static final double COLD_FACTOR = 3.0;

	private final AtomicReference<State> state;

	WarmingUpLimiter(String name, RateLimit limit, Ticker ticker, Scheduler scheduler,
			RateLimiterListener listener) {
		super(name, limit, ticker, scheduler, listener);
		Params params = new Params(limit);
		this.state = new AtomicReference<>(new State(params, params.maxPermits, this.ticker.read()));
	}

	/** The warm-up curve for one rate and period. */
	static final class Params {

		final double stableInterval;

		final double threshold;

		final double maxPermits;

		final double slope;

		final double coolDownInterval;

		Params(RateLimit limit) {
			this.stableInterval = (double) limit.rate().periodNanos() / limit.rate().permits();
			double warmupNanos = limit.warmup().toNanos();
			double coldInterval = COLD_FACTOR * this.stableInterval;
			this.threshold = 0.5 * warmupNanos / this.stableInterval;
			this.maxPermits = this.threshold + 2.0 * warmupNanos / (this.stableInterval + coldInterval);
			this.slope = (coldInterval - this.stableInterval) / (this.maxPermits - this.threshold);
			this.coolDownInterval = warmupNanos / this.maxPermits;
		}

		/** Time to spend {@code take} stored permits out of {@code stored}: the area under the curve. */
		double storedCost(double stored, double take) {
			double above = Math.max(0, stored - this.threshold);
			double fromAbove = Math.min(above, take);
			double cost = fromAbove * (interval(above) + interval(above - fromAbove)) / 2.0;
			return cost + this.stableInterval * (take - fromAbove);
		}

		private double interval(double permitsAboveThreshold) {
			return this.stableInterval + permitsAboveThreshold * this.slope;
		}

	}

	record State(Params params, double stored, long nextFree) {

		/** The state at {@code now}: idle time since {@code nextFree} has refilled stored permits. */
		State at(long now) {
			if (now <= this.nextFree) {
				return this;
			}
			double refilled = (now - this.nextFree) / this.params.coolDownInterval;
			return new State(this.params, Math.min(this.params.maxPermits, this.stored + refilled), now);
		}

		State take(long permits) {
			double spend = Math.min(permits, this.stored);
			double cost = this.params.storedCost(this.stored, spend) + (permits - spend) * this.params.stableInterval;
			return new State(this.params, this.stored - spend, LongMath.saturatedAdd(this.nextFree, (long) cost));
		}

	}

	@Override
	protected boolean tryTake(long permits) {
		return reserve(permits, 0, this.ticker.read()) >= 0;
	}

	@Override
	protected long reserve(long permits, long maxWaitNanos, long now) {
		for (;;) {
			State current = this.state.get();
			long wait = Math.max(0, current.nextFree() - now);
			if (wait > maxWaitNanos) {
				return denied(wait);
			}
			if (this.state.compareAndSet(current, current.at(now).take(permits))) {
				return wait;
			}
		}
	}

	@Override
	protected long available(long now) {
		return (this.state.get().nextFree() <= now) ? capacity() : 0;
	}

	@Override
	protected long retryAfter(long permits, long now) {
		return Math.max(0, this.state.get().nextFree() - now);
	}

	@Override
	protected long resetNanos(long now) {
		return retryAfter(1, now);
	}

	@Override
	protected void refundTaken(long permits) {
		this.state.getAndUpdate((current) -> new State(current.params(), current.stored(),
				current.nextFree() - (long) (permits * current.params().stableInterval)));
	}

	@Override
	protected void applyLimit(RateLimit previous, RateLimit next, long now) {
		Params params = new Params(next);
		this.state.getAndUpdate((current) -> {
			State at = current.at(now);
			double stored = at.stored() * params.maxPermits / current.params().maxPermits;
			return new State(params, stored, at.nextFree());
		});
	}

	@Override
	protected void applyReset(long now) {
		Params params = new Params(limit());
		this.state.set(new State(params, params.maxPermits, now));
	}

	@Override
	protected Map<String, Object> details() {
		State current = this.state.get().at(this.ticker.read());
		return Map.of("storedPermits", current.stored(), "maxStoredPermits", current.params().maxPermits);
	}

}
