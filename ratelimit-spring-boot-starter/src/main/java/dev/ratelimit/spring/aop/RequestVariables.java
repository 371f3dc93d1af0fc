package dev.ratelimit.spring.aop;

import java.lang.reflect.Method;
import java.security.Principal;
import java.util.Arrays;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.expression.EvaluationContext;
import org.springframework.util.ClassUtils;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * Gives key expressions of {@code @RateLimited} methods the request being served, as
 * {@code #request}, and its authenticated user, as {@code #principal} ({@code null} when
 * anonymous), so that a per-user limit needs no extra parameter: the servlet request the calling
 * thread serves, or, for a reactive call, the {@link RateLimitedExchange} found in the
 * subscriber's Reactor context. A method parameter of the same name wins. Nothing is bound outside
 * a request.
 */
final class RequestVariables {

	private static final boolean SERVLET = ClassUtils.isPresent(
			"org.springframework.web.context.request.RequestContextHolder", RequestVariables.class.getClassLoader())
			&& ClassUtils.isPresent("jakarta.servlet.http.HttpServletRequest", RequestVariables.class.getClassLoader());

	private final boolean request;

	private final boolean principal;

	private RequestVariables(boolean request, boolean principal) {
		this.request = request;
		this.principal = principal;
	}

	/**
	 * The variables a method's key expressions get: those they mention and its parameters do not
	 * name.
	 */
	static RequestVariables of(Method method, ParameterNameDiscoverer names, String keys) {
		String[] parameters = names.getParameterNames(method);
		boolean request = keys.contains("request")
				&& (parameters == null || !Arrays.asList(parameters).contains("request"));
		boolean principal = keys.contains("principal")
				&& (parameters == null || !Arrays.asList(parameters).contains("principal"));
		return new RequestVariables(request, principal);
	}

	void bind(EvaluationContext context) {
		if (SERVLET && (this.request || this.principal)) {
			Servlet.bind(context, this.request, this.principal);
		}
	}

	/**
	 * Whether keys get {@code #principal}: they mention it and no parameter is named so. A
	 * reactive call resolves the principal first only then.
	 */
	boolean bindsPrincipal() {
		return this.principal;
	}

	/** Binds a reactive call's request and principal. */
	void bind(EvaluationContext context, Exchange exchange) {
		if (this.request) {
			context.setVariable("request", exchange.request());
		}
		if (this.principal) {
			context.setVariable("principal", exchange.principal());
		}
	}

	/**
	 * The request of a reactive call and its principal, resolved before the call decides.
	 *
	 * @param request the request (a {@code ServerHttpRequest})
	 * @param principal the authenticated user, or {@code null}
	 */
	record Exchange(Object request, @Nullable Principal principal) {
	}

	/** Kept apart so that the servlet classes are loaded only when present. */
	private static final class Servlet {

		static void bind(EvaluationContext context, boolean request, boolean principal) {
			RequestAttributes attributes = RequestContextHolder.getRequestAttributes();
			if (attributes instanceof ServletRequestAttributes servlet) {
				HttpServletRequest current = servlet.getRequest();
				if (request) {
					context.setVariable("request", current);
				}
				if (principal) {
					context.setVariable("principal", current.getUserPrincipal());
				}
			}
		}

	}

}
