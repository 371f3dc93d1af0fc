package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

import dev.ratelimit.Algorithm;
import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.Ticker;

/**
 * Adapts one rate to what the system downstream can take: multiplicative decrease on a signal,
 * stepwise recovery toward the ceiling once the signals stop, never below a floor, and severity
 * levels from consumer lag with hysteresis.
 *
 * <p>The <em>ceiling</em> is the configured rate (by default the limiter's rate when the
 * controller is built); the <em>floor</em> is {@link AdaptiveConfig#floorFraction()} of it. The
 * rate in force always lies between the two. Signals:
 * <ul>
 * <li>{@link #reduce(String)}: "back off" (an HTTP 429, a timeout): the rate is multiplied by
 * {@link AdaptiveConfig#decreaseFactor()}, at most once per {@link AdaptiveConfig#decreaseCooldown()}.
 * <li>{@link #onLag(long)}: the consumer lag sets the {@link Severity}; each level caps the rate. A
 * level is entered at once and left, straight to {@link Severity#NORMAL}, only when the lag falls
 * below {@link AdaptiveConfig#recoveryLag()}. Severity only ever lowers the rate.
 * <li>{@link #onLoad(String, double)}: a reading of a load signal declared in
 * {@link AdaptiveConfig#loadSignals()}, such as CPU usage, sets that signal's severity against its
 * {@link LoadThresholds}, with the same hysteresis. The controller's severity is the highest of the
 * lag's and the load signals'.
 * <li>{@link #onUtilization(double)}: above {@link AdaptiveConfig#highUtilization()} the rate is
 * multiplied by {@link AdaptiveConfig#utilizationDecreaseFactor()}; below
 * {@link AdaptiveConfig#lowUtilization()} a recovery step is taken at once when one is allowed.
 * <li>{@link #evaluate()}, to be called periodically (every second, say): when the severity is
 * {@link Severity#NORMAL} and nothing happened for {@link AdaptiveConfig#recoveryInterval()}, adds
 * {@link AdaptiveConfig#recoveryStep()} of the ceiling, up to the ceiling.
 * </ul>
 *
 * <p>The controller only decides; a {@link RateTarget} applies: a limiter's
 * {@link RateLimiter#updateRate(Rate)} for {@link #builder(RateLimiter)}, or any callback, such as a
 * backend that shares the rate between instances, for {@link #builder(String, Rate, RateTarget)}.
 * Time comes only from the injected {@link Ticker}.
 *
 * <p>Thread-safe. Signals are rare, so changes are serialized by a lock, under which the target and
 * the listener are called, in order; {@link #state()} reads a published snapshot and takes no lock.
 */
public final class AdaptiveController {

	/** Rates are held as millionths of the ceiling: exact steps, no drift from repeated doubles. */
	static final long WHOLE = 1_000_000L;

	/** Marks a decrease that never happened; compared by {@link #since}, never subtracted. */
	private static final long NEVER = Long.MIN_VALUE;

	private final String name;

	private final AdaptiveConfig config;

	private final RateTarget target;

	private final Ticker ticker;

	private final AdaptiveListener listener;

	private final long cooldownNanos;

	private final long recoveryNanos;

	private final long floorShare;

	private final long stepShare;

	private final long warningShare;

	private final long criticalShare;

	private final ReentrantLock lock = new ReentrantLock();

	// Guarded by lock. Every change builds the next values first, calls the target, and assigns
	// them only if the target accepted, so a failing target leaves the controller as it was.

	private Rate ceiling;

	private Rate floor;

	/** The rate in force, in millionths of the ceiling, between floorShare and WHOLE. */
	private long share = WHOLE;

	/** The highest of lagLevel and the load signals' levels. */
	private Severity severity = Severity.NORMAL;

	private Severity lagLevel = Severity.NORMAL;

	private long lag;

	/** The load signals that have had a reading, in the order the config declares them. */
	private final Map<String, AdaptiveState.Load> loads = new LinkedHashMap<>();

	private long lastReduce = NEVER;

	private long lastUtilizationDecrease = NEVER;

