package dev.ratelimit.spring.aop;

import java.util.List;
import java.util.function.Supplier;

import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;

import org.springframework.aop.support.AopUtils;

/**
 * Applies the limits of {@code @RateLimited} methods.
 */
final class RateLimitedInterceptor implements MethodInterceptor {

	private final Supplier<RateLimitedMethods> methods;

	private final Supplier<List<RateLimitHeadersListener>> listeners;

	RateLimitedInterceptor(Supplier<RateLimitedMethods> methods, Supplier<List<RateLimitHeadersListener>> listeners) {
		this.methods = methods;
		this.listeners = listeners;
	}

	@Override
	public Object invoke(MethodInvocation invocation) throws Throwable {
		Object target = invocation.getThis();
		Class<?> targetClass = (target != null) ? AopUtils.getTargetClass(target) : null;
		RateLimitedOperation operation = this.methods.get().find(invocation.getMethod(), targetClass);
		if (operation == null) {
			return invocation.proceed();
		}
		return operation.invoke(invocation, this.listeners.get());
	}

}
