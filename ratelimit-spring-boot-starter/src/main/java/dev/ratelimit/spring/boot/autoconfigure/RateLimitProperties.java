package dev.ratelimit.spring.boot.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Rate;

/**
 * Configuration of rate limiting, under {@code ratelimit}. Immutable; values are checked when
 * the limiters are built at start-up, and a bad one stops the application with a message that
 * names the property.
 */
@ConfigurationProperties("ratelimit")
public class RateLimitProperties {

	/**
	 * Whether rate limiting is enabled. When disabled, no limiter is created and
	 * {@code @RateLimited} methods run unlimited.
	 */
	private final boolean enabled;

	/**
	 * Where limiter state lives.
	 */
	private final Backend backend;

	/**
	 * Values applied to every limiter that does not set them. When a rate is set here, names used
	 * without a declaration get this limit.
	 */
	private final Limiter defaults;

	/**
	 * Limiters by name.
	 */
	private final Map<String, Limiter> limiters;

	/**
	 * Web integration.
	 */
	private final Web web;

	/**
	 * Metrics integration.
	 */
	private final Metrics metrics;

	/**
	 * Kafka integration.
	 */
	private final Kafka kafka;

	public RateLimitProperties(@DefaultValue("true") boolean enabled, @DefaultValue("in-memory") Backend backend,
			@DefaultValue Limiter defaults, Map<String, Limiter> limiters, @DefaultValue Web web,
			@DefaultValue Metrics metrics, @DefaultValue Kafka kafka) {
		this.enabled = enabled;
		this.backend = backend;
		this.defaults = defaults;
		this.limiters = (limiters != null) ? Map.copyOf(limiters) : Map.of();
		this.web = web;
		this.metrics = metrics;
		this.kafka = kafka;
	}

	public boolean isEnabled() {
		return this.enabled;
	}

	public Backend getBackend() {
		return this.backend;
	}

	public Limiter getDefaults() {
		return this.defaults;
	}

	public Map<String, Limiter> getLimiters() {
		return this.limiters;
	}

	public Web getWeb() {
		return this.web;
	}

	public Metrics getMetrics() {
		return this.metrics;
	}

	public Kafka getKafka() {
		return this.kafka;
	}

	/**
	 * Where limiter state lives.
	 */
	public enum Backend {

		/** In this instance's memory: limits are per instance. */
		IN_MEMORY,

		/** Shared by every instance through Kafka, for limiters of global scope. */
		KAFKA

	}

	/**
	 * One limiter. Every value is optional here and falls back to {@code ratelimit.defaults}.
	 */
	public static class Limiter {

		/**
		 * Admission algorithm.
		 */
		private final Algorithm algorithm;

		/**
		 * Rate as permits per period, for example 100/1s, 5000/1m, 0.5/s or 10000/1d. For windows,
		 * the limit per window and the window.
		 */
		private final Rate rate;

		/**
		 * Most permits a token bucket holds (the burst), or most permits one request of a leaky
		 * bucket may take. Defaults to the permits of one period of the rate.
		 */
		private final Long capacity;

		/**
		 * Permits a token bucket holds at start, in every bandwidth. Full unless set.
		 */
		private final Long initialPermits;

		/**
		 * Warm-up period of a token bucket: after idling, the rate starts at a third and reaches the
		 * full rate after this much steady use.
		 */
		private final Duration warmup;

		/**
		 * Number of slices a sliding window is counted in.
		 */
		private final Integer slices;

		/**
		 * Most permits in flight, for the concurrency algorithm.
		 */
		private final Long maxConcurrent;

		/**
		 * Further bandwidths of a token bucket, enforced together with the rate (for example a
		 * daily quota).
		 */
		private final List<Bandwidth> bandwidths;

		/**
		 * Tiers of a composite limiter, tried in order, taken all or nothing. A composite has no
		 * rate of its own.
		 */
		private final List<Tier> tiers;

		/**
		 * Longest time a @RateLimited call waits for a permit. Zero fails fast.
		 */
		private final Duration waitTimeout;

		/**
		 * Most live keys of this limiter's per-key limiters; further keys share one overflow limiter
		 * until idle keys are evicted.
		 */
		private final Integer maxKeys;

		/**
		 * Time a key must be unused, and back at full capacity, before it may be evicted.
		 */
		private final Duration keyIdleTimeout;

		/**
		 * Whether HTTP responses of calls limited by this limiter carry the RateLimit and
		 * RateLimit-Policy headers.
		 */
		private final Boolean headers;

		public Limiter(Algorithm algorithm, Rate rate, Long capacity, Long initialPermits, Duration warmup,
				Integer slices, Long maxConcurrent, List<Bandwidth> bandwidths, List<Tier> tiers, Duration waitTimeout,
				Integer maxKeys, Duration keyIdleTimeout, Boolean headers) {
			this.algorithm = algorithm;
			this.rate = rate;
			this.capacity = capacity;
			this.initialPermits = initialPermits;
			this.warmup = warmup;
			this.slices = slices;
			this.maxConcurrent = maxConcurrent;
			this.bandwidths = (bandwidths != null) ? List.copyOf(bandwidths) : List.of();
			this.tiers = (tiers != null) ? List.copyOf(tiers) : List.of();
			this.waitTimeout = waitTimeout;
			this.maxKeys = maxKeys;
			this.keyIdleTimeout = keyIdleTimeout;
			this.headers = headers;
		}

		public Algorithm getAlgorithm() {
			return this.algorithm;
		}

		public Rate getRate() {
			return this.rate;
		}

		public Long getCapacity() {
			return this.capacity;
		}

		public Long getInitialPermits() {
			return this.initialPermits;
		}

		public Duration getWarmup() {
			return this.warmup;
		}

