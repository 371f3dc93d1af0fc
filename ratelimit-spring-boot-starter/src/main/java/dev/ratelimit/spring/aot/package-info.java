/**
 * What Spring's ahead-of-time processing needs to know of the starter for a native image: the
 * types its SpEL expressions, bound settings and actuator payloads reach by reflection, and the
 * exception classes named by {@code reduce-on}.
 */
@NullMarked
package dev.ratelimit.spring.aot;

import org.jspecify.annotations.NullMarked;
