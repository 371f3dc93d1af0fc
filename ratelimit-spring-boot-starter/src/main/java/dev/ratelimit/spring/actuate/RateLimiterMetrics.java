package dev.ratelimit.spring.actuate;

import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.Algorithm;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterListener;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.RateLimiterSnapshot;

/**
 * Turns the events of a {@link RateLimiterRegistry}'s limiters into Micrometer meters. Install it
 * as the registry's {@link RateLimiterRegistry.ListenerFactory}: it is asked for a listener each
 * time the registry creates a limiter, which is when it registers that limiter's meters.
 *
 * <p>Meters, all tagged {@code name} (the limiter name, without key):
 * <ul>
 * <li>{@value #CALLS} (counter, tag {@code result} = {@code permitted} or {@code rejected}): one
 * per decision, however many permits the call asked for;</li>
 * <li>{@value #WAIT} (timer): how long blocking and asynchronous acquisitions waited before they
 * were granted;</li>
 * <li>{@value #AVAILABLE}, {@value #UTILIZATION} and {@value #RATE} (gauges, permits per second for
 * the rate, {@code NaN} for a concurrency limiter): the state of the shared limiter of a name;</li>
 * <li>{@value #KEYS} (gauge): live per-key limiters of a name.</li>
 * </ul>
 * Keys are often user input, so by default per-key limiters add to their name's counter and timer
 * and have no gauges. With per-key tags on, every meter above but {@value #KEYS} also carries a
 * {@code key} tag: {@value #NO_KEY} for the shared limiter, the key for the first
 * {@code maxTaggedKeys} distinct keys of each name (they keep their meters for the life of the
 * application, so the series count stays bounded), and {@value #OTHER_KEYS} for the counter and
 * timer of every later key. One tag set per meter name, whatever the key, because Prometheus
 * drops series whose tag keys differ from the first ones registered.
 *
 * <p>Gauges hold neither limiters nor the registry: they look the limiter up at each read (a map
 * read for a shared limiter; a cached index refreshed when a tagged key is created for per-key
 * ones), so an evicted key's limiter can be collected and a re-created one is followed. A gauge
 * whose limiter does not exist reads {@code NaN}.
 *
 * <p>The {@link MeterRegistry} is resolved when the first limiter is created, not when this
 * factory is, because the limiter registry (which needs the factory) is usually built before
 * meter registries are. Until one is available, limiters get {@link RateLimiterListener#NONE}
 * and cost nothing. Listeners only increment meters: no allocation, no lock. Thread-safe.
 */
public class RateLimiterMetrics implements RateLimiterRegistry.ListenerFactory {

	/** Counter of decisions, tagged {@code result}. */
	public static final String CALLS = "ratelimit.calls";

	/** Timer of waits before a permit was granted. */
	public static final String WAIT = "ratelimit.wait";

	/** Gauge of permits that could be taken now. */
	public static final String AVAILABLE = "ratelimit.permits.available";

	/** Gauge of the share of the capacity in use, from 0 to 1. */
	public static final String UTILIZATION = "ratelimit.utilization";

	/** Gauge of the current rate in permits per second. */
	public static final String RATE = "ratelimit.rate";

	/** Gauge of live per-key limiters of a name. */
	public static final String KEYS = "ratelimit.keys";

	/**
	 * Gauge of a global per-key name's keys on this instance by state, tagged {@code state}:
	 * {@code cold}, {@code leased}, {@code degraded} (registered when the backend reports them).
	 */
	public static final String KEYS_BY_STATE = "ratelimit.keys.state";

	/** Gauge of what a global per-key name's buckets owed by their last answers, in permits. */
	public static final String KEYS_DEBT = "ratelimit.keys.debt";

	/** {@code key} tag of the shared limiter of a name, when per-key tags are on. */
	public static final String NO_KEY = "(none)";

	/** {@code key} tag of keys beyond the tagged bound, when per-key tags are on. */
	public static final String OTHER_KEYS = "(other)";

	/** Longest a gauge reads from a key index that missed its key before it is rebuilt. */
	private static final long RESCAN_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final Supplier<@Nullable MeterRegistry> meterRegistrySupplier;

	private final Supplier<@Nullable RateLimiterRegistry> registrySupplier;

