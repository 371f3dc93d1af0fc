package dev.ratelimit.spring.adaptive;

import org.springframework.context.ApplicationEvent;

import dev.ratelimit.Rate;
import dev.ratelimit.adaptive.ChangeReason;
import dev.ratelimit.adaptive.Severity;

/**
 * Published when adaptive control changes a limiter's rate: a decrease after a signal (an HTTP
 * 429, consumer lag, high utilization), a recovery step, or a change made by another instance that
 * shares the limit.
 */
public class RateLimitAdjustedEvent extends ApplicationEvent {

	private static final long serialVersionUID = 1L;

	private final String limiterName;

	private final transient Rate previous;

	private final transient Rate current;

	private final Severity severity;

	private final ChangeReason reason;

	/**
	 * Creates the event.
	 * @param source the publisher
	 * @param limiterName the limiter whose rate changed
	 * @param previous the rate before
	 * @param current the rate now
	 * @param severity the severity now
	 * @param reason why it changed
	 */
	public RateLimitAdjustedEvent(Object source, String limiterName, Rate previous, Rate current, Severity severity,
			ChangeReason reason) {
		super(source);
		this.limiterName = limiterName;
		this.previous = previous;
		this.current = current;
		this.severity = severity;
		this.reason = reason;
	}

	public String getLimiterName() {
		return this.limiterName;
	}

	public Rate getPrevious() {
		return this.previous;
	}

	public Rate getCurrent() {
		return this.current;
	}

	public Severity getSeverity() {
		return this.severity;
	}

	public ChangeReason getReason() {
		return this.reason;
	}

	@Override
	public String toString() {
		return "RateLimitAdjustedEvent[" + this.limiterName + ": " + this.previous + " -> " + this.current + ", "
				+ this.severity + ", " + this.reason + "]";
	}

}
