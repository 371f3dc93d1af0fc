package dev.ratelimit.kafka.internal;

import org.junit.jupiter.api.Test;

import dev.ratelimit.kafka.internal.KeeperStep.Facts;
import dev.ratelimit.kafka.internal.KeeperStep.Send;
import dev.ratelimit.kafka.internal.KeeperStep.Step;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The lease client's timing rules alone: what the keeper does with a limiter at one pass, on
 * made-up times (milliseconds written as nanos below).
 */
class KeeperStepTest {

	private static final long MS = 1_000_000L;

	/** A named limiter holding a lease of 10 (granted 10), busy, nothing in flight, at t = 10 s. */
	private static Facts named() {
		Facts facts = new Facts();
		facts.now = 10_000 * MS;
		facts.pool = 10;
		facts.expiryNanos = 15_000 * MS;
		facts.requestTimeoutNanos = 2_000 * MS;
		facts.lastActivityNanos = facts.now;
		facts.idleReturnNanos = 10_000 * MS;
		facts.lastSentNanos = 9_500 * MS;
		facts.demand = 20;
		facts.lastGranted = 10;
		facts.lowWater = 0.5;
		return facts;
	}

	/** A per-key limiter that has leased, at its instance's report. */
	private static Facts leasedKey() {
		Facts facts = named();
		facts.keyed = true;
		facts.leasedKey = true;
		facts.nextReportNanos = facts.now;
		return facts;
	}

	@Test
	void aLeaseWithEnoughLeftAndNoCallWaitingIsLeftAlone() {
		assertThat(KeeperStep.decide(named())).isEqualTo(Step.NOTHING);
	}

	@Test
	void aPoolUnderTheLowWaterMarkWithDemandAsksAndWithoutDemandDoesNot() {
		Facts low = named();
		low.pool = 4; // under half of the last grant
		assertThat(KeeperStep.decide(low).send()).isEqualTo(Send.ASK);
		low.demand = 0.2;
		assertThat(KeeperStep.decide(low).send()).isEqualTo(Send.NONE);
		low.nudged = true; // a call found the pool empty
		assertThat(KeeperStep.decide(low).send()).isEqualTo(Send.ASK);
	}

	@Test
	void aLeaseAboutToExpireIsRenewedAndOneExpiredIsForfeitFirst() {
		Facts expiring = named();
		expiring.now = expiring.expiryNanos - 3_000 * MS; // within two request timeouts of its expiry
		expiring.lastActivityNanos = expiring.now;
		assertThat(KeeperStep.decide(expiring).send()).isEqualTo(Send.ASK);
		Facts expired = named();
		expired.now = expired.expiryNanos;
		expired.lastActivityNanos = expired.now;
		expired.demand = 0.2;
		Step step = KeeperStep.decide(expired);
		assertThat(step.forfeit()).isTrue();
		assertThat(step.send()).as("nothing left to renew, no demand").isEqualTo(Send.NONE);
	}

	@Test
	void nothingIsSentWhileARequestIsInFlightButALateOneIsBridgedAndATimedOutOneDegradesAndAsksAgain() {
		Facts waiting = named();
		waiting.pool = 0;
		waiting.nudged = true;
		waiting.inFlight = true;
		waiting.bridgeable = true;
		waiting.inFlightSinceNanos = waiting.now - 50 * MS;
		assertThat(KeeperStep.decide(waiting)).isEqualTo(Step.NOTHING);
		waiting.inFlightSinceNanos = waiting.now - 150 * MS; // late, the pool dry
		Step late = KeeperStep.decide(waiting);
		assertThat(late.bridge()).isTrue();
		assertThat(late.send()).isEqualTo(Send.NONE);
		waiting.bridgeable = false; // bridged already (or a per-key limiter spending its share)
		assertThat(KeeperStep.decide(waiting).bridge()).isFalse();
		waiting.inFlightSinceNanos = waiting.now - 2_001 * MS;
		Step timedOut = KeeperStep.decide(waiting);
		assertThat(timedOut.timedOut()).isTrue();
		assertThat(timedOut.bridge()).isFalse();
		assertThat(timedOut.send()).as("the waiting call asks again in the same pass").isEqualTo(Send.ASK);
		// also a key that outgrew its part: the timeout dropped what was left of it, so it asks now,
		// not at the next report
		waiting.keyed = true;
		waiting.holdsAllowance = true;
		waiting.nextReportNanos = waiting.now + 500 * MS;
		assertThat(KeeperStep.decide(waiting).send()).isEqualTo(Send.ASK);
	}

