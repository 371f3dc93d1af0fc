package dev.ratelimit.spring.gateway;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

import io.micrometer.observation.Observation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

import org.springframework.cloud.gateway.event.FilterArgsEvent;
import org.springframework.cloud.gateway.filter.ratelimit.AbstractRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Decision;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;
import dev.ratelimit.spring.observation.RateLimitObservations;
import dev.ratelimit.spring.web.HttpRule;
import dev.ratelimit.spring.web.RateLimitHeaders;

/**
 * A Spring Cloud Gateway {@code RateLimiter} backed by this library's limiters, so that a route's
 * {@code RequestRateLimiter} filter takes its permits from a limiter declared under
 * {@code ratelimit.limiters} (local, or {@code scope: global} over Kafka) instead of Redis:
 *
 * <pre>
 * filters:
 *   - name: RequestRateLimiter
 *     args:
 *       key-resolver: "#{&#64;clientKeyResolver}"
 *       ratelimit.limiter: api          # the limiter; the route id when not given
 *       ratelimit.permits: 1            # permits per request, 1 when not given
 * </pre>
 *
 * Each key the route's {@code KeyResolver} gives has its own limit; a key longer than
 * {@code ratelimit.max-key-length} is replaced by its SHA-256 digest. A decision is local and
 * never blocks. Answers carry {@code Retry-After} when refused and the IETF {@code RateLimit} /
 * {@code RateLimit-Policy} fields when the limiter has them enabled (the gateway sets the status,
 * 429 by default). With an {@code ObservationRegistry} in the application, each request's permits
 * are a {@code ratelimit.acquire} observation of source {@code gateway}. Thread-safe.
 */
public class RateLimitGatewayRateLimiter extends AbstractRateLimiter<RateLimitGatewayRateLimiter.Config> {

	private static final Log logger = LogFactory.getLog(RateLimitGatewayRateLimiter.class);

	/** The prefix of this rate limiter's arguments in a route's filter. */
	public static final String CONFIGURATION_PROPERTY_NAME = "ratelimit";

	private final RateLimiterRegistry registry;

	private final LimiterDefinitions definitions;

	private final Predicate<String> headers;

	private final int maxKeyLength;

	private volatile @Nullable RateLimitObservations observations;

	/**
	 * Creates the rate limiter.
	 * @param registry where the limiters come from
	 * @param definitions the declared limiters, to check a route's limiter
	 * @param headers whether a limiter's name gets the {@code RateLimit} fields
	 * @param maxKeyLength the longest key the registry takes
	 * @param configurationService the gateway's, which binds a route's arguments
	 */
	public RateLimitGatewayRateLimiter(RateLimiterRegistry registry, LimiterDefinitions definitions,
			Predicate<String> headers, int maxKeyLength, ConfigurationService configurationService) {
		super(Config.class, CONFIGURATION_PROPERTY_NAME, configurationService);
		this.registry = registry;
		this.definitions = definitions;
		this.headers = headers;
		this.maxKeyLength = maxKeyLength;
	}

	/**
	 * Binds a route's arguments, and logs an error for a route whose limiter is not declared (its
	 * requests then fail with that error, rather than every route failing to load).
	 */
	@Override
	public void onApplicationEvent(FilterArgsEvent event) {
		super.onApplicationEvent(event);
		Config config = getConfig().get(event.getRouteId());
		if (config != null) {
			IllegalArgumentException problem = check(event.getRouteId(), config);
			if (problem != null) {
				logger.error(problem.getMessage());
			}
			else {
				// a runtime rule that the route's requests could no longer fit is then refused
				String name = (config.getLimiter() != null) ? config.getLimiter() : event.getRouteId();
				this.registry.declarePermits(name, null, config.getPermits());
			}
		}
	}

	/**
	 * Observes each request's permits as a {@code ratelimit.acquire} observation of source
	 * {@code gateway}, with the route id as its operation, inside the request's observation.
	 * @param observations the observations, or {@code null} for none
	 */
	public void setObservations(@Nullable RateLimitObservations observations) {
		this.observations = observations;
	}

