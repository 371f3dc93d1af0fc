package dev.ratelimit.kafka;

/**
 * What an instance's Kafka backend counted since it started.
 *
 * @param requestsSent lease requests, returns, updates and probes sent
 * @param reportsSent reports of permits admitted locally for cold keys
 * @param batchesSent records sent to the request topic carrying a partition's requests and report
 * @param grantsReceived answers received for this instance's limiters
 * @param sendFailures records Kafka refused or did not acknowledge in time
 * @param malformedRecords records (or entries of one) skipped: unreadable, out of bounds, or a grant
 * whose limiter's listener threw
 * @param degradedTransitions times one of its limiters moved to its degraded policy (no answer in
 * time, or a request Kafka did not take)
 * @param limiters limiters the backend keeps now (named ones and per-key ones in use)
 * @param leasingLimiters limiters the backend's keeper walks now (named ones, and keys that lease)
 */
public record BackendCounters(long requestsSent, long reportsSent, long batchesSent, long grantsReceived,
		long sendFailures, long malformedRecords, long degradedTransitions, int limiters, int leasingLimiters) {
}
