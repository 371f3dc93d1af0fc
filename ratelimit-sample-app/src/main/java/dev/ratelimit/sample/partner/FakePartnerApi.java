package dev.ratelimit.sample.partner;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.ratelimit.Decision;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.sample.SampleProperties;
import dev.ratelimit.sample.orders.Order;

/**
 * Stands in for a partner's HTTP API that enforces a limit of its own, which the sample does not
 * know: a call within it is accepted (200), a call over it is refused with 429 and a retry-after.
 * Now and then (every {@code sample.partner.brownout-every}, or on {@code POST /partner/brownout})
 * the partner has a brownout and accepts far fewer calls for {@code sample.partner.brownout-length}.
 * Thread-safe.
 */
@Component
public class FakePartnerApi {

	private final SampleProperties.Partner settings;

	/** The partner's own limit: not in the application's registry, as it is not ours. */
	private final RateLimiter limit;

	private final long startedNanos = System.nanoTime();

	/** End of the brownout started on demand, in {@link System#nanoTime()}; 0 for none. */
	private final AtomicLong manualBrownoutUntil = new AtomicLong();

	private final LongAdder calls = new LongAdder();

	private final LongAdder refused = new LongAdder();

	private volatile boolean brownout;

	public FakePartnerApi(SampleProperties properties) {
		this.settings = properties.partner();
		this.limit = RateLimiter.of("partner-api", limitOf(this.settings.capacity()));
	}

	/**
	 * Calls the partner about an order.
	 * @param order the order
	 * @return the partner's answer
	 */
	public Response call(Order order) {
		this.calls.increment();
		Decision decision = this.limit.decide(1);
		if (decision.permitted()) {
			return new Response(200, Duration.ZERO);
		}
		this.refused.increment();
		return new Response(429, decision.retryAfter());
	}

	/**
	 * Starts a brownout now.
	 */
	public void startBrownout() {
		this.manualBrownoutUntil.set(System.nanoTime() + this.settings.brownoutLength().toNanos());
		weather();
	}

	/**
	 * Applies the partner's capacity of the moment: normal, or reduced during a brownout.
	 */
	@Scheduled(fixedRate = 500)
	public void weather() {
		long now = System.nanoTime();
		boolean scheduled = false;
		long every = this.settings.brownoutEvery().toNanos();
		if (every > 0) {
			// the first brownout comes at the end of the first period, after a calm start
			long phase = (now - this.startedNanos) % every;
			scheduled = phase >= every - this.settings.brownoutLength().toNanos();
		}
		boolean manual = now - this.manualBrownoutUntil.get() < 0;
		boolean next = scheduled || manual;
		if (next != this.brownout) {
			this.brownout = next;
			this.limit.updateRate(next ? this.settings.brownoutCapacity() : this.settings.capacity());
		}
	}

	/**
	 * Returns whether the partner is in a brownout.
	 * @return whether it accepts only {@code brownout-capacity}
	 */
	public boolean isBrownout() {
		return this.brownout;
	}

	/**
	 * Returns the calls made to the partner.
	 * @return the count
	 */
	public long calls() {
		return this.calls.sum();
	}

	/**
	 * Returns the calls the partner refused with 429.
	 * @return the count
	 */
	public long refused() {
		return this.refused.sum();
	}

	private static RateLimit limitOf(Rate rate) {
		// a burst of one period's calls, like most APIs that state "N per second"
		return RateLimit.tokenBucket(rate).build();
	}

	/**
	 * The partner's answer.
	 *
	 * @param status 200 or 429
	 * @param retryAfter what a 429 says about when to come back, zero otherwise
	 */
	public record Response(int status, Duration retryAfter) {

		/**
		 * Returns whether the call was accepted.
		 * @return whether the status is 200
		 */
		public boolean accepted() {
			return this.status == 200;
		}

	}

}
