/**
 * Operations support for rate limiting: the {@code ratelimits} actuator endpoint, Micrometer
 * meters fed by limiter events, and the {@code ratelimit} health indicator with its backend SPI.
 *
 * <p>Every type here is optional: it is used only when the application has Spring Boot's
 * actuator, Micrometer or health modules, and nothing else in the starter refers to it.
 */
package dev.ratelimit.spring.actuate;