		public Integer getSlices() {
			return this.slices;
		}

		public Long getMaxConcurrent() {
			return this.maxConcurrent;
		}

		public List<Bandwidth> getBandwidths() {
			return this.bandwidths;
		}

		public List<Tier> getTiers() {
			return this.tiers;
		}

		public Duration getWaitTimeout() {
			return this.waitTimeout;
		}

		public Integer getMaxKeys() {
			return this.maxKeys;
		}

		public Duration getKeyIdleTimeout() {
			return this.keyIdleTimeout;
		}

		public Boolean getHeaders() {
			return this.headers;
		}

	}

	/**
	 * A further bandwidth of a token bucket.
	 */
	public static class Bandwidth {

		/**
		 * Refill rate, for example 10000/1d.
		 */
		private final Rate rate;

		/**
		 * Most permits the bandwidth holds. Defaults to the permits of one period of its rate.
		 */
		private final Long capacity;

		public Bandwidth(Rate rate, Long capacity) {
			this.rate = rate;
			this.capacity = capacity;
		}

		public Rate getRate() {
			return this.rate;
		}

		public Long getCapacity() {
			return this.capacity;
		}

	}

	/**
	 * A tier of a composite limiter.
	 */
	public static class Tier {

		/**
		 * Name of the limiter that forms the tier.
		 */
		private final String name;

		/**
		 * Whether the tier is that limiter's per-key limiter, keyed like the composite.
		 */
		private final boolean perKey;

		public Tier(String name, @DefaultValue("false") boolean perKey) {
			this.name = name;
			this.perKey = perKey;
		}

		public String getName() {
			return this.name;
		}

		public boolean isPerKey() {
			return this.perKey;
		}

	}

	/**
	 * Web integration.
	 */
	public static class Web {

		/**
		 * Whether responses carry the IETF RateLimit and RateLimit-Policy headers, on permitted
		 * calls too. Denied calls always carry Retry-After.
		 */
		private final boolean headers;

		public Web(@DefaultValue("true") boolean headers) {
			this.headers = headers;
		}

		public boolean isHeaders() {
			return this.headers;
		}

	}

	/**
	 * Metrics integration.
	 */
	public static class Metrics {

		/**
		 * Whether meters of per-key limiters carry a key tag. Keys can be unbounded user input,
		 * so this is off unless the key count is small.
		 */
		private final boolean perKeyTags;

		/**
		 * Most keys per limiter that get their own meters when per-key tags are on.
		 */
		private final int maxTaggedKeys;

		public Metrics(@DefaultValue("false") boolean perKeyTags, @DefaultValue("100") int maxTaggedKeys) {
			this.perKeyTags = perKeyTags;
			this.maxTaggedKeys = maxTaggedKeys;
		}

		public boolean isPerKeyTags() {
			return this.perKeyTags;
		}

		public int getMaxTaggedKeys() {
			return this.maxTaggedKeys;
		}

	}

	/**
	 * Kafka integration.
	 */
	public static class Kafka {

		/**
		 * Kafka listener containers to throttle or observe, by listener id: the id of a
		 * Kafka listener annotation, or the bean name of a listener container.
		 */
		private final Map<String, Listener> listeners;

		/**
		 * Consumer lag observation.
		 */
		private final Backpressure backpressure;

		public Kafka(Map<String, Listener> listeners, @DefaultValue Backpressure backpressure) {
			this.listeners = (listeners != null) ? Map.copyOf(listeners) : Map.of();
			this.backpressure = backpressure;
		}

		public Map<String, Listener> getListeners() {
			return this.listeners;
		}

		public Backpressure getBackpressure() {
			return this.backpressure;
		}

		/**
		 * One Kafka listener container.
		 */
		public static class Listener {

			/**
			 * Name of the limiter, declared under ratelimit.limiters, that records of this listener
			 * take permits from. Without one, the listener's consumer lag is observed but its
			 * records are not throttled.
			 */
			private final String limiter;

			/**
			 * Permits each record takes, also each record of a batch.
			 */
			private final long permitsPerRecord;

			public Listener(String limiter, @DefaultValue("1") long permitsPerRecord) {
				this.limiter = limiter;
				this.permitsPerRecord = permitsPerRecord;
			}

			public String getLimiter() {
				return this.limiter;
			}

			public long getPermitsPerRecord() {
				return this.permitsPerRecord;
			}

		}

		/**
		 * Consumer lag observation.
		 */
		public static class Backpressure {

			/**
			 * Consumer groups, typically downstream of this application, whose lag is read with
			 * the admin client.
			 */
			private final List<Watch> watch;

			/**
			 * Time between two readings of the lag of watched groups, and between two reports of
			 * every lag to lag listeners.
			 */
			private final Duration lagInterval;

			public Backpressure(List<Watch> watch, @DefaultValue("5s") Duration lagInterval) {
				this.watch = (watch != null) ? List.copyOf(watch) : List.of();
				this.lagInterval = lagInterval;
			}

			public List<Watch> getWatch() {
				return this.watch;
			}

			public Duration getLagInterval() {
				return this.lagInterval;
			}

		}

		/**
		 * A consumer group whose lag is watched.
		 */
		public static class Watch {

			/**
			 * Consumer group id.
			 */
			private final String group;

			/**
			 * Topics to read the group's lag on. Partitions without a committed offset count from
			 * the start of the log. When empty, every partition the group has committed an offset
			 * for.
			 */
			private final List<String> topics;

			public Watch(String group, List<String> topics) {
				this.group = group;
				this.topics = (topics != null) ? List.copyOf(topics) : List.of();
			}

			public String getGroup() {
				return this.group;
			}

			public List<String> getTopics() {
				return this.topics;
			}

		}

	}

}