	/** Recovery may step once recoveryInterval has passed since this reading. */
	private long holdSince;

	private ChangeReason lastReason = ChangeReason.CEILING;

	private String lastDetail = "created";

	private long lastChangeNanos;

	private long decreases;

	private long increases;

	/** Replaced, never changed, after every change; what {@link #state()} returns. */
	private volatile AdaptiveState state;

	private AdaptiveController(Builder builder) {
		this.name = builder.name;
		this.config = builder.config;
		this.target = builder.target;
		this.ticker = builder.ticker;
		this.listener = builder.listener;
		this.cooldownNanos = nanos(this.config.decreaseCooldown());
		this.recoveryNanos = nanos(this.config.recoveryInterval());
		this.floorShare = share(this.config.floorFraction());
		this.stepShare = share(this.config.recoveryStep());
		this.warningShare = Math.max(this.floorShare, share(this.config.warningFraction()));
		this.criticalShare = Math.max(this.floorShare, share(this.config.criticalFraction()));
		this.ceiling = builder.ceiling;
		this.floor = rateFor(this.ceiling, this.floorShare);
		long now = this.ticker.read();
		this.holdSince = now;
		this.lastChangeNanos = now;
		publish();
	}

	/**
	 * Starts a controller of a limiter's rate, with the limiter's current rate as the ceiling.
	 * @param limiter a rate-based limiter (not a concurrency limiter)
	 * @return the builder
	 * @throws IllegalArgumentException for a concurrency limiter, which has no rate
	 */
	public static Builder builder(RateLimiter limiter) {
		Objects.requireNonNull(limiter, "limiter");
		if (limiter.limit().algorithm() == Algorithm.CONCURRENCY) {
			throw AdaptiveErrors.notRateBased(limiter.name());
		}
		Rate current = limiter.limit().rate();
		return new Builder(limiter.name(), current, limiter::updateRate, current);
	}

	/**
	 * Starts a controller that sends its rates to any target, for example a backend that applies
	 * them to every instance sharing a limit. The controller assumes the target runs at the ceiling
	 * until it is told otherwise, and calls it only on changes and on {@link #reset()}.
	 * @param name a name for reports and metrics
	 * @param ceiling the highest rate, the configured limit
	 * @param target what applies the rate
	 * @return the builder
	 */
	public static Builder builder(String name, Rate ceiling, RateTarget target) {
		return new Builder(Objects.requireNonNull(name, "name"), Objects.requireNonNull(ceiling, "ceiling"),
				Objects.requireNonNull(target, "target"), null);
	}

	/**
	 * Returns the controller's name.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Returns the config.
	 * @return the config
	 */
	public AdaptiveConfig config() {
		return this.config;
	}

	/**
	 * Returns a point-in-time view. Takes no lock.
	 * @return the state after the last completed change
	 */
	public AdaptiveState state() {
		return this.state;
	}

