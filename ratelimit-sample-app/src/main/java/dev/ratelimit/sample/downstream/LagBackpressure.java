package dev.ratelimit.sample.downstream;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.Scheduled;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.AdaptiveConfig;
import dev.ratelimit.adaptive.AdaptiveController;
import dev.ratelimit.adaptive.AdaptiveListener;
import dev.ratelimit.adaptive.ChangeReason;
import dev.ratelimit.adaptive.Severity;
import dev.ratelimit.sample.SampleProperties;
import dev.ratelimit.sample.orders.Topics;

/**
 * Slows the drain when the downstream falls behind: every second, the lag of the group
 * {@code warehouse} on {@code shipments} (which the drain produces to) sets the severity of the
 * adaptive {@code drain} limiter, and each severity caps its rate (warning 80%, critical 10%,
 * emergency 1% of the configured rate). Once the lag falls below the recovery threshold, the rate
 * climbs back a tenth at a time. Also keeps the latest lag of both consumer groups for the
 * dashboard.
 */
@Configuration(proxyBeanMethods = false)
public class LagBackpressure {

	/** The limiter adapted, as declared under {@code ratelimit.limiters}. */
	public static final String LIMITER = "drain";

	private static final Log logger = LogFactory.getLog(LagBackpressure.class);

	private final ConsumerLagProbe probe;

	private final AdaptiveController controller;

	private volatile long warehouseLag = -1;

	private volatile long ordersLag = -1;

	LagBackpressure(RateLimiterRegistry registry, ConsumerLagProbe probe, SampleProperties properties) {
		this.probe = probe;
		SampleProperties.Backpressure settings = properties.backpressure();
		AdaptiveConfig config = AdaptiveConfig.builder()
			.warningLag(settings.warningLag())
			.criticalLag(settings.criticalLag())
			.emergencyLag(settings.emergencyLag())
			.recoveryLag(settings.recoveryLag())
			.recoveryInterval(settings.recoveryInterval())
			.build();
		this.controller = AdaptiveController.builder(registry.limiter(LIMITER))
			.config(config)
			.listener(new AdaptiveListener() {

				@Override
				public void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
					logger.info("Drain rate " + previous + " -> " + current + " (" + severity + ", " + reason + ")");
				}

			})
			.build();
	}

	@Bean
	AdaptiveController drainAdaptiveController() {
		return this.controller;
	}

	/**
	 * Reads both groups' lag, reports the downstream's to the controller, and lets it recover.
	 */
	@Scheduled(fixedRate = 1000)
	void observe() {
		this.ordersLag = this.probe.lag(Topics.ORDERS_GROUP, Topics.ORDERS);
		long lag = this.probe.lag(Topics.WAREHOUSE_GROUP, Topics.SHIPMENTS);
		this.warehouseLag = lag;
		if (lag >= 0) {
			this.controller.onLag(lag);
		}
		this.controller.evaluate();
	}

	/**
	 * Returns the latest lag of the downstream group {@code warehouse} on {@code shipments}.
	 * @return records behind, -1 before the first reading
	 */
	public long warehouseLag() {
		return this.warehouseLag;
	}

	/**
	 * Returns the latest lag of the drain ({@code sample-orders} on {@code orders}).
	 * @return records behind, -1 before the first reading
	 */
	public long ordersLag() {
		return this.ordersLag;
	}

}
