package dev.ratelimit.kafka.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;
import dev.ratelimit.kafka.DegradedPolicy;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cold regime of a per-key global limiter, alone: a fake link stands for the runtime and Kafka.
 */
class KafkaRateLimiterColdTest {

	private static final RateLimit LIMIT = RateLimit.tokenBucket(Rate.perSecond(10)).capacity(20).build();

	private final FakeLink link = new FakeLink();

	private KafkaRateLimiter tenant() {
		return new KafkaRateLimiter("api[t]", true, LIMIT, Ticker.system(), Scheduler.system(), RateLimiterListener.NONE,
				this.link);
	}

	@Test
	void aNewKeyAdmitsItsPartOfTheBucketAtOnceAndQueuesOneReport() {
		this.link.fleet = 2;
		KafkaRateLimiter tenant = tenant();
		int admitted = 0;
		for (int i = 0; i < 10; i++) {
			admitted += tenant.tryAcquire() ? 1 : 0;
		}
		assertThat(admitted).isEqualTo(10); // capacity 20 over 2 instances
		assertThat(this.link.reported).containsExactly(tenant); // queued once, not per call
		assertThat(this.link.sent).isEmpty(); // no request per call
		assertThat(tenant.isAtRest()).isFalse(); // permits to report
		long[] report = tenant.takeColdReport(System.nanoTime());
		assertThat(report[0]).isEqualTo(10);
		assertThat(tenant.snapshot().details()).containsEntry("regime", "cold");
	}

	@Test
	void anInstanceThatNeedsMoreThanItsPartMovesToLeasesAndReportsWhatItAdmitted() {
		this.link.fleet = 2;
		KafkaRateLimiter tenant = tenant();
		for (int i = 0; i < 10; i++) {
			tenant.tryAcquire();
		}
		assertThat(tenant.tryAcquire()).isFalse(); // the allowance is spent: no lease yet, denied
		assertThat(tenant.isCold()).isFalse();
		assertThat(this.link.nudged).contains(tenant);
		tenant.keep(System.nanoTime(), Duration.ofSeconds(2).toNanos(), Duration.ofSeconds(10).toNanos(), 0.5);
		Messages.Request lease = this.link.sent.get(0);
		assertThat(lease.type()).isEqualTo(Messages.LEASE);
		assertThat(lease.want()).isPositive();
		assertThat(lease.spentTotal()).isEqualTo(10); // the cold permits, debited through the lease path
		assertThat(lease.incarnation()).isEqualTo(tenant.incarnation);
		assertThat(tenant.takeColdReport(System.nanoTime())[0]).isZero(); // not reported twice
	}

	@Test
	void coldPermitsGoToTheLeasePathWithTheTimeTheyWereSpentAndTheDemandTheyShowed() {
		long[] clock = { 5_000_000_000L };
		this.link.fleet = 2;
		KafkaRateLimiter tenant = new KafkaRateLimiter("api[t]", true, LIMIT, () -> clock[0], Scheduler.system(),
				RateLimiterListener.NONE, this.link);
		long firstPermit = clock[0];
		int admitted = 0;
		// a call every 100 ms: 10/s against an allowance of 10 refilling at 5/s runs out after about 2 s
		while (tenant.tryAcquire()) {
			admitted++;
			clock[0] += 100_000_000L;
		}
		assertThat(tenant.isCold()).isFalse();
		tenant.keep(clock[0], Duration.ofSeconds(2).toNanos(), Duration.ofSeconds(10).toNanos(), 0.5);
		Messages.Request lease = this.link.sent.get(0);
		assertThat(lease.spentTotal()).isEqualTo(admitted);
		// debited as of the first cold permit, not as of the move to leases two seconds later
		assertThat(this.link.spentSinceNanos).isEqualTo(firstPermit);
		// the demand the cold regime showed (10/s), not an average over time the keeper never walked
		assertThat(lease.demand()).isGreaterThan(9.0);
	}

	@Test
	void aNoticeThatTheBucketRanLowMovesTheKeyToLeasesAndStopsTheAllowance() {
		KafkaRateLimiter tenant = tenant();
		tenant.onGrant(new Messages.Grant("api[t]", "i", tenant.incarnation, 0, 0, 5_000,
				KafkaRateLimiter.spec(LIMIT), 0, 0, 2, 3, 0), System.nanoTime());
		assertThat(tenant.isCold()).isFalse();
		assertThat(tenant.tryAcquire()).isFalse(); // no allowance once the bucket ran low: a lease decides
		assertThat(this.link.nudged).contains(tenant);
	}

