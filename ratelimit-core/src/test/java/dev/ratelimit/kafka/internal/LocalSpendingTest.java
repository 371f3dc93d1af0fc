package dev.ratelimit.kafka.internal;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ledger of what a global limiter admitted on its own, alone: the running total every request
 * carries, acknowledgements, payment out of a grant, and the time the debit is taken as of.
 */
class LocalSpendingTest {

	private final LocalSpending spending = new LocalSpending();

	@Test
	void aReportLostInAFailedSendGoesWithTheNextRequestAndIsNotDebitedTwice() {
		this.spending.spent(3, 100);
		assertThat(this.spending.takeForRequest(150)).isEqualTo(3); // this request is lost
		this.spending.spent(2, 200);
		assertThat(this.spending.takeForRequest(250)).as("the running total, lost report included").isEqualTo(5);
		assertThat(this.spending.owes()).isTrue();
		this.spending.acknowledged(5);
		assertThat(this.spending.owes()).isFalse();
		// the lost request delivered late and answered: an older acknowledgement changes nothing
		this.spending.acknowledged(3);
		assertThat(this.spending.acked()).isEqualTo(5);
		assertThat(this.spending.owes()).isFalse();
	}

	@Test
	void anAcknowledgementBeyondWhatWasReportedAcknowledgesOnlyWhatWasReported() {
		this.spending.spent(4, 100);
		this.spending.takeForRequest(150);
		this.spending.acknowledged(1_000); // forged or confused
		assertThat(this.spending.acked()).isEqualTo(4);
		this.spending.spent(1, 300);
		assertThat(this.spending.owes()).isTrue();
		assertThat(this.spending.takeForRequest(350)).isEqualTo(5);
	}

	@Test
	void theDebitIsTakenAsOfTheFirstPermitNotYetAcknowledged() {
		this.spending.spent(2, 100);
		this.spending.spent(2, 180); // not the first: the debit still starts at 100
		assertThat(this.spending.sinceNanos()).isEqualTo(100);
		this.spending.takeForRequest(200);
		this.spending.spent(1, 220); // reported but unacknowledged permits come first
		assertThat(this.spending.sinceNanos()).isEqualTo(100);
		this.spending.acknowledged(4);
		// what was reported is debited; the permit still unreported was spent after that request left
		assertThat(this.spending.sinceNanos()).isEqualTo(200);
		this.spending.takeForRequest(300);
		this.spending.acknowledged(5);
		this.spending.spent(1, 400); // nothing owed before it: it starts a new span
		assertThat(this.spending.sinceNanos()).isEqualTo(400);
	}

	@Test
	void aGrantPaysForWhatWasSpentWhileItsRequestTravelledAndNoMore() {
		this.spending.spent(3, 100);
		assertThat(this.spending.payFrom(2)).isEqualTo(2);
		assertThat(this.spending.unreported()).isEqualTo(1);
		assertThat(this.spending.payFrom(5)).isEqualTo(1);
		assertThat(this.spending.payFrom(5)).isZero();
		assertThat(this.spending.owes()).isFalse();
		assertThat(this.spending.takeForRequest(200)).as("paid permits are not reported again").isZero();
	}

}
