package dev.ratelimit.kafka.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.ratelimit.Rate;
import dev.ratelimit.internal.LongMath;
import dev.ratelimit.kafka.internal.Messages.Spec;

/**
 * The authoritative state of one limiter key, kept in the authority's state store (and so in its
 * compacted changelog topic). Mutable, but only ever touched by the one stream thread that owns
 * the key's partition.
 *
 * <p>The bucket is the same exact integer algorithm as the local token bucket
 * ({@code capacity + R(t) - max(consumed, R(t))} permits available, {@code R} the refill since
 * {@code origin}), on wall-clock milliseconds because the state moves between machines: a new
 * owner, or a restarted cluster, continues from the stored origin and consumed count, so a drained
 * bucket stays drained and refills only with elapsed time.
 */
public final class BucketState {

	/** The limit configured by instances (the latest one a request carried). */
	Spec configured;

	/** The configured limit {@link #configured} replaced, if any (a rolling deploy's old version). */
	Spec superseded;

	/** When a request last carried {@link #configured}. */
	long configuredSeenMillis;

	/** The limit in force: the configured one, or a runtime update. */
	Spec inForce;

	/** Whether {@link #inForce} was set by an update rather than configuration. */
	boolean overridden;

	/** Increases whenever {@link #inForce} changes. */
	long version;

	long originMillis;

	long consumed;

	/**
	 * The latest time this bucket has seen (the broker's append time of its requests): its clock
	 * never goes back, so a new owner, or a partition leader with a clock behind, cannot refill it twice.
	 */
	long clockMillis;

	/**
	 * When a take last found the bucket full, and how much refill it had no room for (discarded).
	 * Permits reported afterwards as spent before then would have made room: they are paid from it.
	 */
	long liftedAtMillis;

	long liftedBy;

	/** Active instances, by id and incarnation. */
	final Map<String, Instance> instances = new LinkedHashMap<>();

	/** What the authority knows of one instance of one key. */
	static final class Instance {

		final String id;

		final long incarnation;

		long lastSeq;

		long lastGranted;

		double demand;

		long horizonMillis;

		double shareTokens;

		long shareAtMillis;

		long outstanding;

		long expiryMillis;

		long lastSeenMillis;

		/** How much of the instance's running total of permits admitted on its own was debited. */
		long debitedTotal;

		/** The demand of each priority class, for a limit divided among classes, or {@code null}. */
		Messages.Classes classes;

		Instance(String id, long incarnation) {
			this.id = id;
			this.incarnation = incarnation;
		}

		String key() {
			return key(this.id, this.incarnation);
		}

		static String key(String id, long incarnation) {
			return id + "#" + incarnation;
		}

	}

	static BucketState create(Spec spec, long nowMillis) {
		BucketState state = new BucketState();
		state.configured = spec;
		state.inForce = spec;
		state.originMillis = nowMillis;
		state.consumed = 0; // full
		state.clockMillis = nowMillis;
		return state;
	}

	/**
	 * A drained bucket: what the authority uses for a key whose stored state cannot be read, so a
	 * corrupt record neither stops the key nor opens it (it refills with time, from empty).
	 */
	static BucketState drained(Spec spec, long nowMillis) {
		BucketState state = create(spec, nowMillis);
		state.consumed = spec.capacity();
		return state;
	}

	Rate rate() {
		return Rate.of(this.inForce.permits(), Duration.ofNanos(this.inForce.periodNanos()));
	}

	long refilled(long nowMillis) {
		long elapsed = nowMillis - this.originMillis;
		return (elapsed <= 0) ? 0 : rate().permitsIn(LongMath.saturatedMultiply(elapsed, 1_000_000L));
	}

	long available(long nowMillis) {
		long refilled = refilled(nowMillis);
		return this.inForce.capacity() + refilled - Math.max(this.consumed, refilled);
	}

	void take(long permits, long nowMillis) {
		long refilled = refilled(nowMillis);
		if (refilled > this.consumed) {
			// full: the refill beyond the capacity is discarded, remember how much and when
			this.liftedAtMillis = nowMillis;
			this.liftedBy = refilled - this.consumed;
			this.consumed = refilled;
		}
		this.consumed += permits;
	}

	/**
	 * Takes permits that were spent from {@code sinceMillis} on (reported after the fact). Refill
	 * the bucket discarded for lack of room since then pays first, since those permits would have
	 * made the room; the rest is taken as of {@code sinceMillis} and may leave the bucket in debt.
	 */
	void takeSpentSince(long permits, long sinceMillis) {
		// only refill that accrued after the permits began to be spent can have been room they made:
		// a bucket full long before (an idle key) discarded refill that no later spending can claim
		long accruedSince = (sinceMillis <= this.liftedAtMillis)
				? rate().permitsIn(LongMath.saturatedMultiply(this.liftedAtMillis - sinceMillis, 1_000_000L)) : 0;
		long absorbed = Math.min(Math.min(permits, this.liftedBy), accruedSince);
		this.liftedBy -= absorbed;
		long rest = permits - absorbed;
		if (rest > 0) {
			this.consumed = Math.max(this.consumed, refilled(sinceMillis)) + rest;
		}
	}

