package dev.ratelimit.kafka.internal;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.ratelimit.kafka.internal.Messages.Grant;
import dev.ratelimit.kafka.internal.Messages.Request;
import dev.ratelimit.kafka.internal.Messages.Spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.within;

/**
 * The authority's decisions, driven with a simulated wall clock: no Kafka needed to check the
 * global bound, idempotence, fairness, expiry and updates.
 */
class AuthorityLogicTest {

	private static final Spec SPEC = new Spec(100, 100, 1_000_000_000L); // 100/s, burst 100

	private static final long TTL = 5_000;

	private BucketState state;

	private long now = 1_700_000_000_000L;

	private Grant ask(String instance, long seq, long want, double demand) {
		return ask(instance, 1, seq, want, 0, demand);
	}

	private Grant ask(String instance, long incarnation, long seq, long want, long returned, double demand) {
		Request request = new Request(Messages.LEASE, instance, incarnation, seq, want, returned, demand, 500, 0, 0, 0, SPEC);
		AuthorityLogic.Result result = AuthorityLogic.handle("k", this.state, request, this.now, TTL);
		// every answer goes through the store's wire format, as it does in Kafka Streams
		this.state = BucketState.decode(result.state().encode());
		return Grant.decode(result.grant().encode());
	}

	@Test
	void aLoneInstanceMayTakeTheWholeBurst() {
		Grant grant = ask("a", 1, 500, 1000);
		assertThat(grant.granted()).isEqualTo(100);
		assertThat(grant.available()).isZero();
		assertThat(grant.share()).isEqualTo(100.0);
		assertThat(grant.ttlMillis()).isEqualTo(TTL);
		this.now += 100;
		assertThat(ask("a", 2, 500, 1000).granted()).isEqualTo(10);
	}

	@Test
	void aKeysFirstReportFindsTheBucketFullAsOfWhenItsPermitsBeganToBeSpent() {
		// 150 permits admitted locally over the last second, reported now: one bucket would have
		// refilled 100 meanwhile, so 50 are left, not none (the refill while the report waited)
		Messages.Report.Entry entry = new Messages.Report.Entry("k", 1, 150, 1_000, SPEC);
		BucketState reported = AuthorityLogic.report(null, entry, this.now, TTL);
		assertThat(reported.available(this.now)).isEqualTo(50);
		// a lease request that is a key's first word is taken the same way
		Request lease = new Request(Messages.LEASE, "a", 1, 1, 0, 0, 10, 500, 150, 0, 1_000, SPEC);
		BucketState leased = AuthorityLogic.handle("k", null, lease, this.now, TTL).state();
		assertThat(leased.available(this.now)).isEqualTo(50);
	}

	@Test
	void aBucketIsForgottenOnlyOnceFullForALeaseLifetimeSoANewOneNeverPaysTheSameRefillTwice() {
		// 150 permits reported now as spent over the last second: full again 500 ms from now
		BucketState state = AuthorityLogic.report(null, new Messages.Report.Entry("k", 1, 150, 1_000, SPEC), this.now, TTL);
		assertThat(AuthorityLogic.isFullFor(state, this.now + 500, 0)).isTrue();
		assertThat(AuthorityLogic.isFullFor(state, this.now + 500, 1)).isFalse();
		// forgotten then, a key whose next report looked back a second would be full as of 500 ms
		// before that moment, and the refill of that half second would pay for the 150 again
		assertThat(AuthorityLogic.isFullFor(state, this.now + 500 + TTL - 1, TTL)).isFalse();
		assertThat(AuthorityLogic.isFullFor(state, this.now + 500 + TTL, TTL)).isTrue();
		assertThat(AuthorityLogic.isAtRest(state, this.now + 500 + TTL - 1, TTL)).isFalse();
		assertThat(AuthorityLogic.isAtRest(state, this.now + 500 + TTL, TTL)).isTrue();
		// and a new state never looks back further than that: spending reported as 60 s old (an
		// outage's) is taken as of a lease lifetime ago, when a forgotten state was full at the latest
		BucketState recreated = AuthorityLogic.report(null, new Messages.Report.Entry("k", 1, 1_000, 60_000, SPEC),
				this.now, TTL);
		assertThat(recreated.originMillis).isEqualTo(this.now - TTL);
		Request late = new Request(Messages.LEASE, "a", 1, 1, 0, 0, 10, 500, 1_000, 0, 60_000, SPEC);
		assertThat(AuthorityLogic.handle("k", null, late, this.now, TTL).state().originMillis).isEqualTo(this.now - TTL);
	}

