package dev.ratelimit.spring.aop;

import java.lang.reflect.Method;
import java.util.List;

import org.springframework.aop.ClassFilter;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.Ordered;
import org.springframework.util.function.SingletonSupplier;

/**
 * Proxies beans with {@code @RateLimited} methods, or adds the limit to an existing proxy ahead of
 * its other advice (so a denied call opens no transaction). Works without AspectJ. Each annotated
 * method is checked when its bean is created, so a wrong name, key, fallback or timeout stops the
 * application at start-up.
 */
public class RateLimitedBeanPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor {

	private static final long serialVersionUID = 1L;

	/** Set while Spring processes an application ahead of time (a build step). */
	private static final String AOT_PROCESSING = "spring.aot.processing";

	/**
	 * Creates the post-processor; its collaborators are looked up on first use, so creating it
	 * early (as post-processors are) creates nothing else early.
	 * @param methods the method resolver
	 * @param listeners listeners of permitted calls' decisions
	 */
	public RateLimitedBeanPostProcessor(ObjectProvider<RateLimitedMethods> methods,
			ObjectProvider<RateLimitHeadersListener> listeners) {
		SingletonSupplier<RateLimitedMethods> resolver = SingletonSupplier.of(methods::getObject);
		SingletonSupplier<List<RateLimitHeadersListener>> heard = SingletonSupplier
			.of(() -> listeners.orderedStream().toList());
		StaticMethodMatcherPointcut pointcut = new StaticMethodMatcherPointcut() {

			@Override
			public boolean matches(Method method, Class<?> targetClass) {
				// the annotation check first: resolving builds limiters, which must not happen for
				// the beans the resolver itself is made of
				if (!RateLimitedMethods.isAnnotated(method, targetClass)) {
					return false;
				}
				if (Boolean.getBoolean(AOT_PROCESSING)) {
					// ahead-of-time processing asks which beans become proxies: the annotations
					// say so, and building limiters would start their backend (connect to Kafka)
					// in the build
					return !RateLimitedMethods.annotationsOf(method, targetClass).isEmpty();
				}
				return resolver.obtain().find(method, targetClass) != null;
			}

		};
		pointcut.setClassFilter(new ClassFilter() {

			@Override
			public boolean matches(Class<?> type) {
				return RateLimitedMethods.isCandidate(type);
			}

		});
		this.advisor = new DefaultPointcutAdvisor(pointcut, new RateLimitedInterceptor(resolver, heard));
		setBeforeExistingAdvisors(true);
		// ahead of post-processors at the lowest precedence that register the bean they are given,
		// such as Spring Kafka's @KafkaListener processor: they must be given the proxy. Still
		// after the auto-proxy creator (highest precedence), whose proxy this one joins
		setOrder(Ordered.LOWEST_PRECEDENCE - 1);
	}

}