	private final boolean perKeyTags;

	private final int maxTaggedKeys;

	private final ConcurrentHashMap<String, NameMeters> names = new ConcurrentHashMap<>();

	private volatile @Nullable MeterRegistry meterRegistry;

	private volatile @Nullable RateLimiterRegistry registry;

	/**
	 * Creates the factory.
	 * @param meterRegistry supplies the meter registry, or {@code null} while there is none; asked
	 * until it supplies one
	 * @param registry supplies the limiter registry the gauges read, or {@code null} while it is
	 * being built; asked until it supplies one
	 * @param perKeyTags whether per-key limiters get a {@code key} tag
	 * @param maxTaggedKeys most keys per name with their own meters when {@code perKeyTags} is on,
	 * zero or more
	 */
	public RateLimiterMetrics(Supplier<@Nullable MeterRegistry> meterRegistry,
			Supplier<@Nullable RateLimiterRegistry> registry, boolean perKeyTags, int maxTaggedKeys) {
		this.meterRegistrySupplier = Objects.requireNonNull(meterRegistry, "meterRegistry");
		this.registrySupplier = Objects.requireNonNull(registry, "registry");
		if (maxTaggedKeys < 0) {
			throw new IllegalArgumentException("maxTaggedKeys must be zero or more, but was " + maxTaggedKeys);
		}
		this.perKeyTags = perKeyTags;
		this.maxTaggedKeys = maxTaggedKeys;
	}

	@Override
	public RateLimiterListener create(String name, @Nullable String key) {
		MeterRegistry meters = meterRegistry();
		if (meters == null) {
			return RateLimiterListener.NONE;
		}
		NameMeters byName = this.names.computeIfAbsent(name, (n) -> new NameMeters(n, meters));
		return (key != null) ? byName.forKey(key) : byName.shared();
	}

	private @Nullable MeterRegistry meterRegistry() {
		MeterRegistry meters = this.meterRegistry;
		if (meters == null) {
			meters = this.meterRegistrySupplier.get();
			this.meterRegistry = meters;
		}
		return meters;
	}

	private @Nullable RateLimiterRegistry registry() {
		RateLimiterRegistry registry = this.registry;
		if (registry == null) {
			registry = this.registrySupplier.get();
			this.registry = registry;
		}
		return registry;
	}

	private static double value(@Nullable RateLimiterSnapshot snapshot, ToDoubleFunction<RateLimiterSnapshot> value) {
		return (snapshot != null) ? value.applyAsDouble(snapshot) : Double.NaN;
	}

	private static @Nullable RateLimiter find(KeyIndex index, String key) {
		WeakReference<RateLimiter> reference = index.limiters().get(key);
		return (reference != null) ? reference.get() : null;
	}

	private static double rate(RateLimiterSnapshot snapshot) {
		// a concurrency limiter reports maxConcurrent per second as its rate: not a rate at all
		return (snapshot.algorithm() != Algorithm.CONCURRENCY) ? snapshot.rate().perSecond() : Double.NaN;
	}

	/**
	 * Records one set of tags' decisions and waits. Shared by every limiter that maps to those
	 * tags (for example all untagged keys of a name, or a key and its re-created limiter).
	 */
	private static final class MeterListener implements RateLimiterListener {

		private final Counter permitted;

		private final Counter rejected;

		private final Timer waits;

		MeterListener(MeterRegistry meters, Tags tags) {
			this.permitted = Counter.builder(CALLS)
				.description("Rate limiter decisions: one per call, whatever the permits asked for")
				.tags(tags)
				.tag("result", "permitted")
				.register(meters);
			this.rejected = Counter.builder(CALLS)
				.description("Rate limiter decisions: one per call, whatever the permits asked for")
				.tags(tags)
				.tag("result", "rejected")
				.register(meters);
			this.waits = Timer.builder(WAIT)
				.description("Time blocking and asynchronous acquisitions waited before they were granted")
				.tags(tags)
				.register(meters);
		}

		@Override
		public void onPermitted(long permits) {
			this.permitted.increment();
		}

		@Override
		public void onRejected(long permits) {
			this.rejected.increment();
		}

