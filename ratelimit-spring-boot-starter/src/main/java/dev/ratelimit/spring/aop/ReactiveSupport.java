package dev.ratelimit.spring.aop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import io.micrometer.observation.Observation;
import org.aopalliance.intercept.MethodInvocation;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

import dev.ratelimit.AllOrNothing;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.spring.observation.RateLimitObservationContext.Outcome;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * {@code Mono} and {@code Flux} methods: the limit is taken when the result is subscribed to
 * (once per subscription), waits are {@code Mono.delay} on Reactor's timer, so no thread is
 * parked and no event loop is blocked. Loaded only when Reactor is on the classpath.
 *
 * <p>Besides the listener beans, decisions go to a {@link RateLimitHeadersListener} the
 * subscriber put in its Reactor context under the key {@code RateLimitHeadersListener.class}: a
 * reactive call has no thread-bound request, so this is how a WebFlux filter scopes a listener
 * to one exchange.
 */
final class ReactiveSupport {

	private ReactiveSupport() {
	}

	static Object invoke(RateLimitedOperation operation, MethodInvocation invocation,
			List<RateLimitHeadersListener> listeners) {
		MethodInvocation clone = RateLimitedOperation.clone(invocation);
		boolean flux = operation.kind() == RateLimitedOperation.Kind.FLUX;
		if (flux) {
			return Flux.deferContextual((context) -> start(operation, clone, withContext(listeners, context), context,
					true));
		}
		return Mono.deferContextual(
				// fromDirect: the publisher holds at most one value (a Mono's, possibly after a wait), and
				// Mono.from would cancel it at that value, before its end is seen
				(context) -> Mono.fromDirect(start(operation, clone, withContext(listeners, context), context, false)));
	}

	/**
	 * Decides with the exchange of the subscriber's context, if any: its request as
	 * {@code #request}, and its principal as {@code #principal}, resolved first when a key reads it.
	 */
	@SuppressWarnings("unchecked")
	private static Publisher<Object> start(RateLimitedOperation operation, MethodInvocation invocation,
			List<RateLimitHeadersListener> listeners, ContextView context, boolean flux) {
		Object found = context.getOrDefault(RateLimitedExchange.CONTEXT_KEY, null);
		Observation parentObservation = operation.isObserved() ? parentIn(context) : null;
		if (!(found instanceof RateLimitedExchange source)) {
			return attempt(operation, invocation, listeners, null, flux, parentObservation);
		}
		if (!operation.readsPrincipal()) {
			return attempt(operation, invocation, listeners, new RequestVariables.Exchange(source.request(), null),
					flux, parentObservation);
		}
		return source.principal()
			.map(Optional::of)
			.defaultIfEmpty(Optional.empty())
			.flatMapMany((principal) -> attempt(operation, invocation, listeners,
					new RequestVariables.Exchange(source.request(), principal.orElse(null)), flux, parentObservation));
	}


	/** The observation the subscriber's context holds, if any. */
	private static @Nullable Observation parentIn(ContextView context) {
		Object found = context.getOrDefault(RateLimitObservations.REACTOR_CONTEXT_KEY, null);
		return (found instanceof Observation observation) ? observation : null;
	}

	/** Adds the listener of the subscriber's context, if any, to the listener beans. */
	private static List<RateLimitHeadersListener> withContext(List<RateLimitHeadersListener> listeners,
			ContextView context) {
		RateLimitHeadersListener scoped = context.getOrDefault(RateLimitHeadersListener.class, null);
		if (scoped == null) {
			return listeners;
		}
		List<RateLimitHeadersListener> all = new ArrayList<>(listeners.size() + 1);
		all.addAll(listeners);
		all.add(scoped);
		return all;
	}

	private static Publisher<Object> attempt(RateLimitedOperation operation, MethodInvocation invocation,
			List<RateLimitHeadersListener> listeners, RequestVariables.@Nullable Exchange exchange, boolean flux,
			@Nullable Observation parent) {
		List<RateLimiter> limiters = operation.limiters(invocation, exchange);
		if (operation.waitNanos() == 0) {
			RateLimitExceededException denied = operation.acquireObserved(limiters, listeners, parent);
			return (denied != null) ? fallbackOrError(operation, invocation, denied)
					: proceed(operation, invocation, limiters, flux);
		}
		return reserve(operation, invocation, limiters, listeners, System.nanoTime() + operation.waitNanos(), flux,
				operation.observe(parent));
	}

