package dev.ratelimit.spring.observation;

import io.micrometer.common.KeyValues;

/**
 * The default names and tags: the observation {@code ratelimit.acquire}, named
 * {@code "ratelimit <limiters>"} in traces, with the low-cardinality keys {@code ratelimit.limiter},
 * {@code ratelimit.source} and {@code ratelimit.outcome}, and the high-cardinality key
 * {@code ratelimit.operation} (see {@link RateLimitObservationDocumentation}). Keys of keyed
 * limiters are never tags: they are as many as the tenants.
 */
public class DefaultRateLimitObservationConvention implements RateLimitObservationConvention {

	/** The shared instance. */
	public static final DefaultRateLimitObservationConvention INSTANCE = new DefaultRateLimitObservationConvention();

	@Override
	public String getName() {
		return RateLimitObservationDocumentation.ACQUIRE.getName();
	}

	@Override
	public String getContextualName(RateLimitObservationContext context) {
		return "ratelimit " + context.getLimiters();
	}

	@Override
	public KeyValues getLowCardinalityKeyValues(RateLimitObservationContext context) {
		RateLimitObservationContext.Outcome outcome = context.getOutcome();
		return KeyValues.of(
				RateLimitObservationDocumentation.LowCardinalityKeys.LIMITER.withValue(context.getLimiters()),
				RateLimitObservationDocumentation.LowCardinalityKeys.SOURCE.withValue(context.getSource().value()),
				RateLimitObservationDocumentation.LowCardinalityKeys.OUTCOME
					.withValue((outcome != null) ? outcome.value() : (context.getError() != null) ? "error" : "pending"));
	}

	@Override
	public KeyValues getHighCardinalityKeyValues(RateLimitObservationContext context) {
		return KeyValues.of(RateLimitObservationDocumentation.HighCardinalityKeys.OPERATION.withValue(context.getOperation()));
	}

}
