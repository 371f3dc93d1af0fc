package dev.ratelimit.spring.aop;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import io.micrometer.observation.Observation;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.BeanResolver;
import org.springframework.expression.Expression;
import org.springframework.util.ReflectionUtils;

import dev.ratelimit.AllOrNothing;
import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.Decision;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.Scheduler;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Source;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * The limits of one {@code @RateLimited} method, resolved and checked at start-up, and what a
 * call does with them. Immutable apart from the cached shared limiters; thread-safe.
 */
final class RateLimitedOperation {

	private static final org.apache.commons.logging.Log logger = org.apache.commons.logging.LogFactory
		.getLog(RateLimitedOperation.class);

	private static final ParameterNameDiscoverer PARAMETER_NAMES = new DefaultParameterNameDiscoverer();

	/** The key under which calls whose key expression gives {@code null} share a limiter. */
	static final String NULL_KEY = "(none)";

	enum Kind {

		SYNC, FUTURE, MONO, FLUX

	}

	/** One limit of the method. */
	static final class Spec {

		final String name;

		final Expression key;

		final long permits;

		final boolean headers;

		/** The priority class of the calls, or {@code null} for the limiter's default. */
		final @Nullable String priority;

		/** What gives each call's class, or {@code null} for the fixed one. */
		final @Nullable Expression priorityExpression;

		/** The limiter's classes, when a call's class is computed. */
		final List<String> classes;

		/** Whether the priority expression's failure was logged. */
		final java.util.concurrent.atomic.AtomicBoolean expressionFailed = new java.util.concurrent.atomic.AtomicBoolean();

		/** The shared limiter of an unkeyed spec, created on first use. */
		private volatile RateLimiter shared;

		Spec(String name, Expression key, long permits, boolean headers) {
			this(name, key, permits, headers, null);
		}

		Spec(String name, Expression key, long permits, boolean headers, @Nullable String priority) {
			this(name, key, permits, headers, priority, null, List.of());
		}

		Spec(String name, Expression key, long permits, boolean headers, @Nullable String priority,
				@Nullable Expression priorityExpression, List<String> classes) {
			this.name = name;
			this.key = key;
			this.permits = permits;
			this.headers = headers;
			this.priority = priority;
			this.priorityExpression = priorityExpression;
			this.classes = classes;
		}

	}

	private final Method method;

	private final Spec[] specs;

	/** The observations of its acquisitions, or {@code null} when the application records none. */
	private final RateLimitObservations.@Nullable Operation observations;

	private final long[] permits;

	private final long waitNanos;

	private final Kind kind;

	private final Method fallback;

	private final boolean fallbackTakesException;

	private final RateLimiterRegistry registry;

	private final BeanResolver beans;

	private final Executor executor;

	private final boolean anyHeaders;

	private final RequestVariables requestVariables;

	private final java.util.function.Supplier<List<RateLimitedFailureListener>> failures;

	RateLimitedOperation(Method method, List<Spec> specs, long waitNanos, Kind kind, Method fallback,
			RateLimiterRegistry registry, BeanResolver beans, Executor executor,
			java.util.function.Supplier<List<RateLimitedFailureListener>> failures,
			@Nullable RateLimitObservations observations) {
		this.failures = failures;
		this.method = method;
		this.specs = specs.toArray(new Spec[0]);
		this.permits = specs.stream().mapToLong((spec) -> spec.permits).toArray();
		this.observations = (observations != null) ? observations.operation(Source.METHOD,
				String.join(",", specs.stream().map((spec) -> spec.name).toList()),
				method.getDeclaringClass().getSimpleName() + "." + method.getName(),
				specs.stream().mapToLong((spec) -> spec.permits).max().orElse(1)) : null;
		this.waitNanos = waitNanos;
		this.kind = kind;
		this.fallback = fallback;
		this.fallbackTakesException = (fallback != null)
				&& fallback.getParameterCount() == method.getParameterCount() + 1;
		if (fallback != null) {
			ReflectionUtils.makeAccessible(fallback);
		}
		this.registry = registry;
		this.beans = beans;
		this.executor = executor;
		this.anyHeaders = specs.stream().anyMatch((spec) -> spec.headers);
		StringBuilder keys = new StringBuilder();
		for (Spec spec : this.specs) {
			if (spec.key != null) {
				keys.append(spec.key.getExpressionString()).append('\n');
			}
			// a class chosen per call reads the request and the principal like a key does
			if (spec.priorityExpression != null) {
				keys.append(spec.priorityExpression.getExpressionString()).append('\n');
			}
		}
		this.requestVariables = RequestVariables.of(method, PARAMETER_NAMES, keys.toString());
	}

