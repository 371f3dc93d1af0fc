package dev.ratelimit.kafka.internal;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.internal.Limiters;
import dev.ratelimit.internal.PooledRateLimiter;
import dev.ratelimit.test.ManualClock;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The regimes of a global limiter's client and their moves, alone: pure functions of a value, on a
 * manual clock for the buckets they hold.
 */
class RegimeTest {

	private final ManualClock clock = new ManualClock();

	private PooledRateLimiter bucket(double perSecond, long capacity, long initial) {
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(perSecond)).capacity(capacity).initialPermits(initial).build();
		return (PooledRateLimiter) Limiters.create("b", limit, this.clock, this.clock, RateLimiterListener.NONE);
	}

	@Test
	void aColdKeyLeavesForLeasesKeepingWhatIsLeftOfItsPartUnlessTheAuthoritySaidTheBucketRanLow() {
		PooledRateLimiter part = bucket(5, 10, 10);
		Regime cold = Regime.cold(part);
		assertThat(cold.cold).isTrue();
		Regime outgrown = cold.leftCold();
		assertThat(outgrown.cold).isFalse();
		assertThat(outgrown.allowance).isSameAs(part);
		Regime noticed = cold.noticed();
		assertThat(noticed.cold).isFalse();
		assertThat(noticed.allowance).isNull();
		// once leasing, neither moves it again (a late notice after the allowance ran out)
		assertThat(outgrown.leftCold()).isSameAs(outgrown);
		assertThat(outgrown.noticed()).isSameAs(outgrown);
		assertThat(cold).matches((unchanged) -> unchanged.cold && unchanged.allowance == part, "unchanged");
	}

	@Test
	void degradedDropsTheAllowanceAndTheShareBetweenAnswersAndStartsAnEmptyLocalShareOnce() {
		Regime.Share between = new Regime.Share(bucket(5, 5, 0), this.clock.read());
		Regime leasing = Regime.LEASING.granted(between, null).withAllowance(bucket(5, 10, 3));
		PooledRateLimiter localShare = bucket(5, 10, 0);
		Regime degraded = leasing.failed("no grant within 2000 ms", localShare);
		assertThat(degraded.degraded).isTrue();
		assertThat(degraded.reason).isEqualTo("no grant within 2000 ms");
		assertThat(degraded.allowance).isNull();
		assertThat(degraded.between).isNull();
		assertThat(degraded.fallback).isSameAs(localShare);
		assertThat(degraded.bridging()).isFalse();
		// failing again keeps the local share it spends (a new, empty one would deny what it holds)
		Regime again = degraded.failed("request not sent: timeout", bucket(5, 10, 0));
		assertThat(again.fallback).isSameAs(localShare);
		assertThat(again.reason).isEqualTo("request not sent: timeout");
	}

	@Test
	void aLateRequestIsBridgedOnTheLocalShareWhichGoesOnIfTheLimiterDegrades() {
		assertThat(Regime.LEASING.mayBridge()).isTrue();
		PooledRateLimiter bridge = bucket(5, 10, 0);
		Regime bridging = Regime.LEASING.bridged(bridge);
		assertThat(bridging.bridging()).isTrue();
		assertThat(bridging.mayBridge()).isFalse();
		assertThat(bridging.mayTakeAllowance()).as("the share since the grant is spent on the bridge").isFalse();
		Regime degraded = bridging.failed("no grant within 2000 ms", bucket(5, 10, 0));
		assertThat(degraded.fallback).isSameAs(bridge);
		// a per-key limiter spending its share between answers is never bridged on top of it
		Regime keyed = Regime.LEASING.granted(new Regime.Share(bucket(5, 5, 0), this.clock.read()), null);
		assertThat(keyed.mayBridge()).isFalse();
		assertThat(keyed.mayTakeAllowance()).isFalse();
	}

	@Test
	void aGrantEndsDegradedAndBridgingAndBringsTheNextShareOrAllowance() {
		Regime degraded = Regime.LEASING.failed("request not sent: broker down", bucket(5, 10, 0));
		Regime.Share between = new Regime.Share(bucket(5, 5, 1), this.clock.read());
		Regime keyed = degraded.granted(between, null);
		assertThat(keyed.degraded).isFalse();
		assertThat(keyed.reason).isNull();
		assertThat(keyed.fallback).isNull();
		assertThat(keyed.between).isSameAs(between);
		PooledRateLimiter allowance = bucket(5, 10, 4);
		Regime named = Regime.LEASING.bridged(bucket(5, 10, 0)).granted(null, allowance);
		assertThat(named.bridging()).isFalse();
		assertThat(named.allowance).isSameAs(allowance);
		// an idle per-key limiter stops spending its share between answers; may take an allowance again
		Regime idle = keyed.withoutBetween();
		assertThat(idle.between).isNull();
		assertThat(idle.mayTakeAllowance()).isTrue();
		assertThat(idle.withoutBetween()).isSameAs(idle);
		assertThat(idle.withAllowance(null)).isSameAs(idle);
	}

	@Test
	void aShareMarkedDryDeniesUntilItsNextPermitAccruesAndLosesNone() {
		Regime.Share share = new Regime.Share(bucket(4, 4, 1), this.clock.read()); // a permit every 250 ms
		assertThat(share.spend(1, this.clock.read())).isTrue();
		assertThat(share.spend(1, this.clock.read())).isFalse();
		assertThat(share.dryUntilNanos()).isEqualTo(this.clock.read() + 250_000_000L);
		long admitted = 0;
		for (int ms = 1; ms <= 1_000; ms++) {
			this.clock.advance(Duration.ofMillis(1));
			admitted += share.spend(1, this.clock.read()) ? 1 : 0;
		}
		assertThat(admitted).as("one second at 4/s").isEqualTo(4);
		// a larger call denied leaves no mark: the permit accrued goes to the next single call
		this.clock.advance(Duration.ofMillis(250));
		long mark = share.dryUntilNanos();
		assertThat(share.spend(2, this.clock.read())).isFalse();
		assertThat(share.dryUntilNanos()).isEqualTo(mark);
		assertThat(share.spend(1, this.clock.read())).isTrue();
	}

	@Test
	void aShareOnATickerWithANegativeReadingAdmitsWhatItHolds() {
		ManualClock negative = new ManualClock(-1_000_000_000_000L); // a ticker's origin is arbitrary
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(5)).capacity(5).initialPermits(5).build();
		Regime.Share share = new Regime.Share(
				(PooledRateLimiter) Limiters.create("b", limit, negative, negative, RateLimiterListener.NONE), negative.read());
		int admitted = 0;
		for (int call = 0; call < 10; call++) {
			admitted += share.spend(1, negative.read()) ? 1 : 0;
		}
		assertThat(admitted).isEqualTo(5);
	}

}
