package dev.ratelimit.spring.web.servlet;

import java.security.Principal;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import dev.ratelimit.spring.web.ClientAddresses;

/**
 * What the key and condition expressions of {@code ratelimit.http.rules} see of a request: the
 * root object of those expressions, so that {@code ip}, {@code principal?.name},
 * {@code header('X-Api-Key')}, {@code pathVariable('tenant')}, {@code method}, {@code path} and,
 * in {@code count-when}, {@code status} and {@code responseHeader('...')} can be written without a
 * prefix. {@code #request}, {@code #principal} and {@code #response} name the same objects.
 *
 * <p>Serves one request on one thread; the client address is computed once, when first read.
 */
public final class ServletRequestView {

	private final HttpServletRequest request;

	private final ClientAddresses addresses;

	private final String path;

	private @Nullable HttpServletResponse response;

	private Map<String, String> pathVariables = Map.of();

	private @Nullable String ip;

	private int failedStatus;

	ServletRequestView(HttpServletRequest request, ClientAddresses addresses, String path) {
		this.request = request;
		this.addresses = addresses;
		this.path = path;
	}

	void pathVariables(Map<String, String> variables) {
		this.pathVariables = variables;
	}

	void response(HttpServletResponse response) {
		this.response = response;
	}

	@Nullable HttpServletResponse response() {
		return this.response;
	}

	/** The request failed with an exception, which an error page answers later: a server error. */
	void failed() {
		this.failedStatus = 500;
	}

	/**
	 * Returns the client's address: the peer's, or, behind a trusted proxy, the one it forwarded
	 * (see {@code ratelimit.http.trusted-proxies}).
	 * @return the address
	 */
	public String getIp() {
		String ip = this.ip;
		if (ip == null) {
			String peer = this.request.getRemoteAddr();
			ip = this.addresses.trustsAny()
					? this.addresses.client(peer, values("Forwarded"), values("X-Forwarded-For"))
					: this.addresses.client(peer, List.of(), List.of());
			this.ip = ip;
		}
		return ip;
	}

	/**
	 * Returns the authenticated user, as the servlet container or Spring Security tells it.
	 * @return the principal, or {@code null} when not authenticated (always, before Spring
	 * Security has run)
	 */
	public @Nullable Principal getPrincipal() {
		return this.request.getUserPrincipal();
	}

	/**
	 * Returns the request.
	 * @return the request
	 */
	public HttpServletRequest getRequest() {
		return this.request;
	}

	/**
	 * Returns the request's method, such as {@code GET}.
	 * @return the method
	 */
	public String getMethod() {
		return this.request.getMethod();
	}

	/**
	 * Returns the path within the application, as sent (not decoded).
	 * @return the path
	 */
	public String getPath() {
		return this.path;
	}

	/**
	 * Returns the first value of a request header.
	 * @param name the header's name
	 * @return the value, or {@code null} when absent
	 */
	public @Nullable String header(String name) {
		return this.request.getHeader(name);
	}

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
	 * Returns the response's status, in a {@code count-when} condition.
	 * @return the status ({@code 500} when the application threw an exception), or {@code 0}
	 * before the response
	 */
	public int getStatus() {
		if (this.failedStatus != 0) {
			return this.failedStatus;
		}
		HttpServletResponse response = this.response;
		return (response != null) ? response.getStatus() : 0;
	}

	/**
	 * Returns the first value of a response header, in a {@code count-when} condition.
	 * @param name the header's name
	 * @return the value, or {@code null} when absent or before the response
	 */
	public @Nullable String responseHeader(String name) {
		HttpServletResponse response = this.response;
		return (response != null) ? response.getHeader(name) : null;
	}

	private List<String> values(String header) {
		var values = this.request.getHeaders(header);
		return (values != null) ? Collections.list(values) : List.of();
	}

}
