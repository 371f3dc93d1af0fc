/**
 * Runtime rules applied to the application's limiters on every instance: see
 * {@link dev.ratelimit.spring.rules.RateLimitRules}.
 */
@NullMarked
package dev.ratelimit.spring.rules;

import org.jspecify.annotations.NullMarked;