		@Override
		public void onWaited(long nanos) {
			this.waits.record(nanos, TimeUnit.NANOSECONDS);
		}

	}

	/**
	 * Live limiters of tagged keys, as of the last scan of the registry. The registry offers no
	 * look-up of one key that does not create or touch it, so gauges read this index instead. It
	 * is rebuilt when a tagged key's limiter has been created since the scan, or when a key is
	 * missing and the scan is older than {@link #RESCAN_NANOS} (a key created while the scan ran).
	 */
	private record KeyIndex(long generation, long scannedAt, Map<String, WeakReference<RateLimiter>> limiters) {

		static final KeyIndex EMPTY = new KeyIndex(-1, 0, Map.of());

	}

	/** The meters of one limiter name. */
	private final class NameMeters {

		private final String name;

		private final MeterRegistry meters;

		private final ConcurrentHashMap<String, MeterListener> tagged = new ConcurrentHashMap<>();

		private final AtomicInteger taggedCount = new AtomicInteger();

		private final AtomicBoolean sharedGauges = new AtomicBoolean();

		private final AtomicBoolean keysGauge = new AtomicBoolean();

		/** Set once it is known whether the name's backend reports its keys as a whole. */
		private final AtomicBoolean keyedGauges = new AtomicBoolean();

		/** The backend's report of the name's keys, read at most once a second for all its gauges. */
		private volatile Map<String, Object> keyed = Map.of();

		private volatile long keyedReadNanos = System.nanoTime() - 2 * RESCAN_NANOS;

		/** Bumped each time a tagged key's limiter is created, so the key index is rebuilt. */
		private final AtomicLong generation = new AtomicLong();

		private volatile KeyIndex index = KeyIndex.EMPTY;

		// Created lazily and without a lock: a race builds two listeners over the same meters,
		// because Micrometer returns the registered meter for an id it already has.
		private volatile @Nullable MeterListener shared;

		private volatile @Nullable MeterListener other;

		NameMeters(String name, MeterRegistry meters) {
			this.name = name;
			this.meters = meters;
		}

		RateLimiterListener shared() {
			if (this.sharedGauges.compareAndSet(false, true)) {
				registerGauges(sharedTags(), NameMeters::sharedSnapshot);
			}
			return sharedListener();
		}

		RateLimiterListener forKey(String key) {
			if (this.keysGauge.compareAndSet(false, true)) {
				Gauge.builder(KEYS, this, NameMeters::keyCount)
					.description("Live per-key limiters of a name")
					.tags("name", this.name)
					.register(this.meters);
			}
			if (!this.keyedGauges.get()) {
				registerKeyedGauges();
			}
			if (!RateLimiterMetrics.this.perKeyTags) {
				return sharedListener(); // untagged keys add to their name's counter and timer
			}
			MeterListener listener = this.tagged.get(key);
			if (listener == null) {
				listener = this.tagged.computeIfAbsent(key, (k) -> reserveTag() ? keyListener(k) : null);
			}
			if (listener == null) {
				return otherListener();
			}
			this.generation.incrementAndGet(); // a new limiter for this key: gauges must find it
			return listener;
		}

		private MeterListener sharedListener() {
			MeterListener listener = this.shared;
			if (listener == null) {
				listener = new MeterListener(this.meters, sharedTags());
				this.shared = listener;
			}
			return listener;
		}

		private Tags sharedTags() {
			return RateLimiterMetrics.this.perKeyTags ? Tags.of("name", this.name, "key", NO_KEY)
					: Tags.of("name", this.name);
		}

		private MeterListener otherListener() {
			MeterListener listener = this.other;
			if (listener == null) {
				listener = new MeterListener(this.meters, Tags.of("name", this.name, "key", OTHER_KEYS));
				this.other = listener;
			}
			return listener;
		}

		private MeterListener keyListener(String key) {
			Tags tags = Tags.of("name", this.name, "key", key);
			MeterListener listener = new MeterListener(this.meters, tags);
			registerGauges(tags, (meters) -> meters.keySnapshot(key));
			return listener;
		}

		private boolean reserveTag() {
			for (int used = this.taggedCount.get(); used < RateLimiterMetrics.this.maxTaggedKeys;) {
				int witness = this.taggedCount.compareAndExchange(used, used + 1);
				if (witness == used) {
					return true;
				}
				used = witness;
			}
			return false;
		}

