package dev.ratelimit.spring.web.reactive;

import java.net.InetSocketAddress;
import java.security.Principal;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpStatusCode;
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

	private volatile boolean failed;

	ServerRequestView(ServerHttpRequest request, ServerHttpResponse response, ClientAddresses addresses, String path,
			@Nullable Principal principal) {
		super(addresses, path);
		this.request = request;
		this.response = response;
		this.principal = principal;
	}

	void failed() {
		this.failed = true;
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

	@Override
	public int getStatus() {
		if (this.failed) {
			return 500;
		}
		HttpStatusCode status = this.response.getStatusCode();
		return (status != null) ? status.value() : 200;
	}

	@Override
	public @Nullable String responseHeader(String name) {
		return this.response.getHeaders().getFirst(name);
	}

}
