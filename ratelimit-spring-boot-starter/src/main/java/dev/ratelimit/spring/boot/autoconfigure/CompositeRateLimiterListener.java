package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterListener;

/**
 * Hands a limiter's events to several listeners.
 */
final class CompositeRateLimiterListener implements RateLimiterListener {

	private final RateLimiterListener[] listeners;

	private CompositeRateLimiterListener(List<RateLimiterListener> listeners) {
		this.listeners = listeners.toArray(new RateLimiterListener[0]);
	}

	static RateLimiterListener of(List<RateLimiterListener> listeners) {
		List<RateLimiterListener> used = listeners.stream().filter((listener) -> listener != RateLimiterListener.NONE)
			.toList();
		return switch (used.size()) {
			case 0 -> RateLimiterListener.NONE;
			case 1 -> used.get(0);
			default -> new CompositeRateLimiterListener(used);
		};
	}

	@Override
	public void onPermitted(long permits) {
		for (RateLimiterListener listener : this.listeners) {
			listener.onPermitted(permits);
		}
	}

	@Override
	public void onRejected(long permits) {
		for (RateLimiterListener listener : this.listeners) {
			listener.onRejected(permits);
		}
	}

	@Override
	public void onWaited(long nanos) {
		for (RateLimiterListener listener : this.listeners) {
			listener.onWaited(nanos);
		}
	}

	@Override
	public void onLimitChanged(RateLimit previous, RateLimit current) {
		for (RateLimiterListener listener : this.listeners) {
			listener.onLimitChanged(previous, current);
		}
	}

}
