package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How an {@link AdaptiveController} reacts to signals: an immutable, validated set of parameters,
 * independent of any limiter, so one config can serve many controllers. Thread-safe.
 *
 * <p>Fractions "of the ceiling" are shares of the configured rate ({@code 0.8} is 80% of it);
 * factors multiply the rate in force. Both are kept to a millionth. Lags are counts of records (or
 * whatever unit the caller reports, as long as the thresholds use the same). The defaults are
 * those of {@link #defaults()}; each is also stated on its getter:
 *
 * <pre class="code">
 * AdaptiveConfig config = AdaptiveConfig.builder()
 * 	.decreaseFactor(0.7)
 * 	.recoveryInterval(Duration.ofSeconds(10))
 * 	.build();
 * </pre>
 */
public final class AdaptiveConfig {

	private static final AdaptiveConfig DEFAULTS = builder().build();

	private final double floorFraction;

	private final double decreaseFactor;

	private final Duration decreaseCooldown;

	private final Duration recoveryInterval;

	private final double recoveryStep;

	private final long warningLag;

	private final long criticalLag;

	private final long emergencyLag;

	private final long recoveryLag;

	private final double warningFraction;

	private final double criticalFraction;

	private final double highUtilization;

	private final double lowUtilization;

	private final double utilizationDecreaseFactor;

	private final Map<String, LoadThresholds> loadSignals;

	private AdaptiveConfig(Builder builder) {
		this.floorFraction = builder.floorFraction;
		this.decreaseFactor = builder.decreaseFactor;
		this.decreaseCooldown = builder.decreaseCooldown;
		this.recoveryInterval = builder.recoveryInterval;
		this.recoveryStep = builder.recoveryStep;
		this.warningLag = builder.warningLag;
		this.criticalLag = builder.criticalLag;
		this.emergencyLag = builder.emergencyLag;
		this.recoveryLag = builder.recoveryLag;
		this.warningFraction = builder.warningFraction;
		this.criticalFraction = builder.criticalFraction;
		this.highUtilization = builder.highUtilization;
		this.lowUtilization = builder.lowUtilization;
		this.utilizationDecreaseFactor = builder.utilizationDecreaseFactor;
		this.loadSignals = Collections.unmodifiableMap(new LinkedHashMap<>(builder.loadSignals));
	}

	/**
	 * Returns the config with every default.
	 * @return the default config
	 */
	public static AdaptiveConfig defaults() {
		return DEFAULTS;
	}

	/**
	 * Starts a config from the defaults.
	 * @return a builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Returns the lowest rate, as a fraction of the ceiling. No signal takes the rate below it;
	 * {@link Severity#EMERGENCY} takes the rate to it. Default {@code 0.01} (1%), so traffic never
	 * stops entirely and the system can observe that the backlog clears.
	 * @return the floor, greater than 0 and at most 1
	 */
	public double floorFraction() {
		return this.floorFraction;
	}

	/**
	 * Returns the factor {@link AdaptiveController#reduce(String)} multiplies the rate by. Default
	 * {@code 0.5}: halve on each "back off".
	 * @return the factor, greater than 0 and less than 1
	 */
	public double decreaseFactor() {
		return this.decreaseFactor;
	}

	/**
	 * Returns the shortest time between two decreases by the same kind of signal (reduce or high
	 * utilization): later signals within it are absorbed, so a burst of 429s from requests already
	 * in flight counts as one. Default 1 second.
	 * @return the cooldown, zero (every signal decreases) or more
	 */
	public Duration decreaseCooldown() {
		return this.decreaseCooldown;
	}

	/**
	 * Returns how long the signals must stay quiet before each recovery step: a step is taken only
	 * when no decrease signal, rate change or return to {@link Severity#NORMAL} happened for this
	 * long. Default 5 seconds.
	 * @return the interval, positive
	 */
	public Duration recoveryInterval() {
		return this.recoveryInterval;
	}

	/**
	 * Returns how much each recovery step adds, as a fraction of the ceiling. Default {@code 0.1}:
	 * from the floor, the ceiling is back after ten steps.
	 * @return the step, greater than 0 and at most 1
	 */
	public double recoveryStep() {
		return this.recoveryStep;
	}

	/**
	 * Returns the lag above which the severity becomes at least {@link Severity#WARNING}. Default
	 * {@code 5000}.
	 * @return the threshold, above {@link #recoveryLag()}
	 */
	public long warningLag() {
		return this.warningLag;
	}

	/**
	 * Returns the lag above which the severity becomes at least {@link Severity#CRITICAL}. Default
	 * {@code 10000}.
	 * @return the threshold, at least {@link #warningLag()}
	 */
	public long criticalLag() {
		return this.criticalLag;
	}

	/**
	 * Returns the lag above which the severity becomes {@link Severity#EMERGENCY}. Default
	 * {@code 20000}.
	 * @return the threshold, at least {@link #criticalLag()}
	 */
	public long emergencyLag() {
		return this.emergencyLag;
	}

	/**
	 * Returns the lag below which any severity returns to {@link Severity#NORMAL}. A severity is not
	 * left for a lower one while the lag is at or above this, which keeps it from flapping when the
	 * lag hovers around a threshold. Default {@code 1000}.
	 * @return the threshold, positive and below {@link #warningLag()}
	 */
	public long recoveryLag() {
		return this.recoveryLag;
	}

	/**
	 * Returns the highest rate while {@link Severity#WARNING}, as a fraction of the ceiling. Default
	 * {@code 0.8} (20% less).
	 * @return the fraction, greater than 0 and at most 1
	 */
	public double warningFraction() {
		return this.warningFraction;
	}

	/**
	 * Returns the highest rate while {@link Severity#CRITICAL}, as a fraction of the ceiling.
	 * Default {@code 0.1} (90% less).
	 * @return the fraction, greater than 0 and at most {@link #warningFraction()}
	 */
	public double criticalFraction() {
		return this.criticalFraction;
	}

	/**
	 * Returns the utilization above which {@link AdaptiveController#onUtilization(double)} lowers
	 * the rate by {@link #utilizationDecreaseFactor()}. Default {@code 0.9}.
	 * @return the watermark, between 0 and 1, above {@link #lowUtilization()}
	 */
	public double highUtilization() {
		return this.highUtilization;
	}

	/**
	 * Returns the utilization below which {@link AdaptiveController#onUtilization(double)} takes a
	 * recovery step at once, when one is allowed, rather than at the next
	 * {@link AdaptiveController#evaluate()}. Default {@code 0.5}.
	 * @return the watermark, between 0 and 1, below {@link #highUtilization()}
	 */
	public double lowUtilization() {
		return this.lowUtilization;
	}

	/**
	 * Returns the factor high utilization multiplies the rate by. Default {@code 0.9} (10% less).
	 * @return the factor, greater than 0 and less than 1
	 */
	public double utilizationDecreaseFactor() {
		return this.utilizationDecreaseFactor;
	}

	/**
	 * Returns the load signals and their thresholds, in the order they were declared. A load
	 * signal is a reading of the system's own load, such as CPU usage, reported to
	 * {@link AdaptiveController#onLoad(String, double)}; each has a {@link Severity} of its own,
	 * with hysteresis, and the controller's severity is the highest of them and the lag's. None by
	 * default.
	 * @return the thresholds by signal name, unmodifiable
	 */
	public Map<String, LoadThresholds> loadSignals() {
		return this.loadSignals;
	}

	@Override
	public boolean equals(Object other) {
		return (other instanceof AdaptiveConfig that) && that.floorFraction == this.floorFraction
				&& that.decreaseFactor == this.decreaseFactor && that.decreaseCooldown.equals(this.decreaseCooldown)
				&& that.recoveryInterval.equals(this.recoveryInterval) && that.recoveryStep == this.recoveryStep
				&& that.warningLag == this.warningLag && that.criticalLag == this.criticalLag
				&& that.emergencyLag == this.emergencyLag && that.recoveryLag == this.recoveryLag
				&& that.warningFraction == this.warningFraction && that.criticalFraction == this.criticalFraction
				&& that.highUtilization == this.highUtilization && that.lowUtilization == this.lowUtilization
				&& that.utilizationDecreaseFactor == this.utilizationDecreaseFactor
				&& that.loadSignals.equals(this.loadSignals);
	}

	@Override
	public int hashCode() {
		return Objects.hash(this.floorFraction, this.decreaseFactor, this.decreaseCooldown, this.recoveryInterval,
				this.recoveryStep, this.warningLag, this.criticalLag, this.emergencyLag, this.recoveryLag,
				this.warningFraction, this.criticalFraction, this.highUtilization, this.lowUtilization,
				this.utilizationDecreaseFactor, this.loadSignals);
	}

	@Override
	public String toString() {
		return "AdaptiveConfig[floorFraction=" + this.floorFraction + ", decreaseFactor=" + this.decreaseFactor
				+ ", decreaseCooldown=" + this.decreaseCooldown + ", recoveryInterval=" + this.recoveryInterval
				+ ", recoveryStep=" + this.recoveryStep + ", warningLag=" + this.warningLag + ", criticalLag="
				+ this.criticalLag + ", emergencyLag=" + this.emergencyLag + ", recoveryLag=" + this.recoveryLag
				+ ", warningFraction=" + this.warningFraction + ", criticalFraction=" + this.criticalFraction
				+ ", highUtilization=" + this.highUtilization + ", lowUtilization=" + this.lowUtilization
				+ ", utilizationDecreaseFactor=" + this.utilizationDecreaseFactor + ", loadSignals=" + this.loadSignals
				+ "]";
	}

	/**
	 * Builds an {@link AdaptiveConfig}, starting from the defaults. Values are checked by
	 * {@link #build()}, all together, because several are bounded by others. Not thread-safe.
	 */
	public static final class Builder {

		/** Smallest fraction of the ceiling the controller can represent (it counts in millionths). */
		private static final double MIN_FRACTION = 0.000001;

		private static final Pattern SIGNAL_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

		private double floorFraction = 0.01;

		private double decreaseFactor = 0.5;

		private Duration decreaseCooldown = Duration.ofSeconds(1);

		private Duration recoveryInterval = Duration.ofSeconds(5);

		private double recoveryStep = 0.1;

		private long warningLag = 5_000;

		private long criticalLag = 10_000;

		private long emergencyLag = 20_000;

		private long recoveryLag = 1_000;

		private double warningFraction = 0.8;

		private double criticalFraction = 0.1;

		private double highUtilization = 0.9;

		private double lowUtilization = 0.5;

		private double utilizationDecreaseFactor = 0.9;

		private final Map<String, LoadThresholds> loadSignals = new LinkedHashMap<>();

		private Builder() {
		}

		/**
		 * Sets the lowest rate, as a fraction of the ceiling. Default {@code 0.01}.
		 * @param floorFraction between 0.000001 and 1
		 * @return this builder
		 * @see AdaptiveConfig#floorFraction()
		 */
		public Builder floorFraction(double floorFraction) {
			this.floorFraction = floorFraction;
			return this;
		}

		/**
		 * Sets the factor a "back off" signal multiplies the rate by. Default {@code 0.5}.
		 * @param decreaseFactor greater than 0 and less than 1
		 * @return this builder
		 * @see AdaptiveConfig#decreaseFactor()
		 */
		public Builder decreaseFactor(double decreaseFactor) {
			this.decreaseFactor = decreaseFactor;
			return this;
		}

		/**
		 * Sets the shortest time between two decreases by the same kind of signal. Default 1
		 * second.
		 * @param decreaseCooldown zero or more
		 * @return this builder
		 * @see AdaptiveConfig#decreaseCooldown()
		 */
		public Builder decreaseCooldown(Duration decreaseCooldown) {
			this.decreaseCooldown = Objects.requireNonNull(decreaseCooldown, "decreaseCooldown");
			return this;
		}

		/**
		 * Sets how long signals must stay quiet before each recovery step. Default 5 seconds.
		 * @param recoveryInterval positive
		 * @return this builder
		 * @see AdaptiveConfig#recoveryInterval()
		 */
		public Builder recoveryInterval(Duration recoveryInterval) {
			this.recoveryInterval = Objects.requireNonNull(recoveryInterval, "recoveryInterval");
			return this;
		}

		/**
		 * Sets how much each recovery step adds, as a fraction of the ceiling. Default {@code 0.1}.
		 * @param recoveryStep between 0.000001 and 1
		 * @return this builder
		 * @see AdaptiveConfig#recoveryStep()
		 */
		public Builder recoveryStep(double recoveryStep) {
			this.recoveryStep = recoveryStep;
			return this;
		}

		/**
		 * Sets the lag above which the severity becomes at least {@link Severity#WARNING}. Default
		 * {@code 5000}.
		 * @param warningLag above {@code recoveryLag}, at most {@code criticalLag}
		 * @return this builder
		 */
		public Builder warningLag(long warningLag) {
			this.warningLag = warningLag;
			return this;
		}

		/**
		 * Sets the lag above which the severity becomes at least {@link Severity#CRITICAL}. Default
		 * {@code 10000}.
		 * @param criticalLag at least {@code warningLag}, at most {@code emergencyLag}
		 * @return this builder
		 */
		public Builder criticalLag(long criticalLag) {
			this.criticalLag = criticalLag;
			return this;
		}

		/**
		 * Sets the lag above which the severity becomes {@link Severity#EMERGENCY}. Default
		 * {@code 20000}; {@link Long#MAX_VALUE} never reaches it.
		 * @param emergencyLag at least {@code criticalLag}
		 * @return this builder
		 */
		public Builder emergencyLag(long emergencyLag) {
			this.emergencyLag = emergencyLag;
			return this;
		}

		/**
		 * Sets the lag below which any severity returns to {@link Severity#NORMAL}. Default
		 * {@code 1000}.
		 * @param recoveryLag positive, below {@code warningLag}
		 * @return this builder
		 * @see AdaptiveConfig#recoveryLag()
		 */
		public Builder recoveryLag(long recoveryLag) {
			this.recoveryLag = recoveryLag;
			return this;
		}

		/**
		 * Sets the highest rate while {@link Severity#WARNING}, as a fraction of the ceiling.
		 * Default {@code 0.8}.
		 * @param warningFraction between 0.000001 and 1
		 * @return this builder
		 */
		public Builder warningFraction(double warningFraction) {
			this.warningFraction = warningFraction;
			return this;
		}

		/**
		 * Sets the highest rate while {@link Severity#CRITICAL}, as a fraction of the ceiling.
		 * Default {@code 0.1}.
		 * @param criticalFraction between 0.000001 and {@code warningFraction}
		 * @return this builder
		 */
		public Builder criticalFraction(double criticalFraction) {
			this.criticalFraction = criticalFraction;
			return this;
		}

		/**
		 * Sets the utilization above which the rate is lowered. Default {@code 0.9}.
		 * @param highUtilization between 0 and 1, above {@code lowUtilization}
		 * @return this builder
		 */
		public Builder highUtilization(double highUtilization) {
			this.highUtilization = highUtilization;
			return this;
		}

		/**
		 * Sets the utilization below which a recovery step is taken at once when allowed. Default
		 * {@code 0.5}.
		 * @param lowUtilization between 0 and 1, below {@code highUtilization}
		 * @return this builder
		 */
		public Builder lowUtilization(double lowUtilization) {
			this.lowUtilization = lowUtilization;
			return this;
		}

		/**
		 * Sets the factor high utilization multiplies the rate by. Default {@code 0.9}.
		 * @param utilizationDecreaseFactor greater than 0 and less than 1
		 * @return this builder
		 */
		public Builder utilizationDecreaseFactor(double utilizationDecreaseFactor) {
			this.utilizationDecreaseFactor = utilizationDecreaseFactor;
			return this;
		}

		/**
		 * Declares a load signal, or replaces its thresholds: readings reported to
		 * {@link AdaptiveController#onLoad(String, double)} under this name set a {@link Severity}
		 * of their own, and each level caps the rate as the lag's levels do
		 * ({@link #warningFraction(double)}, {@link #criticalFraction(double)}, the floor).
		 * @param name the signal's name, 1 to 64 letters, digits, {@code .}, {@code -} or
		 * {@code _}, for example {@code process-cpu}
		 * @param thresholds its thresholds
		 * @return this builder
		 * @throws IllegalArgumentException for a bad name
		 * @see AdaptiveConfig#loadSignals()
		 */
		public Builder loadSignal(String name, LoadThresholds thresholds) {
			Objects.requireNonNull(name, "name");
			Objects.requireNonNull(thresholds, "thresholds");
			if (!SIGNAL_NAME.matcher(name).matches()) {
				throw AdaptiveErrors.badSignalName(name);
			}
			this.loadSignals.put(name, thresholds);
			return this;
		}

		/**
		 * Builds the config.
		 * @return the config
		 * @throws IllegalArgumentException naming the first value out of its range
		 */
		public AdaptiveConfig build() {
			checkFraction("floorFraction", this.floorFraction);
			checkFactor("decreaseFactor", this.decreaseFactor);
			if (this.decreaseCooldown.isNegative()) {
				throw AdaptiveErrors.negative("decreaseCooldown", this.decreaseCooldown);
			}
			if (this.recoveryInterval.isNegative() || this.recoveryInterval.isZero()) {
				throw AdaptiveErrors.notPositive("recoveryInterval", this.recoveryInterval);
			}
			checkFraction("recoveryStep", this.recoveryStep);
			if (this.recoveryLag <= 0) {
				throw AdaptiveErrors.notPositive("recoveryLag", this.recoveryLag);
			}
			if (this.warningLag <= this.recoveryLag) {
				throw AdaptiveErrors.recoveryLagNotBelowWarning(this.recoveryLag, this.warningLag);
			}
			if (this.criticalLag < this.warningLag) {
				throw AdaptiveErrors.lagBelowLowerLevel("criticalLag", this.criticalLag, "warningLag", this.warningLag);
			}
			if (this.emergencyLag < this.criticalLag) {
				throw AdaptiveErrors.lagBelowLowerLevel("emergencyLag", this.emergencyLag, "criticalLag",
						this.criticalLag);
			}
			checkFraction("warningFraction", this.warningFraction);
			checkFraction("criticalFraction", this.criticalFraction);
			if (this.criticalFraction > this.warningFraction) {
				throw AdaptiveErrors.criticalAboveWarning(this.criticalFraction, this.warningFraction);
			}
			checkWatermark("highUtilization", this.highUtilization);
			checkWatermark("lowUtilization", this.lowUtilization);
			if (this.lowUtilization >= this.highUtilization) {
				throw AdaptiveErrors.lowNotBelowHigh(this.lowUtilization, this.highUtilization);
			}
			checkFactor("utilizationDecreaseFactor", this.utilizationDecreaseFactor);
			return new AdaptiveConfig(this);
		}

		private static void checkFraction(String field, double value) {
			// written so that NaN fails too
			if (!(value >= MIN_FRACTION && value <= 1)) {
				throw AdaptiveErrors.notFractionOfCeiling(field, value);
			}
		}

		private static void checkFactor(String field, double value) {
			if (!(value > 0 && value < 1)) {
				throw AdaptiveErrors.notDecreaseFactor(field, value);
			}
		}

		private static void checkWatermark(String field, double value) {
			if (!(value >= 0 && value <= 1)) {
				throw AdaptiveErrors.notWatermark(field, value);
			}
		}

	}

}
