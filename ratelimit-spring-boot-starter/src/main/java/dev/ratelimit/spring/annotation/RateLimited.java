package dev.ratelimit.spring.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.core.annotation.AliasFor;

/**
 * Limits calls to a method (or to every public method of a class) with a named limiter declared
 * under {@code ratelimit.limiters.<name>}.
 *
 * <p>Repeatable: several limits on one method (say per second and per day) are taken all or
 * nothing. A denied call throws {@link dev.ratelimit.RateLimitExceededException} (which web
 * applications answer with HTTP 429), or calls the {@link #fallback()} method.
 *
 * <p>Works on plain methods, on methods returning {@code CompletableFuture} (never parking a
 * thread while waiting) and, when Reactor is present, {@code Mono} and {@code Flux} (the limit is
 * taken once per subscription). Names, key expressions and fallbacks are checked when the
 * application starts, not at the first call.
 *
 * <pre>{@code
 * @RateLimited(name = "orders", key = "#tenantId")
 * @RateLimited(name = "orders-daily", key = "#tenantId")
 * public Order place(String tenantId, OrderRequest request) { ... }
 * }</pre>
 */
@Target({ ElementType.METHOD, ElementType.TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Documented
@Repeatable(RateLimited.List.class)
public @interface RateLimited {

	/**
	 * Alias for {@link #name()}.
	 * @return the limiter name
	 */
	@AliasFor("name")
	String value() default "";

	/**
	 * Name of the limiter, as declared under {@code ratelimit.limiters}.
	 * @return the limiter name
	 */
	@AliasFor("value")
	String name() default "";

	/**
	 * SpEL expression over the method arguments (by name, {@code #p0}, or {@code #args}) and beans
	 * ({@code @bean}) that gives a key: each key has its own limiter, bounded by
	 * {@code ratelimit.limiters.<name>.max-keys}. Empty for one limiter shared by every call.
	 * @return the key expression
	 */
	String key() default "";

	/**
	 * Priority class of the calls, for a limiter declared with
	 * {@code ratelimit.limiters.<name>.priority.classes}: when the limit is short, the less
	 * important classes are refused first. Empty for the limiter's default class.
	 * @return the class
	 */
	String priority() default "";

	/**
	 * SpEL expression, over the same variables as {@link #key()}, that gives the priority class of
	 * each call, for example {@code #order.express ? 'critical' : 'batch'} or
	 * {@code #request.getHeader('X-Priority')}. A value that is not one of the limiter's classes
	 * (a client's header is input like any other), {@code null} or a failing expression gives
	 * {@link #priority()}, or the limiter's default class. Empty for a fixed class.
	 * @return the expression
	 */
	String priorityExpression() default "";

	/**
	 * Permits each call takes.
	 * @return the permits, at least 1
	 */
	long permits() default 1;

	/**
	 * What a call does when no permit is available.
	 * @return the mode
	 */
	Mode mode() default Mode.DEFAULT;

	/**
	 * Longest wait in {@link Mode#WAIT}, as a duration ({@code 500ms}, {@code 2s}); empty for the
	 * limiter's {@code wait-timeout}.
	 * @return the timeout
	 */
	String timeout() default "";

	/**
	 * Name of a method of the same class to call instead when the call is denied. It takes the same
	 * parameters, optionally followed by a {@link dev.ratelimit.RateLimitExceededException}, and
	 * returns the same type.
	 * @return the fallback method name, empty for none
	 */
	String fallback() default "";

	/**
	 * What a call does without an available permit.
	 */
	enum Mode {

		/** The limiter's configured {@code wait-timeout} decides: zero fails fast, otherwise waits. */
		DEFAULT,

		/** Fail at once. */
		FAIL_FAST,

		/** Wait up to the timeout, then fail. */
		WAIT

	}

	/**
	 * Container of repeated {@link RateLimited} annotations.
	 */
	@Target({ ElementType.METHOD, ElementType.TYPE })
	@Retention(RetentionPolicy.RUNTIME)
	@Inherited
	@Documented
	@interface List {

		/**
		 * The limits, taken all or nothing.
		 * @return the annotations
		 */
		RateLimited[] value();

	}

}
