package dev.ratelimit.sample.partner;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

import dev.ratelimit.adaptive.AdaptiveController;
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

	private final AdaptiveController controller;

	public PartnerClient(FakePartnerApi api, ListenerThrottle throttle,
			@Qualifier("partnerAdaptiveController") AdaptiveController controller) {
		this.api = api;
		this.throttle = throttle;
		this.controller = controller;
	}

	/**
	 * Tells the partner about an order, waiting for the partner limiter and retrying after 429s.
	 * @param order the order
	 * @throws InterruptedException if interrupted while waiting for a permit
	 */
	public void notifyAccepted(Order order) throws InterruptedException {
		while (true) {
			this.throttle.awaitPermit(PartnerBackoff.LIMITER);
			FakePartnerApi.Response response = this.api.call(order);
			if (response.accepted()) {
				return;
			}
			this.controller.reduce("HTTP 429 from the partner API, retry after " + response.retryAfter().toMillis()
					+ " ms");
		}
	}

}
