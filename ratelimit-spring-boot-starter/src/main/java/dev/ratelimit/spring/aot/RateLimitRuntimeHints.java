package dev.ratelimit.spring.aot;

import org.jspecify.annotations.Nullable;

import org.springframework.aot.hint.BindingReflectionHintsRegistrar;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeReference;

import dev.ratelimit.spring.actuate.RateLimitsEndpoint;
import dev.ratelimit.spring.web.HttpRequestView;

/**
 * The types the starter reaches by reflection, for a native image (registered through
 * {@code META-INF/spring/aot.factories}):
 * <ul>
 * <li>the roots of SpEL expressions: a {@code @RateLimited} key's {@code #root} (its
 * {@code method}, {@code args} and {@code target}) and an HTTP rule's request view, whose
 * properties and methods expressions call;</li>
 * <li>the payloads of {@code /actuator/ratelimits}, written by Jackson.</li>
 * </ul>
 * Types of the application that an expression reaches (a method argument's properties, say) need
 * hints of the application's own.
 */
final class RateLimitRuntimeHints implements RuntimeHintsRegistrar {

	/** The root object of a {@code @RateLimited} key expression. */
	static final String KEY_ROOT = "dev.ratelimit.spring.aop.RateLimitedOperation$KeyRoot";

	/** The request views of HTTP rules, for servlet and reactive applications. */
	static final String[] REQUEST_VIEWS = { "dev.ratelimit.spring.web.servlet.ServletRequestView",
			"dev.ratelimit.spring.web.reactive.ServerRequestView" };

	@Override
	public void registerHints(RuntimeHints hints, @Nullable ClassLoader classLoader) {
		hints.reflection()
			.registerType(TypeReference.of(KEY_ROOT), MemberCategory.INVOKE_PUBLIC_METHODS,
					MemberCategory.INVOKE_DECLARED_METHODS);
		hints.reflection().registerType(HttpRequestView.class, MemberCategory.INVOKE_PUBLIC_METHODS);
		for (String view : REQUEST_VIEWS) {
			hints.reflection().registerType(TypeReference.of(view), MemberCategory.INVOKE_PUBLIC_METHODS);
		}
		new BindingReflectionHintsRegistrar().registerReflectionHints(hints.reflection(),
				RateLimitsEndpoint.RateLimitersDescriptor.class, RateLimitsEndpoint.RateLimiterDescriptor.class,
				RateLimitsEndpoint.KeysDescriptor.class, RateLimitsEndpoint.KeyDescriptor.class);
	}

}
