package dev.ratelimit.spring.web;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.function.Supplier;

import io.micrometer.observation.Observation;
import org.jspecify.annotations.Nullable;

import org.springframework.http.server.PathContainer;

import dev.ratelimit.AllOrNothing;
import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.Decision;
import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.observation.RateLimitObservationContext;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * What the HTTP rules that apply to one request take from it: the limits taken before the request
 * (together or not at all), the limits counted after its response ({@code count-when}), and what
 * is given back when it is complete (concurrency permits). Made by the servlet and the reactive
 * filters alike; used by one request at a time.
 */
public final class HttpRulePlan {

	private final HttpRequestView view;

	private final List<RateLimiter> limiters = new ArrayList<>(2);

	private final List<String> names = new ArrayList<>(2);

	/** The names of the rules that apply, comma-separated, for observations (a string: no list to allocate). */
	private @Nullable String rules;

	private long[] permits = new long[2];

	private final List<Counted> counted = new ArrayList<>(0);

	/** Set by the first {@link #count()}: a commit and a cancellation may race on two threads. */
	private final AtomicBoolean countedOnce = new AtomicBoolean();

	private HttpRulePlan(HttpRequestView view) {
		this.view = view;
	}

	/**
	 * Finds the rules that apply to a request and the limiters they take from.
	 * @param rules the rules, in order
	 * @param method the request's method
	 * @param path the path within the application
	 * @param view the request as expressions see it
	 * @param registry where limiters come from
	 * @param maxKeyLength the longest key the registry takes
	 * @return the plan, or {@code null} when no rule applies
	 */
	public static @Nullable HttpRulePlan of(List<HttpRule> rules, String method, PathContainer path,
			HttpRequestView view, RateLimiterRegistry registry, int maxKeyLength) {
		HttpRulePlan plan = null;
		for (HttpRule rule : rules) {
			Map<String, String> variables = rule.match(method, path);
			if (variables == null || !rule.applies(view, variables)) {
				continue;
			}
			if (plan == null) {
				plan = new HttpRulePlan(view);
			}
			plan.rules = (plan.rules == null) ? rule.name() : plan.rules + "," + rule.name();
			String key = rule.key(view, maxKeyLength);
			for (String name : rule.limiters()) {
				String priority = rule.priorityOf(name, view);
				RateLimiter limiter = (key != null) ? registry.limiter(name, key)
						: (priority != null) ? registry.priorities(name).forClass(priority) : registry.limiter(name);
				if (rule.isCountedAfter()) {
					plan.counted.add(new Counted(rule, name, limiter, variables));
				}
				else {
					plan.add(name, limiter, rule.permits());
				}
			}
		}
		return plan;
	}

	private void add(String name, RateLimiter limiter, long permits) {
		int index = this.limiters.size();
		if (index == this.permits.length) {
			this.permits = java.util.Arrays.copyOf(this.permits, index * 2);
		}
		this.limiters.add(limiter);
		this.names.add(name);
		this.permits[index] = permits;
	}

	/**
	 * Takes the permits, or refuses the request: first a limit counted after the response that is
	 * spent refuses it (nothing taken), then the other limits are taken together or not at all.
	 * @param headers whether a limiter's name gets the {@code RateLimit} fields
	 * @param values where permitted decisions are recorded for those fields
	 * @return the refusal, or {@code null} when the request may go on
	 */
	public @Nullable RateLimitExceededException take(Predicate<String> headers,
			Supplier<RateLimitHeaderValues> values) {
		for (Counted count : this.counted) {
			long permits = count.rule().permits();
			if (count.limiter().snapshot().available() < permits) {
				return new RateLimitExceededException(count.name(), count.limiter().limit(),
						AllOrNothing.denial(count.limiter(), permits));
			}
		}
		int size = this.limiters.size();
		if (size == 0) {
			return null;
		}
		if (size == 1 && !headers.test(this.names.get(0))) {
			RateLimiter limiter = this.limiters.get(0);
			if (limiter.tryAcquire(this.permits[0])) {
				return null;
			}
			return new RateLimitExceededException(this.names.get(0), limiter.limit(),
					AllOrNothing.denial(limiter, this.permits[0]));
		}
		long[] each = (this.permits.length == size) ? this.permits : java.util.Arrays.copyOf(this.permits, size);
		boolean anyHeaders = false;
		for (String name : this.names) {
			anyHeaders |= headers.test(name);
		}
		AllOrNothing.Outcome outcome = AllOrNothing.decide(this.limiters, each, anyHeaders);
		if (!outcome.permitted()) {
			int denying = outcome.denying();
			return new RateLimitExceededException(this.names.get(denying), this.limiters.get(denying).limit(),
					outcome.decision());
		}
		Decision[] decisions = outcome.each();
		if (anyHeaders && decisions != null) {
			RateLimitHeaderValues recorded = values.get();
			for (int i = 0; i < size; i++) {
				if (headers.test(this.names.get(i))) {
					recorded.record(this.names.get(i), this.limiters.get(i).limit(), decisions[i]);
				}
			}
		}
		return null;
	}

