package dev.ratelimit.kafka.internal;

import dev.ratelimit.internal.PooledRateLimiter;

/**
 * Where a global limiter's decisions come from once its leased pool is empty: one immutable value,
 * read once per call and replaced whole by the thread that moves it (the caller, the keeper or the
 * grant receiver), so a call never sees half of one regime and half of the next.
 *
 * <h2>States</h2>
 * <ul>
 * <li><em>cold</em> (a per-key limiter before it leases): admits from {@link #allowance}, its part
 * of the key's bucket, reported afterwards;</li>
 * <li><em>leasing</em>: the pool, then for a per-key limiter its {@link #between share between
 * answers}, then a cold-start {@link #allowance} after a lease lapsed;</li>
 * <li><em>bridging</em> (leasing, a request late): also its {@link #fallback local share};</li>
 * <li><em>degraded</em> (no grant within the request timeout, or a send failed): its
 * {@link dev.ratelimit.kafka.DegradedPolicy} decides, on the local share under
 * {@code LOCAL_SHARE}.</li>
 * </ul>
 * The moves are the methods below, each a pure function of this value and its arguments: tested
 * alone ({@code RegimeTest}), the way {@link AuthorityLogic} is for the authority.
 */
final class Regime {

	/** A named limiter's start: leasing, nothing of its own to spend. */
	static final Regime LEASING = new Regime(false, false, null, null, null, null);

	final boolean cold;

	final boolean degraded;

	/** Cold: this instance's part of the bucket. Leasing: the cold-start allowance, if any. */
	final PooledRateLimiter allowance;

	/** A leasing per-key limiter's share as it accrues between two answers, if any. */
	final Share between;

	/** The local share: a bridge over a late grant, or the degraded policy's bucket. */
	final PooledRateLimiter fallback;

	/** Why the limiter is degraded (null when it is not). */
	final String reason;

	private Regime(boolean cold, boolean degraded, PooledRateLimiter allowance, Share between,
			PooledRateLimiter fallback, String reason) {
		this.cold = cold;
		this.degraded = degraded;
		this.allowance = allowance;
		this.between = between;
		this.fallback = fallback;
		this.reason = reason;
	}

	/** A per-key limiter's start: cold, admitting from its part of the bucket. */
	static Regime cold(PooledRateLimiter part) {
		return new Regime(true, false, part, null, null, null);
	}

	/** Out of the cold regime for good: what is left of the allowance still serves until an answer. */
	Regime leftCold() {
		return this.cold ? new Regime(false, this.degraded, this.allowance, this.between, this.fallback, this.reason)
				: this;
	}

	/** The authority said the bucket ran low: leasing from now on, and the allowance is gone. */
	Regime noticed() {
		return this.cold ? new Regime(false, this.degraded, null, this.between, this.fallback, this.reason) : this;
	}

	/** A new cold-start allowance (null: none), after a lease lapsed or was given back. */
	Regime withAllowance(PooledRateLimiter allowance) {
		return (allowance == this.allowance) ? this
				: new Regime(this.cold, this.degraded, allowance, this.between, this.fallback, this.reason);
	}

	/** An idle per-key limiter stops spending its share between answers. */
	Regime withoutBetween() {
		return (this.between == null) ? this
				: new Regime(this.cold, this.degraded, this.allowance, null, this.fallback, this.reason);
	}

	/**
	 * Whether a cold-start allowance may be given: not while degraded or bridging (the share since
	 * the last grant was spent on the local share already), nor while the share between answers is
	 * spent (a key whose lease lapsed would spend its share twice).
	 */
	boolean mayTakeAllowance() {
		return !this.degraded && this.fallback == null && this.between == null;
	}

	/** Whether a late request may be bridged on the local share (not when one is spent already). */
	boolean mayBridge() {
		return this.fallback == null && this.between == null;
	}

	/** Bridges a late request on {@code localShare}, starting empty. */
	Regime bridged(PooledRateLimiter localShare) {
		return new Regime(this.cold, this.degraded, this.allowance, this.between, localShare, this.reason);
	}

	/**
	 * Degraded: the allowance and the share between answers are dropped; a local share already spent
	 * (a bridge, or an earlier degradation) goes on, otherwise {@code localShareIfNone} (empty) starts.
	 */
	Regime failed(String why, PooledRateLimiter localShareIfNone) {
		PooledRateLimiter fallback = (this.fallback != null) ? this.fallback : localShareIfNone;
		return new Regime(this.cold, true, null, null, fallback, why);
	}

	/**
	 * A grant arrived: not degraded nor bridging any more; decisions come from the lease, then
	 * {@code between} (a per-key limiter) or {@code allowance} (nothing granted after leases lapsed).
	 */
	Regime granted(Share between, PooledRateLimiter allowance) {
		return new Regime(this.cold, false, allowance, between, null, null);
	}

	/** Whether a local share bridges a late request (not degraded). */
	boolean bridging() {
		return this.fallback != null && !this.degraded;
	}

	@Override
	public String toString() {
		return (this.cold ? "cold" : "leasing") + (this.degraded ? ", degraded (" + this.reason + ")" : "")
				+ (bridging() ? ", bridging" : "") + ((this.allowance != null) ? ", allowance" : "")
				+ ((this.between != null) ? ", share between answers" : "");
	}

	/**
	 * A share between answers, and until when it is known dry: once it denies a call, calls before
	 * its next permit accrues are denied on this object alone (most calls of a key over its limit),
	 * without its bucket's clock arithmetic.
	 */
	static final class Share {

		final PooledRateLimiter bucket;

		/** Until when (the bucket's ticker) calls are denied unread; starts at the share's creation. */
		private volatile long dryUntilNanos;

		/** A share over {@code bucket}, made at {@code now} (its ticker's reading: any origin, even negative). */
		Share(PooledRateLimiter bucket, long now) {
			this.bucket = bucket;
			this.dryUntilNanos = now;
		}

		long dryUntilNanos() {
			return this.dryUntilNanos;
		}

		/** Takes {@code min} permits if the share holds them all, at {@code now} (the bucket's ticker). */
		boolean spend(long min, long now) {
			if (now - this.dryUntilNanos < 0) {
				return false;
			}
			if (min <= this.bucket.capacity() && this.bucket.tryTakeAt(min, now)) {
				return true;
			}
			if (min == 1) {
				// (a larger call denied may leave a permit for a smaller one: no mark)
				this.dryUntilNanos = now + this.bucket.nanosUntilAt(1, now);
			}
			return false;
		}

	}

}
