package dev.ratelimit.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

import dev.ratelimit.RateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;

/**
 * The per-key limiters of one name, bounded in number.
 *
 * <p>A slot is reserved (by CAS on a counter) before a key is inserted, so the map never holds
 * more than {@code maxKeys} entries, even under a concurrent flood. At the bound, one thread
 * sweeps: it evicts the keys that are idle and back at full capacity, and if there are none, the
 * least recently used keys at full capacity (a full bucket is what a new limiter starts with, so
 * forgetting one loses nothing), a sixteenth of the bound at a time. If no key is at rest, the next
 * sweep waits an eighth of the idle timeout, so a flood costs no scan per call, and new keys share
 * the overflow limiter meanwhile: only keys that are all busy push new ones into it.
 */
public final class KeyedLimiters {

	/** The key under which overflowing keys share one limiter. */
	public static final String OVERFLOW_KEY = "(overflow)";

	private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

	private final AtomicInteger slots = new AtomicInteger();

	private final AtomicBoolean sweeping = new AtomicBoolean();

	private final int maxKeys;

	private final long idleNanos;

	private final Ticker ticker;

	private final Function<String, RateLimiter> factory;

	private volatile RateLimiter overflow;

	/** Told of each limiter once it is in place (a key's, or the overflow's). */
	private volatile Consumer<RateLimiter> inserted = (limiter) -> {
	};

	private volatile long nextSweepAt;

	public KeyedLimiters(int maxKeys, long idleNanos, Ticker ticker, Function<String, RateLimiter> factory) {
		this(maxKeys, idleNanos, ticker, null, factory, (limiter) -> {
		});
	}

	/**
	 * Keyed limiters that also sweep on their own: every half idle timeout while any key is live, a
	 * task on {@code scheduler} evicts the idle keys at rest, so an application gone quiet keeps no
	 * limiter. Each evicted limiter is handed to {@code released} (its backend may forget it too).
	 */
	public KeyedLimiters(int maxKeys, long idleNanos, Ticker ticker, Scheduler scheduler,
			Function<String, RateLimiter> factory, Consumer<RateLimiter> released) {
		this.maxKeys = maxKeys;
		this.idleNanos = idleNanos;
		this.ticker = ticker;
		this.scheduler = scheduler;
		this.factory = factory;
		this.released = released;
		this.nextSweepAt = ticker.read();
	}

	private final Scheduler scheduler;

	private final Consumer<RateLimiter> released;

	private final AtomicBoolean sweepScheduled = new AtomicBoolean();

	/** Schedules the next periodic sweep, unless one is scheduled or there is no scheduler. */
	private void scheduleSweep() {
		if (this.scheduler != null && !this.sweepScheduled.get() && this.sweepScheduled.compareAndSet(false, true)) {
			this.scheduler.schedule(this::periodicSweep, Math.max(this.idleNanos / 2, 1_000_000L));
		}
	}

	private void periodicSweep() {
		this.sweepScheduled.set(false);
		evictIdle();
		if (!this.entries.isEmpty()) {
			scheduleSweep();
		}
	}

	private static final class Entry {

		final RateLimiter limiter;

		/** Updated coarsely (see {@link #touch}), so hot keys do not write on every call. */
		volatile long lastAccess;

		Entry(RateLimiter limiter, long now) {
			this.limiter = limiter;
			this.lastAccess = now;
		}

	}

	public RateLimiter get(String key) {
		long now = this.ticker.read();
		Entry entry = this.entries.get(key);
		if (entry != null) {
			touch(entry, now);
			return entry.limiter;
		}
		if (!reserveSlot()) {
			sweep(now);
			if (!reserveSlot()) {
				return overflow();
			}
		}
		Entry created = new Entry(this.factory.apply(key), now);
		Entry raced = this.entries.putIfAbsent(key, created);
		if (raced != null) {
			this.slots.decrementAndGet();
			touch(raced, now);
			return raced.limiter;
		}
		scheduleSweep();
		this.inserted.accept(created.limiter);
		return created.limiter;
	}

	/**
	 * Tells {@code inserted} of each limiter once it is in place, after it was made and stored (the
	 * registry brings a limiter made from a declaration changed meanwhile up to date).
	 * @param inserted the hook
	 */
	public void onInserted(Consumer<RateLimiter> inserted) {
		this.inserted = inserted;
	}

