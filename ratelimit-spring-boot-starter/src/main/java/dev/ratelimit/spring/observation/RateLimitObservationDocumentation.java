package dev.ratelimit.spring.observation;

import io.micrometer.common.docs.KeyName;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;
import io.micrometer.observation.docs.ObservationDocumentation;

/**
 * The observations of this library: one per permit acquisition of a {@code @RateLimited} method
 * or of a request an HTTP rule applies to, covering the decision and any wait, not the work the
 * permits are for.
 */
public enum RateLimitObservationDocumentation implements ObservationDocumentation {

	/** A permit acquisition. */
	ACQUIRE {

		@Override
		public String getName() {
			return "ratelimit.acquire";
		}

		@Override
		public Class<? extends ObservationConvention<? extends Observation.Context>> getDefaultConvention() {
			return DefaultRateLimitObservationConvention.class;
		}

		@Override
		public KeyName[] getLowCardinalityKeyNames() {
			return LowCardinalityKeys.values();
		}

		@Override
		public KeyName[] getHighCardinalityKeyNames() {
			return HighCardinalityKeys.values();
		}

	};

	/** Tags with few values: on metrics and spans. */
	public enum LowCardinalityKeys implements KeyName {

		/** The names of the limiters asked, comma-separated in declaration order. */
		LIMITER {
			@Override
			public String asString() {
				return "ratelimit.limiter";
			}
		},

		/** Where the acquisition came from: {@code method}, {@code http}, {@code listener} or {@code gateway}. */
		SOURCE {
			@Override
			public String asString() {
				return "ratelimit.source";
			}
		},

		/**
		 * How it ended: {@code permitted}, {@code rejected}, {@code cancelled}, or {@code error} when
		 * deciding failed (the observation then carries the exception); {@code pending} while it
		 * runs (on a long-task timer of acquisitions in progress).
		 */
		OUTCOME {
			@Override
			public String asString() {
				return "ratelimit.outcome";
			}
		}

	}

	/** Tags with many values: on spans only. */
	public enum HighCardinalityKeys implements KeyName {

		/** What is limited: {@code Class.method} of a method, the names of the rules of a request. */
		OPERATION {
			@Override
			public String asString() {
				return "ratelimit.operation";
			}
		}

	}

}
