package dev.ratelimit;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

import dev.ratelimit.internal.Limiters;

/**
 * A rate limiter: decides whether a caller may proceed now, waits for it within a bound, or tells
 * it when to come back.
 *
 * <p>All methods are thread-safe. {@link #tryAcquire(long)} never blocks, takes no lock and, for
 * the token bucket and the windows, allocates nothing; it is the call for hot paths. Asking for
 * zero or fewer permits, or for more than the {@linkplain RateLimit#capacity() capacity}, fails at
 * once with {@link IllegalArgumentException}: such a request could never be permitted.
 *
 * <p>Create one with {@link #of(String, RateLimit)}, {@link #builder(String, RateLimit)} (to inject
 * a {@link Ticker} or a listener), or through a {@link RateLimiterRegistry}.
 */
public interface RateLimiter {

	/**
	 * Returns the limiter's name.
	 * @return the name
	 */
	String name();

	/**
	 * Returns the limit currently in force (it changes with {@link #updateRate(Rate)}).
	 * @return the limit
	 */
	RateLimit limit();

	/**
	 * Takes one permit if available now, without waiting.
	 * @return whether the permit was taken
	 */
	default boolean tryAcquire() {
		return tryAcquire(1);
	}

	/**
	 * Takes {@code permits} if all are available now, without waiting; otherwise takes none.
	 * @param permits permits to take, between 1 and the capacity
	 * @return whether the permits were taken
	 */
	boolean tryAcquire(long permits);

	/**
	 * Takes {@code permits}, waiting at most {@code timeout} for them. When the algorithm can tell
	 * in advance that they will not be available in time, returns {@code false} at once rather than
	 * waiting in vain. Token buckets, windows and the pacer reserve the permits and then wait, so
	 * waiters are served in turn.
	 * @param permits permits to take, between 1 and the capacity
	 * @param timeout the longest wait, zero for none
	 * @return whether the permits were taken
	 * @throws InterruptedException if interrupted while waiting; reserved permits are returned
	 */
	boolean acquire(long permits, Duration timeout) throws InterruptedException;

	/**
	 * Takes {@code permits} asynchronously: the returned future completes with {@code true} once
	 * they are taken, or with {@code false} when they cannot be taken within {@code timeout}. No
	 * thread is parked while waiting; completion runs on the {@link Scheduler}'s thread, so chain
	 * work with an {@code *Async} method and an executor when it is not trivial.
	 * @param permits permits to take, between 1 and the capacity
	 * @param timeout the longest wait, zero for none
	 * @return the future outcome
	 */
	CompletableFuture<Boolean> acquireAsync(long permits, Duration timeout);

	/**
	 * Takes {@code permits} if all are available now, like {@link #tryAcquire(long)}, and returns
	 * the decision with the permits that remain and, when denied, how long to wait. Allocates the
	 * decision; prefer {@link #tryAcquire(long)} where only the outcome matters.
	 * @param permits permits to take, between 1 and the capacity
	 * @return the decision
	 */
	Decision decide(long permits);

	/**
	 * Returns a point-in-time view of the limiter.
	 * @return the snapshot
	 */
	RateLimiterSnapshot snapshot();

	/**
	 * Changes the rate of the primary bandwidth, keeping permits already available up to the
	 * capacity. A window keeps its length and takes the rate over it as its limit (at least one).
	 * Takes effect for the next decision.
	 * @param rate the new rate
	 * @throws IllegalArgumentException for a concurrency limiter, which has no rate
	 */
	void updateRate(Rate rate);

	/**
	 * Returns the limiter to its initial state: full bucket, empty windows, nothing in flight is
	 * forgotten for a concurrency limiter.
	 */
	void reset();

	/**
	 * Creates an in-memory limiter on the system clock.
	 * @param name the name, used in reports and errors
	 * @param limit the limit
	 * @return the limiter; a {@link ConcurrencyLimiter} for a concurrency limit
	 */
	static RateLimiter of(String name, RateLimit limit) {
		return builder(name, limit).build();
	}

	/**
	 * Starts building an in-memory limiter, to set its clock, scheduler or listener.
	 * @param name the name, used in reports and errors
	 * @param limit the limit
	 * @return the builder
	 */
	static Builder builder(String name, RateLimit limit) {
		return new Builder(name, limit);
	}

	/**
	 * Creates a multi-tier limiter that takes permits from every tier or from none: when one tier
	 * denies, the permits the others already gave are returned to them. Tiers are tried in order,
	 * so put the one most likely to deny first. Tiers must be {@link RefundableRateLimiter}s: every
	 * limiter this library creates is one, and a limiter of your own can be. The composite waits on
	 * the first tier's clock and scheduler (the library's default ones when it is not this
	 * library's); rate changes and its reported limit are the first tier's.
	 * @param name the composite's name
	 * @param tiers the tiers, at least one
	 * @return the composite limiter
	 * @throws IllegalArgumentException if there is no tier or a tier cannot give back permits
	 */
	static RateLimiter composite(String name, List<? extends RateLimiter> tiers) {
		return Limiters.composite(name, tiers);
	}

	/**
	 * Builds a limiter with a chosen clock, scheduler and listener.
	 */
	final class Builder {

		private final String name;

		private final RateLimit limit;

		private Ticker ticker = Ticker.coarse();

		private Scheduler scheduler = Scheduler.system();

		private RateLimiterListener listener = RateLimiterListener.NONE;

		private Builder(String name, RateLimit limit) {
			this.name = Objects.requireNonNull(name, "name");
			this.limit = Objects.requireNonNull(limit, "limit");
		}

		/**
		 * Sets the ticker the limiter reads time from (for tests, a manual one).
		 * @param ticker the ticker
		 * @return this builder
		 */
		public Builder ticker(Ticker ticker) {
			this.ticker = Objects.requireNonNull(ticker, "ticker");
			return this;
		}

		/**
		 * Sets the scheduler used by blocking and asynchronous acquisition.
		 * @param scheduler the scheduler
		 * @return this builder
		 */
		public Builder scheduler(Scheduler scheduler) {
			this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
			return this;
		}

		/**
		 * Sets the listener that receives the limiter's decisions.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder listener(RateLimiterListener listener) {
			this.listener = Objects.requireNonNull(listener, "listener");
			return this;
		}

		/**
		 * Builds the limiter.
		 * @return the limiter; a {@link ConcurrencyLimiter} for a concurrency limit
		 */
		public RateLimiter build() {
			return Limiters.create(this.name, this.limit, this.ticker, this.scheduler, this.listener);
		}

	}

}