	Kind kind() {
		return this.kind;
	}

	Object invoke(MethodInvocation invocation, List<RateLimitHeadersListener> listeners) throws Throwable {
		return switch (this.kind) {
			case SYNC -> invokeSync(invocation, listeners);
			case FUTURE -> invokeFuture(invocation, listeners);
			case MONO, FLUX -> ReactiveSupport.invoke(this, invocation, listeners);
		};
	}

	// ---- plain methods -----------------------------------------------------------------------

	private Object invokeSync(MethodInvocation invocation, List<RateLimitHeadersListener> listeners) throws Throwable {
		List<RateLimiter> limiters = limiters(invocation);
		RateLimitExceededException denied = acquireObserved(limiters, listeners, null);
		if (denied != null) {
			return fallbackOrThrow(invocation, denied);
		}
		long[] started = null;
		Throwable failure = null;
		try {
			started = started(limiters);
			return invocation.proceed();
		}
		catch (Throwable ex) {
			failure = ex;
			failed(ex);
			throw ex;
		}
		finally {
			release(limiters, started, failure);
		}
	}

	/**
	 * When a call starts and the permits in flight of each of its concurrency limiters then, for
	 * the listeners that adapt a concurrency limit to the calls' latency; {@code null} when the call
	 * has no concurrency limiter or nobody listens.
	 */
	long @Nullable [] started(List<RateLimiter> limiters) {
		if (!hasConcurrency(limiters) || this.failures.get().isEmpty()) {
			return null;
		}
		long[] started = new long[limiters.size() + 1];
		started[0] = System.nanoTime();
		for (int i = 0; i < limiters.size(); i++) {
			if (limiters.get(i) instanceof ConcurrencyLimiter concurrency) {
				started[i + 1] = concurrency.inFlight();
			}
		}
		return started;
	}

	/** Tells the failure listeners (adaptive control) that a permitted call failed. */
	void failed(Throwable failure) {
		List<RateLimitedFailureListener> listeners = this.failures.get();
		if (listeners.isEmpty()) {
			return;
		}
		Throwable cause = unwrapped(failure);
		for (RateLimitedFailureListener listener : listeners) {
			for (Spec spec : this.specs) {
				try {
					listener.onFailure(spec.name, cause);
				}
				catch (RuntimeException ex) {
					// a listener must not turn the call's failure into another one
				}
			}
		}
	}

	/** What a call threw: for a future's, the cause its completion wraps. */
	private static Throwable unwrapped(Throwable failure) {
		return (failure instanceof CompletionException && failure.getCause() != null) ? failure.getCause() : failure;
	}

	/** Whether its acquisitions are observed. */
	boolean isObserved() {
		return this.observations != null;
	}

	/**
	 * Starts the observation of an acquisition, or returns {@code null} when the application
	 * records none.
	 * @param parent the parent observation of a reactive call, from its subscriber's context
	 */
	@Nullable Observation observe(@Nullable Observation parent) {
		return (this.observations != null) ? this.observations.start(parent) : null;
	}

	/**
	 * Takes the permits now, or waits for them on this thread when the method waits, as one
	 * observation; returns the denial, or {@code null} when permitted.
	 * @param parent the parent observation of a reactive call, from its subscriber's context
	 */
	@Nullable RateLimitExceededException acquireObserved(List<RateLimiter> limiters,
			List<RateLimitHeadersListener> listeners, @Nullable Observation parent) {
		Observation observation = observe(parent);
		RateLimitExceededException denied;
		try {
			denied = (this.waitNanos == 0) ? decide(limiters, listeners) : waitBlocking(limiters, listeners);
		}
		catch (RuntimeException | Error ex) {
			RateLimitObservations.failed(observation, ex);
			throw ex;
		}
		RateLimitObservations.stop(observation, denied);
		return denied;
	}

	/** Takes the permits now; returns the denial, or {@code null} when permitted. */
	RateLimitExceededException decide(List<RateLimiter> limiters, List<RateLimitHeadersListener> listeners) {
		List<RateLimitHeadersListener> active = active(listeners);
		if (active.isEmpty() && limiters.size() == 1) {
			RateLimiter limiter = limiters.get(0);
			return limiter.tryAcquire(this.permits[0]) ? null
					: exceeded(0, limiter, AllOrNothing.denial(limiter, this.permits[0]));
		}
		AllOrNothing.Outcome outcome = AllOrNothing.decide(limiters, this.permits, !active.isEmpty());
		if (!outcome.permitted()) {
			return exceeded(outcome.denying(), limiters.get(outcome.denying()), outcome.decision());
		}
		report(active, limiters, outcome.each());
		return null;
	}