	/**
	 * Every live limiter: each key's and the overflow limiter, if it was made.
	 * @return a snapshot, in no particular order
	 */
	public java.util.List<RateLimiter> live() {
		java.util.List<RateLimiter> live = new java.util.ArrayList<>(this.entries.size() + 1);
		this.entries.values().forEach((entry) -> live.add(entry.limiter));
		RateLimiter overflowing = this.overflow;
		if (overflowing != null) {
			live.add(overflowing);
		}
		return live;
	}

	/**
	 * Returns the live limiter of a key without creating it or counting the look as a use (so a
	 * report keeps no idle key from being evicted), or null.
	 */
	public RateLimiter peek(String key) {
		Entry entry = this.entries.get(key);
		return (entry != null) ? entry.limiter : null;
	}

	private void touch(Entry entry, long now) {
		if (now - entry.lastAccess > (this.idleNanos >>> 4)) {
			entry.lastAccess = now;
		}
	}

	private boolean reserveSlot() {
		for (int used = this.slots.get(); used < this.maxKeys;) {
			int witness = this.slots.compareAndExchange(used, used + 1);
			if (witness == used) {
				return true;
			}
			used = witness;
		}
		return false;
	}

	private RateLimiter overflow() {
		RateLimiter limiter = this.overflow;
		if (limiter == null) {
			limiter = this.factory.apply(OVERFLOW_KEY);
			this.overflow = limiter;
			this.inserted.accept(limiter);
		}
		return limiter;
	}

	private void sweep(long now) {
		if (now - this.nextSweepAt < 0 || !this.sweeping.compareAndSet(false, true)) {
			return;
		}
		try {
			int evicted = evictIdle(now);
			if (evicted == 0) {
				evicted = evictLeastRecentlyUsedAtRest(Math.max(1, this.maxKeys / 16));
			}
			this.nextSweepAt = (evicted > 0) ? now : now + Math.max(this.idleNanos / 8, 1_000_000L);
		}
		finally {
			this.sweeping.set(false);
		}
	}

	public int evictIdle() {
		return evictIdle(this.ticker.read());
	}

	private int evictIdle(long now) {
		int evicted = 0;
		for (Map.Entry<String, Entry> mapping : this.entries.entrySet()) {
			Entry entry = mapping.getValue();
			if (now - entry.lastAccess >= this.idleNanos && atRest(entry.limiter)
					&& this.entries.remove(mapping.getKey(), entry)) {
				this.slots.decrementAndGet();
				evicted++;
				this.released.accept(entry.limiter);
			}
		}
		return evicted;
	}

	private static boolean atRest(RateLimiter limiter) {
		if (limiter instanceof AbstractRateLimiter local) {
			return local.isAtRest();
		}
		return limiter.snapshot().available() >= limiter.snapshot().capacity();
	}

	/** Evicts up to {@code count} keys at full capacity, least recently used first, idle or not. */
	private int evictLeastRecentlyUsedAtRest(int count) {
		List<Map.Entry<String, Entry>> atRest = new ArrayList<>();
		for (Map.Entry<String, Entry> mapping : this.entries.entrySet()) {
			if (atRest(mapping.getValue().limiter)) {
				atRest.add(mapping);
			}
		}
		atRest.sort(java.util.Comparator.comparingLong((Map.Entry<String, Entry> mapping) -> mapping.getValue().lastAccess));
		int evicted = 0;
		for (Map.Entry<String, Entry> mapping : atRest) {
			if (evicted == count) {
				break;
			}
			if (atRest(mapping.getValue().limiter) && this.entries.remove(mapping.getKey(), mapping.getValue())) {
				this.slots.decrementAndGet();
				evicted++;
				this.released.accept(mapping.getValue().limiter);
			}
		}
		return evicted;
	}

	public int size() {
		return this.entries.size();
	}

	public List<Map.Entry<String, RateLimiter>> page(int offset, int limit) {
		List<Map.Entry<String, RateLimiter>> page = new ArrayList<>(Math.min(Math.max(limit, 0), 1024));
		int skipped = 0;
		for (Map.Entry<String, Entry> mapping : this.entries.entrySet()) {
			if (page.size() >= limit) {
				break;
			}
			if (skipped++ < offset) {
				continue;
			}
			page.add(Map.entry(mapping.getKey(), mapping.getValue().limiter));
		}
		return page;
	}

}
