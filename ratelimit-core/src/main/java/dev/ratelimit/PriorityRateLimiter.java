package dev.ratelimit;

import java.util.Objects;

import dev.ratelimit.internal.PriorityBuckets;

/**
 * A token bucket whose capacity goes to the more important calls first when it is short: calls
 * declare a priority class, and when demand exceeds the rate the less important classes are
 * refused first, each class keeping any minimum share reserved for it. {@link Priorities} says
 * exactly how.
 *
 * <p>Each class is seen through a {@link RateLimiter} of its own, {@link #forClass(String)}, which
 * everything that takes a limiter accepts: {@code tryAcquire}, waits, decisions with retry times,
 * snapshots (the permits that class could take now). Changing the rate or resetting through any of
 * them changes the limit as a whole.
 *
 * <pre class="code">
 * PriorityRateLimiter api = PriorityRateLimiter.of("api", RateLimit.perSecond(1000),
 * 		Priorities.of("critical", "normal", "batch").minimumShare("batch", 0.05));
 * RateLimiter batch = api.forClass("batch");
 * if (batch.tryAcquire()) {
 * 	...
 * }
 * </pre>
 *
 * <p>Thread-safe and lock-free on the decision path. A limit shared by a fleet takes priorities
 * through its backend ({@code RateLimiterBackend#createPriorities}).
 */
public interface PriorityRateLimiter {

	/**
	 * Returns the name.
	 * @return the name
	 */
	String name();

	/**
	 * Returns the limit as a whole.
	 * @return the limit
	 */
	RateLimit limit();

	/**
	 * Returns the classes and their shares.
	 * @return the priorities
	 */
	Priorities priorities();

	/**
	 * Returns the view of one class: a limiter that takes permits at that class's priority.
	 * @param priorityClass one of the classes
	 * @return the class's limiter, the same instance on every call, named after this limiter
	 * @throws IllegalArgumentException for an unknown class, naming the known ones
	 */
	RateLimiter forClass(String priorityClass);

	/**
	 * Changes the rate of the limit as a whole; each class's reserved share follows.
	 * @param rate the new rate
	 */
	void updateRate(Rate rate);

	/**
	 * Changes the limit as a whole and the classes' minimum shares together, for a runtime rule:
	 * the classes stay the same, in the same order. The permits the limiter holds stay, divided
	 * anew (a class's reserve keeps what it held, as far as it fits; the rest goes to the shared
	 * part), so no change adds permits: the bound of the whole holds across it. A call that takes
	 * more permits than its class can hold under the new division then fails, as a call over any
	 * limiter's capacity does ({@code RateLimiterRegistry} refuses a change that a call declared
	 * to it could no longer fit).
	 * @param limit the new limit: a token bucket of one bandwidth without warm-up, of any capacity
	 * @param priorities the same classes, with the minimum shares to keep from now on
	 * @throws IllegalArgumentException if the classes differ, or the limit cannot be divided so
	 * (a capacity too small for the shares); nothing changes then
	 */
	void update(RateLimit limit, Priorities priorities);

	/**
	 * Returns every bucket to its start: full, or its share of the limit's initial permits.
	 */
	void reset();

	/**
	 * Creates a priority limiter on the system clock.
	 * @param name the name, for reports
	 * @param limit a token bucket of one bandwidth, without warm-up
	 * @param priorities the classes
	 * @return the limiter
	 * @throws IllegalArgumentException for another kind of limit, or a capacity too small to give
	 * each reserved share a permit and keep one to share
	 */
	static PriorityRateLimiter of(String name, RateLimit limit, Priorities priorities) {
		return builder(name, limit, priorities).build();
	}

	/**
	 * Starts a priority limiter.
	 * @param name the name, for reports
	 * @param limit a token bucket of one bandwidth, without warm-up
	 * @param priorities the classes
	 * @return a builder
	 */
	static Builder builder(String name, RateLimit limit, Priorities priorities) {
		return new Builder(name, limit, priorities);
	}

	/**
	 * Builds a {@link PriorityRateLimiter}. Not thread-safe.
	 */
	final class Builder {

		private final String name;

		private final RateLimit limit;

		private final Priorities priorities;

		private Ticker ticker = Ticker.coarse();

		private Scheduler scheduler = Scheduler.system();

		private RateLimiterListener listener = RateLimiterListener.NONE;

		private Builder(String name, RateLimit limit, Priorities priorities) {
			this.name = Objects.requireNonNull(name, "name");
			this.limit = Objects.requireNonNull(limit, "limit");
			this.priorities = Objects.requireNonNull(priorities, "priorities");
		}

		/**
		 * Sets the time source: a manual one in tests. {@link Ticker#coarse()} unless set.
		 * @param ticker the ticker
		 * @return this builder
		 */
		public Builder ticker(Ticker ticker) {
			this.ticker = Objects.requireNonNull(ticker, "ticker");
			return this;
		}

		/**
		 * Sets what waits and schedules retries of the classes' {@code acquire} calls.
		 * {@link Scheduler#system()} unless set.
		 * @param scheduler the scheduler
		 * @return this builder
		 */
		public Builder scheduler(Scheduler scheduler) {
			this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
			return this;
		}

		/**
		 * Sets the listener every class's calls are told of. None unless set.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder listener(RateLimiterListener listener) {
			this.listener = Objects.requireNonNull(listener, "listener");
			return this;
		}

		/**
		 * Builds the limiter, every bucket full.
		 * @return the limiter
		 * @throws IllegalArgumentException for a limit it cannot divide
		 */
		public PriorityRateLimiter build() {
			return new PriorityBuckets(this.name, this.limit, this.priorities, this.ticker, this.scheduler, this.listener);
		}

	}

}
