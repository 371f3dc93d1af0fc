package dev.ratelimit.sample.orders;

import java.time.Instant;

/**
 * An accepted order, as written to the {@code orders} topic.
 *
 * @param id the id given when the order was accepted
 * @param tenant the tenant, from the {@code X-Tenant} header
 * @param item what was ordered
 * @param quantity how many
 * @param acceptedAt when the order was accepted
 */
public record Order(String id, String tenant, String item, int quantity, Instant acceptedAt) {

}