	@Test
	void aRepeatedRequestIsAnsweredAgainWithoutDebitingTwice() {
		Grant first = ask("a", 1, 30, 10);
		Grant again = ask("a", 1, 30, 10);
		assertThat(again.granted()).isEqualTo(first.granted()).isEqualTo(30);
		assertThat(again.available()).isEqualTo(70);
		assertThat(ask("a", 2, 5, 10).granted()).isEqualTo(5);
		assertThat(ask("a", 1, 30, 10).granted()).as("older than the last answer: nothing").isZero();
	}

	@Test
	void returnedPermitsGoBackUpToWhatIsOutstanding() {
		ask("a", 1, 60, 10);
		Grant grant = ask("a", 1, 2, 0, 40, 0);
		assertThat(grant.available()).isEqualTo(80);
		// returning more than was ever granted credits only what is outstanding
		Grant greedy = ask("a", 1, 3, 0, 1_000, 0);
		assertThat(greedy.available()).isEqualTo(100);
	}

	@Test
	void anExpiredLeaseIsForfeitNotReturned() {
		ask("a", 1, 60, 10);
		this.now += TTL + 1;
		Grant grant = ask("a", 1, 2, 0, 60, 0);
		assertThat(grant.available()).as("refilled by time, not by the late return").isEqualTo(100);
		assertThat(this.state.instances.values().iterator().next().outstanding).isZero();
	}

	@Test
	void maxMinSharesServeSmallDemandsWholeAndSplitTheRest() {
		this.state = BucketState.create(SPEC, this.now);
		assertThat(shares(100, 200, 300)).containsExactly(new double[] { 100.0 / 3, 100.0 / 3, 100.0 / 3 },
				within(1e-9));
		assertThat(shares(10, 200, 300)).containsExactly(new double[] { 10.0, 45.0, 45.0 }, within(1e-9));
		// what nobody wants is spread evenly, so shares always add up to the rate
		assertThat(shares(10, 20, 30)).containsExactly(new double[] { 10 + 40 / 3.0, 20 + 40 / 3.0, 30 + 40 / 3.0 },
				within(1e-9));
	}

	@Test
	void aDividedLimitFillsSharesClassByClassSoHigherClassesAnywhereComeFirst() {
		// rate 100: a has critical 30 and batch 200, b and c batch 200 each
		double[] shares = classedShares(new double[][] { { 30, 200 }, { 0, 200 }, { 0, 200 } }, new double[] { 0, 0 });
		assertThat(shares).containsExactly(new double[] { 30 + 70 / 3.0, 70 / 3.0, 70 / 3.0 }, within(1e-9));
		// critical beyond the rate: batch gets nothing, unless it has a minimum share
		shares = classedShares(new double[][] { { 150, 200 }, { 0, 200 }, { 0, 200 } }, new double[] { 0, 0 });
		assertThat(shares).containsExactly(new double[] { 100, 0, 0 }, within(1e-9));
		shares = classedShares(new double[][] { { 150, 200 }, { 0, 200 }, { 0, 200 } }, new double[] { 0, 0.06 });
		assertThat(shares).containsExactly(new double[] { 94 + 2, 2, 2 }, within(1e-9));
		// a minimum its class does not use goes to the classes in order
		shares = classedShares(new double[][] { { 150, 0 }, { 0, 0 } }, new double[] { 0, 0.5 });
		assertThat(shares).containsExactly(new double[] { 100, 0 }, within(1e-9));
		// an instance that reports no classes counts as the lowest class
		BucketState state = BucketState.create(SPEC, this.now);
		BucketState.Instance classed = new BucketState.Instance("classed", 1);
		classed.classes = new Messages.Classes(new double[] { 60, 0 }, new double[] { 0, 0 });
		classed.demand = 60;
		BucketState.Instance plain = new BucketState.Instance("plain", 1);
		plain.demand = 500;
		state.instances.put(classed.key(), classed);
		state.instances.put(plain.key(), plain);
		assertThat(AuthorityLogic.shares(state)).containsExactly(new double[] { 60, 40 }, within(1e-9));
	}

