package dev.ratelimit.spring.aop;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.MethodClassKey;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.expression.BeanResolver;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelCompilerMode;
import org.springframework.expression.spel.SpelParserConfiguration;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;
import org.springframework.util.StringUtils;

import dev.ratelimit.RateLimitExceededException;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.config.LimiterDefinitions.Definition;
import dev.ratelimit.spring.config.LimiterDefinitions;
import dev.ratelimit.spring.observation.RateLimitObservations;

/**
 * Finds the {@link RateLimited} annotations of methods and turns them into checked
 * {@link RateLimitedOperation}s, once per method and target class. Everything that can be wrong
 * with an annotation (an undeclared name, a key expression that does not parse, a missing
 * fallback, too many permits, a bad timeout) is reported when the bean is created, naming the
 * method and the fix.
 */
public final class RateLimitedMethods {

	private static final boolean REACTOR_PRESENT = ClassUtils.isPresent("reactor.core.publisher.Mono",
			RateLimitedMethods.class.getClassLoader());

	private static final SpelExpressionParser PARSER = new SpelExpressionParser(
			new SpelParserConfiguration(SpelCompilerMode.MIXED, RateLimitedMethods.class.getClassLoader()));

	private final LimiterDefinitions definitions;

	private final RateLimiterRegistry registry;

	private final BeanResolver beans;

	private final Executor executor;

	private final java.util.function.Supplier<List<RateLimitedFailureListener>> failures;

	private final Map<MethodClassKey, Optional<RateLimitedOperation>> operations = new ConcurrentHashMap<>();

	private final @Nullable RateLimitObservations observations;

	/**
	 * Creates the method resolver.
	 * @param definitions the declared limiters
	 * @param registry the registry that creates them
	 * @param beans resolves {@code @bean} references in key expressions, may be {@code null}
	 * @param executor runs {@code CompletableFuture} methods after a wait
	 */
	public RateLimitedMethods(LimiterDefinitions definitions, RateLimiterRegistry registry, BeanResolver beans,
			Executor executor) {
		this(definitions, registry, beans, executor, List::of);
	}

	/**
	 * Creates the method resolver.
	 * @param definitions the declared limiters
	 * @param registry the registry that creates them
	 * @param beans resolves {@code @bean} references in key expressions, may be {@code null}
	 * @param executor runs {@code CompletableFuture} methods after a wait
	 * @param failures listeners of failed calls (adaptive control), looked up on first use
	 */
	public RateLimitedMethods(LimiterDefinitions definitions, RateLimiterRegistry registry, BeanResolver beans,
			Executor executor, java.util.function.Supplier<List<RateLimitedFailureListener>> failures) {
		this(definitions, registry, beans, executor, failures, null);
	}

	/**
	 * Creates the method resolver.
	 * @param definitions the declared limiters
	 * @param registry the registry that creates them
	 * @param beans resolves {@code @bean} references in key expressions, may be {@code null}
	 * @param executor runs {@code CompletableFuture} methods after a wait
	 * @param failures listeners of failed calls (adaptive control), looked up on first use
	 * @param observations records an observation of each acquisition, {@code null} for none
	 */
	public RateLimitedMethods(LimiterDefinitions definitions, RateLimiterRegistry registry, BeanResolver beans,
			Executor executor, java.util.function.Supplier<List<RateLimitedFailureListener>> failures,
			@Nullable RateLimitObservations observations) {
		this.failures = failures;
		this.definitions = definitions;
		this.registry = registry;
		this.beans = beans;
		this.executor = executor;
		this.observations = observations;
	}

	/**
	 * Returns whether a class may have rate-limited methods, cheaply.
	 * @param type the class
	 * @return whether to look at its methods
	 */
	static boolean isCandidate(Class<?> type) {
		return AnnotationUtils.isCandidateClass(type, RateLimited.class)
				|| AnnotationUtils.isCandidateClass(type, RateLimited.List.class);
	}

	/**
	 * Returns whether a method, or its class, carries {@link RateLimited}, without resolving it.
	 * @param method the method
	 * @param targetClass the class of the target object
	 * @return whether the method may be rate-limited
	 */
	static boolean isAnnotated(Method method, Class<?> targetClass) {
		Class<?> type = (targetClass != null) ? targetClass : method.getDeclaringClass();
		Method specific = AopUtils.getMostSpecificMethod(method, type);
		return AnnotatedElementUtils.hasAnnotation(specific, RateLimited.class)
				|| AnnotatedElementUtils.hasAnnotation(specific, RateLimited.List.class)
				|| AnnotatedElementUtils.hasAnnotation(type, RateLimited.class)
				|| AnnotatedElementUtils.hasAnnotation(type, RateLimited.List.class);
	}

