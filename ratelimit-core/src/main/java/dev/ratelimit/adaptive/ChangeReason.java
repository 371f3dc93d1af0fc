package dev.ratelimit.adaptive;

/**
 * Why an {@link AdaptiveController} changed its rate or severity. A small closed set, so it can be
 * a metric tag.
 */
public enum ChangeReason {

	/** {@link AdaptiveController#reduce(String)}: a "back off" signal such as an HTTP 429. */
	DECREASE_SIGNAL,

	/** {@link AdaptiveController#onLag(long)}: a severity was entered or left. */
	LAG,

	/** {@link AdaptiveController#onLoad(String, double)}: a load signal's level was entered or left. */
	LOAD,

	/** {@link AdaptiveController#onUtilization(double)}: above the high or below the low watermark. */
	UTILIZATION,

	/** {@link AdaptiveController#evaluate()}: a recovery step toward the ceiling. */
	RECOVERY,

	/**
	 * The ceiling was set, when the controller was created or through
	 * {@link AdaptiveController#ceiling(dev.ratelimit.Rate)}.
	 */
	CEILING,

	/** {@link AdaptiveController#reset()}. */
	RESET,

	/**
	 * {@link AdaptiveController#observe(dev.ratelimit.Rate)}: another instance changed the shared
	 * rate, and this controller took it on.
	 */
	SHARED

}
