package dev.ratelimit.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.RateLimiterRegistry;
import io.github.resilience4j.spring6.fallback.FallbackExecutor;
import io.github.resilience4j.spring6.fallback.configure.FallbackConfiguration;
import io.github.resilience4j.spring6.ratelimiter.configure.RateLimiterAspect;
import io.github.resilience4j.spring6.ratelimiter.configure.RateLimiterConfigurationProperties;
import io.github.resilience4j.spring6.spelresolver.SpelResolver;
import io.github.resilience4j.spring6.spelresolver.configure.SpelResolverConfiguration;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.EnableAspectJAutoProxy;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.MapPropertySource;

import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;

/**
 * Average cost, in nanoseconds, of calling a rate-limited method through the starter's
 * {@link RateLimited @RateLimited} proxy, compared in the same run with the same method called
 * directly and through Resilience4j's Spring aspect ({@code @RateLimiter} from
 * {@code resilience4j-spring6}, applied by Spring AOP with AspectJ annotations).
 *
 * <p>One class, {@link Quotes}, carries both annotations on one method. Two small Spring contexts
 * are built once per trial:
 * <ul>
 * <li>ours: an {@link AnnotationConfigApplicationContext} with this library's auto-configuration
 * ({@link RateLimitAutoConfiguration} and {@link RateLimitedAnnotationAutoConfiguration}, imported
 * as auto-configurations) and {@code ratelimit.limiters.bench.rate=1000000000/1s},
 * {@code capacity=1000000000}; it ignores Resilience4j's annotation.
 * <li>Resilience4j: {@code @EnableAspectJAutoProxy}, Resilience4j's fallback and SpEL
 * configurations, its {@link RateLimiterAspect}, and a {@link RateLimiterRegistry} whose default
 * limiter permits 10<sup>9</sup> calls per second with a timeout of zero; it ignores ours.
 * </ul>
 * Setup first builds both contexts with a limit of one permit and checks that a second call is
 * denied, so each proxy is known to apply its limit, and checks that both measured beans are CGLIB
 * proxies. With 10<sup>9</sup> permits a second no measured call is ever denied: a denial would
 * throw and fail the run.
 *
 * <p>Measured: {@code plainCall} (the method on an instance created with {@code new}),
 * {@code proxyOurs}, {@code proxyResilience4j}, and each library's limiter called on its own
 * ({@code limiterOurs}, {@code limiterResilience4j}) so that the overhead of a proxy,
 * {@code proxy - plainCall}, can be split into the decision and the interception around it.
 * {@code results-table.py} prints the overheads and their ratio. Choose the thread count with
 * {@code -t}; the commands are in {@code docs/benchmarks.md} and {@code run-proxy-benchmark.sh}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class RateLimitedProxyBenchmark {

	/** Rate and burst of both limiters, far beyond what any thread reaches. */
	static final long PERMITS_PER_SECOND = 1_000_000_000L;

	private AnnotationConfigApplicationContext oursContext;

	private AnnotationConfigApplicationContext resilience4jContext;

	private Quotes plain;

	private Quotes ours;

	private Quotes resilience4j;

	private AnnotationConfigApplicationContext observedContext;

	/** Ours with an {@code ObservationRegistry} whose handler records a timer per observation. */
	private Quotes observed;

	private AnnotationConfigApplicationContext unhandledContext;

	/** Ours with an {@code ObservationRegistry} that has no handler (observations are no-ops). */
	private Quotes unhandled;

	private dev.ratelimit.RateLimiter oursLimiter;

	private io.github.resilience4j.ratelimiter.RateLimiter resilience4jLimiter;

	@Setup(Level.Trial)
	public void setUp() {
		// first prove that each context limits the method: with one permit, the second call is denied
		checkDeniesSecondCall(oursContext("1/1h", 1), dev.ratelimit.RateLimitExceededException.class);
		checkDeniesSecondCall(resilience4jContext(1, Duration.ofHours(1)),
				io.github.resilience4j.ratelimiter.RequestNotPermitted.class);

		this.plain = new Quotes();
		this.oursContext = oursContext(PERMITS_PER_SECOND + "/1s", PERMITS_PER_SECOND);
		SimpleMeterRegistry meters = new SimpleMeterRegistry();
		ObservationRegistry timing = ObservationRegistry.create();
		timing.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
		this.observedContext = oursContext(PERMITS_PER_SECOND + "/1s", PERMITS_PER_SECOND, timing);
		this.observed = this.observedContext.getBean(Quotes.class);
		this.observed.price(1);
		check(meters.find("ratelimit.acquire").timer() != null, "the observed context should record a timer");
		this.unhandledContext = oursContext(PERMITS_PER_SECOND + "/1s", PERMITS_PER_SECOND, ObservationRegistry.create());
		this.unhandled = this.unhandledContext.getBean(Quotes.class);
		this.ours = this.oursContext.getBean(Quotes.class);
		this.oursLimiter = this.oursContext.getBean(dev.ratelimit.RateLimiterRegistry.class).limiter("bench");
		this.resilience4jContext = resilience4jContext((int) PERMITS_PER_SECOND, Duration.ofSeconds(1));
		this.resilience4j = this.resilience4jContext.getBean(Quotes.class);
		this.resilience4jLimiter = this.resilience4jContext.getBean(RateLimiterRegistry.class).rateLimiter("bench");
		check(!AopUtils.isAopProxy(this.plain), "the plain instance should not be a proxy");
		check(AopUtils.isCglibProxy(this.ours), "ours should be a CGLIB proxy");
		check(AopUtils.isCglibProxy(this.resilience4j), "Resilience4j's should be a CGLIB proxy");
	}

	/** A context with this library's auto-configuration and one limiter, {@code bench}. */
	private static AnnotationConfigApplicationContext oursContext(String rate, long capacity) {
		return oursContext(rate, capacity, null);
	}

	/** The same, with an {@code ObservationRegistry} bean when {@code observations} is not null. */
	private static AnnotationConfigApplicationContext oursContext(String rate, long capacity,
			ObservationRegistry observations) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		if (observations != null) {
			context.registerBean(ObservationRegistry.class, () -> observations);
		}
		context.getEnvironment()
			.getPropertySources()
			.addFirst(new MapPropertySource("benchmark", Map.of("ratelimit.limiters.bench.rate", rate,
					"ratelimit.limiters.bench.capacity", String.valueOf(capacity))));
		context.register(OursConfiguration.class);
		context.refresh();
		return context;
	}

	/** A context with Resilience4j's aspect and a registry whose default limiter is the given one. */
	private static AnnotationConfigApplicationContext resilience4jContext(int limitForPeriod, Duration period) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.registerBean(RateLimiterRegistry.class, () -> RateLimiterRegistry.of(RateLimiterConfig.custom()
			.limitForPeriod(limitForPeriod)
			.limitRefreshPeriod(period)
			.timeoutDuration(Duration.ZERO)
			.build()));
		context.register(Resilience4jConfiguration.class);
		context.refresh();
		return context;
	}

	private static void checkDeniesSecondCall(AnnotationConfigApplicationContext context,
			Class<? extends RuntimeException> denial) {
		try (context) {
			Quotes quotes = context.getBean(Quotes.class);
			quotes.price(1);
			try {
				quotes.price(1);
			}
			catch (RuntimeException ex) {
				check(denial.isInstance(ex), "expected " + denial.getName() + " but got " + ex);
				return;
			}
			throw new IllegalStateException(context.getDisplayName() + " did not limit Quotes.price");
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		this.oursContext.close();
		this.observedContext.close();
		this.unhandledContext.close();
		this.resilience4jContext.close();
	}

	@Benchmark
	public long plainCall(Argument argument) {
		return this.plain.price(argument.quantity);
	}

	@Benchmark
	public long proxyOurs(Argument argument) {
		return this.ours.price(argument.quantity);
	}

	/** Ours with an observation per acquisition, recorded as a timer. */
	@Benchmark
	public long proxyOursObserved(Argument argument) {
		return this.observed.price(argument.quantity);
	}

	/** Ours with an observation registry that has no handler. */
	@Benchmark
	public long proxyOursObservedNoHandler(Argument argument) {
		return this.unhandled.price(argument.quantity);
	}

	@Benchmark
	public long proxyResilience4j(Argument argument) {
		return this.resilience4j.price(argument.quantity);
	}

	@Benchmark
	public boolean limiterOurs() {
		return this.oursLimiter.tryAcquire();
	}

	@Benchmark
	public boolean limiterResilience4j() {
		return this.resilience4jLimiter.acquirePermission();
	}

	/** The argument of every call, a field so that the JIT cannot fold the result. */
	@State(Scope.Thread)
	public static class Argument {

		long quantity = 42;

	}

	/**
	 * The rate-limited service: one cheap method carrying both libraries' annotations, so that
	 * each context applies its own and ignores the other's.
	 */
	public static class Quotes {

		@RateLimited("bench")
		@io.github.resilience4j.ratelimiter.annotation.RateLimiter(name = "bench")
		public long price(long quantity) {
			return quantity * 31 + 7;
		}

	}

	/** This library's auto-configuration, as an application gets it from the starter. */
	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ RateLimitAutoConfiguration.class, RateLimitedAnnotationAutoConfiguration.class })
	static class OursConfiguration {

		@Bean
		Quotes quotes() {
			return new Quotes();
		}

	}

	/**
	 * Resilience4j's Spring integration for Spring Framework 6 and 7: its aspect and what the
	 * aspect needs; the {@link RateLimiterRegistry} is registered with the context.
	 */
	@Configuration(proxyBeanMethods = false)
	@EnableAspectJAutoProxy
	@Import({ FallbackConfiguration.class, SpelResolverConfiguration.class })
	static class Resilience4jConfiguration {

		@Bean
		RateLimiterAspect rateLimiterAspect(RateLimiterRegistry registry, FallbackExecutor fallbackExecutor,
				SpelResolver spelResolver) {
			return new RateLimiterAspect(registry, new RateLimiterConfigurationProperties(), List.of(),
					fallbackExecutor, spelResolver);
		}

		@Bean
		Quotes quotes() {
			return new Quotes();
		}

	}

	private static void check(boolean condition, String message) {
		if (!condition) {
			throw new IllegalStateException(message);
		}
	}

}
