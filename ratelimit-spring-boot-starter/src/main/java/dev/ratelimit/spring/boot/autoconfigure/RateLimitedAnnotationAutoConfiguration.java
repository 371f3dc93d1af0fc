package dev.ratelimit.spring.boot.autoconfigure;

import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.util.function.SingletonSupplier;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.aop.RateLimitHeadersListener;
import dev.ratelimit.spring.aop.RateLimitedBeanPostProcessor;
import dev.ratelimit.spring.aop.RateLimitedFailureListener;
import dev.ratelimit.spring.aop.RateLimitedMethods;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of
 * {@link dev.ratelimit.spring.annotation.RateLimited @RateLimited}: beans with annotated methods
 * are proxied (no AspectJ needed), and every annotation is checked at start-up.
 */
@AutoConfiguration(after = { RateLimitAutoConfiguration.class, TaskExecutionAutoConfiguration.class })
@ConditionalOnBooleanProperty(name = "ratelimit.enabled", matchIfMissing = true)
public final class RateLimitedAnnotationAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	RateLimitedMethods rateLimitedMethods(LimiterDefinitions definitions, RateLimiterRegistry registry,
			BeanFactory beanFactory, @Qualifier("applicationTaskExecutor") ObjectProvider<Executor> executor,
			ObjectProvider<RateLimitedFailureListener> failureListeners,
			ObjectProvider<RateLimitObservations> observations) {
		return new RateLimitedMethods(definitions, registry, new BeanFactoryResolver(beanFactory),
				executor.getIfAvailable(ForkJoinPool::commonPool),
				SingletonSupplier.of(() -> failureListeners.orderedStream().toList()),
				observations.getIfUnique());
	}

	@Bean
	@ConditionalOnMissingBean
	static RateLimitedBeanPostProcessor rateLimitedBeanPostProcessor(ObjectProvider<RateLimitedMethods> methods,
			ObjectProvider<RateLimitHeadersListener> listeners) {
		return new RateLimitedBeanPostProcessor(methods, listeners);
	}

}
