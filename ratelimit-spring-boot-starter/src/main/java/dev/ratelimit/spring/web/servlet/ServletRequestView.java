package dev.ratelimit.spring.web.servlet;

import java.security.Principal;
import java.util.Collections;
import java.util.List;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.http.server.PathContainer;

import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRequestView;

/**
 * A servlet request as the expressions of {@code ratelimit.http.rules} see it:
 * {@code #request} is the {@link HttpServletRequest}, {@code #response} the
 * {@link HttpServletResponse}, the principal is {@link HttpServletRequest#getUserPrincipal()}
 * (what Spring Security sets, after its filters). Serves one request on one thread.
 */
public final class ServletRequestView extends HttpRequestView {

	private final HttpServletRequest request;

	private final HttpServletResponse response;

	private int failedStatus;

	ServletRequestView(HttpServletRequest request, HttpServletResponse response, ClientAddresses addresses,
			PathContainer path) {
		super(addresses, path);
		this.request = request;
		this.response = response;
	}

	/** The request failed with an exception, which is answered later, outside the filter. */
	void failed(Throwable failure) {
		this.failedStatus = statusOf(failure, this.request.getUserPrincipal() != null, false);
	}

	@Override
	protected String peer() {
		return this.request.getRemoteAddr();
	}

	@Override
	protected List<String> headerValues(String name) {
		var values = this.request.getHeaders(name);
		return (values != null) ? Collections.list(values) : List.of();
	}

	@Override
	public @Nullable Principal getPrincipal() {
		return this.request.getUserPrincipal();
	}

	@Override
	public HttpServletRequest getRequest() {
		return this.request;
	}

	@Override
	public HttpServletResponse getResponse() {
		return this.response;
	}

	@Override
	public String getMethod() {
		return this.request.getMethod();
	}

	@Override
	public @Nullable String header(String name) {
		return this.request.getHeader(name);
	}

	@Override
	public int getStatus() {
		return (this.failedStatus != 0 && !this.response.isCommitted()) ? this.failedStatus : this.response.getStatus();
	}

	@Override
	public @Nullable String responseHeader(String name) {
		return this.response.getHeader(name);
	}

}
