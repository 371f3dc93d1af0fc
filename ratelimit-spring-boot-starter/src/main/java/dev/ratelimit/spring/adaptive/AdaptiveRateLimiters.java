package dev.ratelimit.spring.adaptive;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.task.SimpleAsyncTaskSchedulerBuilder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.AdaptiveController;
import dev.ratelimit.adaptive.AdaptiveListener;
import dev.ratelimit.adaptive.AdaptiveState;
import dev.ratelimit.adaptive.ChangeReason;
import dev.ratelimit.adaptive.ConcurrencyControl;
import dev.ratelimit.adaptive.Severity;
import dev.ratelimit.spring.aop.RateLimitedFailureListener;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.config.LimiterDefinitions.AdaptiveSpec;
import dev.ratelimit.spring.config.LimiterDefinitions.LoadSpec;
import dev.ratelimit.spring.scheduling.PeriodicTask;

/**
 * The adaptive controllers of the limiters declared with {@code adaptive.enabled=true}, and what
 * drives them: signals (a listed exception thrown by a {@code @RateLimited} call, consumer lag,
 * load signals such as CPU usage read at each evaluation, sampled utilization,
 * {@link #reduce(String, String)}) and a periodic evaluation that recovers the rate step by step. A controller changes its limiter's rate with {@link RateLimiter#updateRate};
 * for a global limiter that change goes through the shared backend, so every instance follows, and
 * each instance's controller takes the shared rate on ({@link AdaptiveController#observe}) so any
 * of them recovers it. Every change is published as a {@link RateLimitAdjustedEvent}.
 */
public class AdaptiveRateLimiters implements SmartLifecycle, RateLimitedFailureListener {

	private final RateLimiterRegistry registry;

	private final Map<String, AdaptiveSpec> specs;

	private final ApplicationEventPublisher events;

	private final Map<String, AdaptiveController> controllers = new LinkedHashMap<>();

	/** The concurrency limiters whose bound follows their calls' latency. */
	private final Map<String, ConcurrencyControl> concurrency = new LinkedHashMap<>();

	private final PeriodicTask ticking;

	private final @Nullable LoadReadings loads;

	/**
	 * Creates the controllers' home; controllers are built when it starts.
	 * @param registry the registry holding the limiters
	 * @param specs adaptive settings by limiter name
	 * @param events where rate changes are published
	 */
	public AdaptiveRateLimiters(RateLimiterRegistry registry, Map<String, AdaptiveSpec> specs, ApplicationEventPublisher events) {
		this(registry, specs, events, null);
	}

	/**
	 * Creates the controllers' home; controllers are built when it starts.
	 * @param registry the registry holding the limiters
	 * @param specs adaptive settings by limiter name
	 * @param events where rate changes are published
	 * @param schedulers the application's scheduler builder (virtual threads, task decorator), or
	 * {@code null} for a daemon platform thread
	 */
	public AdaptiveRateLimiters(RateLimiterRegistry registry, Map<String, AdaptiveSpec> specs,
			ApplicationEventPublisher events, @Nullable SimpleAsyncTaskSchedulerBuilder schedulers) {
		this(registry, specs, events, schedulers, null);
	}

	/**
	 * Creates the controllers' home; controllers are built when it starts.
	 * @param registry the registry holding the limiters
	 * @param specs adaptive settings by limiter name
	 * @param events where rate changes are published
	 * @param schedulers the application's scheduler builder (virtual threads, task decorator), or
	 * {@code null} for a daemon platform thread
	 * @param loads what reads the load signals at each evaluation, or {@code null} when no spec has
	 * any
	 * @throws IllegalArgumentException if a spec has load signals and there is nothing to read them
	 */
	public AdaptiveRateLimiters(RateLimiterRegistry registry, Map<String, AdaptiveSpec> specs,
			ApplicationEventPublisher events, @Nullable SimpleAsyncTaskSchedulerBuilder schedulers,
			@Nullable LoadReadings loads) {
		if (loads == null && specs.values().stream().anyMatch((spec) -> !spec.loads().isEmpty())) {
			throw new IllegalArgumentException("load signals are declared but nothing reads them: give a LoadReadings");
		}
		this.loads = loads;
		this.ticking = new PeriodicTask("ratelimit-adaptive", schedulers);
		this.registry = registry;
		this.specs = Map.copyOf(specs);
		this.events = events;
		for (Map.Entry<String, AdaptiveSpec> entry : this.specs.entrySet()) {
			String name = entry.getKey();
			RateLimiter limiter = registry.limiter(name);
			if (entry.getValue().concurrency() != null) {
				this.concurrency.put(name, LimiterDefinitions
					.concurrencyControl((ConcurrencyLimiter) limiter, entry.getValue().concurrency())
					.build());
				continue;
			}
			AdaptiveController controller = AdaptiveController.builder(limiter)
				.config(entry.getValue().config())
				.listener(new Publisher(name))
				.build();
			this.controllers.put(name, controller);
		}
	}

	/**
	 * Returns the controller of a limiter.
	 * @param name the limiter name
	 * @return its controller, if the limiter is adaptive
	 */
	public Optional<AdaptiveController> controller(String name) {
		return Optional.ofNullable(this.controllers.get(name));
	}

