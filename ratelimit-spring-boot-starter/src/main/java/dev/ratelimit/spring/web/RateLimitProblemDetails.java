package dev.ratelimit.spring.web;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;

import dev.ratelimit.RateLimitExceededException;

/**
 * The RFC 9457 body of a {@code 429 Too Many Requests} answer to a
 * {@link RateLimitExceededException}, and the choice of its media type, shared by the Spring MVC
 * and WebFlux handlers. Stateless and thread-safe.
 */
public final class RateLimitProblemDetails {

	/**
	 * Media types a problem may be written in, preferred first: the RFC 9457 ones, then plain JSON
	 * and XML for clients that ask only for those.
	 */
	private static final List<MediaType> CANDIDATES = List.of(MediaType.APPLICATION_PROBLEM_JSON,
			MediaType.APPLICATION_PROBLEM_XML, MediaType.APPLICATION_JSON, MediaType.APPLICATION_XML);

	private RateLimitProblemDetails() {
	}

	/**
	 * Finds the denial an exception stands for: the exception itself or its first cause that is a
	 * {@link RateLimitExceededException} (a denial deep in a call may arrive wrapped).
	 * @param ex the exception
	 * @return the denial, or {@code null} when there is none
	 */
	public static RateLimitExceededException exceededIn(Throwable ex) {
		Throwable current = ex;
		// bounded, in case of a cycle of causes
		for (int depth = 0; current != null && depth < 16; depth++) {
			if (current instanceof RateLimitExceededException exceeded) {
				return exceeded;
			}
			current = current.getCause();
		}
		return null;
	}

	/**
	 * Returns the problem detail of a denial: status 429, title "Too Many Requests", and a detail
	 * that names the limiter and the wait.
	 * @param exception the denial
	 * @param path the request path, the problem's instance; may be {@code null}
	 * @return a new problem detail
	 */
	public static ProblemDetail forException(RateLimitExceededException exception, String path) {
		ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS, detail(exception));
		problem.setTitle(HttpStatus.TOO_MANY_REQUESTS.getReasonPhrase());
		if (path != null) {
			try {
				problem.setInstance(URI.create(path));
			}
			catch (IllegalArgumentException ex) {
				// a path that is not a valid URI reference is left out rather than failing the answer
			}
		}
		return problem;
	}

	/**
	 * Returns the detail text of a denial, for example
	 * {@code Rate limit 'orders' exceeded; retry after 3 seconds}.
	 * @param exception the denial
	 * @return the text
	 */
	public static String detail(RateLimitExceededException exception) {
		long seconds = RateLimitHeaders.retryAfterSeconds(exception.getDecision());
		String retry = (seconds < 0) ? "retry when a permit is released"
				: "retry after " + seconds + ((seconds == 1) ? " second" : " seconds");
		return "Rate limit '" + exception.getLimiterName() + "' exceeded; " + retry;
	}

	/**
	 * Chooses the media type of a problem for a request: for each acceptable type, best quality
	 * first, the first candidate (problem JSON, problem XML, JSON, XML) it accepts that can be
	 * written.
	 * @param acceptable the types the request accepts; empty for any
	 * @param writable whether a problem can be written in a media type
	 * @return the media type, or {@code null} when the client accepts none that can be written
	 * (the answer then has no body)
	 */
	public static MediaType mediaType(List<MediaType> acceptable, Predicate<MediaType> writable) {
		List<MediaType> accepted = new ArrayList<>(acceptable.isEmpty() ? List.of(MediaType.ALL) : acceptable);
		// stable: types of equal quality keep the client's order
		accepted.sort(Comparator.comparingDouble(MediaType::getQualityValue).reversed());
		for (MediaType accept : accepted) {
			if (accept.getQualityValue() == 0) {
				continue;
			}
			for (MediaType candidate : CANDIDATES) {
				if (accept.isCompatibleWith(candidate) && !refused(accepted, candidate) && writable.test(candidate)) {
					return candidate;
				}
			}
		}
		return null;
	}

	/** Whether the client refuses a type with a quality of zero ({@code application/xml;q=0}). */
	private static boolean refused(List<MediaType> accepted, MediaType candidate) {
		for (MediaType accept : accepted) {
			if (accept.getQualityValue() == 0 && accept.includes(candidate)) {
				return true;
			}
		}
		return false;
	}

}
