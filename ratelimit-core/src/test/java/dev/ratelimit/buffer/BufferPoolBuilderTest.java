package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * What a component that wraps a pool's builder relies on: a copy with another handler, the bounds
 * read back from the pool, and the setting named by a rejected value.
 */
class BufferPoolBuilderTest {

	private final ManualClock clock = new ManualClock();

	@Test
	void whenCopiedWithAnotherHandlerThenThePoolHasTheSameSettingsAndLaterChangesDoNotReachTheCopy() {
		List<List<Integer>> first = new ArrayList<>();
		List<List<Integer>> second = new ArrayList<>();
		BufferPool.Builder<Integer> builder = BufferPool.<Integer>builder(first::add)
			.maxItems(7)
			.maxBytes(70)
			.sizeInBytes((item) -> 10)
			.maxBatchSize(2)
			.closeTimeout(Duration.ofSeconds(3))
			.ticker(this.clock)
			.scheduler(this.clock)
			.executor(Runnable::run);
		BufferPool.Builder<Integer> copy = builder.withHandler(second::add);
		builder.maxItems(5);
		BufferPool<Integer> pool = copy.build();
		assertThat(pool.maxItems()).isEqualTo(7);
		assertThat(pool.maxBytes()).isEqualTo(70);
		assertThat(pool.closeTimeout()).isEqualTo(Duration.ofSeconds(3));
		pool.offer(1);
		pool.offer(2);
		assertThat(second).containsExactly(List.of(1, 2));
		assertThat(first).isEmpty();
		assertThat(builder.build().maxItems()).isEqualTo(5);
	}

	@Test
	void whenAValueIsRejectedThenTheExceptionNamesItsSettingAndValue() {
		BufferPool.Builder<Integer> builder = BufferPool.<Integer>builder((batch) -> {
		}).maxItems(10).maxBatchSize(11);
		assertThatExceptionOfType(InvalidBufferSettingException.class).isThrownBy(builder::build)
			.satisfies((ex) -> {
				assertThat(ex.setting()).isEqualTo("maxBatchSize");
				assertThat(ex.value()).isEqualTo(11L);
			});
	}

}
