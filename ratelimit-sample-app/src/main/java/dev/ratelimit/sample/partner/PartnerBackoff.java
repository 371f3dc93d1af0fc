package dev.ratelimit.sample.partner;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.Scheduled;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.AdaptiveController;
import dev.ratelimit.adaptive.AdaptiveListener;
import dev.ratelimit.adaptive.ChangeReason;
import dev.ratelimit.adaptive.Severity;

/**
 * Adapts the {@code partner} limiter to the partner's hidden limit: each 429 halves the rate (at
 * most once a second), and after five quiet seconds the rate climbs back a tenth of the configured
 * rate at a time. The limiter is global, so the lowered rate is every instance's.
 */
@Configuration(proxyBeanMethods = false)
public class PartnerBackoff {

	/** The limiter adapted, as declared under {@code ratelimit.limiters}. */
	public static final String LIMITER = "partner";

	private static final Log logger = LogFactory.getLog(PartnerBackoff.class);

	private final AdaptiveController controller;

	PartnerBackoff(RateLimiterRegistry registry) {
		this.controller = AdaptiveController.builder(registry.limiter(LIMITER)).listener(new AdaptiveListener() {

			@Override
			public void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
				logger.info("Partner rate " + previous + " -> " + current + " (" + reason + ")");
			}

		}).build();
	}

	@Bean
	AdaptiveController partnerAdaptiveController() {
		return this.controller;
	}

	/**
	 * Takes a recovery step when one is due.
	 */
	@Scheduled(fixedRate = 1000)
	void evaluate() {
		this.controller.evaluate();
	}

}
