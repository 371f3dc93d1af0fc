package dev.ratelimit.spring.boot.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.actuate.RateLimitBackendHealth;
import dev.ratelimit.spring.actuate.RateLimiterMetrics;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.RateLimitProperties;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * rate limiter meters: a {@link RateLimiterMetrics} listener factory, which the
 * {@link RateLimiterRegistry} built by {@link RateLimitAutoConfiguration} installs, so meters are
 * driven by limiter events and cost nothing without a meter registry.
 *
 * <p>Ordered after Boot's meter registry auto-configurations so that the condition on a
 * {@link MeterRegistry} bean sees them. The factory looks the meter registry and the limiter
 * registry up lazily: the limiter registry needs the factory to be built, and meter registries
 * should be configured (filters, common tags) before anything registers a meter.
 */
@AutoConfiguration(after = RateLimitAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean(MeterRegistry.class)
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
public final class RateLimitMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	RateLimiterMetrics rateLimiterMetrics(ObjectProvider<MeterRegistry> meterRegistry,
			ObjectProvider<RateLimiterRegistry> registry, RateLimitProperties properties) {
		RateLimitProperties.Metrics metrics = properties.getMetrics();
		if (metrics.getMaxTaggedKeys() < 0) {
			throw new InvalidRateLimitConfigurationException("ratelimit.metrics.max-tagged-keys",
					metrics.getMaxTaggedKeys(), "a number of keys cannot be negative",
					"Set zero or more, for example 100, or turn per-key tags off with "
							+ "ratelimit.metrics.per-key-tags=false.");
		}
		// getIfUnique: with several meter registries and none primary, no meters rather than a
		// failure inside the first call that creates a limiter
		return new RateLimiterMetrics(meterRegistry::getIfUnique, registry::getIfUnique, metrics.isPerKeyTags(),
				metrics.getMaxTaggedKeys());
	}

	/**
	 * Gauges of states that are not counts: the severity of each adaptive limiter
	 * ({@code ratelimit.adaptive.severity}, 0 normal to 3 emergency) and the state of each shared
	 * backend ({@code ratelimit.backend.status}, 0 up, 1 degraded, 2 down), so both can be alerted on
	 * with one threshold; and the same states one-hot, the way Boot exposes states
	 * ({@code ratelimit.adaptive.state} tagged {@code severity}, {@code ratelimit.backend.state} tagged
	 * {@code state}: 1 for the current one, 0 for the others), so a dashboard counts instances per
	 * state without decoding numbers.
	 */
	@Bean
	@ConditionalOnMissingBean(name = "rateLimitStateMeters")
	io.micrometer.core.instrument.binder.MeterBinder rateLimitStateMeters(
			ObjectProvider<dev.ratelimit.spring.adaptive.AdaptiveRateLimiters> adaptive,
			ObjectProvider<dev.ratelimit.spring.actuate.RateLimitBackendHealth> backends) {
		return (meters) -> {
			adaptive.ifAvailable((controllers) -> controllers.states().keySet().forEach((name) -> {
				io.micrometer.core.instrument.Gauge
					.builder("ratelimit.adaptive.severity", controllers, (all) -> severity(all, name).ordinal())
					.tag("name", name)
					.description("Severity of the limiter's adaptive control: 0 normal, 1 warning, 2 critical, 3 emergency")
					.register(meters);
				for (dev.ratelimit.adaptive.Severity each : dev.ratelimit.adaptive.Severity.values()) {
					io.micrometer.core.instrument.Gauge
						.builder("ratelimit.adaptive.state", controllers, (all) -> (severity(all, name) == each) ? 1 : 0)
						.tag("name", name)
						.tag("severity", each.name().toLowerCase(java.util.Locale.ROOT))
						.description("1 while the limiter's adaptive control is at this severity, 0 otherwise")
						.register(meters);
				}
			}));
			backends.orderedStream().forEach((backend) -> {
				io.micrometer.core.instrument.Gauge
					.builder("ratelimit.backend.status", backend, (each) -> state(each).ordinal())
					.tag("backend", backend.backend())
					.description("State of the shared limiter backend: 0 up, 1 degraded (a policy decides), 2 down")
					.register(meters);
				for (RateLimitBackendHealth.State each : RateLimitBackendHealth.State.values()) {
					io.micrometer.core.instrument.Gauge
						.builder("ratelimit.backend.state", backend, (health) -> (state(health) == each) ? 1 : 0)
						.tag("backend", backend.backend())
						.tag("state", each.name().toLowerCase(java.util.Locale.ROOT))
						.description("1 while the shared limiter backend is in this state, 0 otherwise")
						.register(meters);
				}
			});
		};
	}

	private static dev.ratelimit.adaptive.Severity severity(dev.ratelimit.spring.adaptive.AdaptiveRateLimiters all,
			String name) {
		return all.controller(name)
			.map((controller) -> controller.state().severity())
			.orElse(dev.ratelimit.adaptive.Severity.NORMAL);
	}

	/** A backend's state, down when it cannot say (a gauge never throws into a scrape). */
	private static RateLimitBackendHealth.State state(RateLimitBackendHealth backend) {
		try {
			return backend.report().state();
		}
		catch (RuntimeException ex) {
			return RateLimitBackendHealth.State.DOWN;
		}
	}

}
