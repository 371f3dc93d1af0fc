/**
 * Micrometer observations of permit acquisitions: names, tags and the context a custom
 * {@link dev.ratelimit.spring.observation.RateLimitObservationConvention} reads. Recorded only
 * when the application has an {@code ObservationRegistry} bean.
 */
package dev.ratelimit.spring.observation;