	/**
	 * Returns the operation of a method, or {@code null} when it is not rate-limited.
	 * @param method the method
	 * @param targetClass the class of the target object
	 * @return the operation, or {@code null}
	 * @throws InvalidRateLimitConfigurationException if its annotations cannot work
	 */
	RateLimitedOperation find(Method method, Class<?> targetClass) {
		Class<?> type = (targetClass != null) ? targetClass : method.getDeclaringClass();
		MethodClassKey key = new MethodClassKey(method, type);
		Optional<RateLimitedOperation> operation = this.operations.get(key);
		if (operation == null) {
			operation = Optional.ofNullable(build(method, type));
			this.operations.putIfAbsent(key, operation);
		}
		return operation.orElse(null);
	}

	/**
	 * Returns the {@code @RateLimited} annotations that apply to a method of a class: its own, or
	 * for a public method its class's; none for a static method or one of {@code Object}. Reads
	 * annotations only, and builds nothing.
	 * @param method the method
	 * @param targetClass the class of the target object
	 * @return the annotations, empty when the method is not limited
	 */
	static Set<RateLimited> annotationsOf(Method method, Class<?> targetClass) {
		if (method.getDeclaringClass() == Object.class || Modifier.isStatic(method.getModifiers())) {
			return Set.of();
		}
		Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
		Set<RateLimited> annotations = AnnotatedElementUtils.findMergedRepeatableAnnotations(specific,
				RateLimited.class);
		if (annotations.isEmpty() && Modifier.isPublic(specific.getModifiers())) {
			annotations = AnnotatedElementUtils.findMergedRepeatableAnnotations(targetClass, RateLimited.class);
		}
		return annotations;
	}

	private RateLimitedOperation build(Method method, Class<?> targetClass) {
		Set<RateLimited> annotations = annotationsOf(method, targetClass);
		if (annotations.isEmpty()) {
			return null;
		}
		Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
		String where = "@RateLimited on " + describe(specific, targetClass);
		RateLimitedOperation.Kind kind = kindOf(specific.getReturnType());
		List<RateLimitedOperation.Spec> specs = new ArrayList<>();
		long waitNanos = Long.MAX_VALUE;
		for (RateLimited annotation : annotations) {
			Definition definition = definition(annotation, where);
			Expression key = key(annotation, definition, where);
			checkPermits(annotation, definition, where);
			waitNanos = Math.min(waitNanos, waitNanos(annotation, definition, where));
			String priority = priority(annotation, definition, key, where);
			Expression priorityExpression = priorityExpression(annotation, definition, where);
			// a runtime rule that no such call could fit is then refused
			if (priorityExpression != null) {
				for (String priorityClass : definition.priority().priorities().classes()) {
					this.registry.declarePermits(definition.name(), priorityClass, annotation.permits());
				}
			}
			else {
				this.registry.declarePermits(definition.name(), priority, annotation.permits());
			}
			specs.add(new RateLimitedOperation.Spec(definition.name(), key, annotation.permits(),
					definition.headers(), priority, priorityExpression,
					(priorityExpression != null) ? definition.priority().priorities().classes() : List.of()));
		}
		Method fallback = fallback(annotations, specific, targetClass, where);
		return new RateLimitedOperation(specific, specs, waitNanos, kind, fallback, this.registry, this.beans,
				this.executor, this.failures, this.observations);
	}

	private @Nullable Expression priorityExpression(RateLimited annotation, Definition definition, String where) {
		if (!StringUtils.hasText(annotation.priorityExpression())) {
			return null;
		}
		if (definition.priority() == null) {
			throw new InvalidRateLimitConfigurationException(where + " (priorityExpression)",
					annotation.priorityExpression(), "limiter '" + definition.name() + "' has no priority classes",
					"Declare them under ratelimit.limiters." + definition.name()
							+ ".priority.classes, or remove priorityExpression.");
		}
		// any class may come out: every one must hold a call's permits
		for (String priorityClass : definition.priority().priorities().classes()) {
			long capacity = this.definitions.capacityOf(definition.name(), priorityClass);
			if (annotation.permits() > capacity) {
				throw new InvalidRateLimitConfigurationException(where + " (permits)", annotation.permits(),
						"a call takes " + annotation.permits() + " permits, more than priority class '" + priorityClass
								+ "' of limiter '" + definition.name() + "' can take at once (" + capacity
								+ "), and the expression may choose it",
						"Take fewer permits per call, or raise ratelimit.limiters." + definition.name() + ".capacity.");
			}
		}
		try {
			return PARSER.parseExpression(annotation.priorityExpression());
		}
		catch (ParseException ex) {
			throw new InvalidRateLimitConfigurationException(where + " (priorityExpression)",
					annotation.priorityExpression(), "the priority expression does not parse: " + ex.getMessage(),
					"Write a SpEL expression over the arguments that gives a class name, for example "
							+ "#order.express ? 'critical' : 'batch'.");
		}
	}