	@Test
	void aNamedLimiterNeverHeardOfSaysHelloAndAnIdleOneReturnsItsLease() {
		Facts created = named();
		created.pool = 0;
		created.expiryNanos = 0;
		created.neverSent = true;
		assertThat(KeeperStep.decide(created).send()).isEqualTo(Send.REPORT);
		Facts idle = named();
		idle.lastActivityNanos = idle.now - 10_001 * MS;
		assertThat(KeeperStep.decide(idle).send()).isEqualTo(Send.RETURN);
		idle.pool = 0;
		assertThat(KeeperStep.decide(idle).send()).isEqualTo(Send.NONE);
	}

	@Test
	void permitsAdmittedOnItsOwnAreReportedOnceASecondUnlessACallWaitsToAsk() {
		Facts owes = named();
		owes.owes = true;
		owes.lastSentNanos = owes.now - 999 * MS;
		assertThat(KeeperStep.decide(owes).send()).isEqualTo(Send.NONE);
		owes.lastSentNanos = owes.now - 1_001 * MS;
		assertThat(KeeperStep.decide(owes).send()).isEqualTo(Send.REPORT);
		owes.nudged = true;
		assertThat(KeeperStep.decide(owes).send()).as("its request carries the total").isEqualTo(Send.ASK);
	}

	@Test
	void afterAShortGrantItWaitsUnlessTheLeaseIsExpiring() {
		Facts shortGranted = named();
		shortGranted.nudged = true;
		shortGranted.notBeforeNanos = shortGranted.now + 100 * MS;
		assertThat(KeeperStep.decide(shortGranted).send()).isEqualTo(Send.NONE);
		shortGranted.now = shortGranted.notBeforeNanos;
		assertThat(KeeperStep.decide(shortGranted).send()).isEqualTo(Send.ASK);
		Facts expiring = named();
		expiring.now = expiring.expiryNanos - 3_000 * MS;
		expiring.lastActivityNanos = expiring.now;
		expiring.demand = 0.2;
		expiring.notBeforeNanos = expiring.now + 100 * MS;
		assertThat(KeeperStep.decide(expiring).send()).as("renewed before it expires").isEqualTo(Send.ASK);
	}

	@Test
	void aKeyThatOutgrewItsPartWaitsForTheReportWhileItsAllowanceServes() {
		Facts outgrown = named();
		outgrown.keyed = true;
		outgrown.pool = 0;
		outgrown.expiryNanos = 0;
		outgrown.nudged = true;
		outgrown.holdsAllowance = true;
		outgrown.nextReportNanos = outgrown.now + 300 * MS;
		assertThat(KeeperStep.decide(outgrown).send()).isEqualTo(Send.NONE);
		outgrown.now = outgrown.nextReportNanos;
		outgrown.lastActivityNanos = outgrown.now;
		assertThat(KeeperStep.decide(outgrown).send()).isEqualTo(Send.ASK);
	}

	@Test
	void aKeyThatLeasesAsksOnlyAtReportsAndGivesItsLeaseUpWhenIdle() {
		Facts between = leasedKey();
		between.nudged = true;
		between.nextReportNanos = between.now + 1 * MS;
		assertThat(KeeperStep.decide(between)).isEqualTo(Step.NOTHING);
		Facts atReport = leasedKey();
		atReport.nudged = true;
		assertThat(KeeperStep.decide(atReport).send()).isEqualTo(Send.ASK);
		atReport.nudged = false;
		atReport.owes = true; // spent on its share between answers: reported with a request for nothing
		assertThat(KeeperStep.decide(atReport).send()).isEqualTo(Send.REPORT);
		Facts idle = leasedKey();
		idle.lastActivityNanos = idle.now - 10_001 * MS;
		Step step = KeeperStep.decide(idle);
		assertThat(step.dropShare()).isTrue();
		assertThat(step.send()).isEqualTo(Send.RETURN_KEY);
		idle.pool = 0;
		assertThat(KeeperStep.decide(idle).send()).as("nothing to return, nothing owed").isEqualTo(Send.NONE);
		idle.owes = true;
		assertThat(KeeperStep.decide(idle).send()).as("what it spent is still reported").isEqualTo(Send.RETURN_KEY);
	}

	@Test
	void aKeyWalkedOnlyAtReportsGivesItsLeaseUpAnIntervalBeforeItsExpiry() {
		Facts key = leasedKey();
		key.earlyNanos = 1_000 * MS;
		key.now = key.expiryNanos - 1_001 * MS;
		key.lastActivityNanos = key.now;
		assertThat(KeeperStep.decide(key).forfeit()).isFalse();
		key.now = key.expiryNanos - 999 * MS;
		key.nextReportNanos = key.now;
		key.lastActivityNanos = key.now;
		assertThat(KeeperStep.decide(key).forfeit()).isTrue();
	}

}
