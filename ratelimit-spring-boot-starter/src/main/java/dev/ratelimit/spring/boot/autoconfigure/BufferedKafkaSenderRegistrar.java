package dev.ratelimit.spring.boot.autoconfigure;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotationMetadata;

import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;
import dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties;

/**
 * Declares one {@link BufferedKafkaSender} bean per {@code ratelimit.buffers.<name>}: named
 * {@code <name>BufferedKafkaSender}, qualified {@code <name>}, created by
 * {@link BufferedSenderDefinitions}. A bean the application already declares under that name
 * wins. The bean's type is raw, so it can be injected as {@code BufferedKafkaSender<K, V>} for the
 * template's key and value types, as Boot's {@code KafkaTemplate<?, ?>} is.
 */
class BufferedKafkaSenderRegistrar implements ImportBeanDefinitionRegistrar, EnvironmentAware {

	static final String BEAN_NAME_SUFFIX = "BufferedKafkaSender";

	private Environment environment;

	@Override
	public void setEnvironment(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void registerBeanDefinitions(AnnotationMetadata metadata, BeanDefinitionRegistry registry) {
		// only the names are needed here; the values are bound again, with the application's
		// converters, into RateLimitBufferProperties when the senders are created
		Bindable<Map<String, RateLimitBufferProperties.Buffer>> type = Bindable.mapOf(String.class,
				RateLimitBufferProperties.Buffer.class);
		Binder binder = Binder.get(this.environment);
		Set<String> names = new TreeSet<>(binder.bind(BufferedSenderDefinitions.PREFIX, type).orElse(Map.of()).keySet());
		// a buffer given only properties that bind to nothing (a renamed one, say) is found by
		// name too, so that its sender reports them instead of being left out without a word
		binder.bind(BufferedSenderDefinitions.PREFIX, Bindable.mapOf(String.class, Object.class))
			.ifBound((all) -> names.addAll(all.keySet()));
		for (String name : names) {
			String beanName = name + BEAN_NAME_SUFFIX;
			if (registry.containsBeanDefinition(beanName)) {
				continue;
			}
			// a factory method with its arguments rather than an instance supplier, so that
			// ahead-of-time processing can write the definition as code
			RootBeanDefinition definition = new RootBeanDefinition(BufferedSenderDefinitions.class);
			definition.setFactoryMethodName("create");
			definition.getConstructorArgumentValues().addIndexedArgumentValue(0, name);
			definition.getConstructorArgumentValues().addIndexedArgumentValue(1, beanName);
			definition.setAutowireMode(AbstractBeanDefinition.AUTOWIRE_CONSTRUCTOR);
			definition.setTargetType(BufferedKafkaSender.class);
			definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
			definition.setDestroyMethodName(AbstractBeanDefinition.INFER_METHOD);
			registry.registerBeanDefinition(beanName, definition);
		}
	}

}