	/**
	 * Waits for the permits on this thread (a virtual thread releases its carrier). Reserves
	 * where the algorithms can; polls at the retry time where they cannot (sliding windows).
	 */
	private RateLimitExceededException waitBlocking(List<RateLimiter> limiters,
			List<RateLimitHeadersListener> listeners) {
		long deadline = System.nanoTime() + this.waitNanos;
		for (;;) {
			long left = Math.max(0, deadline - System.nanoTime());
			AllOrNothing.Reservation reservation = AllOrNothing.reserve(limiters, this.permits, left);
			try {
				if (reservation.reserved()) {
					Scheduler.system().sleep(reservation.waitNanos());
					report(active(listeners), limiters, null);
					return null;
				}
				if (reservation.denial().retryAfterNanos() > deadline - System.nanoTime()) {
					return exceeded(reservation.denying(), limiters.get(reservation.denying()), reservation.denial());
				}
				Scheduler.system().sleep(reservation.denial().retryAfterNanos());
			}
			catch (InterruptedException ex) {
				if (reservation.reserved()) {
					AllOrNothing.refund(limiters, this.permits);
				}
				Thread.currentThread().interrupt();
				RateLimitExceededException exceeded = exceeded(0, limiters.get(0),
						new Decision(false, 0, Math.max(1, this.waitNanos), 0));
				exceeded.initCause(ex);
				return exceeded;
			}
		}
	}

	// ---- CompletableFuture -------------------------------------------------------------------

	private Object invokeFuture(MethodInvocation invocation, List<RateLimitHeadersListener> listeners) {
		List<RateLimiter> limiters = limiters(invocation);
		if (this.waitNanos == 0) {
			RateLimitExceededException denied = acquireObserved(limiters, listeners, null);
			if (denied != null) {
				return futureFallbackOrFailure(invocation, denied);
			}
			return proceedFuture(invocation, limiters);
		}
		MethodInvocation clone = clone(invocation);
		CompletableFuture<Object> result = new CompletableFuture<>();
		attemptFuture(clone, limiters, System.nanoTime() + this.waitNanos, result, observe(null));
		return result;
	}

	private void attemptFuture(MethodInvocation invocation, List<RateLimiter> limiters, long deadline,
			CompletableFuture<Object> result, @Nullable Observation observation) {
		if (result.isDone()) {
			RateLimitObservations.stop(observation, Outcome.CANCELLED);
			return;
		}
		long left = Math.max(0, deadline - System.nanoTime());
		AllOrNothing.Reservation reservation;
		try {
			reservation = AllOrNothing.reserve(limiters, this.permits, left);
		}
		catch (RuntimeException | Error ex) {
			RateLimitObservations.failed(observation, ex);
			result.completeExceptionally(ex);
			return;
		}
		if (reservation.reserved()) {
			Executor after = CompletableFuture.delayedExecutor(reservation.waitNanos(), TimeUnit.NANOSECONDS,
					this.executor);
			after.execute(() -> {
				if (result.isDone()) {
					AllOrNothing.refund(limiters, this.permits); // cancelled while waiting
					RateLimitObservations.stop(observation, Outcome.CANCELLED);
					return;
				}
				RateLimitObservations.stop(observation, Outcome.PERMITTED);
				relay(proceedFuture(invocation, limiters), result);
			});
			return;
		}
		long retryAfter = reservation.denial().retryAfterNanos();
		if (retryAfter > deadline - System.nanoTime()) {
			RateLimitExceededException denied = exceeded(reservation.denying(), limiters.get(reservation.denying()),
					reservation.denial());
			RateLimitObservations.stop(observation, Outcome.REJECTED);
			relay(futureFallbackOrFailure(invocation, denied), result);
			return;
		}
		CompletableFuture.delayedExecutor(retryAfter, TimeUnit.NANOSECONDS, this.executor)
			.execute(() -> attemptFuture(invocation, limiters, deadline, result, observation));
	}