	/**
	 * Signals "back off", for example an HTTP 429 or a timeout from the system downstream:
	 * multiplies the rate by {@link AdaptiveConfig#decreaseFactor()}, no lower than the floor.
	 * Signals within {@link AdaptiveConfig#decreaseCooldown()} of the last decrease they made are
	 * absorbed, so a burst counts once; every signal, absorbed or not, restarts the wait before the
	 * next recovery step.
	 * @param reason what happened, for people (kept in {@link AdaptiveState#lastDetail()})
	 */
	public void reduce(String reason) {
		Objects.requireNonNull(reason, "reason");
		this.lock.lock();
		try {
			long now = this.ticker.read();
			// even an absorbed signal says the system is still overloaded, so no recovery yet
			this.holdSince = now;
			if (within(this.lastReduce, now, this.cooldownNanos)) {
				return;
			}
			if (decrease(this.config.decreaseFactor(), ChangeReason.DECREASE_SIGNAL, reason, now)) {
				this.lastReduce = now;
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Reports the consumer lag. A lag above a level's threshold raises the severity to that level
	 * at once and caps the rate at the level's rate (never raises it). A lag below
	 * {@link AdaptiveConfig#recoveryLag()} returns any severity to {@link Severity#NORMAL}, from
	 * which {@link #evaluate()} recovers step by step; in between, the severity stays.
	 * @param lag records behind; a negative lag, which two offsets read at slightly different times
	 * can yield, counts as none
	 */
	public void onLag(long lag) {
		long observed = Math.max(0, lag);
		this.lock.lock();
		try {
			this.lag = observed;
			this.lagLevel = next(this.lagLevel, levelOf(observed), observed < this.config.recoveryLag());
			settle(ChangeReason.LAG, "lag " + observed, this.ticker.read());
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Reports a reading of a load signal, such as the process's CPU usage. A reading above one of
	 * the signal's {@link LoadThresholds} raises the signal's level to that one at once; a reading
	 * below {@link LoadThresholds#recovery()} returns it to {@link Severity#NORMAL}; in between, the
	 * level stays. The controller's severity is the highest of the lag's and every load signal's,
	 * and caps the rate as the lag's levels do; when every source is normal again, the rate recovers
	 * step by step, from one full {@link AdaptiveConfig#recoveryInterval()} later.
	 * @param signal a signal declared in {@link AdaptiveConfig#loadSignals()}
	 * @param reading the reading, in the signal's unit
	 * @throws IllegalArgumentException for a signal not declared, or a reading that is infinite or
	 * NaN (a sample with no value should not be reported)
	 */
	public void onLoad(String signal, double reading) {
		Objects.requireNonNull(signal, "signal");
		LoadThresholds thresholds = this.config.loadSignals().get(signal);
		if (thresholds == null) {
			throw AdaptiveErrors.unknownLoadSignal(signal, this.config.loadSignals().keySet());
		}
		if (!Double.isFinite(reading)) {
			throw AdaptiveErrors.badLoadReading(signal, reading);
		}
		this.lock.lock();
		try {
			AdaptiveState.Load previous = this.loads.get(signal);
			Severity level = next((previous != null) ? previous.severity() : Severity.NORMAL,
					thresholds.levelOf(reading), reading < thresholds.recovery());
			this.loads.put(signal, new AdaptiveState.Load(reading, level));
			if (previous == null) {
				// a first reading: keep the config's order, whatever the order of first readings
				Map<String, AdaptiveState.Load> ordered = new LinkedHashMap<>();
				this.config.loadSignals().keySet().forEach((name) -> {
					AdaptiveState.Load load = this.loads.get(name);
					if (load != null) {
						ordered.put(name, load);
					}
				});
				this.loads.clear();
				this.loads.putAll(ordered);
			}
			settle(ChangeReason.LOAD, "load " + signal + " " + reading, this.ticker.read());
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Reports utilization. Above {@link AdaptiveConfig#highUtilization()}: multiplies the rate by
	 * {@link AdaptiveConfig#utilizationDecreaseFactor()}, at most once per
	 * {@link AdaptiveConfig#decreaseCooldown()}, timed apart from {@link #reduce(String)}'s so that a
	 * 429 and high utilization in the same second both count. Below
	 * {@link AdaptiveConfig#lowUtilization()}: takes a recovery step now if {@link #evaluate()}
	 * would. In between: nothing.
	 * @param utilization share of capacity in use, 0 when idle, 1 when fully used (more when
	 * overcommitted)
	 * @throws IllegalArgumentException if negative, infinite or NaN
	 */
	public void onUtilization(double utilization) {
		if (!(utilization >= 0) || Double.isInfinite(utilization)) {
			throw AdaptiveErrors.badUtilization(utilization);
		}
		this.lock.lock();
		try {
			long now = this.ticker.read();
			String detail = "utilization " + utilization;
			if (utilization > this.config.highUtilization()) {
				this.holdSince = now;
				if (!within(this.lastUtilizationDecrease, now, this.cooldownNanos) && decrease(
						this.config.utilizationDecreaseFactor(), ChangeReason.UTILIZATION, detail, now)) {
					this.lastUtilizationDecrease = now;
				}
			}
			else if (utilization < this.config.lowUtilization()) {
				recover(ChangeReason.UTILIZATION, detail, now);
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Takes one recovery step if due: when the severity is {@link Severity#NORMAL}, the rate is
	 * below the ceiling and {@link AdaptiveConfig#recoveryInterval()} has passed since the last
	 * decrease signal, rate change or return to normal, adds {@link AdaptiveConfig#recoveryStep()}
	 * of the ceiling, up to the ceiling. Call it periodically, more often than the interval; at most
	 * one step is taken per call, however late it comes.
	 */
	public void evaluate() {
		this.lock.lock();
		try {
			recover(ChangeReason.RECOVERY, "recovery step", this.ticker.read());
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Changes the ceiling, when the configured limit is retuned; the floor follows. At the old
	 * ceiling, the rate moves to the new one. Below it, the rate keeps its value, within the new
	 * floor, ceiling and severity cap, and recovers toward the new ceiling from there: raising the
	 * limit does not undo a reduction at once.
	 * @param ceiling the new ceiling
	 */
	public void ceiling(Rate ceiling) {
		Objects.requireNonNull(ceiling, "ceiling");
		this.lock.lock();
		try {
			long now = this.ticker.read();
			Rate previous = this.state.rate();
			long next = WHOLE;
			if (this.share < WHOLE) {
				// Math.round saturates, so a tiny new ceiling clamps rather than overflows
				next = clamp(Math.round(previous.perSecond() / ceiling.perSecond() * WHOLE));
			}
			next = Math.min(next, cap(this.severity));
			Rate current = rateFor(ceiling, next);
			if (!current.equals(previous)) {
				this.target.apply(current);
			}
			this.ceiling = ceiling;
			this.floor = rateFor(ceiling, this.floorShare);
			this.share = next;
			if (current.equals(previous)) {
				publish();
				return;
			}
			changed(ChangeReason.CEILING, "ceiling " + ceiling, now);
			this.listener.onRateChanged(previous, current, this.severity, ChangeReason.CEILING);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Takes on a rate applied elsewhere, without applying it to the target: when several instances
	 * share a limit, one instance's reduction reaches the others through the shared backend, and
	 * each of them then recovers from it too, so the rate comes back even if the instance that
	 * reduced it is gone. A rate within 0.1% of the current one (this controller's own change coming
	 * back) changes nothing. Restarts the recovery wait.
	 * @param rate the rate now in force
	 */
	public void observe(Rate rate) {
		Objects.requireNonNull(rate, "rate");
		if (this.lock.isHeldByCurrentThread()) {
			return; // this controller's own change, reported back by its target while applying it
		}
		this.lock.lock();
		try {
			long next = clamp(Math.round(rate.perSecond() / this.ceiling.perSecond() * WHOLE));
			if (Math.abs(next - this.share) <= WHOLE / 1000) {
				return;
			}
			long now = this.ticker.read();
			Rate previous = this.state.rate();
			boolean up = next > this.share;
			this.share = next;
			this.holdSince = now;
			if (up) {
				this.increases++;
			}
			else {
				this.decreases++;
			}
			changed(ChangeReason.SHARED, "applied by another instance", now);
			this.listener.onRateChanged(previous, this.state.rate(), this.severity, ChangeReason.SHARED);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns to {@link Severity#NORMAL} at the ceiling, forgets cooldowns, and applies the
	 * ceiling to the target even if the rate did not change, to bring a target that drifted back
	 * in line. The counts in {@link #state()} are kept.
	 */
	public void reset() {
		this.lock.lock();
		try {
			long now = this.ticker.read();
			Rate previous = this.state.rate();
			this.target.apply(this.ceiling);
			Severity previousSeverity = this.severity;
			this.share = WHOLE;
			this.severity = Severity.NORMAL;
			this.lagLevel = Severity.NORMAL;
			this.loads.replaceAll((signal, load) -> new AdaptiveState.Load(load.reading(), Severity.NORMAL));
			this.lastReduce = NEVER;
			this.lastUtilizationDecrease = NEVER;
			this.holdSince = now;
			if (previous.equals(this.ceiling)) {
				publish();
			}
			else {
				changed(ChangeReason.RESET, "reset", now);
			}
			if (previousSeverity != Severity.NORMAL) {
				this.listener.onSeverityChanged(previousSeverity, Severity.NORMAL, ChangeReason.RESET);
			}
			if (!previous.equals(this.ceiling)) {
				this.listener.onRateChanged(previous, this.ceiling, Severity.NORMAL, ChangeReason.RESET);
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	@Override
	public String toString() {
		AdaptiveState current = this.state;
		return "AdaptiveController[" + this.name + ", rate=" + current.rate() + ", ceiling=" + current.ceiling()
				+ ", severity=" + current.severity() + "]";
	}

	// ---- under the lock -----------------------------------------------------------------------

	private boolean decrease(double factor, ChangeReason reason, String detail, long now) {
		// at least one millionth lower, so a factor close to 1 still makes progress to the floor
		long next = clamp(Math.min(this.share - 1, Math.round(this.share * factor)));
		if (next >= this.share) {
			return false;
		}
		moveTo(next, reason, detail, now);
		return true;
	}

	private void recover(ChangeReason reason, String detail, long now) {
		if (this.severity == Severity.NORMAL && this.share < WHOLE && now - this.holdSince >= this.recoveryNanos) {
			moveTo(Math.min(WHOLE, this.share + this.stepShare), reason, detail, now);
		}
	}

	/**
	 * Applies a lower or higher share of the same ceiling. A step, so it restarts the recovery wait;
	 * counted and reported only when the rate itself changes (at very low rates two shares can
	 * round to the same rate).
	 */
	private void moveTo(long next, ChangeReason reason, String detail, long now) {
		Rate previous = this.state.rate();
		Rate current = rateFor(this.ceiling, next);
		boolean same = current.equals(previous);
		if (!same) {
			this.target.apply(current);
		}
		boolean up = next > this.share;
		this.share = next;
		this.holdSince = now;
		if (same) {
			publish();
			return;
		}
		if (up) {
			this.increases++;
		}
		else {
			this.decreases++;
		}
		changed(reason, detail, now);
		this.listener.onRateChanged(previous, current, this.severity, reason);
	}

	/**
	 * After a source's level changed, or not: moves the severity to the highest level of all
	 * sources, caps the rate at it, and restarts the recovery wait when every source is normal again.
	 */
	private void settle(ChangeReason reason, String detail, long now) {
		Severity highest = this.lagLevel;
		for (AdaptiveState.Load load : this.loads.values()) {
			if (load.severity().compareTo(highest) > 0) {
				highest = load.severity();
			}
		}
		if (highest != this.severity) {
			if (highest == Severity.NORMAL) {
				// recovery starts one full interval after the last source cleared
				this.holdSince = now;
			}
			changeSeverity(highest, reason);
		}
		long capped = Math.min(this.share, cap(this.severity));
		if (capped < this.share) {
			moveTo(capped, reason, detail, now);
		}
		else {
			publish();
		}
	}

	/**
	 * A source's next level: up at once to a higher level its reading is at; straight down to
	 * normal only once the reading is below the recovery threshold; otherwise unchanged.
	 */
	private static Severity next(Severity current, Severity reached, boolean recovered) {
		if (reached.compareTo(current) > 0) {
			return reached;
		}
		return (current != Severity.NORMAL && recovered) ? Severity.NORMAL : current;
	}

	private void changeSeverity(Severity next, ChangeReason reason) {
		Severity previous = this.severity;
		this.severity = next;
		publish();
		this.listener.onSeverityChanged(previous, next, reason);
	}

	private void changed(ChangeReason reason, String detail, long now) {
		this.lastReason = reason;
		this.lastDetail = detail;
		this.lastChangeNanos = now;
		publish();
	}

	private void publish() {
		this.state = new AdaptiveState(this.name, rateFor(this.ceiling, this.share), this.ceiling, this.floor,
				this.severity, this.lag, this.lastReason, this.lastDetail, this.lastChangeNanos, this.decreases,
				this.increases, this.loads);
	}

	private Severity levelOf(long lag) {
		if (lag > this.config.emergencyLag()) {
			return Severity.EMERGENCY;
		}
		if (lag > this.config.criticalLag()) {
			return Severity.CRITICAL;
		}
		if (lag > this.config.warningLag()) {
			return Severity.WARNING;
		}
		return Severity.NORMAL;
	}

	/** Highest share allowed at a severity; the floor wins over a level set below it. */
	private long cap(Severity severity) {
		return switch (severity) {
			case NORMAL -> WHOLE;
			case WARNING -> this.warningShare;
			case CRITICAL -> this.criticalShare;
			case EMERGENCY -> this.floorShare;
		};
	}

	private long clamp(long share) {
		return Math.max(this.floorShare, Math.min(WHOLE, share));
	}

	// ---- pure helpers -------------------------------------------------------------------------

	/** Whether {@code since} is a real reading less than {@code nanos} before {@code now}. */
	private static boolean within(long since, long now, long nanos) {
		return since != NEVER && now - since < nanos;
	}

	static long share(double fraction) {
		return Math.max(1, Math.min(WHOLE, Math.round(fraction * WHOLE)));
	}

	/**
	 * The rate at a share of the ceiling. {@link Rate#scaled(double)} keeps the ceiling's period
	 * when it can and is monotonic, so a higher share never gives a lower rate; it rounds, though,
	 * so the result is clamped to the ceiling.
	 */
	static Rate rateFor(Rate ceiling, long share) {
		if (share >= WHOLE) {
			return ceiling;
		}
		Rate scaled = ceiling.scaled(share / (double) WHOLE);
		return (scaled.perSecond() > ceiling.perSecond()) ? ceiling : scaled;
	}

	/** A duration in nanoseconds; longer than about 292 years, as good as forever. */
	static long nanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			// longer than about 292 years: as good as forever
			return Long.MAX_VALUE;
		}
	}

	/**
	 * Builds an {@link AdaptiveController}. Not thread-safe.
	 */
	public static final class Builder {

		private final String name;

		private final RateTarget target;

		/** The target's rate when known (a limiter), to bring it to the ceiling at build. */
		private final Rate targetRate;

		private Rate ceiling;

		private AdaptiveConfig config = AdaptiveConfig.defaults();

		private Ticker ticker = Ticker.system();

		private AdaptiveListener listener = AdaptiveListener.NONE;

		private Builder(String name, Rate ceiling, RateTarget target, Rate targetRate) {
			this.name = name;
			this.ceiling = ceiling;
			this.target = target;
			this.targetRate = targetRate;
		}

		/**
		 * Sets the config. {@link AdaptiveConfig#defaults()} unless set.
		 * @param config the config
		 * @return this builder
		 */
		public Builder config(AdaptiveConfig config) {
			this.config = Objects.requireNonNull(config, "config");
			return this;
		}

		/**
		 * Sets the ceiling, the highest rate. The limiter's rate, or the rate given to
		 * {@link AdaptiveController#builder(String, Rate, RateTarget)}, unless set. A limiter not
		 * already at this rate is set to it by {@link #build()}.
		 * @param ceiling the ceiling
		 * @return this builder
		 */
		public Builder ceiling(Rate ceiling) {
			this.ceiling = Objects.requireNonNull(ceiling, "ceiling");
			return this;
		}

		/**
		 * Sets the ticker that times cooldowns and recovery: give the limiter's own, a manual one in
		 * tests. {@link Ticker#system()} unless set.
		 * @param ticker the ticker
		 * @return this builder
		 */
		public Builder ticker(Ticker ticker) {
			this.ticker = Objects.requireNonNull(ticker, "ticker");
			return this;
		}

		/**
		 * Sets the listener told of rate and severity changes. None unless set.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder listener(AdaptiveListener listener) {
			this.listener = Objects.requireNonNull(listener, "listener");
			return this;
		}

		/**
		 * Builds the controller, at {@link Severity#NORMAL} and at the ceiling.
		 * @return the controller
		 */
		public AdaptiveController build() {
			if (this.targetRate != null && !this.targetRate.equals(this.ceiling)) {
				this.target.apply(this.ceiling);
			}
			return new AdaptiveController(this);
		}

	}

}