	private static Publisher<Object> reserve(RateLimitedOperation operation, MethodInvocation invocation,
			List<RateLimiter> limiters, List<RateLimitHeadersListener> listeners, long deadline, boolean flux,
			@Nullable Observation observation) {
		long left = Math.max(0, deadline - System.nanoTime());
		AllOrNothing.Reservation reservation;
		try {
			reservation = AllOrNothing.reserve(limiters, operation.permits(), left);
		}
		catch (RuntimeException | Error ex) {
			RateLimitObservations.failed(observation, ex);
			return Mono.error(ex);
		}
		if (reservation.reserved()) {
			if (reservation.waitNanos() == 0) {
				RateLimitObservations.stop(observation, Outcome.PERMITTED);
				operation.report(operation.active(listeners), limiters, null);
				return proceed(operation, invocation, limiters, flux);
			}
			// the permits are either used (the wait ended) or given back (cancelled), once: a cancel
			// racing the end of the delay must not give back permits a call goes on with
			AtomicBoolean settled = new AtomicBoolean();
			Mono<Long> delay = Mono.delay(Duration.ofNanos(reservation.waitNanos())).doOnCancel(() -> {
				if (settled.compareAndSet(false, true)) {
					AllOrNothing.refund(limiters, operation.permits());
					RateLimitObservations.stop(observation, Outcome.CANCELLED);
				}
			});
			return delay.thenMany(Flux.defer(() -> {
				if (!settled.compareAndSet(false, true)) {
					return Flux.empty(); // cancelled meanwhile: the permits went back
				}
				// reported once the wait is over, as blocking calls do
				RateLimitObservations.stop(observation, Outcome.PERMITTED);
				operation.report(operation.active(listeners), limiters, null);
				return proceed(operation, invocation, limiters, flux);
			}));
		}
		long retryAfter = reservation.denial().retryAfterNanos();
		if (retryAfter > deadline - System.nanoTime()) {
			RateLimitObservations.stop(observation, Outcome.REJECTED);
			return fallbackOrError(operation, invocation, operation.exceeded(reservation.denying(),
					limiters.get(reservation.denying()), reservation.denial()));
		}
		Mono<Long> retry = Mono.delay(Duration.ofNanos(retryAfter));
		if (observation != null) {
			retry = retry.doOnCancel(() -> RateLimitObservations.stop(observation, Outcome.CANCELLED));
		}
		return retry.thenMany(Flux.defer(() -> reserve(operation, invocation, limiters, listeners, deadline, flux,
				observation)));
	}

	@SuppressWarnings("unchecked")
	private static Publisher<Object> proceed(RateLimitedOperation operation, MethodInvocation invocation,
			List<RateLimiter> limiters, boolean flux) {
		Publisher<Object> result;
		long[] started = null;
		try {
			started = operation.started(limiters);
			result = (Publisher<Object>) invocation.proceed();
		}
		catch (Throwable ex) {
			operation.failed(ex);
			operation.release(limiters, started, ex);
			return Mono.error(ex);
		}
		if (result == null) {
			operation.release(limiters, started, null);
			return Mono.empty();
		}
		boolean concurrency = RateLimitedOperation.hasConcurrency(limiters);
		long[] begun = started;
		// the failure, if any, for the latency report at the end
		java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
		java.util.function.Consumer<Throwable> onError = (ex) -> {
			failure.set(ex);
			operation.failed(ex);
		};
		if (flux) {
			Flux<Object> observed = Flux.from(result).doOnError(onError);
			return concurrency ? observed.doFinally((signal) -> end(operation, limiters, begun, failure.get(), signal))
					: observed;
		}
		Mono<Object> observed = Mono.from(result).doOnError(onError);
		return concurrency ? observed.doFinally((signal) -> end(operation, limiters, begun, failure.get(), signal))
				: observed;
	}

	/** Gives the permits back; a cancelled call's time says nothing of the service's load. */
	private static void end(RateLimitedOperation operation, List<RateLimiter> limiters, long @Nullable [] started,
			@Nullable Throwable failure, reactor.core.publisher.SignalType signal) {
		operation.release(limiters, (signal == reactor.core.publisher.SignalType.CANCEL) ? null : started, failure);
	}

	@SuppressWarnings("unchecked")
	private static Publisher<Object> fallbackOrError(RateLimitedOperation operation, MethodInvocation invocation,
			RateLimitExceededException denied) {
		if (!operation.hasFallback()) {
			return Mono.error(denied);
		}
		try {
			Object returned = operation.callFallback(invocation, denied);
			return (returned != null) ? (Publisher<Object>) returned : Mono.empty();
		}
		catch (Throwable ex) {
			return Mono.error(ex);
		}
	}

}
