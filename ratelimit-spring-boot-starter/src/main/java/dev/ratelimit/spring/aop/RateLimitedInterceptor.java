package dev.ratelimit.spring.aop;

import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;

import org.springframework.aop.support.AopUtils;

/**
 * Applies the limits of {@code @RateLimited} methods.
 */
final class RateLimitedInterceptor implements MethodInterceptor {

	/** No operation: the method is not rate-limited for that target class. */
	private static final Object NONE = new Object();

	private final Supplier<RateLimitedMethods> methods;

	private final Supplier<List<RateLimitHeadersListener>> listeners;

	/**
	 * The operation of each method for the target class it was first called on. Keyed by the
	 * {@link Method} itself, whose lookup compares by identity first, so a call costs no key
	 * allocation and no parameter-type comparison; other target classes go the long way.
	 */
	private final ConcurrentHashMap<Method, Resolved> resolved = new ConcurrentHashMap<>();

	private record Resolved(Class<?> targetClass, Object operation) {
	}

	RateLimitedInterceptor(Supplier<RateLimitedMethods> methods, Supplier<List<RateLimitHeadersListener>> listeners) {
		this.methods = methods;
		this.listeners = listeners;
	}

	@Override
	public Object invoke(MethodInvocation invocation) throws Throwable {
		Object target = invocation.getThis();
		Class<?> targetClass = (target != null) ? AopUtils.getTargetClass(target) : null;
		Method method = invocation.getMethod();
		Resolved cached = this.resolved.get(method);
		Object operation;
		if (cached != null && cached.targetClass() == targetClass) {
			operation = cached.operation();
		}
		else {
			RateLimitedOperation found = this.methods.get().find(method, targetClass);
			operation = (found != null) ? found : NONE;
			if (cached == null && targetClass != null) {
				this.resolved.putIfAbsent(method, new Resolved(targetClass, operation));
			}
		}
		if (operation == NONE) {
			return invocation.proceed();
		}
		return ((RateLimitedOperation) operation).invoke(invocation, this.listeners.get());
	}

}
