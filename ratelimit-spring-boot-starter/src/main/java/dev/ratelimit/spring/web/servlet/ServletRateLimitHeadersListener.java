package dev.ratelimit.spring.web.servlet;

import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

import dev.ratelimit.spring.aop.RateLimitHeadersListener;
import dev.ratelimit.spring.web.RateLimitHeaderValues;
import dev.ratelimit.spring.web.RateLimitHeaders;

/**
 * Writes the {@code RateLimit} and {@code RateLimit-Policy} fields of permitted
 * {@code @RateLimited} calls on the response of the servlet request the calling thread serves.
 * Every limited call of one request adds its members to the same fields (see
 * {@link RateLimitHeaderValues}), and a later 429 answer of that request keeps them.
 *
 * <p>Active only on a thread bound to a request whose response is not committed yet (a header
 * added after that would be lost), so calls outside requests pay nothing. Stateless and
 * thread-safe.
 */
public final class ServletRateLimitHeadersListener implements RateLimitHeadersListener {

	/** Request attribute holding the {@link RateLimitHeaderValues} of the request. */
	static final String VALUES_ATTRIBUTE = RateLimitHeaderValues.class.getName();

	@Override
	public boolean isActive() {
		return response() != null;
	}

	@Override
	public void onPermitted(List<AppliedLimit> limits) {
		ServletRequestAttributes attributes = currentAttributes();
		HttpServletResponse response = response(attributes);
		if (response == null) {
			return;
		}
		RateLimitHeaderValues values = values(attributes.getRequest());
		for (AppliedLimit limit : limits) {
			values.record(limit.name(), limit.limit(), limit.decision());
		}
		write(values, response);
	}

	/**
	 * Returns the values of a request, created on first use. Requests are served by one thread at
	 * a time, and a race between two would only lose members of one of them, never fail.
	 */
	static RateLimitHeaderValues values(HttpServletRequest request) {
		if (request.getAttribute(VALUES_ATTRIBUTE) instanceof RateLimitHeaderValues values) {
			return values;
		}
		RateLimitHeaderValues values = new RateLimitHeaderValues();
		request.setAttribute(VALUES_ATTRIBUTE, values);
		return values;
	}

	/** Sets (not adds) the fields, so that each holds every member once. */
	static void write(RateLimitHeaderValues values, HttpServletResponse response) {
		String policy = values.policy();
		if (policy != null) {
			response.setHeader(RateLimitHeaders.RATE_LIMIT_POLICY, policy);
		}
		String rateLimit = values.rateLimit();
		if (rateLimit != null) {
			response.setHeader(RateLimitHeaders.RATE_LIMIT, rateLimit);
		}
	}

	private static ServletRequestAttributes currentAttributes() {
		RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
		return (attributes instanceof ServletRequestAttributes servlet) ? servlet : null;
	}

	private static HttpServletResponse response() {
		return response(currentAttributes());
	}

	private static HttpServletResponse response(ServletRequestAttributes attributes) {
		HttpServletResponse response = (attributes != null) ? attributes.getResponse() : null;
		return (response != null && !response.isCommitted()) ? response : null;
	}

}
