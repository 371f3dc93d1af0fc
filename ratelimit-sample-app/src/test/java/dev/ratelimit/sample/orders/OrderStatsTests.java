package dev.ratelimit.sample.orders;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The counts the dashboard and the end-to-end test read.
 */
class OrderStatsTests {

	private final OrderStats stats = new OrderStats();

	@Test
	void countsProcessedOrdersPerTenantAndKeepsTheHighestOffsetPerPartition() {
		this.stats.recordAccepted();
		this.stats.recordAccepted();
		this.stats.recordProcessed(order("acme"), 0, 7, 0);
		this.stats.recordProcessed(order("acme"), 0, 3, 1);
		this.stats.recordProcessed(order("globex"), 1, 4, 2);
		assertThat(this.stats.accepted()).isEqualTo(2);
		assertThat(this.stats.processed()).isEqualTo(3);
		assertThat(this.stats.processedByTenant()).containsExactly(Map.entry("acme", 2L),
				Map.entry("globex", 1L));
		assertThat(this.stats.lastOffsets()).containsEntry(0, 7L).containsEntry(1, 4L);
	}

	@Test
	void keepsTheTimesOfTheLatestProcessedOrdersOnly() {
		for (int i = 0; i < OrderStats.MAX_TIMES + 10; i++) {
			this.stats.recordProcessed(order("acme"), 0, i, i);
		}
		assertThat(this.stats.processedTimes()).hasSize(OrderStats.MAX_TIMES).startsWith(10L);
		assertThat(this.stats.processed()).isEqualTo(OrderStats.MAX_TIMES + 10);
		// all within a second of each other
		assertThat(this.stats.maxProcessedInOneSecond()).isEqualTo(OrderStats.MAX_TIMES);
	}

	@Test
	void theBusiestSecondIsCountedOverASlidingWindowOfLessThanASecond() {
		long second = 1_000_000_000L;
		long base = -5 * second; // nanoTime readings can be negative
		for (long at : new long[] { 0, second / 2, second - 1, second, second + second / 2, 3 * second }) {
			this.stats.recordProcessed(order("acme"), 0, 0, base + at);
		}
		// a window ending at a time t holds (t - 1 s, t]: never both 0.5 s and 1.5 s, nor 0 and 1 s
		assertThat(this.stats.maxProcessedInOneSecond()).isEqualTo(3);
	}

	@Test
	void theBusiestSecondOfNothingIsZero() {
		assertThat(this.stats.maxProcessedInOneSecond()).isZero();
	}

	private static Order order(String tenant) {
		return new Order("id", tenant, "book", 1, Instant.EPOCH);
	}

}