	void giveBack(long permits) {
		this.consumed = Math.max(0, this.consumed - permits);
	}

	/** Moves to a new limit in force, keeping what is available (at most the new capacity). */
	void rebase(Spec next, long nowMillis) {
		long available = Math.min(next.capacity(), available(nowMillis));
		this.inForce = next;
		this.originMillis = nowMillis;
		this.consumed = next.capacity() - available;
		this.liftedBy = 0;
		this.version++;
	}

	// ---- wire format ---------------------------------------------------------------------------

	public byte[] encode() {
		return Messages.write((out) -> {
			out.writeByte(Messages.STATE);
			this.configured.write(out);
			this.inForce.write(out);
			out.writeBoolean(this.overridden);
			out.writeLong(this.version);
			out.writeLong(this.originMillis);
			out.writeLong(this.consumed);
			out.writeInt(this.instances.size());
			for (Instance instance : this.instances.values()) {
				write(out, instance);
			}
			out.writeLong(this.clockMillis);
			out.writeLong(this.liftedAtMillis);
			out.writeLong(this.liftedBy);
			for (Instance instance : this.instances.values()) {
				out.writeLong(instance.debitedTotal); // in the order of the instances above
			}
			out.writeBoolean(this.superseded != null);
			if (this.superseded != null) {
				this.superseded.write(out);
			}
			out.writeLong(this.configuredSeenMillis);
			boolean classes = this.instances.values().stream().anyMatch((instance) -> instance.classes != null);
			if (classes) {
				for (Instance instance : this.instances.values()) {
					out.writeBoolean(instance.classes != null); // in the order of the instances above
					if (instance.classes != null) {
						instance.classes.write(out);
					}
				}
			}
		});
	}

	private static void write(DataOutputStream out, Instance instance) throws IOException {
		out.writeUTF(instance.id);
		out.writeLong(instance.incarnation);
		out.writeLong(instance.lastSeq);
		out.writeLong(instance.lastGranted);
		out.writeDouble(instance.demand);
		out.writeLong(instance.horizonMillis);
		out.writeDouble(instance.shareTokens);
		out.writeLong(instance.shareAtMillis);
		out.writeLong(instance.outstanding);
		out.writeLong(instance.expiryMillis);
		out.writeLong(instance.lastSeenMillis);
	}

	public static BucketState decode(byte[] bytes) {
		return Messages.read(bytes, (in) -> {
			if (in.readByte() != Messages.STATE) {
				throw new MalformedRecordException("not a bucket state");
			}
			BucketState state = new BucketState();
			state.configured = Spec.read(in);
			state.inForce = Spec.read(in);
			state.overridden = in.readBoolean();
			state.version = in.readLong();
			state.originMillis = in.readLong();
			state.consumed = in.readLong();
			int count = in.readInt();
			if (count < 0 || count > 100_000) {
				throw new MalformedRecordException("implausible instance count " + count);
			}
			for (int i = 0; i < count; i++) {
				Instance instance = read(in);
				state.instances.put(instance.key(), instance);
			}
			// states written before the clock was kept end here: their clock is their origin
			state.clockMillis = (in.available() > 0) ? in.readLong() : state.originMillis;
			if (in.available() > 0) {
				state.liftedAtMillis = in.readLong();
				state.liftedBy = in.readLong();
				if (state.liftedBy < 0) {
					throw new MalformedRecordException("negative discarded refill " + state.liftedBy);
				}
			}
			if (in.available() > 0) {
				for (Instance instance : state.instances.values()) {
					instance.debitedTotal = in.readLong();
				}
			}
			if (in.available() > 0) {
				state.superseded = in.readBoolean() ? Spec.read(in) : null;
				state.configuredSeenMillis = in.readLong();
			}
			if (in.available() > 0) {
				for (Instance instance : state.instances.values()) {
					instance.classes = in.readBoolean() ? Messages.Classes.read(in) : null;
				}
			}
			return state;
		});
	}

	private static Instance read(DataInputStream in) throws IOException {
		Instance instance = new Instance(in.readUTF(), in.readLong());
		instance.lastSeq = in.readLong();
		instance.lastGranted = in.readLong();
		instance.demand = in.readDouble();
		instance.horizonMillis = in.readLong();
		instance.shareTokens = in.readDouble();
		instance.shareAtMillis = in.readLong();
		instance.outstanding = in.readLong();
		instance.expiryMillis = in.readLong();
		instance.lastSeenMillis = in.readLong();
		return instance;
	}

}
