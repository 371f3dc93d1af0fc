/**
 * The starter's settings and their mapping to core objects, free of Spring's bean machinery: the
 * bound {@code ratelimit.*} properties, the limiter definitions built from them, and the exception
 * that reports a wrong value at start-up. The auto-configurations and the integrations
 * ({@code aop}, {@code adaptive}, {@code kafka}) import from here.
 */
package dev.ratelimit.spring.config;
