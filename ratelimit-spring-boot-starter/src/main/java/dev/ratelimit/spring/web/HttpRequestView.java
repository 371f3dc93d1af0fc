package dev.ratelimit.spring.web;

import java.security.Principal;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.expression.EvaluationContext;
import org.springframework.http.server.PathContainer;
import org.springframework.web.ErrorResponse;

/**
 * What the key and condition expressions of {@code ratelimit.http.rules} see of a request: the
 * root object of those expressions, so that {@code ip}, {@code principal?.name},
 * {@code header('X-Api-Key')}, {@code pathVariable('tenant')}, {@code method}, {@code path} and,
 * in {@code count-when}, {@code status} and {@code responseHeader('...')} can be written without a
 * prefix ({@code rawPath} is the path as sent). {@code #request}, {@code #principal} and
 * {@code #response} name the same objects.
 *
 * <p>One per request, used by one thread at a time; the servlet and the reactive filters each have
 * their own kind.
 */
public abstract class HttpRequestView {

	private final ClientAddresses addresses;

	private final PathContainer path;

	private @Nullable String ip;

	private @Nullable String decodedPath;

	private Map<String, String> pathVariables = Map.of();

	private @Nullable EvaluationContext context;

	/**
	 * Creates the view of a request.
	 * @param addresses how the client address is found
	 * @param path the path within the application
	 */
	protected HttpRequestView(ClientAddresses addresses, PathContainer path) {
		this.addresses = addresses;
		this.path = path;
	}

	/**
	 * Returns the client's address: the peer's, or, behind a trusted proxy, the one it forwarded
	 * (see {@code ratelimit.http.trusted-proxies}). Computed once, when first read.
	 * @return the address
	 */
	public final String getIp() {
		String ip = this.ip;
		if (ip == null) {
			ClientAddresses addresses = this.addresses;
			ip = addresses.client(peer(),
					addresses.trustsAny() ? headerValues(addresses.header().fieldName()) : List.of());
			this.ip = ip;
		}
		return ip;
	}

	/**
	 * Returns the address of the connection's peer.
	 * @return the address as the server gives it
	 */
	protected abstract String peer();

	/**
	 * Returns every value of a request header.
	 * @param name the header's name
	 * @return the values, in the order received; empty when absent
	 */
	protected abstract List<String> headerValues(String name);

	/**
	 * Returns the authenticated user.
	 * @return the principal, or {@code null} when not authenticated (always, before Spring
	 * Security has run)
	 */
	public abstract @Nullable Principal getPrincipal();

	/**
	 * Returns the request: an {@code HttpServletRequest} or a {@code ServerHttpRequest}.
	 * @return the request
	 */
	public abstract Object getRequest();

	/**
	 * Returns the response: an {@code HttpServletResponse} or a {@code ServerHttpResponse}.
	 * @return the response
	 */
	public abstract Object getResponse();

	/**
	 * Returns the request's method, such as {@code GET}.
	 * @return the method
	 */
	public abstract String getMethod();

	/**
	 * Returns the path within the application as paths are matched and routed: each segment
	 * decoded, its {@code ;} parameters left out ({@code /api/%65xport;x=1} is {@code /api/export}).
	 * @return the path
	 */
	public final String getPath() {
		String decoded = this.decodedPath;
		if (decoded == null) {
			StringBuilder path = new StringBuilder();
			for (PathContainer.Element element : this.path.elements()) {
				path.append((element instanceof PathContainer.PathSegment segment) ? segment.valueToMatch()
						: element.value());
			}
			decoded = path.toString();
			this.decodedPath = decoded;
		}
		return decoded;
	}

	/**
	 * Returns the path within the application as sent: not decoded, with its parameters.
	 * @return the path
	 */
	public final String getRawPath() {
		return this.path.value();
	}

	/**
	 * Returns the first value of a request header.
	 * @param name the header's name
	 * @return the value, or {@code null} when absent
	 */
	public abstract @Nullable String header(String name);

	/**
	 * Returns the response's status, in a {@code count-when} condition.
	 * @return the status (for a request that failed with an exception, the status that exception
	 * is answered with, see {@link #statusOf}), or {@code 0} before the response
	 */
	public abstract int getStatus();

	/**
	 * Returns the first value of a response header, in a {@code count-when} condition.
	 * @param name the header's name
	 * @return the value, or {@code null} when absent
	 */
	public abstract @Nullable String responseHeader(String name);

	/**
	 * Returns a variable of the rule's path pattern that matched, such as {@code tenant} of
	 * {@code /tenants/{tenant}/**}.
	 * @param name the variable's name
	 * @return the value, or {@code null} when the pattern has no such variable
	 */
	public @Nullable String pathVariable(String name) {
		return this.pathVariables.get(name);
	}

	/**
	 * Returns the status a request that failed with an exception is answered with, as far as it
	 * can be known where the exception passes: the status of an {@link ErrorResponse} (such as
	 * {@code ResponseStatusException}) where the stack answers those; 401 or 403 for Spring
	 * Security's authentication and access-denied exceptions (403 only with a principal); 500
	 * otherwise. Causes are searched too.
	 * @param failure the exception
	 * @param authenticated whether the request has a principal
	 * @param errorResponses whether an {@link ErrorResponse} that gets this far is answered with its
	 * own status (WebFlux's exception handlers do; a servlet container answers 500)
	 * @return the status
	 */
	protected static int statusOf(Throwable failure, boolean authenticated, boolean errorResponses) {
		Throwable current = failure;
		for (int depth = 0; current != null && depth < 8; depth++, current = current.getCause()) {
			if (errorResponses && current instanceof ErrorResponse response) {
				return response.getStatusCode().value();
			}
			for (Class<?> type = current.getClass(); type != null; type = type.getSuperclass()) {
				String name = type.getName();
				if (name.equals("org.springframework.security.access.AccessDeniedException")) {
					return authenticated ? 403 : 401;
				}
				if (name.equals("org.springframework.security.core.AuthenticationException")) {
					return 401;
				}
			}
		}
		return 500;
	}

	void pathVariables(Map<String, String> variables) {
		this.pathVariables = variables;
	}

	/** The evaluation context of this request, made on first use. */
	EvaluationContext context() {
		EvaluationContext context = this.context;
		if (context == null) {
			context = new HttpRuleContext(this);
			this.context = context;
		}
		return context;
	}

}
