package dev.ratelimit.adaptive;

import dev.ratelimit.Rate;

/**
 * Receives an {@link AdaptiveController}'s changes, for logs and metrics. The default methods do
 * nothing.
 *
 * <p>Called after the change is in force and visible in {@link AdaptiveController#state()}, one
 * call at a time and in order, while the controller holds its lock: implementations must be fast
 * and must not block. A severity change that also lowers the rate is reported first as a severity
 * change, then as a rate change.
 */
public interface AdaptiveListener {

	/** A listener that ignores everything. */
	AdaptiveListener NONE = new AdaptiveListener() {
	};

	/**
	 * The rate changed.
	 * @param previous the rate before
	 * @param current the rate now in force
	 * @param severity the severity now
	 * @param reason why it changed; the free-text detail is in {@link AdaptiveState#lastDetail()}
	 */
	default void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
	}

	/**
	 * The severity changed.
	 * @param previous the severity before
	 * @param current the severity now
	 * @param reason {@link ChangeReason#LAG}, {@link ChangeReason#LOAD} or {@link ChangeReason#RESET}
	 */
	default void onSeverityChanged(Severity previous, Severity current, ChangeReason reason) {
	}

}
