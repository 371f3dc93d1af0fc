/**
 * Spring Boot integration for ratelimit.
 */
package dev.ratelimit.spring;
