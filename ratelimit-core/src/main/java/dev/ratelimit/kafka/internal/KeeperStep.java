package dev.ratelimit.kafka.internal;

/**
 * What the keeper does with one global limiter at one pass: a pure function of what it sees there
 * ({@link Facts}), so the lease client's timing rules are tested alone on made-up times
 * ({@code KeeperStepTest}); {@link KafkaRateLimiter#keep} gathers the facts and carries the step out.
 *
 * <p>In order: a lease at its expiry is forfeit (the authority no longer counts it as ours); a
 * request unanswered for the request timeout degrades the limiter, one late with the pool dry is
 * bridged on the local share; while a request is in flight nothing is sent. Then at most one
 * request: a named limiter never heard of says hello; a per-key limiter that leases asks only at
 * its instance's reports (once per report interval, in one record with the other keys of its
 * partition) and gives its lease up when idle; any other asks when woken by a call, when its pool
 * falls under the low-water mark with demand, or before its lease expires, unless a short grant
 * told it to wait, and reports permits admitted on its own at least once a second.
 */
final class KeeperStep {

	/** Permits admitted on a limiter's own and not acknowledged are reported at least this often. */
	static final long REPORT_EVERY_NANOS = 1_000_000_000L;

	/** A lease request unanswered this long with the pool dry is bridged on the local share. */
	static final long LATE_NANOS = 100_000_000L;

	private KeeperStep() {
	}

	/** What the keeper sees of a limiter at a pass (times in local nanos, 0 for never). */
	static final class Facts {

		long now;

		/** Leased permits in the pool, and when they expire (0: nothing leased). */
		long pool;

		long expiryNanos;

		/** How much before its expiry a lease is given up (a limiter walked only at reports). */
		long earlyNanos;

		/** Whether a lease request is in flight, and since when. */
		boolean inFlight;

		long inFlightSinceNanos;

		long requestTimeoutNanos;

		/** Whether a late request may be bridged on the local share (one is known, none spent yet). */
		boolean bridgeable;

		boolean keyed;

		/** A per-key limiter that has had an answer: it asks at its instance's reports only. */
		boolean leasedKey;

		/** No request was ever sent. */
		boolean neverSent;

		/** A call found the pool empty since the last request. */
		boolean nudged;

		/** Permits admitted on its own wait to be reported or acknowledged. */
		boolean owes;

		/** When the last request left. */
		long lastSentNanos;

		long lastActivityNanos;

		long idleReturnNanos;

		/** After a short grant: no request before this time. */
		long notBeforeNanos;

		/** A cold-start allowance (or what is left of its cold part) still serves. */
		boolean holdsAllowance;

		/** When its instance next reports. */
		long nextReportNanos;

		double demand;

		/**
		 * Leased permits kept for higher priority classes (a divided limit): the lowest class cannot
		 * spend them, so the pool counts as low once what is left above them is.
		 */
		long reserved;

		long lastGranted;

		/** The low-water mark, a fraction of the last grant. */
		double lowWater;

	}

	/** The request a step sends, if any. */
	enum Send {

		NONE,

		/** Asks for nothing and returns nothing: a hello, or a report of permits admitted on its own. */
		REPORT,

		/** Asks for a lease. */
		ASK,

		/** Takes the cold-start allowance, then returns the whole pool (idle). */
		RETURN,

		/** Returns the whole pool, if any, with the report of what it owes (a per-key limiter gone idle). */
		RETURN_KEY

	}

	/**
	 * One pass's step: forfeit the lease, degrade (the request timed out), bridge on the local share,
	 * stop spending the share between answers (idle), and the request to send.
	 */
	record Step(boolean forfeit, boolean timedOut, boolean bridge, boolean dropShare, Send send) {

		static final Step NOTHING = new Step(false, false, false, false, Send.NONE);

	}

	static Step decide(Facts f) {
		long pool = f.pool;
		boolean forfeit = f.expiryNanos != 0 && f.now >= f.expiryNanos - f.earlyNanos;
		if (forfeit) {
			pool = 0;
		}
		boolean timedOut = f.inFlight && f.now - f.inFlightSinceNanos > f.requestTimeoutNanos;
		boolean bridge = !timedOut && f.bridgeable && isLate(f.inFlight, f.inFlightSinceNanos, pool, f.now);
		if (f.inFlight && !timedOut) {
			return new Step(forfeit, false, bridge, false, Send.NONE);
		}
		return new Step(forfeit, timedOut, bridge, f.leasedKey && idleAtReport(f), request(f, pool, timedOut));
	}

	/** Whether a request in flight since {@code inFlightSinceNanos} is late: unanswered that long with the pool dry. */
	static boolean isLate(boolean inFlight, long inFlightSinceNanos, long pool, long now) {
		return inFlight && pool == 0 && now - inFlightSinceNanos > LATE_NANOS;
	}

	private static Send request(Facts f, long pool, boolean timedOut) {
		if (f.neverSent && !f.nudged && !f.keyed) {
			// a named limiter created ahead of its first call: counted for fair share from now on
			return Send.REPORT;
		}
		boolean idle = f.now - f.lastActivityNanos > f.idleReturnNanos;
		boolean expiring = f.expiryNanos != 0 && pool > 0 && f.now >= f.expiryNanos - 2 * f.requestTimeoutNanos;
		boolean wants = f.nudged
				|| (f.demand > 0.5 && pool - f.reserved < Math.max(1, (long) (f.lowWater * f.lastGranted)))
				|| expiring;
		if (f.leasedKey) {
			if (f.now < f.nextReportNanos) {
				return Send.NONE;
			}
			if (idle) {
				return (pool > 0 || f.owes) ? Send.RETURN_KEY : Send.NONE;
			}
			return wants ? Send.ASK : f.owes ? Send.REPORT : Send.NONE;
		}
		if (!f.nudged && f.owes && f.now - f.lastSentNanos > REPORT_EVERY_NANOS) {
			// a call waiting for a lease goes first: its request carries the running total as well
			return Send.REPORT;
		}
		if (idle) {
			return (pool > 0) ? Send.RETURN : Send.NONE;
		}
		if (f.now < f.notBeforeNanos && !expiring) {
			return Send.NONE;
		}
		if (f.keyed && f.holdsAllowance && !timedOut && f.now < f.nextReportNanos) {
			// (a timeout drops the allowance: the call waiting asks again at once)
			// a key that outgrew its allowance still has it, refilling at its share: its first lease
			// waits for the partition's report and travels in one record with the other keys'
			return Send.NONE;
		}
		return wants ? Send.ASK : Send.NONE;
	}

	private static boolean idleAtReport(Facts f) {
		return f.now >= f.nextReportNanos && f.now - f.lastActivityNanos > f.idleReturnNanos;
	}

}
