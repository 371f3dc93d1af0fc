package dev.ratelimit.benchmarks;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.expression.spel.SpelCompilerMode;
import org.springframework.expression.spel.SpelParserConfiguration;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.pattern.PathPatternParser;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.web.ClientAddresses;
import dev.ratelimit.spring.web.HttpRule;
import dev.ratelimit.spring.web.servlet.RateLimitRulesFilter;

/**
 * Added cost, in nanoseconds per request, of the servlet filter of {@code ratelimit.http.rules},
 * against a filter that does nothing, in the same run. Requests are Spring's mock servlet requests
 * (no server, no socket), built once per thread: {@value #CLIENTS} clients, each its own address,
 * taken in turn. Limits are 10<sup>9</sup> per second, so no request is refused (a refusal would write a
 * problem body, which is not the path measured).
 *
 * <ul>
 * <li>{@code plainFilter}: a {@link OncePerRequestFilter} that passes the request on.
 * <li>{@code ruleShared}: one rule on {@code /api/**}, one limit for all requests.
 * <li>{@code rulePerIp}: the same rule keyed by {@code ip}, one limit per client.
 * <li>{@code rulePerIpWithHeaders}: keyed by {@code ip}, with the {@code RateLimit} fields written
 * on every response.
 * <li>{@code rulePerExpression}: keyed by a SpEL expression that is not one of the common forms
 * read without SpEL ({@code #request.remoteAddr + ''}, the same key).
 * <li>{@code ruleNotMatching}: a request outside the rule's paths.
 * </ul>
 * The command and the figures are in {@code docs/benchmarks.md}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class HttpRulesFilterBenchmark {

	static final int CLIENTS = 1024;

	private static final long PERMITS = 1_000_000_000L;

	private OncePerRequestFilter plain;

	private RateLimitRulesFilter shared;

	private RateLimitRulesFilter perIp;

	private RateLimitRulesFilter perIpWithHeaders;

	private RateLimitRulesFilter perAddressExpression;

	private final FilterChain chain = (request, response) -> {
	};

	/** Each thread has its own requests (a request is served by one thread) and walks them in turn. */
	@State(Scope.Thread)
	public static class Cursor {

		int next = java.util.concurrent.ThreadLocalRandom.current().nextInt(CLIENTS);

		final MockHttpServletResponse response = new MockHttpServletResponse();

		final MockHttpServletRequest[] requests = requests();

		final MockHttpServletRequest outside = request("/static/app.js", 1);

	}

	static MockHttpServletRequest[] requests() {
		MockHttpServletRequest[] requests = new MockHttpServletRequest[CLIENTS];
		for (int i = 0; i < CLIENTS; i++) {
			requests[i] = request("/api/orders/42", i);
		}
		return requests;
	}

	static MockHttpServletRequest request(String path, int client) {
		MockHttpServletRequest request = new MockHttpServletRequest("GET", path);
		request.setRemoteAddr("10." + (client >> 16 & 255) + "." + (client >> 8 & 255) + "." + (client & 255));
		return request;
	}

	@Setup
	public void setUp() {
		RateLimit limit = RateLimit.tokenBucket(Rate.perSecond(PERMITS)).capacity(PERMITS).build();
		RateLimiterRegistry registry = RateLimiterRegistry.builder().build();
		registry.define("shared", limit);
		registry.define("per-ip", limit);
		this.plain = new OncePerRequestFilter() {
			@Override
			protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
					throws ServletException, IOException {
				chain.doFilter(request, response);
			}
		};
		this.shared = filter(registry, "shared", null, false);
		this.perIp = filter(registry, "per-ip", "ip", false);
		this.perIpWithHeaders = filter(registry, "per-ip", "ip", true);
		this.perAddressExpression = filter(registry, "per-ip", "#request.remoteAddr + ''", false);
		// the rule is known to apply: a request makes the limiter of its client's address
		try {
			this.perIp.doFilter(request("/api/orders/42", 7), new MockHttpServletResponse(), this.chain);
		}
		catch (IOException | ServletException ex) {
			throw new IllegalStateException(ex);
		}
		if (registry.find("per-ip", "10.0.0.7").isEmpty()) {
			throw new IllegalStateException("the per-IP rule did not apply");
		}
	}

	private static RateLimitRulesFilter filter(RateLimiterRegistry registry, String limiter, String key,
			boolean headers) {
		SpelExpressionParser parser = new SpelExpressionParser(
				new SpelParserConfiguration(SpelCompilerMode.MIXED, HttpRulesFilterBenchmark.class.getClassLoader()));
		HttpRule rule = new HttpRule("bench", List.of(PathPatternParser.defaultInstance.parse("/api/**")), Set.of(),
				List.of(limiter), (key != null) ? parser.parseExpression(key) : null, 1, null, null, null, false);
		return new RateLimitRulesFilter(List.of(rule), registry, ClientAddresses.none(),
				(request, response, handler, ex) -> {
					throw new IllegalStateException("refused in a benchmark that must not refuse", ex);
				}, (name) -> headers, RateLimiterRegistry.DEFAULT_MAX_KEY_LENGTH);
	}

	private MockHttpServletRequest request(Cursor cursor) {
		return cursor.requests[cursor.next++ & (CLIENTS - 1)];
	}

	@Benchmark
	public Object plainFilter(Cursor cursor) throws Exception {
		MockHttpServletRequest request = request(cursor);
		this.plain.doFilter(request, cursor.response, this.chain);
		return request;
	}

	@Benchmark
	public Object ruleShared(Cursor cursor) throws Exception {
		MockHttpServletRequest request = request(cursor);
		this.shared.doFilter(request, cursor.response, this.chain);
		return request;
	}

	@Benchmark
	public Object rulePerIp(Cursor cursor) throws Exception {
		MockHttpServletRequest request = request(cursor);
		this.perIp.doFilter(request, cursor.response, this.chain);
		return request;
	}

	@Benchmark
	public Object rulePerIpWithHeaders(Cursor cursor) throws Exception {
		MockHttpServletRequest request = request(cursor);
		this.perIpWithHeaders.doFilter(request, cursor.response, this.chain);
		return request;
	}

	@Benchmark
	public Object rulePerExpression(Cursor cursor) throws Exception {
		MockHttpServletRequest request = request(cursor);
		this.perAddressExpression.doFilter(request, cursor.response, this.chain);
		return request;
	}

	@Benchmark
	public Object ruleNotMatching(Cursor cursor) throws Exception {
		this.perIp.doFilter(cursor.outside, cursor.response, this.chain);
		return cursor.outside;
	}

}
