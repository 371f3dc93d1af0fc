package dev.ratelimit.spring.web.servlet;

import java.io.IOException;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.spring.web.RateLimitHeaderValues;
import dev.ratelimit.spring.web.RateLimitHeaders;
import dev.ratelimit.spring.web.RateLimitProblemDetails;

/**
 * Answers a {@link RateLimitExceededException} (thrown by a handler or anything it calls, also as
 * the cause of another exception) with {@code 429 Too Many Requests}: {@code Retry-After}, the
 * {@code RateLimit} and {@code RateLimit-Policy} fields when the limiter has them enabled, and an
 * RFC 9457 {@link ProblemDetail} body written with Spring MVC's message converters in a type the
 * client accepts.
 *
 * <p>Ordered after Spring MVC's own resolvers ({@value #ORDER}; they are one composite at order
 * 0), so an {@code @ExceptionHandler} of the application, in a controller or a
 * {@code @ControllerAdvice}, handles the exception first and wins. Spring's default resolvers in
 * that composite never claim this exception, so running after them changes nothing else.
 * Thread-safe.
 */
public final class RateLimitExceededExceptionResolver implements HandlerExceptionResolver, Ordered {

	/** The default order: right after Spring MVC's resolvers. */
	public static final int ORDER = 1;

	private static final Log logger = LogFactory.getLog(RateLimitExceededExceptionResolver.class);

	private final Supplier<? extends Iterable<HttpMessageConverter<?>>> converters;

	private final Predicate<String> headers;

	private int order = ORDER;

	/**
	 * Creates the resolver.
	 * @param converters the converters that may write the problem body, asked for at each answer
	 * (so that they may be created after this resolver)
	 * @param headers whether answers about the limiter of a name carry the {@code RateLimit} and
	 * {@code RateLimit-Policy} fields ({@code Retry-After} is always written)
	 */
	public RateLimitExceededExceptionResolver(Supplier<? extends Iterable<HttpMessageConverter<?>>> converters,
			Predicate<String> headers) {
		this.converters = converters;
		this.headers = headers;
	}

	@Override
	public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler,
			Exception ex) {
		RateLimitExceededException exceeded = RateLimitProblemDetails.exceededIn(ex);
		if (exceeded == null || response.isCommitted()) {
			return null;
		}
		try {
			answer(exceeded, request, response);
			return new ModelAndView();
		}
		catch (IOException failure) {
			// the client is gone or the response broke: nothing more to say to it; let the
			// container log the original exception
			logger.warn("Failed to write the 429 answer to " + exceeded.getMessage(), failure);
			return null;
		}
	}

	private void answer(RateLimitExceededException exceeded, HttpServletRequest request,
			HttpServletResponse response) throws IOException {
		// what a failing handler may have started is not part of this answer
		response.resetBuffer();
		response.setContentType(null);
		response.setStatus(HttpStatus.TOO_MANY_REQUESTS.value());
		long retryAfter = RateLimitHeaders.retryAfterSeconds(exceeded.getDecision());
		if (retryAfter > 0) {
			response.setHeader(RateLimitHeaders.RETRY_AFTER, Long.toString(retryAfter));
		}
		if (this.headers.test(exceeded.getLimiterName())) {
			RateLimitHeaderValues values = ServletRateLimitHeadersListener.values(request)
				.record(exceeded.getLimiterName(), exceeded.getLimit(), exceeded.getDecision());
			ServletRateLimitHeadersListener.write(values, response);
		}
		ProblemDetail problem = RateLimitProblemDetails.forException(exceeded, request.getRequestURI());
		writeBody(problem, request, response);
	}

	@SuppressWarnings("unchecked")
	private void writeBody(ProblemDetail problem, HttpServletRequest request, HttpServletResponse response)
			throws IOException {
		Iterable<HttpMessageConverter<?>> converters = this.converters.get();
		MediaType mediaType = RateLimitProblemDetails.mediaType(acceptable(request),
				(type) -> converter(converters, type) != null);
		if (mediaType == null) {
			return; // the client accepts no type a problem can be written in: status and fields only
		}
		HttpMessageConverter<Object> converter = (HttpMessageConverter<Object>) converter(converters, mediaType);
		ServletServerHttpResponse output = new ServletServerHttpResponse(response);
		converter.write(problem, mediaType, output);
		output.flush();
	}

	private static HttpMessageConverter<?> converter(Iterable<HttpMessageConverter<?>> converters, MediaType type) {
		for (HttpMessageConverter<?> converter : converters) {
			if (converter.canWrite(ProblemDetail.class, type)) {
				return converter;
			}
		}
		return null;
	}

	private static List<MediaType> acceptable(HttpServletRequest request) {
		try {
			return MediaType.parseMediaTypes(Collections.list(request.getHeaders(HttpHeaders.ACCEPT)));
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
	 * Sets the order among handler exception resolvers; keep it above 0 for the application's
	 * {@code @ExceptionHandler} methods to win.
	 * @param order the order
	 */
	public void setOrder(int order) {
		this.order = order;
	}

}