	@Override
	public Mono<Response> isAllowed(String routeId, String id) {
		Config config = getConfig().get(routeId);
		Config given = (config != null) ? config : new Config();
		IllegalArgumentException problem = check(routeId, given);
		if (problem != null) {
			return Mono.error(problem);
		}
		String name = (given.getLimiter() != null) ? given.getLimiter() : routeId;
		long permits = given.getPermits();
		String key = (id.length() <= this.maxKeyLength) ? id : HttpRule.digest(id, this.maxKeyLength);
		RateLimitObservations observations = this.observations;
		if (observations == null) {
			return Mono.just(decide(name, key, permits));
		}
		// the request's observation is in the Reactor context, where WebFlux puts it
		return Mono.deferContextual((context) -> {
			Object parent = context.getOrDefault(RateLimitObservations.REACTOR_CONTEXT_KEY, null);
			Observation observation = observations.start(Source.GATEWAY, name, routeId, permits,
					(parent instanceof Observation found) ? found : null);
			try {
				Response response = decide(name, key, permits);
				RateLimitObservations.stop(observation, response.isAllowed() ? Outcome.PERMITTED : Outcome.REJECTED);
				return Mono.just(response);
			}
			catch (RuntimeException ex) {
				RateLimitObservations.failed(observation, ex);
				return Mono.error(ex);
			}
		});
	}

	private Response decide(String name, String key, long permits) {
		RateLimiter limiter = this.registry.limiter(name, key);
		Decision decision = limiter.decide(permits);
		Map<String, String> fields = new LinkedHashMap<>();
		long retryAfter = RateLimitHeaders.retryAfterSeconds(decision);
		if (retryAfter > 0) {
			fields.put(RateLimitHeaders.RETRY_AFTER, Long.toString(retryAfter));
		}
		if (this.headers.test(name)) {
			fields.put(RateLimitHeaders.RATE_LIMIT_POLICY, RateLimitHeaders.policy(name, limiter.limit()));
			fields.put(RateLimitHeaders.RATE_LIMIT, RateLimitHeaders.rateLimit(name, decision));
		}
		return new Response(decision.permitted(), fields);
	}

	/** What is wrong with a route's arguments, or {@code null}. */
	private @Nullable IllegalArgumentException check(String routeId, Config config) {
		String name = (config.getLimiter() != null) ? config.getLimiter() : routeId;
		LimiterDefinitions.Definition definition = this.definitions.find(name);
		if (definition == null) {
			return new IllegalArgumentException("Route '" + routeId + "' limits with '" + name
					+ "', but no limiter of that name is declared and ratelimit.defaults.rate is not set: declare it "
					+ "(ratelimit.limiters." + name + ".rate=100/1s) or name another in the filter's ratelimit.limiter");
		}
		if (definition.limit() != null && definition.limit().algorithm() == Algorithm.CONCURRENCY) {
			return new IllegalArgumentException("Route '" + routeId + "' limits with '" + name
					+ "', a concurrency limit, which the gateway cannot give back when a request ends: use a rate "
					+ "limit (token-bucket or a window) for the route");
		}
		if (definition.priority() != null) {
			return new IllegalArgumentException("Route '" + routeId + "' limits with '" + name
					+ "', which is divided among priority classes and has no per-key limiters, while every gateway "
					+ "request takes a key: name a limiter without priority classes for the route");
		}
		long capacity = this.definitions.capacityOf(name);
		if (config.getPermits() > capacity) {
			return new IllegalArgumentException("Route '" + routeId + "' takes " + config.getPermits()
					+ " permits per request, more than limiter '" + name + "' can ever hold (" + capacity
					+ "): lower ratelimit.permits or raise the capacity");
		}
		if (config.getPermits() < 1) {
			return new IllegalArgumentException("Route '" + routeId + "': ratelimit.permits must be at least 1, but was "
					+ config.getPermits());
		}
		return null;
	}

	/**
	 * The arguments of one route: {@code ratelimit.limiter} and {@code ratelimit.permits}.
	 */
	public static class Config {

		private @Nullable String limiter;

		private long permits = 1;

		/**
		 * Returns the limiter's name.
		 * @return the name, or {@code null} for the route id
		 */
		public @Nullable String getLimiter() {
			return this.limiter;
		}

		/**
		 * Sets the limiter's name.
		 * @param limiter the name
		 */
		public void setLimiter(@Nullable String limiter) {
			this.limiter = limiter;
		}

		/**
		 * Returns the permits a request takes.
		 * @return the permits
		 */
		public long getPermits() {
			return this.permits;
		}

		/**
		 * Sets the permits a request takes.
		 * @param permits the permits
		 */
		public void setPermits(long permits) {
			this.permits = permits;
		}

	}

}
