package dev.ratelimit.spring.web;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Test;

import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;

import dev.ratelimit.Decision;
import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimitExceededException;

import static org.assertj.core.api.Assertions.assertThat;

class RateLimitProblemDetailsTests {

	private static final Set<MediaType> JSON_ONLY = Set.of(MediaType.APPLICATION_PROBLEM_JSON,
			MediaType.APPLICATION_JSON);

	@Test
	void problemIs429NamingTheLimiterAndTheWait() {
		RateLimitExceededException denied = new RateLimitExceededException("orders", RateLimit.concurrency(1),
				new Decision(false, 0, 2_500_000_000L, 0));
		ProblemDetail problem = RateLimitProblemDetails.forException(denied, "/orders/42");
		assertThat(problem.getStatus()).isEqualTo(429);
		assertThat(problem.getTitle()).isEqualTo("Too Many Requests");
		assertThat(problem.getDetail()).isEqualTo("Rate limit 'orders' exceeded; retry after 3 seconds");
		assertThat(problem.getInstance()).hasToString("/orders/42");
	}

	@Test
	void detailSaysSecondsInWordsAndWhenTheWaitIsUnknown() {
		assertThat(RateLimitProblemDetails
			.detail(new RateLimitExceededException("orders", new Decision(false, 0, 10_000_000L, 0))))
			.isEqualTo("Rate limit 'orders' exceeded; retry after 1 second");
		assertThat(RateLimitProblemDetails
			.detail(new RateLimitExceededException("db", new Decision(false, 0, Long.MAX_VALUE, Long.MAX_VALUE))))
			.isEqualTo("Rate limit 'db' exceeded; retry when a permit is released");
	}

	@Test
	void aPathThatIsNoUriLeavesTheInstanceOut() {
		ProblemDetail problem = RateLimitProblemDetails.forException(
				new RateLimitExceededException("orders", new Decision(false, 0, 1, 0)), "/a b");
		assertThat(problem.getInstance()).isNull();
	}

	@Test
	void findsTheDenialAmongCauses() {
		RateLimitExceededException denied = new RateLimitExceededException("orders", new Decision(false, 0, 1, 0));
		assertThat(RateLimitProblemDetails.exceededIn(denied)).isSameAs(denied);
		assertThat(RateLimitProblemDetails.exceededIn(new CompletionException(new IllegalStateException(denied))))
			.isSameAs(denied);
		assertThat(RateLimitProblemDetails.exceededIn(new IllegalStateException())).isNull();
	}

	@Test
	void anyClientGetsProblemJson() {
		assertThat(RateLimitProblemDetails.mediaType(List.of(), JSON_ONLY::contains))
			.isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat(RateLimitProblemDetails.mediaType(MediaType.parseMediaTypes("*/*"), JSON_ONLY::contains))
			.isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
		assertThat(RateLimitProblemDetails.mediaType(MediaType.parseMediaTypes("application/*+json"),
				JSON_ONLY::contains))
			.isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
	}

	@Test
	void aClientAskingForJsonOnlyGetsJson() {
		assertThat(RateLimitProblemDetails.mediaType(MediaType.parseMediaTypes("application/json"),
				JSON_ONLY::contains))
			.isEqualTo(MediaType.APPLICATION_JSON);
	}

	@Test
	void qualityAndRefusalsAreRespected() {
		Set<MediaType> any = Set.of(MediaType.APPLICATION_PROBLEM_JSON, MediaType.APPLICATION_PROBLEM_XML,
				MediaType.APPLICATION_JSON, MediaType.APPLICATION_XML);
		assertThat(RateLimitProblemDetails.mediaType(
				MediaType.parseMediaTypes("application/json;q=0.5, application/problem+xml"), any::contains))
			.isEqualTo(MediaType.APPLICATION_PROBLEM_XML);
		assertThat(RateLimitProblemDetails.mediaType(MediaType.parseMediaTypes("application/problem+json;q=0, */*"),
				any::contains))
			.isEqualTo(MediaType.APPLICATION_PROBLEM_XML);
	}

	@Test
	void noWritableAcceptableTypeMeansNoBody() {
		assertThat(RateLimitProblemDetails.mediaType(MediaType.parseMediaTypes("text/html"), JSON_ONLY::contains))
			.isNull();
		assertThat(RateLimitProblemDetails.mediaType(MediaType.parseMediaTypes("application/xml"),
				JSON_ONLY::contains))
			.isNull();
	}

}
