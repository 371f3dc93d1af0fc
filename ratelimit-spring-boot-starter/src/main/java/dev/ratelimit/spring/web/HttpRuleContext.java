package dev.ratelimit.spring.web;

import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.expression.BeanResolver;
import org.springframework.expression.ConstructorResolver;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.IndexAccessor;
import org.springframework.expression.MethodResolver;
import org.springframework.expression.OperatorOverloader;
import org.springframework.expression.PropertyAccessor;
import org.springframework.expression.TypeComparator;
import org.springframework.expression.TypeConverter;
import org.springframework.expression.TypeLocator;
import org.springframework.expression.TypedValue;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

/**
 * The context of one request's evaluations: the view as the root object, {@code #request},
 * {@code #principal} and {@code #response} as variables, everything else from one shared
 * read-only context (properties and methods only: no type references, constructors, bean
 * references or assignment). Built per request without copying the shared parts.
 */
final class HttpRuleContext implements EvaluationContext {

	/** Accessors and resolvers only, never a request's objects: shared by every request. */
	private static final EvaluationContext SHARED = SimpleEvaluationContext.forReadOnlyDataBinding()
		.withInstanceMethods()
		.build();

	private final HttpRequestView view;

	private final TypedValue root;

	HttpRuleContext(HttpRequestView view) {
		this.view = view;
		this.root = new TypedValue(view);
	}

	@Override
	public TypedValue getRootObject() {
		return this.root;
	}

	@Override
	public List<PropertyAccessor> getPropertyAccessors() {
		return SHARED.getPropertyAccessors();
	}

	@Override
	public List<IndexAccessor> getIndexAccessors() {
		return SHARED.getIndexAccessors();
	}

	@Override
	public List<ConstructorResolver> getConstructorResolvers() {
		return SHARED.getConstructorResolvers();
	}

	@Override
	public List<MethodResolver> getMethodResolvers() {
		return SHARED.getMethodResolvers();
	}

	@Override
	public @Nullable BeanResolver getBeanResolver() {
		return SHARED.getBeanResolver();
	}

	@Override
	public TypeLocator getTypeLocator() {
		return SHARED.getTypeLocator();
	}

	@Override
	public TypeConverter getTypeConverter() {
		return SHARED.getTypeConverter();
	}

	@Override
	public TypeComparator getTypeComparator() {
		return SHARED.getTypeComparator();
	}

	@Override
	public OperatorOverloader getOperatorOverloader() {
		return SHARED.getOperatorOverloader();
	}

	@Override
	public boolean isAssignmentEnabled() {
		return false;
	}

	@Override
	public void setVariable(String name, @Nullable Object value) {
		throw new UnsupportedOperationException("the expressions of HTTP rules cannot set variables");
	}

	@Override
	public @Nullable Object lookupVariable(String name) {
		return switch (name) {
			case "request" -> this.view.getRequest();
			case "principal" -> this.view.getPrincipal();
			case "response" -> this.view.getResponse();
			default -> null;
		};
	}

}
