/**
 * Adaptive control of a rate: an {@link dev.ratelimit.adaptive.AdaptiveController} lowers the
 * rate of a limiter (or of any {@link dev.ratelimit.adaptive.RateTarget}) when the system
 * downstream signals overload, and brings it back, step by step, to the configured ceiling once
 * the signals stop.
 *
 * <p>Signals are HTTP 429 responses (or any other "back off"), consumer lag and utilization. The
 * controller only computes the rate; applying it is the target's job, so the same controller
 * drives a local limiter or a limit shared by many instances.
 */
package dev.ratelimit.adaptive;