	@Test
	void theDegradedPolicyDecidesForColdKeysWhileKafkaIsUnreachable() {
		this.link.unreachable = true;
		this.link.policy = DegradedPolicy.FAIL_CLOSED;
		assertThat(tenant().tryAcquire()).isFalse();
		this.link.policy = DegradedPolicy.FAIL_OPEN;
		KafkaRateLimiter open = tenant();
		for (int i = 0; i < 100; i++) {
			assertThat(open.tryAcquire()).isTrue();
		}
		this.link.policy = DegradedPolicy.LOCAL_SHARE;
		KafkaRateLimiter local = tenant();
		int admitted = 0;
		for (int i = 0; i < 100; i++) {
			admitted += local.tryAcquire() ? 1 : 0;
		}
		assertThat(admitted).isEqualTo(20); // its part (one instance known) and no more
	}

	@Test
	void aFailedReportIsCarriedByTheNextOne() {
		KafkaRateLimiter tenant = tenant();
		tenant.tryAcquire();
		long spent = tenant.takeColdReport(System.nanoTime())[0];
		this.link.reported.clear();
		tenant.reportFailed(spent);
		assertThat(this.link.reported).containsExactly(tenant);
		assertThat(tenant.takeColdReport(System.nanoTime())[0]).isEqualTo(1);
	}

	@Test
	void aCallForMorePermitsThanThePartHoldsIsNotAdmittedColdButLeases() {
		this.link.fleet = 2;
		KafkaRateLimiter tenant = tenant();
		assertThat(tenant.tryAcquire(11)).isFalse(); // the part is 10: never 10 taken and 11 admitted
		assertThat(tenant.isCold()).isFalse();
		assertThat(tenant.takeColdReport(System.nanoTime())[0]).isZero();
	}

	@Test
	void aGrantIsBoundedByTheRequestItAnswersAndAForgedOneIsIgnored() {
		KafkaRateLimiter named = new KafkaRateLimiter("api", false, LIMIT, Ticker.system(), Scheduler.system(),
				RateLimiterListener.NONE, this.link);
		named.tryAcquire(); // nudges the keeper
		named.keep(System.nanoTime(), Duration.ofSeconds(2).toNanos(), Duration.ofSeconds(10).toNanos(), 0.5);
		Messages.Request lease = this.link.sent.get(this.link.sent.size() - 1);
		Messages.Spec spec = KafkaRateLimiter.spec(LIMIT);
		// a grant for a request never sent, with the largest sequence: ignored, and later ones still count
		named.onGrant(new Messages.Grant("api", "i", named.incarnation, Long.MAX_VALUE, 20, 5_000, spec, 0, 5, 1, 0, 0),
				System.nanoTime());
		assertThat(named.snapshot().details()).containsEntry("leased", 0L);
		// the real answer, claiming more than was asked and an endless lease
		named.onGrant(new Messages.Grant("api", "i", named.incarnation, lease.seq(), 1_000_000, Long.MAX_VALUE, spec,
				0, 5, 1, 0, 0), System.nanoTime());
		assertThat((Long) named.snapshot().details().get("leased")).isEqualTo(lease.want());
		assertThat((Long) named.snapshot().details().get("leaseExpiresInMillis"))
			.isLessThanOrEqualTo(KafkaRateLimiter.MAX_TTL_MILLIS);
	}

