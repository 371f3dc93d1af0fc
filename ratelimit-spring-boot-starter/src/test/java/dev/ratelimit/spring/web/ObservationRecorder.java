package dev.ratelimit.spring.web;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;

import dev.ratelimit.spring.observation.RateLimitObservationContext;

/**
 * An observation handler bean that keeps the acquisitions it saw stop, for tests that check what
 * an application's tracing would show.
 */
public class ObservationRecorder implements ObservationHandler<RateLimitObservationContext> {

	private final List<RateLimitObservationContext> started = new CopyOnWriteArrayList<>();

	private final List<RateLimitObservationContext> stopped = new CopyOnWriteArrayList<>();

	@Override
	public void onStart(RateLimitObservationContext context) {
		this.started.add(context);
	}

	@Override
	public void onStop(RateLimitObservationContext context) {
		this.stopped.add(context);
	}

	@Override
	public boolean supportsContext(Observation.Context context) {
		return context instanceof RateLimitObservationContext;
	}

	/**
	 * Returns the stopped acquisitions of one limiter list, in the order they stopped.
	 * @param limiters the {@code ratelimit.limiter} value
	 * @return the acquisitions
	 */
	public List<RateLimitObservationContext> of(String limiters) {
		return this.stopped.stream().filter((context) -> context.getLimiters().equals(limiters)).toList();
	}

	/**
	 * Returns the acquisitions of one limiter list that started, stopped or not.
	 * @param limiters the {@code ratelimit.limiter} value
	 * @return the acquisitions
	 */
	public List<RateLimitObservationContext> startedOf(String limiters) {
		return this.started.stream().filter((context) -> context.getLimiters().equals(limiters)).toList();
	}

}
