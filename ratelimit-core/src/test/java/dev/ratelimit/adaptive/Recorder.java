package dev.ratelimit.adaptive;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.ratelimit.Rate;

/**
 * A target and listener for tests that writes down, in order, every rate applied and every event,
 * in a compact text form so that sequences can be asserted exactly.
 */
final class Recorder implements RateTarget, AdaptiveListener {

	final List<Rate> applied = new CopyOnWriteArrayList<>();

	final List<String> events = new CopyOnWriteArrayList<>();

	@Override
	public void apply(Rate rate) {
		this.applied.add(rate);
	}

	@Override
	public void onRateChanged(Rate previous, Rate current, Severity severity, ChangeReason reason) {
		this.events.add(reason + " " + format(previous) + " -> " + format(current) + " " + severity);
	}

	@Override
	public void onSeverityChanged(Severity previous, Severity current, ChangeReason reason) {
		this.events.add(reason + " " + previous + " -> " + current);
	}

	/** The rates applied, as permits per second ("500", "62.5"). */
	List<String> appliedPerSecond() {
		List<String> rates = new ArrayList<>();
		for (Rate rate : this.applied) {
			rates.add(perSecond(rate));
		}
		return rates;
	}

	/** Forgets what was recorded so far. */
	void clear() {
		this.applied.clear();
		this.events.clear();
	}

	static String format(Rate rate) {
		return perSecond(rate) + "/s";
	}

	static String perSecond(Rate rate) {
		return BigDecimal.valueOf(rate.perSecond()).stripTrailingZeros().toPlainString();
	}

}