		private void registerGauges(Tags tags, Function<NameMeters, @Nullable RateLimiterSnapshot> snapshot) {
			// the state is this object, which the factory holds anyway: no limiter is kept alive
			Gauge.builder(AVAILABLE, this, (s) -> value(snapshot.apply(s), RateLimiterSnapshot::available))
				.description("Permits a rate limiter could grant now")
				.tags(tags)
				.register(this.meters);
			Gauge.builder(UTILIZATION, this, (s) -> value(snapshot.apply(s), RateLimiterSnapshot::utilization))
				.description("Share of a rate limiter's capacity in use, from 0 (idle) to 1 (exhausted)")
				.tags(tags)
				.register(this.meters);
			Gauge.builder(RATE, this, (s) -> value(snapshot.apply(s), RateLimiterMetrics::rate))
				.description("Current rate of a rate limiter, in permits per second")
				.tags(tags)
				.register(this.meters);
		}

		/** The backend's gauges of the name's keys, when it reports them (a global per-key limit). */
		private void registerKeyedGauges() {
			RateLimiterRegistry registry = registry();
			if (registry == null || !this.keyedGauges.compareAndSet(false, true)
					|| registry.keyedDetails(this.name).isEmpty()) {
				return; // decided once, when the registry can tell (an in-memory name registers nothing)
			}
			for (String state : List.of("cold", "leased", "degraded")) {
				Gauge.builder(KEYS_BY_STATE, this, (meters) -> meters.keyed(state))
					.description("Keys of a global per-key limit on this instance, by state")
					.tags("name", this.name, "state", state)
					.register(this.meters);
			}
			Gauge.builder(KEYS_DEBT, this, (meters) -> meters.keyed("debt"))
				.description("Permits the buckets of a global per-key limit owed by their last answers")
				.tags("name", this.name)
				.register(this.meters);
		}

		private double keyed(String field) {
			long now = System.nanoTime();
			Map<String, Object> keyed = this.keyed;
			if (now - this.keyedReadNanos > RESCAN_NANOS) {
				RateLimiterRegistry registry = registry();
				keyed = (registry != null) ? registry.keyedDetails(this.name) : Map.of();
				this.keyed = keyed;
				this.keyedReadNanos = now;
			}
			return (keyed.get(field) instanceof Number number) ? number.doubleValue() : Double.NaN;
		}

		private double keyCount() {
			RateLimiterRegistry registry = registry();
			return (registry != null) ? registry.keyCount(this.name) : Double.NaN;
		}

		private @Nullable RateLimiterSnapshot sharedSnapshot() {
			RateLimiterRegistry registry = registry();
			return (registry != null) ? registry.find(this.name).map(RateLimiter::snapshot).orElse(null) : null;
		}

		private @Nullable RateLimiterSnapshot keySnapshot(String key) {
			RateLimiter limiter = liveKey(key);
			return (limiter != null) ? limiter.snapshot() : null;
		}

		private @Nullable RateLimiter liveKey(String key) {
			KeyIndex current = this.index;
			long generation = this.generation.get();
			RateLimiter limiter = find(current, key);
			if (current.generation() != generation
					|| (limiter == null && System.nanoTime() - current.scannedAt() >= RESCAN_NANOS)) {
				current = rescan(generation);
				limiter = find(current, key);
			}
			return limiter;
		}

		private KeyIndex rescan(long generation) {
			RateLimiterRegistry registry = registry();
			if (registry == null) {
				return KeyIndex.EMPTY;
			}
			Map<String, WeakReference<RateLimiter>> limiters = new HashMap<>();
			for (Map.Entry<String, RateLimiter> entry : registry.keys(this.name, 0, Integer.MAX_VALUE)) {
				if (this.tagged.containsKey(entry.getKey())) {
					limiters.put(entry.getKey(), new WeakReference<>(entry.getValue()));
				}
			}
			// Two readers may rescan at once; either result is a valid index, the last one stays.
			KeyIndex rebuilt = new KeyIndex(generation, System.nanoTime(), Map.copyOf(limiters));
			this.index = rebuilt;
			return rebuilt;
		}

	}

}
