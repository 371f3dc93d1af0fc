package dev.ratelimit.buffer;

/**
 * Counters of a {@link BufferPool} since it was built, read together at one instant. They only
 * grow, so they suit counters in a metrics system.
 *
 * @param offered items accepted by an offer
 * @param refused offers refused for lack of room (a timed offer counts once, when it gives up)
 * @param flushed items delivered by the handler
 * @param batches batches delivered by the handler
 * @param failedAttempts handler calls (or permit waits) that failed and were retried
 */
public record BufferStats(long offered, long refused, long flushed, long batches, long failedAttempts) {

}