	private double[] classedShares(double[][] demands, double[] minimums) {
		BucketState state = BucketState.create(SPEC, this.now);
		for (int i = 0; i < demands.length; i++) {
			BucketState.Instance instance = new BucketState.Instance("i" + i, 1);
			instance.classes = new Messages.Classes(demands[i].clone(), minimums.clone());
			instance.demand = java.util.Arrays.stream(demands[i]).sum();
			state.instances.put(instance.key(), instance);
		}
		return AuthorityLogic.shares(state);
	}

	private double[] shares(double... demands) {
		BucketState state = BucketState.create(SPEC, this.now);
		for (int i = 0; i < demands.length; i++) {
			BucketState.Instance instance = new BucketState.Instance("i" + i, 1);
			instance.demand = demands[i];
			state.instances.put(instance.key(), instance);
		}
		return AuthorityLogic.shares(state);
	}

	@Test
	void updatesChangeTheRateForEveryoneAndResetRestoresTheConfiguredLimit() {
		ask("a", 1, 100, 100);
		Spec slower = new Spec(50, 10, 1_000_000_000L);
		Request update = new Request(Messages.UPDATE, "b", 1, 1, 0, 0, 0, 500, 0, 0, 0, slower);
		this.state = AuthorityLogic.handle("k", this.state, update, this.now, TTL).state();
		assertThat(this.state.inForce).isEqualTo(slower);
		assertThat(this.state.version).isEqualTo(1);
		// a's configured spec does not undo a runtime update
		this.now += 1000;
		Grant grant = ask("a", 2, 100, 100);
		assertThat(grant.spec()).isEqualTo(slower);
		assertThat(grant.granted()).isLessThanOrEqualTo(10);
		Request reset = new Request(Messages.RESET, "b", 1, 2, 0, 0, 0, 500, 0, 0, 0, slower);
		this.state = AuthorityLogic.handle("k", this.state, reset, this.now, TTL).state();
		assertThat(this.state.inForce).isEqualTo(SPEC);
		assertThat(this.state.available(this.now)).isEqualTo(100);
		assertThat(this.state.version).isEqualTo(2);
	}

	@Test
	void aNewConfiguredLimitIsAdoptedWhenNotOverridden() {
		ask("a", 1, 10, 10);
		Spec doubled = new Spec(200, 200, 1_000_000_000L);
		Request request = new Request(Messages.LEASE, "a", 1, 2, 10, 0, 10, 500, 0, 0, 0, doubled);
		AuthorityLogic.Result result = AuthorityLogic.handle("k", this.state, request, this.now, TTL);
		assertThat(result.state().inForce).isEqualTo(doubled);
		assertThat(result.grant().version()).isEqualTo(1);
	}

	@Test
	void permitsAdmittedLocallyDuringAnOutageAreDebited() {
		ask("a", 1, 10, 10);
		this.now += 10_000; // an outage: the bucket refilled, while a admitted 60 on its own
		Request report = new Request(Messages.LEASE, "a", 1, 2, 0, 0, 10, 500, 60, 0, 0, SPEC);
		AuthorityLogic.Result result = AuthorityLogic.handle("k", this.state, report, this.now, TTL);
		assertThat(result.grant().available()).isEqualTo(40);
	}

	@Test
	void localSpendingIsDebitedAsOfWhenItBeganSoARefilledBucketDoesNotSwallowIt() {
		ask("a", 1, 100, 100); // the bucket drained
		this.now += 10_000; // an outage of 10 s: a admitted 600 at its share over the whole of it
		Request report = new Request(Messages.LEASE, "a", 1, 2, 0, 0, 100, 500, 600, 0, 10_000, SPEC);
		AuthorityLogic.Result result = AuthorityLogic.handle("k", this.state, report, this.now, TTL);
		// the refill of 10 s (1,000) paid for the 600 as they went: 100 + 1,000 - 600 would exceed the
		// capacity, so the bucket is full; debited now, after it refilled, only 100 - 600 would remain
		assertThat(result.grant().available()).isEqualTo(100);
		this.state = result.state();
		Request more = new Request(Messages.LEASE, "a", 1, 3, 0, 0, 100, 500, 2_100, 600, 10_000, SPEC);
		this.now += 10_000;
		// 1,500 in 10 s is more than the refill: what the refill cannot cover is debt
		assertThat(AuthorityLogic.handle("k", this.state, more, this.now, TTL).grant().available()).isEqualTo(-400);
		assertThat(this.state.available(this.now)).isEqualTo(100 + 1_000 - 1_500);
	}

