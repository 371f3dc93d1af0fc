package dev.ratelimit.spring.web.reactive;

import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

import reactor.core.publisher.Mono;

import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.core.codec.Hints;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.spring.web.RateLimitHeaderValues;
import dev.ratelimit.spring.web.RateLimitHeaders;
import dev.ratelimit.spring.web.RateLimitProblemDetails;

/**
 * Answers a {@link RateLimitExceededException} (signalled by a handler or anything it calls, also
 * as the cause of another exception) with {@code 429 Too Many Requests}: {@code Retry-After}, the
 * {@code RateLimit} and {@code RateLimit-Policy} fields when the limiter has them enabled, and an
 * RFC 9457 {@link ProblemDetail} body written with the application's codecs in a type the client
 * accepts.
 *
 * <p>Ordered at {@value #ORDER}, before Spring Boot's error handler ({@code -1}) and Spring's
 * {@code ResponseStatusException} handler ({@code 0}). The application's {@code @ExceptionHandler}
 * methods run inside the handler, before any {@code WebExceptionHandler}, so they win.
 * Thread-safe.
 */
public final class RateLimitExceededWebExceptionHandler implements WebExceptionHandler, Ordered {

	/** The default order: before Spring Boot's error handler. */
	public static final int ORDER = -2;

	private static final ResolvableType PROBLEM_TYPE = ResolvableType.forClass(ProblemDetail.class);

	private final Supplier<? extends List<HttpMessageWriter<?>>> writers;

	private final Predicate<String> headers;

	private int order = ORDER;

	/**
	 * Creates the handler.
	 * @param writers the writers that may write the problem body, asked for at each answer
	 * @param headers whether answers about the limiter of a name carry the {@code RateLimit} and
	 * {@code RateLimit-Policy} fields ({@code Retry-After} is always written)
	 */
	public RateLimitExceededWebExceptionHandler(Supplier<? extends List<HttpMessageWriter<?>>> writers,
			Predicate<String> headers) {
		this.writers = writers;
		this.headers = headers;
	}

	@Override
	public Mono<Void> handle(ServerWebExchange exchange, Throwable ex) {
		RateLimitExceededException exceeded = RateLimitProblemDetails.exceededIn(ex);
		ServerHttpResponse response = exchange.getResponse();
		if (exceeded == null || response.isCommitted()) {
			return Mono.error(ex);
		}
		response.setStatusCode(HttpStatus.TOO_MANY_REQUESTS);
		HttpHeaders headers = response.getHeaders();
		// what a failing handler may have set for its own body is not part of this answer
		headers.remove(HttpHeaders.CONTENT_TYPE);
		headers.remove(HttpHeaders.CONTENT_LENGTH);
		long retryAfter = RateLimitHeaders.retryAfterSeconds(exceeded.getDecision());
		if (retryAfter > 0) {
			headers.set(RateLimitHeaders.RETRY_AFTER, Long.toString(retryAfter));
		}
		if (this.headers.test(exceeded.getLimiterName())) {
			RateLimitHeaderValues values = ExchangeRateLimitHeadersListener.values(exchange)
				.record(exceeded.getLimiterName(), exceeded.getLimit(), exceeded.getDecision());
			ExchangeRateLimitHeadersListener.write(values, headers);
		}
		List<HttpMessageWriter<?>> writers = this.writers.get();
		MediaType mediaType = RateLimitProblemDetails.mediaType(acceptable(exchange),
				(type) -> writer(writers, type) != null);
		if (mediaType == null) {
			return response.setComplete(); // no acceptable type: status and fields only
		}
		ProblemDetail problem = RateLimitProblemDetails.forException(exceeded,
				exchange.getRequest().getPath().value());
		@SuppressWarnings("unchecked")
		HttpMessageWriter<ProblemDetail> writer = (HttpMessageWriter<ProblemDetail>) writer(writers, mediaType);
		return writer.write(Mono.just(problem), PROBLEM_TYPE, mediaType, response,
				Hints.from(Hints.LOG_PREFIX_HINT, exchange.getLogPrefix()));
	}

	private static HttpMessageWriter<?> writer(List<HttpMessageWriter<?>> writers, MediaType type) {
		for (HttpMessageWriter<?> writer : writers) {
			if (writer.canWrite(PROBLEM_TYPE, type)) {
				return writer;
			}
		}
		return null;
	}

	private static List<MediaType> acceptable(ServerWebExchange exchange) {
		try {
			return exchange.getRequest().getHeaders().getAccept();
		}
		catch (InvalidMediaTypeException ex) {
			return List.of(); // an unreadable Accept is treated as none: any type
		}
	}

	@Override
	public int getOrder() {
		return this.order;
	}

	/**
	 * Sets the order among web exception handlers; keep it below {@code -1} to answer before
	 * Spring Boot's error handler.
	 * @param order the order
	 */
	public void setOrder(int order) {
		this.order = order;
	}

}