	@SuppressWarnings("unchecked")
	private CompletableFuture<Object> proceedFuture(MethodInvocation invocation, List<RateLimiter> limiters) {
		long[] started = null;
		try {
			started = started(limiters);
			Object returned = invocation.proceed();
			if (returned == null) {
				release(limiters, started, null);
				return CompletableFuture.completedFuture(null);
			}
			CompletableFuture<Object> future = ((CompletionStage<Object>) returned).toCompletableFuture();
			boolean concurrency = hasConcurrency(limiters);
			long[] begun = started;
			future.whenComplete((value, failure) -> {
				if (failure != null) {
					failed(failure);
				}
				if (concurrency) {
					release(limiters, begun, failure);
				}
			});
			return future;
		}
		catch (Throwable ex) {
			failed(ex);
			release(limiters, started, ex);
			return CompletableFuture.failedFuture(ex);
		}
	}

	@SuppressWarnings("unchecked")
	private CompletableFuture<Object> futureFallbackOrFailure(MethodInvocation invocation,
			RateLimitExceededException denied) {
		if (this.fallback == null) {
			return CompletableFuture.failedFuture(denied);
		}
		try {
			Object returned = callFallback(invocation, denied);
			return (returned != null) ? ((CompletionStage<Object>) returned).toCompletableFuture()
					: CompletableFuture.completedFuture(null);
		}
		catch (Throwable ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	private static void relay(CompletableFuture<Object> from, CompletableFuture<Object> to) {
		from.whenComplete((value, failure) -> {
			if (failure != null) {
				to.completeExceptionally((failure instanceof CompletionException && failure.getCause() != null)
						? failure.getCause() : failure);
			}
			else {
				to.complete(value);
			}
		});
	}

	// ---- shared ------------------------------------------------------------------------------

	long waitNanos() {
		return this.waitNanos;
	}

	long[] permits() {
		return this.permits;
	}

	Executor executor() {
		return this.executor;
	}

	static MethodInvocation clone(MethodInvocation invocation) {
		return (invocation instanceof ProxyMethodInvocation proxy) ? proxy.invocableClone() : invocation;
	}

	List<RateLimiter> limiters(MethodInvocation invocation) {
		return limiters(invocation, null);
	}

	/**
	 * Whether a key expression reads {@code #principal} (and no parameter is named so), which a
	 * reactive call resolves before it decides.
	 */
	boolean readsPrincipal() {
		return this.requestVariables.bindsPrincipal();
	}

	/**
	 * Returns the limiters of a call.
	 * @param invocation the call
	 * @param exchange the request and principal of a reactive call's exchange, or {@code null} for
	 * those of the thread's servlet request, if any
	 */
	List<RateLimiter> limiters(MethodInvocation invocation, RequestVariables.@Nullable Exchange exchange) {
		if (this.specs.length == 1 && this.specs[0].key == null && this.specs[0].priorityExpression == null) {
			return List.of(shared(this.specs[0]));
		}
		List<RateLimiter> limiters = new ArrayList<>(this.specs.length);
		MethodBasedEvaluationContext context = null;
		for (Spec spec : this.specs) {
			if (spec.key == null && spec.priorityExpression == null) {
				limiters.add(shared(spec));
				continue;
			}
			if (context == null) {
				Object[] args = invocation.getArguments();
				context = new MethodBasedEvaluationContext(new KeyRoot(this.method, args, invocation.getThis()),
						this.method, args, PARAMETER_NAMES);
				if (this.beans != null) {
					context.setBeanResolver(this.beans);
				}
				if (exchange != null) {
					this.requestVariables.bind(context, exchange);
				}
				else {
					this.requestVariables.bind(context);
				}
			}
			if (spec.priorityExpression != null) {
				limiters.add(priorityClass(spec, context));
				continue;
			}
			Object key = spec.key.getValue(context);
			limiters.add(this.registry.limiter(spec.name, (key != null) ? key.toString() : NULL_KEY));
		}
		return limiters;
	}

	/**
	 * The class a call's expression gives, when it is one of the limiter's; the fixed or default
	 * class otherwise (a null, a value from a client that names no class, a failing expression).
	 */
	private RateLimiter priorityClass(Spec spec, MethodBasedEvaluationContext context) {
		Object value;
		try {
			value = spec.priorityExpression.getValue(context);
		}
		catch (RuntimeException ex) {
			if (spec.expressionFailed.compareAndSet(false, true)) {
				logger.warn("The priority expression '" + spec.priorityExpression.getExpressionString() + "' of "
						+ this.method + " failed (" + ex + "); its calls take the fixed or default class until it "
						+ "works (logged once)");
			}
			value = null;
		}
		if (value != null) {
			String named = value.toString();
			for (String priorityClass : spec.classes) {
				if (priorityClass.equals(named)) {
					return this.registry.priorities(spec.name).forClass(priorityClass);
				}
			}
		}
		return shared(spec);
	}

	private RateLimiter shared(Spec spec) {
		RateLimiter limiter = spec.shared;
		if (limiter == null) {
			limiter = (spec.priority != null) ? this.registry.priorities(spec.name).forClass(spec.priority)
					: this.registry.limiter(spec.name);
			spec.shared = limiter;
		}
		return limiter;
	}

	List<RateLimitHeadersListener> active(List<RateLimitHeadersListener> listeners) {
		if (!this.anyHeaders || listeners.isEmpty()) {
			return List.of();
		}
		List<RateLimitHeadersListener> active = null;
		for (RateLimitHeadersListener listener : listeners) {
			if (listener.isActive()) {
				if (active == null) {
					active = new ArrayList<>(listeners.size());
				}
				active.add(listener);
			}
		}
		return (active != null) ? active : List.of();
	}

	/** Reports the decisions of a permitted call; {@code each} may be null after a wait. */
	void report(List<RateLimitHeadersListener> active, List<RateLimiter> limiters, Decision[] each) {
		if (active.isEmpty()) {
			return;
		}
		List<RateLimitHeadersListener.AppliedLimit> applied = new ArrayList<>();
		for (int i = 0; i < this.specs.length; i++) {
			if (this.specs[i].headers) {
				RateLimiter limiter = limiters.get(i);
				Decision decision = (each != null) ? each[i] : permittedNow(limiter);
				applied.add(new RateLimitHeadersListener.AppliedLimit(this.specs[i].name, limiter.limit(), decision));
			}
		}
		for (RateLimitHeadersListener listener : active) {
			listener.onPermitted(applied);
		}
	}

	private static Decision permittedNow(RateLimiter limiter) {
		var snapshot = limiter.snapshot();
		// a snapshot has no reset time: unknown (Long.MAX_VALUE, as for a concurrency limit with
		// permits in flight) rather than zero, which would claim the limiter is full
		return new Decision(true, Math.max(0, snapshot.available()), 0, Long.MAX_VALUE);
	}

	RateLimitExceededException exceeded(int index, RateLimiter limiter, Decision decision) {
		return new RateLimitExceededException(this.specs[index].name, limiter.limit(), decision);
	}

	static boolean hasConcurrency(List<RateLimiter> limiters) {
		for (RateLimiter limiter : limiters) {
			if (limiter instanceof ConcurrencyLimiter) {
				return true;
			}
		}
		return false;
	}

	void release(List<RateLimiter> limiters) {
		release(limiters, null, null);
	}

	/**
	 * Tells the listeners how long the call took through each concurrency limiter, then gives its
	 * permits back.
	 */
	void release(List<RateLimiter> limiters, long @Nullable [] started, @Nullable Throwable failure) {
		if (started != null) {
			long rtt = Math.max(1, System.nanoTime() - started[0]);
			Throwable cause = (failure != null) ? unwrapped(failure) : null;
			for (RateLimitedFailureListener listener : this.failures.get()) {
				for (int i = 0; i < limiters.size(); i++) {
					// a keyed call's limiter is its key's, not the one a control adapts
					if (limiters.get(i) instanceof ConcurrencyLimiter && this.specs[i].key == null) {
						try {
							listener.onCompleted(this.specs[i].name, rtt, started[i + 1], cause);
						}
						catch (RuntimeException ex) {
							// a listener must not fail the call
						}
					}
				}
			}
		}
		for (int i = 0; i < limiters.size(); i++) {
			if (limiters.get(i) instanceof ConcurrencyLimiter concurrency) {
				concurrency.release(this.permits[i]);
			}
		}
	}

	Object fallbackOrThrow(MethodInvocation invocation, RateLimitExceededException denied) throws Throwable {
		if (this.fallback == null) {
			throw denied;
		}
		return callFallback(invocation, denied);
	}

	boolean hasFallback() {
		return this.fallback != null;
	}

	Object callFallback(MethodInvocation invocation, RateLimitExceededException denied) throws Throwable {
		Object[] args = invocation.getArguments();
		if (this.fallbackTakesException) {
			args = Arrays.copyOf(args, args.length + 1);
			args[args.length - 1] = denied;
		}
		try {
			return this.fallback.invoke(invocation.getThis(), args);
		}
		catch (InvocationTargetException ex) {
			throw ex.getTargetException();
		}
	}

	/**
	 * The root object of key expressions: {@code #root.method}, {@code #root.args},
	 * {@code #root.target}.
	 *
	 * @param method the method
	 * @param args its arguments
	 * @param target the target object
	 */
	record KeyRoot(Method method, Object[] args, Object target) {
	}

}
