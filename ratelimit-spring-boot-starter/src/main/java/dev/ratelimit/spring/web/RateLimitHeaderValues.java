package dev.ratelimit.spring.web;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimit;

/**
 * The rate limit fields of one HTTP response, gathered from every limit the request took: a
 * controller method and the services it calls may each be limited, and the response reports them
 * all, one list member per limiter name, in the order first taken. A later decision of the same
 * limiter replaces the earlier one, so that names stay unique within a field, as the draft
 * requires, and the freshest numbers win.
 *
 * <p>Thread-safe without locks: the members are an immutable list swapped by compare-and-set, so
 * calls of one request running on several threads may record concurrently.
 */
public final class RateLimitHeaderValues {

	private final AtomicReference<List<Member>> members = new AtomicReference<>(List.of());

	/**
	 * Records a decision of a limit.
	 * @param name the limiter name, which names the policy
	 * @param limit the limit in force, or {@code null} when not known (then no policy member)
	 * @param decision the decision
	 * @return this, to write the fields
	 */
	public RateLimitHeaderValues record(String name, RateLimit limit, Decision decision) {
		Member member = new Member(name, (limit != null) ? RateLimitHeaders.policy(name, limit) : null,
				RateLimitHeaders.rateLimit(name, decision));
		for (;;) {
			List<Member> current = this.members.get();
			List<Member> next = new ArrayList<>(current.size() + 1);
			boolean replaced = false;
			for (Member existing : current) {
				if (existing.name.equals(name)) {
					next.add(member);
					replaced = true;
				}
				else {
					next.add(existing);
				}
			}
			if (!replaced) {
				next.add(member);
			}
			if (this.members.compareAndSet(current, List.copyOf(next))) {
				return this;
			}
		}
	}

	/**
	 * Returns the {@code RateLimit} field value: every recorded member, comma-separated.
	 * @return the value, or {@code null} when nothing was recorded
	 */
	public String rateLimit() {
		return join(false);
	}

	/**
	 * Returns the {@code RateLimit-Policy} field value: every recorded member with a known limit,
	 * comma-separated.
	 * @return the value, or {@code null} when no recorded limit is known
	 */
	public String policy() {
		return join(true);
	}

	private String join(boolean policy) {
		StringBuilder value = null;
		for (Member member : this.members.get()) {
			String text = policy ? member.policy : member.rateLimit;
			if (text == null) {
				continue;
			}
			if (value == null) {
				value = new StringBuilder(text);
			}
			else {
				value.append(", ").append(text);
			}
		}
		return (value != null) ? value.toString() : null;
	}

	private record Member(String name, String policy, String rateLimit) {
	}

}