	@Test
	void aListenerThatThrowsOnALimitChangeLeavesTheGrantAppliedAndTheFailureToTheCaller() {
		long[] clock = { 1_000_000_000L };
		RateLimiterListener throwing = new RateLimiterListener() {
			@Override
			public void onLimitChanged(RateLimit previous, RateLimit current) {
				throw new AssertionError("a listener's bug");
			}
		};
		KafkaRateLimiter named = new KafkaRateLimiter("api", false, LIMIT, () -> clock[0], Scheduler.system(), throwing,
				this.link);
		named.tryAcquire(); // nudges the keeper
		named.keep(clock[0], Duration.ofSeconds(2).toNanos(), Duration.ofSeconds(10).toNanos(), 0.5);
		Messages.Request lease = this.link.sent.get(this.link.sent.size() - 1);
		named.enterDegraded("no answer"); // as after a request timeout
		RateLimit changed = RateLimit.tokenBucket(Rate.perSecond(20)).capacity(20).build();
		Messages.Grant grant = new Messages.Grant("api", "i", named.incarnation, lease.seq(), 5, 5_000,
				KafkaRateLimiter.spec(changed), 1, 20, 1, 15, 0);
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> named.onGrant(grant, clock[0]))
			.isInstanceOf(AssertionError.class)
			.hasMessage("a listener's bug"); // to the receiving thread, which counts it and goes on
		// the grant was applied all the same: the new limit, the lease, no longer degraded
		assertThat(named.limit()).isEqualTo(changed);
		assertThat(named.snapshot().details()).containsEntry("degraded", false);
		assertThat((Long) named.snapshot().details().get("leased")).isPositive(); // less what it admitted before
		assertThat(named.tryAcquire()).isTrue();
	}

	@Test
	void eachMoveToTheDegradedPolicyIsCountedOnce() {
		long[] clock = { 1_000_000_000L };
		KafkaRateLimiter named = new KafkaRateLimiter("api", false, LIMIT, () -> clock[0], Scheduler.system(),
				RateLimiterListener.NONE, this.link);
		named.tryAcquire(); // nudges the keeper
		named.keep(clock[0], Duration.ofSeconds(2).toNanos(), Duration.ofSeconds(10).toNanos(), 0.5);
		Messages.Request lease = this.link.sent.get(this.link.sent.size() - 1);
		named.enterDegraded("no answer");
		named.enterDegraded("still no answer"); // the same episode
		assertThat(this.link.degradedTransitions).isEqualTo(1);
		named.onGrant(new Messages.Grant("api", "i", named.incarnation, lease.seq(), 5, 5_000, KafkaRateLimiter.spec(LIMIT),
				0, 10, 1, 15, 0), clock[0]); // the episode ends
		named.enterDegraded("no answer again");
		assertThat(this.link.degradedTransitions).isEqualTo(2);
	}

	@Test
	void aNamedLimiterOnItsLocalShareAdmitsNPermitsOnlyWhenItHoldsN() {
		long[] clock = { 1_000_000_000L };
		this.link.fleet = 2;
		KafkaRateLimiter named = new KafkaRateLimiter("api", false, LIMIT, () -> clock[0], Scheduler.system(),
				RateLimiterListener.NONE, this.link);
		named.enterDegraded("Kafka unreachable"); // its local share starts empty and refills at 10/s over 2
		clock[0] += Duration.ofMillis(600).toNanos(); // 3 permits of its share
		assertThat(named.tryAcquire(5)).isFalse(); // never 3 taken and 5 admitted
		assertThat(named.tryAcquire(3)).isTrue(); // and the 3 are still there
		assertThat(named.tryAcquire()).isFalse();
	}

	@Test
	void aTenantThatLeasesAsksAgainAtTheNextReportNotAsSoonAsItsShareAccrues() {
		long start = System.nanoTime();
		long timeout = Duration.ofSeconds(2).toNanos();
		long idle = Duration.ofSeconds(10).toNanos();
		KafkaRateLimiter tenant = leasing(Ticker.system(), start);
		Messages.Request lease = lastSent();
		this.link.nextReportNanos = start + Duration.ofMillis(900).toNanos();
		// a short grant: 1 of the permits asked for, at a share of 5/s
		answer(tenant, lease, 1, 5, 2, 0, start);
		assertThat(tenant.tryAcquire()).isTrue();
		assertThat(tenant.tryAcquire()).isFalse(); // over its limit: denied, nudging the keeper
		int sent = this.link.sent.size();
		// a named limiter would ask again once half the rest accrued (at most 250 ms); a tenant that has
		// leased waits for the next report, so the leasing keys of a partition go in one record
		tenant.keep(start + Duration.ofMillis(300).toNanos(), timeout, idle, 0.5);
		tenant.keep(start + Duration.ofMillis(899).toNanos(), timeout, idle, 0.5);
		assertThat(this.link.sent).hasSize(sent);
		tenant.keep(start + Duration.ofMillis(900).toNanos(), timeout, idle, 0.5);
		assertThat(this.link.sent).hasSize(sent + 1);
		assertThat(this.link.sent.get(sent).type()).isEqualTo(Messages.LEASE);
	}

	@Test
	void betweenTwoAnswersATenantSpendsItsShareAsItAccruesAndReportsItWithTheNextRequest() {
		dev.ratelimit.test.ManualClock clock = new dev.ratelimit.test.ManualClock();
		long start = System.nanoTime();
		long timeout = Duration.ofSeconds(2).toNanos();
		long idle = Duration.ofSeconds(10).toNanos();
		KafkaRateLimiter tenant = leasing(clock, start);
		Messages.Request first = lastSent();
		this.link.nextReportNanos = start + Duration.ofSeconds(1).toNanos();
		// nothing granted (the bucket is spent), a share of 5/s
		answer(tenant, first, 0, 5, 2, 0, start);
		assertThat(tenant.tryAcquire()).isFalse(); // the share has not accrued yet
		clock.advance(Duration.ofMillis(400)); // 2 permits at 5/s
		assertThat(tenant.tryAcquire()).isTrue();
		assertThat(tenant.tryAcquire()).isTrue();
		assertThat(tenant.tryAcquire()).isFalse();
		assertThat(tenant.snapshot().details()).containsEntry("unreportedLocalPermits", 2L);
		tenant.keep(start + Duration.ofSeconds(1).toNanos(), timeout, idle, 0.5);
		Messages.Request next = lastSent();
		assertThat(next.seq()).isGreaterThan(first.seq());
		assertThat(next.spentTotal() - first.spentTotal()).isEqualTo(2); // debited by the authority
		assertThat(next.want()).isPositive();
	}

	@Test
	void aDeniedCallMarksTheShareDryUntilItsNextPermitAndThatPermitIsAdmittedOnTime() {
		dev.ratelimit.test.ManualClock clock = new dev.ratelimit.test.ManualClock();
		long start = System.nanoTime();
		KafkaRateLimiter tenant = leasing(clock, start);
		answer(tenant, lastSent(), 0, 5, 2, 0, start); // a share of 5/s: a permit every 200 ms
		for (int permit = 1; permit <= 3; permit++) {
			assertThat(tenant.tryAcquire()).isFalse(); // marks the share dry for 200 ms
			clock.advance(Duration.ofMillis(199));
			assertThat(admitted(tenant, 5)).as("permit %d before it accrued", permit).isZero();
			clock.advance(Duration.ofMillis(1));
			assertThat(tenant.tryAcquire()).as("permit %d once it accrued", permit).isTrue();
		}
		// a call for more permits than there are leaves no mark: the permit there goes to a smaller call
		clock.advance(Duration.ofMillis(200));
		assertThat(tenant.tryAcquire(2)).isFalse();
		assertThat(tenant.tryAcquire()).isTrue();
		assertThat(tenant.snapshot().details()).containsEntry("unreportedLocalPermits", 4L);
	}

	@Test
	void theShareBetweenAnswersIsCappedWhileOthersAreUncountedAndSlowedByADebt() {
		dev.ratelimit.test.ManualClock clock = new dev.ratelimit.test.ManualClock();
		long start = System.nanoTime();
		KafkaRateLimiter tenant = leasing(clock, start);
		Messages.Request first = lastSent();
		// the authority counts this instance alone (the other still admits cold) and gives it the whole
		// rate: between answers it spends at most the rate over the group's size, 5/s
		answer(tenant, first, 0, 10, 1, 0, start);
		clock.advance(Duration.ofMillis(400));
		assertThat(admitted(tenant, 10)).isEqualTo(2);
		this.link.nextReportNanos = start + Duration.ofSeconds(1).toNanos();
		tenant.keep(start + Duration.ofSeconds(1).toNanos(), Duration.ofSeconds(2).toNanos(),
				Duration.ofSeconds(10).toNanos(), 0.5);
		Messages.Request second = lastSent();
		// two instances counted, a share of 5/s, but the bucket owes 5: this instance's part of the debt
		// (half) is paid over the report interval, so it spends 2.5/s until the next answer
		answer(tenant, second, 0, 5, 2, -5, start);
		clock.advance(Duration.ofMillis(800));
		assertThat(admitted(tenant, 10)).isEqualTo(2);
	}

	@Test
	void aTenantThatLeasesIsWalkedAtReportsOnlyAndGivesItsLeaseUpAnIntervalEarly() {
		long start = System.nanoTime();
		long timeout = Duration.ofSeconds(2).toNanos();
		long idle = Duration.ofSeconds(10).toNanos();
		KafkaRateLimiter tenant = leasing(Ticker.system(), start);
		Messages.Request lease = lastSent();
		assertThat(tenant.walkedAtReportsOnly()).as("before its first answer it is walked every pass").isFalse();
		answer(tenant, lease, 4, 5, 2, 0, start); // a lease of 4 for 5 s
		assertThat(tenant.walkedAtReportsOnly()).isTrue();
		assertThat(tenant.snapshot().details()).containsEntry("leased", 4L);
		// walked once per report interval (1 s), it would see the expiry up to a second late: at the
		// walk less than an interval before it, the lease is given up
		long expiresIn = (Long) tenant.snapshot().details().get("leaseExpiresInMillis");
		this.link.nextReportNanos = Long.MAX_VALUE;
		tenant.keep(start + Duration.ofMillis(expiresIn - 1_100).toNanos(), timeout, idle, 0.5);
		assertThat(tenant.snapshot().details()).containsEntry("leased", 4L);
		tenant.keep(start + Duration.ofMillis(expiresIn - 900).toNanos(), timeout, idle, 0.5);
		assertThat(tenant.snapshot().details()).containsEntry("leased", 0L);
		KafkaRateLimiter named = new KafkaRateLimiter("api", false, LIMIT, Ticker.system(), Scheduler.system(),
				RateLimiterListener.NONE, this.link);
		assertThat(named.walkedAtReportsOnly()).isFalse();
	}

	/**
	 * A tenant of a group of two that spent its cold part and sent its first lease request at
	 * {@code start}.
	 */
	private KafkaRateLimiter leasing(Ticker ticker, long start) {
		this.link.fleet = 2;
		KafkaRateLimiter tenant = new KafkaRateLimiter("api[t]", true, LIMIT, ticker, Scheduler.system(),
				RateLimiterListener.NONE, this.link);
		while (tenant.tryAcquire()) {
			// spend the cold part: the tenant moves to leases
		}
		tenant.keep(start, Duration.ofSeconds(2).toNanos(), Duration.ofSeconds(10).toNanos(), 0.5);
		return tenant;
	}

	private Messages.Request lastSent() {
		return this.link.sent.get(this.link.sent.size() - 1);
	}

	/** The authority's answer to a request: what it granted, the share, instances counted, bucket level. */
	private static void answer(KafkaRateLimiter tenant, Messages.Request request, long granted, double share,
			int instances, long available, long receivedNanos) {
		tenant.onGrant(new Messages.Grant("api[t]", "i", tenant.incarnation, request.seq(), granted, 5_000,
				KafkaRateLimiter.spec(LIMIT), 0, share, instances, available, request.spentTotal()), receivedNanos);
	}

	private static int admitted(RateLimiter limiter, int calls) {
		int admitted = 0;
		for (int i = 0; i < calls; i++) {
			admitted += limiter.tryAcquire() ? 1 : 0;
		}
		return admitted;
	}

	@Test
	void eachLimiterObjectIsItsOwnIncarnation() {
		assertThat(tenant().incarnation).isNotEqualTo(tenant().incarnation);
	}

	static final class FakeLink implements KafkaRateLimiter.Link {

		final List<Messages.Request> sent = new ArrayList<>();

		final List<KafkaRateLimiter> nudged = new ArrayList<>();

		final List<KafkaRateLimiter> reported = new ArrayList<>();

		int fleet = 1;

		boolean unreachable;

		DegradedPolicy policy = DegradedPolicy.LOCAL_SHARE;

		private long serial = 100;

		long spentSinceNanos;

		int degradedTransitions;

		@Override
		public void enteredDegraded() {
			this.degradedTransitions++;
		}

		@Override
		public void send(KafkaRateLimiter limiter, Messages.Request request, long spentSinceNanos) {
			this.sent.add(request);
			this.spentSinceNanos = spentSinceNanos;
		}

		@Override
		public void nudge(KafkaRateLimiter limiter) {
			this.nudged.add(limiter);
		}

		@Override
		public void reportLater(KafkaRateLimiter limiter) {
			this.reported.add(limiter);
		}

		@Override
		public long nextIncarnation() {
			return ++this.serial;
		}

		long nextReportNanos;

		@Override
		public long nextReportNanos() {
			return this.nextReportNanos;
		}

		@Override
		public Duration reportInterval() {
			return Duration.ofSeconds(1);
		}

		@Override
		public int fleetSize() {
			return this.fleet;
		}

		@Override
		public boolean unreachable() {
			return this.unreachable;
		}

		@Override
		public long restAfterNanos() {
			return Duration.ofSeconds(10).toNanos();
		}

		@Override
		public String instanceId() {
			return "i";
		}

		@Override
		public DegradedPolicy policy() {
			return this.policy;
		}

		@Override
		public Duration leaseHorizon() {
			return Duration.ofMillis(250);
		}

		@Override
		public int partitionOf(String key) {
			return 0;
		}

		@Override
		public boolean owns(int partition) {
			return false;
		}

	}

}
