package dev.ratelimit.spring.kafka;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.TopicPartition;

import org.springframework.kafka.listener.MessageListenerContainer;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.Scheduler;

/**
 * Pauses partitions of a listener container until a denial's retry-after, and resumes only the
 * pauses it made.
 *
 * <p>Pausing and resuming go through the container ({@code pausePartition} and
 * {@code resumePartition}), which only records requests; the consumer thread carries them out
 * before its next poll, and a resume wakes a consumer blocked in a poll. So nothing here touches
 * the consumer, and resumes may run on the scheduler's thread.
 *
 * <p>Each pause holds a token; a resume acts only if its token is still the current one, so a
 * later, longer pause of the same partition is not cut short by an earlier resume. A partition
 * that was pause-requested when no pause of ours was current belongs to the application, which
 * resumes it itself. Thread-safe.
 */
final class PartitionPauses {

	/** Resume delay when the limiter cannot tell (a concurrency limit waits for a release). */
	static final long UNKNOWN_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final Scheduler scheduler;

	private final ConcurrentMap<Paused, Object> current = new ConcurrentHashMap<>();

	PartitionPauses(Scheduler scheduler) {
		this.scheduler = scheduler;
	}

	/**
	 * Returns how long a denial asks to wait before trying again.
	 * @param denied the denial
	 * @return the retry-after in nanoseconds
	 */
	static long retryNanos(RateLimitExceededException denied) {
		return retryNanos(denied.getDecision());
	}

	/**
	 * Returns how long a refusal asks to wait before trying again.
	 * @param refused the refusal
	 * @return the retry-after in nanoseconds
	 */
	static long retryNanos(Decision refused) {
		long retryNanos = refused.retryAfterNanos();
		return (retryNanos == Long.MAX_VALUE) ? UNKNOWN_RETRY_NANOS : retryNanos;
	}

	void pause(MessageListenerContainer container, Collection<TopicPartition> partitions, long delay) {
		for (TopicPartition partition : partitions) {
			Paused paused = new Paused(container, partition);
			Object token = new Object();
			Object previous = this.current.put(paused, token);
			if (previous == null && container.isPartitionPauseRequested(partition)) {
				this.current.remove(paused, token);
				continue;
			}
			container.pausePartition(partition);
			this.scheduler.schedule(() -> resume(paused, token), delay);
		}
	}

	private void resume(Paused paused, Object token) {
		if (this.current.remove(paused, token)) {
			paused.container().resumePartition(paused.partition());
		}
	}

	/**
	 * A partition of a container. Containers compare by identity.
	 *
	 * @param container the container
	 * @param partition the partition
	 */
	private record Paused(MessageListenerContainer container, TopicPartition partition) {

		@Override
		public boolean equals(Object other) {
			return (other instanceof Paused that) && this.container == that.container
					&& this.partition.equals(that.partition);
		}

		@Override
		public int hashCode() {
			return System.identityHashCode(this.container) * 31 + this.partition.hashCode();
		}

	}

}