	private @Nullable String priority(RateLimited annotation, Definition definition, @Nullable Expression key,
			String where) {
		LimiterDefinitions definitions = this.definitions;
		String priority = annotation.priority();
		if (definition.priority() == null) {
			if (StringUtils.hasText(priority)) {
				throw new InvalidRateLimitConfigurationException(where, priority,
						"limiter '" + definition.name() + "' has no priority classes",
						"Declare them, for example ratelimit.limiters." + definition.name()
								+ ".priority.classes=critical,normal,batch, or remove priority from the annotation.");
			}
			return null;
		}
		if (key != null) {
			throw new InvalidRateLimitConfigurationException(where, annotation.key(),
					"limiter '" + definition.name() + "' is divided among priority classes and has no per-key limiters",
					"Remove key from the annotation, or use a limiter without priority classes for per-key limits.");
		}
		if (StringUtils.hasText(priority) && !definition.priority().priorities().classes().contains(priority)) {
			throw new InvalidRateLimitConfigurationException(where, priority,
					"limiter '" + definition.name() + "' has no priority class '" + priority + "'",
					"Use one of " + definition.priority().priorities().classes() + ".");
		}
		String taken = StringUtils.hasText(priority) ? priority : definition.priority().defaultClass();
		long capacity = definitions.capacityOf(definition.name(), taken);
		if (annotation.permits() > capacity) {
			throw new InvalidRateLimitConfigurationException(where + " (permits)", annotation.permits(),
					"a call takes " + annotation.permits() + " permits, more than priority class '" + taken
							+ "' of limiter '" + definition.name() + "' can take at once (" + capacity + ")",
					"Take fewer permits per call, or raise ratelimit.limiters." + definition.name() + ".capacity.");
		}
		if (!StringUtils.hasText(priority)) {
			return null;
		}
		return priority;
	}

	private Definition definition(RateLimited annotation, String where) {
		String name = annotation.name();
		if (!StringUtils.hasText(name)) {
			throw new InvalidRateLimitConfigurationException(where, null, "no limiter name is given",
					"Name a limiter declared under ratelimit.limiters, for example @RateLimited(\"orders\").");
		}
		Definition definition = this.definitions.find(name);
		if (definition == null) {
			throw new InvalidRateLimitConfigurationException(where, name,
					"no limiter named '" + name + "' is declared and ratelimit.defaults.rate is not set",
					"Declare it, for example ratelimit.limiters." + name + ".rate=100/1s, or set ratelimit.defaults.rate "
							+ "to give undeclared names a default limit.");
		}
		return definition;
	}

	private Expression key(RateLimited annotation, Definition definition, String where) {
		boolean perKeyTier = definition.tiers().stream().anyMatch((tier) -> tier.perKey());
		if (!StringUtils.hasText(annotation.key())) {
			if (perKeyTier) {
				throw new InvalidRateLimitConfigurationException(where, definition.name(),
						"limiter '" + definition.name() + "' has per-key tiers, so calls need a key",
						"Add a key expression, for example key = \"#tenantId\".");
			}
			return null;
		}
		try {
			return PARSER.parseExpression(annotation.key());
		}
		catch (ParseException ex) {
			throw new InvalidRateLimitConfigurationException(where + " (key)", annotation.key(),
					"the key expression does not parse: " + ex.getMessage(),
					"Write a SpEL expression over the arguments, for example #tenantId, #p0, #order.customerId or "
							+ "#principal?.name (the authenticated user of the current servlet request).");
		}
	}

	private void checkPermits(RateLimited annotation, Definition definition, String where) {
		if (annotation.permits() < 1) {
			throw new InvalidRateLimitConfigurationException(where + " (permits)", annotation.permits(),
					"permits must be at least 1", "Set permits to 1 or more.");
		}
		// a keyed call takes its key's limiter, which no control adapts
		if (definition.adaptive() != null && definition.adaptive().concurrency() != null
				&& !StringUtils.hasText(annotation.key())) {
			Long min = definition.adaptive().concurrency().minLimit();
			long floor = (min != null) ? min : 1;
			if (annotation.permits() > floor) {
				// the adaptive bound may fall to its floor, and a call that can never fit reports
				// nothing that would raise it again
				throw new InvalidRateLimitConfigurationException(where + " (permits)", annotation.permits(),
						"limiter '" + definition.name() + "' adapts its bound down to min-limit " + floor
								+ ", below the call's permits, where no call could pass again",
						"Set ratelimit.limiters." + definition.name() + ".adaptive.min-limit to " + annotation.permits()
								+ " or more, or take fewer permits per call.");
			}
		}
		if (definition.limit() != null && annotation.permits() > definition.limit().capacity()) {
			throw new InvalidRateLimitConfigurationException(where + " (permits)", annotation.permits(),
					"more permits than limiter '" + definition.name() + "' can ever hold ("
							+ definition.limit().capacity() + "), so every call would be denied",
					"Lower permits, or raise ratelimit.limiters." + definition.name() + ".capacity.");
		}
	}

