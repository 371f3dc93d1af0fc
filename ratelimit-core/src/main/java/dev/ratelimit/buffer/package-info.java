/**
 * A bounded buffer that hands items to a handler in batches: {@link dev.ratelimit.buffer.BufferPool}
 * flushes by size or age, applies backpressure when full, paces flushes through a
 * {@link dev.ratelimit.RateLimiter}, retries failed flushes without losing or reordering items,
 * and flushes what it holds on close.
 */
package dev.ratelimit.buffer;
