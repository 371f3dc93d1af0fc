package dev.ratelimit.kafka.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a global limiter admitted on its own (its share between answers, a cold-start allowance, the
 * local share, cold permits handed over) and the authority has not debited yet: a ledger with a
 * running total. Every request carries the total reported so far until a grant acknowledges it, so
 * a report lost in a failed send, or delivered after the client gave up on it, is neither lost nor
 * debited twice; and with it when the permits not yet acknowledged began to be spent, so the
 * authority debits them as of then. Calls add to it from any thread; the keeper takes requests from
 * it and the grant receiver acknowledges.
 */
final class LocalSpending {

	/** Permits admitted on this instance's own and not yet handed to a request. */
	private final AtomicLong unreported = new AtomicLong();

	/** Permits handed to requests so far, a running total. */
	private final AtomicLong reportedTotal = new AtomicLong();

	/** The part of {@link #reportedTotal} grants said the authority debited. */
	private volatile long ackedTotal;

	/** When the permits not yet acknowledged began to be spent (local nanos). */
	private volatile long sinceNanos;

	/** When the last request took the unreported permits (local nanos). */
	private volatile long lastTakenNanos;

	/** Counts {@code permits} admitted, the first of them at {@code sinceNanos}. */
	void spent(long permits, long sinceNanos) {
		if (this.unreported.getAndAdd(permits) == 0 && this.reportedTotal.get() <= this.ackedTotal) {
			this.sinceNanos = sinceNanos; // the first not yet acknowledged
		}
	}

	/**
	 * Hands what was not reported to a request leaving at {@code nowNanos}: the running total it
	 * carries (and {@link #acked()}, {@link #sinceNanos()} with it).
	 */
	long takeForRequest(long nowNanos) {
		this.lastTakenNanos = nowNanos;
		return this.reportedTotal.addAndGet(this.unreported.getAndSet(0));
	}

	/**
	 * A grant said the authority debited {@code debitedTotal} of the running total: never more than
	 * was reported (a forged or confused answer acknowledges nothing that was not sent).
	 */
	void acknowledged(long debitedTotal) {
		if (debitedTotal <= this.ackedTotal) {
			return;
		}
		long reported = this.reportedTotal.get();
		this.ackedTotal = Math.min(debitedTotal, reported);
		if (this.ackedTotal >= reported && this.unreported.get() > 0) {
			// what was reported is debited; what is still unreported was spent after that report left,
			// not since the start of the spending it acknowledged
			this.sinceNanos = Math.max(this.sinceNanos, this.lastTakenNanos);
		}
	}

	/**
	 * Pays up to {@code granted} permits of what is unreported out of a grant: permits the authority
	 * took from the same bucket while they were unknown to it. Returns the permits paid.
	 */
	long payFrom(long granted) {
		for (;;) {
			long owed = this.unreported.get();
			long paid = Math.min(granted, owed);
			if (paid <= 0 || this.unreported.compareAndSet(owed, owed - paid)) {
				return Math.max(0, paid);
			}
		}
	}

	/** Whether permits wait to be reported or acknowledged. */
	boolean owes() {
		return this.unreported.get() > 0 || this.reportedTotal.get() > this.ackedTotal;
	}

	long unreported() {
		return this.unreported.get();
	}

	long acked() {
		return this.ackedTotal;
	}

	long sinceNanos() {
		return this.sinceNanos;
	}

	/** When the last request left with the running total (local nanos; 0 before any). */
	long lastTakenNanos() {
		return this.lastTakenNanos;
	}

}