	/**
	 * {@link #take} as one observation, when there are observations to record.
	 * @param headers whether a limiter's name gets the {@code RateLimit} fields
	 * @param values where permitted decisions are recorded for those fields
	 * @param observations the observations, or {@code null} for none
	 * @param parent the request's observation when it is not the current one (WebFlux), or {@code null}
	 * @return the refusal, or {@code null} when the request may go on
	 */
	public @Nullable RateLimitExceededException take(Predicate<String> headers, Supplier<RateLimitHeaderValues> values,
			@Nullable RateLimitObservations observations, @Nullable Observation parent) {
		if (observations == null) {
			return take(headers, values);
		}
		Observation observation = observations.start(RateLimitObservationContext.Source.HTTP, limiterNames(),
				ruleNames(), permits(), parent);
		RateLimitExceededException refused;
		try {
			refused = take(headers, values);
		}
		catch (RuntimeException | Error ex) {
			RateLimitObservations.failed(observation, ex);
			throw ex;
		}
		RateLimitObservations.stop(observation, refused);
		return refused;
	}

	/**
	 * After the response: gives back concurrency permits, and counts what {@code count-when} says
	 * (unless {@link #count()} did already). Call once.
	 */
	public void complete() {
		release();
		count();
	}

	/** Gives back concurrency permits. Call once, when the request is complete. */
	public void release() {
		for (int i = 0; i < this.limiters.size(); i++) {
			if (this.limiters.get(i) instanceof ConcurrencyLimiter concurrency) {
				concurrency.release(this.permits[i]);
			}
		}
	}

	/**
	 * Counts, once, the requests {@code count-when} says count, with the response's status as the
	 * view gives it. A count that finds its limit spent meanwhile by requests that ran at the same
	 * time takes what is left, so it is never lost entirely.
	 */
	public void count() {
		if (this.counted.isEmpty() || !this.countedOnce.compareAndSet(false, true)) {
			return;
		}
		for (Counted count : this.counted) {
			if (count.rule().counts(this.view, count.variables())) {
				RateLimiter limiter = count.limiter();
				long permits = count.rule().permits();
				if (!limiter.tryAcquire(permits)) {
					long left = Math.min(permits, limiter.snapshot().available());
					if (left > 0) {
						limiter.tryAcquire(left);
					}
				}
			}
		}
	}

	/**
	 * Returns the names of the limiters the rules take from, comma-separated in rule order, each
	 * once: the {@code ratelimit.limiter} of the request's observation.
	 * @return the limiter names
	 */
	private String limiterNames() {
		java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(this.names);
		for (Counted count : this.counted) {
			all.add(count.name());
		}
		return String.join(",", all);
	}

	/**
	 * Returns the names of the rules that apply, comma-separated in order.
	 * @return the rule names
	 */
	private String ruleNames() {
		return (this.rules != null) ? this.rules : "";
	}

	/**
	 * Returns the most permits a rule that applies takes.
	 * @return the permits
	 */
	private long permits() {
		long most = 0;
		for (int i = 0; i < this.limiters.size(); i++) {
			most = Math.max(most, this.permits[i]);
		}
		for (Counted count : this.counted) {
			most = Math.max(most, count.rule().permits());
		}
		return most;
	}

	/**
	 * Returns whether requests are counted after their response.
	 * @return {@code true} when a rule has {@code count-when}
	 */
	public boolean countsAfter() {
		return !this.counted.isEmpty();
	}

	/**
	 * Returns whether {@link #complete()} has anything to do.
	 * @return {@code true} when a concurrency permit is held or a limit is counted after the response
	 */
	public boolean hasCompletion() {
		if (!this.counted.isEmpty()) {
			return true;
		}
		for (RateLimiter limiter : this.limiters) {
			if (limiter instanceof ConcurrencyLimiter) {
				return true;
			}
		}
		return false;
	}

	/** A limit counted after the response. */
	private record Counted(HttpRule rule, String name, RateLimiter limiter, Map<String, String> variables) {
	}

}