	@Test
	void reportsOfAnOutageArrivingAfterAGrantStillUseTheRefillTheOutageDiscarded() {
		ask("a", 1, 100, 100); // drained at the start of an outage
		ask("b", 1, 0, 100);
		ask("c", 1, 0, 100);
		this.now += 10_000; // 10 s of outage: 1,000 refilled, a bucket of 100 keeps 100
		// each instance admitted 300 on its local share meanwhile (900 in all, under the refill)
		Request first = new Request(Messages.LEASE, "a", 1, 2, 50, 0, 100, 500, 300, 0, 10_000, SPEC);
		this.state = AuthorityLogic.handle("k", this.state, first, this.now, TTL).state();
		Request second = new Request(Messages.LEASE, "b", 1, 2, 0, 0, 100, 500, 300, 0, 10_000, SPEC);
		this.state = AuthorityLogic.handle("k", this.state, second, this.now, TTL).state();
		Request third = new Request(Messages.LEASE, "c", 1, 2, 0, 0, 100, 500, 300, 0, 10_000, SPEC);
		this.state = AuthorityLogic.handle("k", this.state, third, this.now, TTL).state();
		// a's grant found the bucket full and took from it; b's and c's reports, spent before that,
		// are paid from the refill the full bucket had no room for: no debt
		long granted = 100 - this.state.available(this.now);
		assertThat(granted).isPositive().isLessThanOrEqualTo(50);
		assertThat(this.state.available(this.now)).isEqualTo(100 - granted);
	}

	@Test
	void aRollingDeployConvergesOnTheNewLimitInsteadOfFlapping() {
		Spec raised = new Spec(200, 200, 1_000_000_000L);
		ask("old", 1, 1, 100); // configured with SPEC
		Request fresh = new Request(Messages.LEASE, "new", 1, 1, 1, 0, 100, 500, 0, 0, 0, raised);
		this.state = BucketState.decode(AuthorityLogic.handle("k", this.state, fresh, this.now, TTL).state().encode());
		for (int i = 2; i < 10; i++) {
			this.now += 100;
			Grant toOld = ask("old", i, 1, 100); // the old version asks in turn: it does not bring SPEC back
			assertThat(toOld.spec()).isEqualTo(raised);
			Request again = new Request(Messages.LEASE, "new", 1, i, 1, 0, 100, 500, 0, 0, 0, raised);
			this.state = BucketState.decode(AuthorityLogic.handle("k", this.state, again, this.now, TTL).state().encode());
		}
		long version = this.state.version;
		// the new version gone for longer than the hold (a rollback): the old limit comes back, once
		this.now += AuthorityLogic.CONFIGURED_HOLD_MILLIS + 1;
		assertThat(ask("old", 20, 1, 100).spec()).isEqualTo(SPEC);
		assertThat(this.state.version).isEqualTo(version + 1);
	}

	@Test
	void refillDiscardedBeforeLocalSpendingBeganDoesNotPayForIt() {
		ask("a", 1, 1, 100); // one permit, then idle: the bucket is full again within 10 ms
		this.now += 10_000; // full for 10 s: 1,000 permits of refill had no room
		ask("b", 1, 1, 100); // a take finds it full and remembers the discarded refill
		// a admitted 50 on its own from 100 ms before that take: at most 10 of the discarded refill
		// (100 ms of it) can have been room those permits made; the other 40 are debited
		Request report = new Request(Messages.LEASE, "a", 1, 2, 0, 0, 100, 500, 50, 0, 100, SPEC);
		AuthorityLogic.Result result = AuthorityLogic.handle("k", this.state, report, this.now, TTL);
		assertThat(result.state().available(this.now)).isEqualTo(100 - 1 - 40);
	}

