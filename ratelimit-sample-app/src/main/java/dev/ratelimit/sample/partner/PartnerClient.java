package dev.ratelimit.sample.partner;

import org.springframework.stereotype.Component;

import dev.ratelimit.spring.adaptive.AdaptiveRateLimiters;
import dev.ratelimit.sample.orders.ListenerThrottle;
import dev.ratelimit.sample.orders.Order;

/**
 * Tells the partner about each processed order, no faster than the {@code partner} limiter allows.
 * A 429 is a signal to the adaptive controller, which lowers the limiter's rate; the call is then
 * tried again at the lower rate, so no order goes untold.
 */
@Component
public class PartnerClient {

	private final FakePartnerApi api;

	private final ListenerThrottle throttle;

	/** The limiter of partner calls: adaptive, lowered by the partner's 429s (application.yml). */
	static final String LIMITER = "partner";

	private final AdaptiveRateLimiters adaptive;

	public PartnerClient(FakePartnerApi api, ListenerThrottle throttle, AdaptiveRateLimiters adaptive) {
		this.api = api;
		this.throttle = throttle;
		this.adaptive = adaptive;
	}

	/**
	 * Tells the partner about an order, waiting for the partner limiter and retrying after 429s.
	 * @param order the order
	 * @throws InterruptedException if interrupted while waiting for a permit
	 */
	public void notifyAccepted(Order order) throws InterruptedException {
		while (true) {
			this.throttle.awaitPermit(LIMITER);
			FakePartnerApi.Response response = this.api.call(order);
			if (response.accepted()) {
				return;
			}
			// the partner's 429 halves the shared rate of every instance, which then recovers step by step
			this.adaptive.reduce(LIMITER, "HTTP 429 from the partner API, retry after "
					+ response.retryAfter().toMillis() + " ms");
		}
	}

}
