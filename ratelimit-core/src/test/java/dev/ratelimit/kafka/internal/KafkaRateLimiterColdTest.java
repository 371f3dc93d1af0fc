package dev.ratelimit.kafka.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
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

		@Override
		public void send(KafkaRateLimiter limiter, Messages.Request request, long spentSinceNanos) {
			this.sent.add(request);
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
