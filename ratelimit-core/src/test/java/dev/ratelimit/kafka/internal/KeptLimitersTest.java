package dev.ratelimit.kafka.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

import static org.assertj.core.api.Assertions.assertThat;

/** The keeper's sets of limiters: a limiter in one set at a time, walks that may remove as they go. */
class KeptLimitersTest {

	private final KafkaRateLimiterColdTest.FakeLink link = new KafkaRateLimiterColdTest.FakeLink();

	private KafkaRateLimiter limiter(int i) {
		return new KafkaRateLimiter("api[t" + i + "]", true,
				RateLimit.tokenBucket(Rate.perSecond(10)).capacity(20).build(), Ticker.system(), Scheduler.system(),
				RateLimiterListener.NONE, this.link);
	}

	@Test
	void aLimiterMovesBetweenSetsAndIsNeverInTwo() {
		KeptLimiters everyPass = new KeptLimiters();
		KeptLimiters atReports = new KeptLimiters();
		KafkaRateLimiter one = limiter(1);
		everyPass.add(one);
		everyPass.add(one);
		assertThat(everyPass.size()).isEqualTo(1);
		atReports.add(one);
		assertThat(everyPass.size()).isZero();
		assertThat(everyPass.contains(one)).isFalse();
		assertThat(atReports.contains(one)).isTrue();
		atReports.remove(one);
		everyPass.remove(one); // not there: nothing happens
		assertThat(atReports.size()).isZero();
		assertThat(one.keptIn).isNull();
	}

	@Test
	void aWalkThatRemovesAsItGoesVisitsEveryLimiterOnceAndTheSetShrinksBack() {
		SplittableRandom random = new SplittableRandom(42);
		KeptLimiters kept = new KeptLimiters();
		List<KafkaRateLimiter> all = new ArrayList<>();
		for (int i = 0; i < 20_000; i++) {
			KafkaRateLimiter limiter = limiter(i);
			all.add(limiter);
			kept.add(limiter);
		}
		Set<KafkaRateLimiter> visited = new HashSet<>();
		Set<KafkaRateLimiter> left = new HashSet<>();
		for (int i = 0; i < kept.size();) {
			KafkaRateLimiter limiter = kept.get(i);
			assertThat(visited.add(limiter)).as("visited once (seed 42)").isTrue();
			if (random.nextInt(4) != 0) {
				kept.remove(limiter);
			}
			else {
				left.add(limiter);
				i++;
			}
		}
		assertThat(visited).hasSize(all.size());
		assertThat(kept.size()).isEqualTo(left.size());
		for (int i = 0; i < kept.size(); i++) {
			assertThat(left).contains(kept.get(i));
			assertThat(kept.get(i).keptIndex).isEqualTo(i);
		}
		for (KafkaRateLimiter limiter : left) {
			kept.remove(limiter);
		}
		assertThat(kept.size()).isZero();
		all.forEach((limiter) -> assertThat(limiter.keptIn).isNull());
	}

}
