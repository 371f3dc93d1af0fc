/**
 * The starter's periodic background tasks, on schedulers built the way the application configures
 * Spring Boot's task scheduling.
 */
package dev.ratelimit.spring.scheduling;
