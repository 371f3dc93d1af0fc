package dev.ratelimit.spring.web.reactive;

import java.net.InetSocketAddress;
import java.security.Principal;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;

import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRequestView;

/**
 * A WebFlux exchange as the expressions of {@code ratelimit.http.rules} see it:
 * {@code #request} is the {@link ServerHttpRequest}, {@code #response} the
 * {@link ServerHttpResponse}, the principal the exchange's (resolved before the rules run, and
 * only for rules that read it). Serves one exchange.
 */
public final class ServerRequestView extends HttpRequestView {

	private final ServerHttpRequest request;

	private final ServerHttpResponse response;

	private final @Nullable Principal principal;

	/** The status of an exchange the client cancelled before it was answered. */
	static final int CANCELLED = 499;

	private volatile int failedStatus;

	ServerRequestView(ServerHttpRequest request, ServerHttpResponse response, ClientAddresses addresses, PathContainer path,
			@Nullable Principal principal) {
		super(addresses, path);
		this.request = request;
		this.response = response;
		this.principal = principal;
	}

	/** The client went away before an answer: counted as 499 (client closed request). */
	void cancelled() {
		if (!this.response.isCommitted()) {
			this.failedStatus = CANCELLED;
		}
	}

	/** The exchange failed with an exception, which an exception handler may still answer. */
	void failed(Throwable failure) {
		this.failedStatus = statusOf(failure, this.principal != null, true);
	}

	@Override
	protected String peer() {
		InetSocketAddress remote = this.request.getRemoteAddress();
		if (remote == null) {
			return "";
		}
		return (remote.getAddress() != null) ? remote.getAddress().getHostAddress() : remote.getHostString();
	}

	@Override
	protected List<String> headerValues(String name) {
		List<String> values = this.request.getHeaders().get(name);
		return (values != null) ? values : List.of();
	}

	@Override
	public @Nullable Principal getPrincipal() {
		return this.principal;
	}

	@Override
	public ServerHttpRequest getRequest() {
		return this.request;
	}

	@Override
	public ServerHttpResponse getResponse() {
		return this.response;
	}

	@Override
	public String getMethod() {
		return this.request.getMethod().name();
	}

	@Override
	public @Nullable String header(String name) {
		return this.request.getHeaders().getFirst(name);
	}

	/**
	 * Returns the status the response was committed with; before that, the one a failure is
	 * answered with, or 200.
	 */
	@Override
	public int getStatus() {
		HttpStatusCode status = this.response.getStatusCode();
		if (status != null && (this.response.isCommitted() || this.failedStatus == 0)) {
			return status.value();
		}
		return (this.failedStatus != 0) ? this.failedStatus : 200;
	}

	@Override
	public @Nullable String responseHeader(String name) {
		return this.response.getHeaders().getFirst(name);
	}

}