	private static long waitNanos(RateLimited annotation, Definition definition, String where) {
		Duration timeout = definition.waitTimeout();
		if (StringUtils.hasText(annotation.timeout())) {
			try {
				timeout = DurationStyle.detectAndParse(annotation.timeout());
			}
			catch (IllegalArgumentException ex) {
				throw new InvalidRateLimitConfigurationException(where + " (timeout)", annotation.timeout(),
						"the timeout is not a duration", "Write a duration such as 500ms, 2s or PT1.5S.");
			}
			if (timeout.isNegative()) {
				throw new InvalidRateLimitConfigurationException(where + " (timeout)", annotation.timeout(),
						"the timeout cannot be negative", "Write zero or a positive duration.");
			}
		}
		return switch (annotation.mode()) {
			case FAIL_FAST -> 0;
			case WAIT -> {
				if (timeout.isZero()) {
					throw new InvalidRateLimitConfigurationException(where + " (mode)", "WAIT",
							"mode WAIT needs a timeout, but both the annotation's timeout and ratelimit.limiters."
									+ definition.name() + ".wait-timeout are zero",
							"Set timeout = \"500ms\" on the annotation, or ratelimit.limiters." + definition.name()
									+ ".wait-timeout.");
				}
				yield timeout.toNanos();
			}
			case DEFAULT -> timeout.toNanos();
		};
	}

	private static Method fallback(Set<RateLimited> annotations, Method method, Class<?> targetClass, String where) {
		Set<String> names = annotations.stream()
			.map(RateLimited::fallback)
			.filter(StringUtils::hasText)
			.collect(Collectors.toSet());
		if (names.isEmpty()) {
			return null;
		}
		if (names.size() > 1) {
			throw new InvalidRateLimitConfigurationException(where + " (fallback)", names,
					"the limits of one method name different fallbacks", "Name one fallback method on all of them.");
		}
		String name = names.iterator().next();
		Class<?>[] parameters = method.getParameterTypes();
		Class<?>[] withException = Arrays.copyOf(parameters, parameters.length + 1);
		for (Method candidate : ReflectionUtils.getUniqueDeclaredMethods(targetClass)) {
			if (!candidate.getName().equals(name) || Modifier.isStatic(candidate.getModifiers())) {
				continue;
			}
			Class<?>[] types = candidate.getParameterTypes();
			boolean same = Arrays.equals(types, parameters);
			boolean takesException = types.length == withException.length
					&& Arrays.equals(Arrays.copyOf(types, parameters.length), parameters)
					&& types[parameters.length].isAssignableFrom(RateLimitExceededException.class);
			if ((same || takesException)
					&& ClassUtils.isAssignable(method.getReturnType(), candidate.getReturnType())) {
				return candidate;
			}
		}
		String signature = method.getReturnType().getSimpleName() + " " + name + "("
				+ Arrays.stream(parameters).map(Class::getSimpleName).collect(Collectors.joining(", ")) + ")";
		throw new InvalidRateLimitConfigurationException(where + " (fallback)", name,
				"no method " + signature + " (optionally with a trailing RateLimitExceededException parameter) "
						+ "exists in " + targetClass.getSimpleName(),
				"Add that method to " + targetClass.getSimpleName() + ", or correct the fallback name.");
	}

	private static RateLimitedOperation.Kind kindOf(Class<?> returnType) {
		if (CompletionStage.class.isAssignableFrom(returnType) && returnType.isAssignableFrom(CompletableFuture.class)) {
			return RateLimitedOperation.Kind.FUTURE;
		}
		if (REACTOR_PRESENT) {
			if (returnType.getName().equals("reactor.core.publisher.Mono")) {
				return RateLimitedOperation.Kind.MONO;
			}
			if (returnType.getName().equals("reactor.core.publisher.Flux")) {
				return RateLimitedOperation.Kind.FLUX;
			}
		}
		return RateLimitedOperation.Kind.SYNC;
	}

	private static String describe(Method method, Class<?> targetClass) {
		return ClassUtils.getShortName(targetClass) + "." + method.getName() + "("
				+ Arrays.stream(method.getParameterTypes()).map(Class::getSimpleName).collect(Collectors.joining(", "))
				+ ")";
	}

}