	@Test
	void localSpendingIsReportedAsARunningTotalSoARepeatedOrSupersededReportIsDebitedOnce() {
		ask("a", 1, 100, 100); // drained
		Request report = new Request(Messages.LEASE, "a", 1, 2, 0, 0, 100, 500, 30, 0, 0, SPEC);
		Grant first = Grant.decode(AuthorityLogic.handle("k", this.state, report, this.now, TTL).grant().encode());
		assertThat(first.debitedTotal()).isEqualTo(30);
		assertThat(this.state.available(this.now)).isEqualTo(-30);
		// the client gave up on that request (its ack timed out) and reports the total again, with more
		Request again = new Request(Messages.LEASE, "a", 1, 3, 0, 0, 100, 500, 50, 0, 0, SPEC);
		AuthorityLogic.handle("k", this.state, again, this.now, TTL);
		assertThat(this.state.available(this.now)).as("only the 20 not debited yet").isEqualTo(-50);
		// an older report, delivered late, debits nothing
		Request late = new Request(Messages.LEASE, "a", 1, 4, 0, 0, 100, 500, 30, 0, 0, SPEC);
		AuthorityLogic.handle("k", this.state, late, this.now, TTL);
		assertThat(this.state.available(this.now)).isEqualTo(-50);
	}

	@Test
	void aForgottenInstanceIsTakenAtItsWordOfWhatWasAcknowledged() {
		ask("a", 1, 100, 100);
		this.now += 10 * TTL; // a silent for long: forgotten when b asks
		ask("b", 1, 0, 100);
		assertThat(this.state.instances).hasSize(1);
		// a had 400 debited and acknowledged before; it now reports 450 in all
		Request report = new Request(Messages.LEASE, "a", 1, 2, 0, 0, 100, 500, 450, 400, 0, SPEC);
		AuthorityLogic.handle("k", this.state, report, this.now, TTL);
		assertThat(this.state.available(this.now)).isEqualTo(100 - 50);
	}

	@Test
	void whenShareBucketsClaimMoreThanTheBucketHoldsEachGetsItsPartNotTheFirstToAskAll() {
		this.state = BucketState.create(SPEC, this.now);
		this.state.consumed = 70; // 30 left, as after an outage's debits
		for (String id : new String[] { "a", "b", "c" }) {
			BucketState.Instance instance = new BucketState.Instance(id, 1);
			instance.demand = 100;
			instance.horizonMillis = 500;
			instance.shareTokens = 33;
			instance.shareAtMillis = this.now;
			instance.lastSeenMillis = this.now;
			this.state.instances.put(instance.key(), instance);
		}
		assertThat(ask("a", 1, 100, 100).granted()).as("a third of the 30, not all of it").isEqualTo(10);
		// then each its part of what is left: everyone gets some, nobody more than a third
		assertThat(ask("b", 1, 100, 100).granted()).isBetween(1L, 10L);
		assertThat(ask("c", 1, 100, 100).granted()).isBetween(1L, 10L);
	}

	@Test
	void anInstanceThatLeavesStopsCountingAtOnceAndGivesItsLeaseBack() {
		ask("a", 1, 40, 100);
		ask("b", 1, 40, 100);
		assertThat(ask("a", 2, 0, 100).instances()).isEqualTo(2);
		Request leave = new Request(Messages.LEAVE, "b", 1, 2, 0, 40, 0, 500, 0, 0, 0, SPEC);
		this.state = AuthorityLogic.handle("k", this.state, leave, this.now, TTL).state();
		Grant grant = ask("a", 3, 0, 100);
		assertThat(grant.instances()).isEqualTo(1);
		assertThat(grant.share()).isEqualTo(100.0);
		assertThat(grant.available()).as("b's 40 back in the bucket").isEqualTo(60);
	}

	@Test
	void aSilentInstanceStopsCountingOnceItsLeaseExpired() {
		ask("a", 1, 10, 100);
		ask("b", 1, 10, 100);
		this.now += TTL - 1;
		assertThat(ask("a", 2, 10, 100).instances()).as("b's lease still runs").isEqualTo(2);
		this.now += 2;
		Grant grant = ask("a", 3, 10, 100);
		assertThat(grant.instances()).as("b silent for a lease lifetime, its lease expired").isEqualTo(1);
		assertThat(grant.share()).isEqualTo(100.0);
	}

	@Test
	void aProbeIsAnsweredWithoutTouchingAnyBucket() {
		Request probe = new Request(Messages.PROBE, "a", 7, 3, 0, 0, 0, 0, 0, 0, 0, SPEC);
		Grant grant = Grant.decode(AuthorityLogic.probe("(probe)a", Request.decode(probe.encode()), TTL).encode());
		assertThat(grant.instance()).isEqualTo("a");
		assertThat(grant.incarnation()).isEqualTo(7);
		assertThat(grant.seq()).isEqualTo(3);
		assertThat(grant.granted()).isZero();
	}