	/**
	 * Returns the control of a concurrency limiter whose bound follows its calls' latency.
	 * @param name the limiter name
	 * @return its control, if the limiter is an adaptive concurrency limiter
	 */
	public Optional<ConcurrencyControl> concurrencyControl(String name) {
		return Optional.ofNullable(this.concurrency.get(name));
	}

	/**
	 * Returns the state of every controller.
	 * @return states by limiter name
	 */
	public Map<String, AdaptiveState> states() {
		Map<String, AdaptiveState> states = new LinkedHashMap<>();
		this.controllers.forEach((name, controller) -> states.put(name, controller.state()));
		return Collections.unmodifiableMap(states);
	}

	/**
	 * Signals "back off" to a limiter's controller (as an HTTP 429 does): a multiplicative
	 * decrease, at most once per cooldown.
	 * @param name the limiter name
	 * @param reason why, for events and the actuator
	 * @return whether the limiter is adaptive
	 */
	public boolean reduce(String name, String reason) {
		AdaptiveController controller = this.controllers.get(name);
		if (controller != null) {
			controller.reduce(reason);
		}
		return controller != null;
	}

	/**
	 * Reports the lag of a consumer group or listener: every controller whose lag source it is
	 * sets its severity from it.
	 * @param source the group or listener id
	 * @param lag the total lag, in records
	 */
	public void onLag(String source, long lag) {
		this.specs.forEach((name, spec) -> {
			if (source.equals(spec.lagSource())) {
				this.controllers.get(name).onLag(lag);
			}
		});
	}

	@Override
	public void onFailure(String limiterName, Throwable failure) {
		AdaptiveSpec spec = this.specs.get(limiterName);
		if (spec == null || spec.concurrency() != null) {
			return; // a concurrency limit hears failures with the call's end, in onCompleted
		}
		Class<? extends Throwable> type = backOffType(spec.reduceOn(), failure);
		if (type != null) {
			this.controllers.get(limiterName).reduce(type.getSimpleName());
		}
	}

	/**
	 * A call through an adaptive concurrency limiter ended: its latency moves the bound, or, when
	 * it failed with one of the limiter's {@code reduce-on} exceptions, a drop lowers it.
	 */
	@Override
	public void onCompleted(String limiterName, long rttNanos, long inFlight, @Nullable Throwable failure) {
		ConcurrencyControl control = this.concurrency.get(limiterName);
		if (control == null) {
			return;
		}
		if (failure == null) {
			control.onSample(Math.max(1, rttNanos), Math.max(1, inFlight));
		}
		else if (backOffType(this.specs.get(limiterName).reduceOn(), failure) != null) {
			control.onDropped();
		}
		// any other failure (a validation error, a cancel) says nothing of the service's load
	}

	/** The {@code reduce-on} type a failure, or one of its causes, is, or {@code null}. */
	private static @Nullable Class<? extends Throwable> backOffType(List<Class<? extends Throwable>> types,
			Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = (cause.getCause() != cause) ? cause.getCause() : null) {
			for (Class<? extends Throwable> type : types) {
				if (type.isInstance(cause)) {
					return type;
				}
			}
		}
		return null;
	}

	/** One evaluation pass: load readings, utilization samples and recovery steps. */
	void tick() {
		this.controllers.forEach((name, controller) -> {
			AdaptiveSpec spec = this.specs.get(name);
			for (LoadSpec signal : spec.loads()) {
				readLoad(name, controller, signal);
			}
			try {
				if (spec.utilization()) {
					controller.onUtilization(this.registry.limiter(name).snapshot().utilization());
				}
				controller.evaluate();
			}
			catch (RuntimeException ex) {
				// a failing target (backend unreachable) keeps its rate; the next tick tries again
			}
		});
	}

	private void readLoad(String name, AdaptiveController controller, LoadSpec signal) {
		double reading;
		try {
			reading = this.loads.read(name, signal);
		}
		catch (RuntimeException ex) {
			// a reading that fails is no reading; the other signals and the recovery go on
			return;
		}
		if (Double.isFinite(reading) && reading >= 0) {
			try {
				controller.onLoad(signal.signal(), reading);
			}
			catch (RuntimeException ex) {
				// a failing target (backend unreachable) keeps its rate; the next tick tries again
			}
		}
	}

	Duration tickInterval() {
		return this.specs.values().stream()
			.filter((spec) -> spec.concurrency() == null)
			.map((spec) -> spec.config().recoveryInterval().dividedBy(5))
			.min(Duration::compareTo)
			.map((interval) -> (interval.compareTo(Duration.ofMillis(100)) < 0) ? Duration.ofMillis(100) : interval)
			.orElse(Duration.ofSeconds(1));
	}

	@Override
	public void start() {
		if (this.controllers.isEmpty()) {
			return;
		}
		Duration period = tickInterval();
		this.ticking.start(this::tick, period, period);
	}

	@Override
	public void stop() {
		this.ticking.stop();
	}

	@Override
	public boolean isRunning() {
		return this.ticking.isRunning();
	}

	/** Publishes every rate change as an application event. */
	private final class Publisher implements AdaptiveListener {

		private final String name;

		Publisher(String name) {
			this.name = name;
		}

		@Override
		public void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
			AdaptiveRateLimiters.this.events.publishEvent(new RateLimitAdjustedEvent(AdaptiveRateLimiters.this,
					this.name, previous, current, severity, reason));
		}

	}

}