	@Test
	void aNewIncarnationReplacesTheOldProcess() {
		ask("a", 1, 1, 10, 0, 10);
		ask("a", 2, 1, 10, 0, 10);
		assertThat(this.state.instances).hasSize(1);
		assertThat(this.state.instances.values().iterator().next().incarnation).isEqualTo(2);
	}

	@Test
	void malformedRecordsAreRecognised() {
		byte[] good = new Request(Messages.LEASE, "a", 1, 1, 1, 0, 1, 500, 0, 0, 0, SPEC).encode();
		assertThat(Request.decode(good).instance()).isEqualTo("a");
		assertThatExceptionOfType(MalformedRecordException.class).isThrownBy(() -> Request.decode(new byte[0]));
		assertThatExceptionOfType(MalformedRecordException.class)
			.isThrownBy(() -> Request.decode(Arrays.copyOf(good, good.length - 3)));
		assertThatExceptionOfType(MalformedRecordException.class)
			.isThrownBy(() -> Request.decode(Arrays.copyOf(good, good.length + 1)));
		byte[] future = good.clone();
		future[0] = 9;
		assertThatExceptionOfType(MalformedRecordException.class).isThrownBy(() -> Request.decode(future))
			.withMessage("unsupported format version 9");
		assertThatExceptionOfType(MalformedRecordException.class).isThrownBy(() -> Grant.decode(good))
			.withMessage("not a grant: type 1");
		assertThatExceptionOfType(MalformedRecordException.class)
			.isThrownBy(() -> BucketState.decode("{\"json\":true}".getBytes()));
	}

	/**
	 * Many instances asking at random times, in random amounts, with random returns: the permits
	 * granted over any window never exceed the capacity plus the refill.
	 */
	@ParameterizedTest
	@ValueSource(longs = { 1, 2, 3, 4, 5, 6, 7, 8 })
	void grantsNeverExceedTheGlobalBucket(long seed) {
		Random random = new Random(seed);
		long start = this.now;
		long[] grantedAt = new long[4000];
		long[] amounts = new long[4000];
		long[] seqs = new long[5];
		long[] outstanding = new long[5];
		for (int step = 0; step < grantedAt.length; step++) {
			this.now += random.nextInt(30);
			int instance = random.nextInt(5);
			long returned = (random.nextInt(10) == 0) ? outstanding[instance] / 2 : 0;
			outstanding[instance] -= returned;
			Grant grant = ask("i" + instance, 1, ++seqs[instance], 1 + random.nextInt(80), returned,
					random.nextInt(400));
			outstanding[instance] += grant.granted();
			grantedAt[step] = this.now;
			amounts[step] = grant.granted() - returned; // returned permits were never spent
		}
		for (int i = 0; i < grantedAt.length; i += 37) {
			long total = 0;
			for (int j = i; j < grantedAt.length; j++) {
				total += amounts[j];
				long refill = (grantedAt[j] - grantedAt[i]) * 100 / 1000 + 1;
				assertThat(total).isLessThanOrEqualTo(100 + refill);
			}
		}
		assertThat(this.now - start).isPositive();
	}

	/**
	 * Demands of 1:2:3 above the limit, each instance asking as often as its demand drains its
	 * leases: each gets its max-min fair share (a third of the rate) to within 20%.
	 */
	@Test
	void instancesThatAskMoreOftenDoNotGetMore() {
		double[] demands = { 100, 200, 300 }; // rate 100/s: every demand is above its fair share
		long[] received = new long[3];
		long[] nextAsk = new long[3];
		long[] seq = new long[3];
		long end = this.now + 20_000;
		while (this.now < end) {
			for (int i = 0; i < 3; i++) {
				if (this.now >= nextAsk[i]) {
					long want = (long) Math.ceil(demands[i] * 0.5);
					Grant grant = ask("i" + i, 1, ++seq[i], want, 0, demands[i]);
					received[i] += grant.granted();
					// spends at its demand; asks again when it runs out, or after 10 ms when refused
					nextAsk[i] = this.now + Math.max(10, (long) (grant.granted() * 1000 / demands[i]));
				}
			}
			this.now += 1;
		}
		double fair = (100 + 100 * 20.0) / 3;
		for (long got : received) {
			assertThat((double) got).isCloseTo(fair, within(fair * 0.2));
		}
		assertThat(received[0] + received[1] + received[2]).isLessThanOrEqualTo(100 + 100 * 20);
	}

}
