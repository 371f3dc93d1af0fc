package dev.ratelimit.spring.boot.autoconfigure;

import java.util.List;
import java.util.Map;

import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.AbstractMessageListenerContainer;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.CommonLoggingErrorHandler;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.RecordInterceptor;

import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.Scheduler;
import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.kafka.ConsumerLagMetrics;
import dev.ratelimit.spring.kafka.ConsumerLagMonitor;
import dev.ratelimit.spring.kafka.KafkaListenerThrottling;
import dev.ratelimit.spring.kafka.ThrottlingErrorHandler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * The Kafka listener integration against listener containers that Boot builds but does not
 * start (no broker is needed to create them).
 */
@ExtendWith(OutputCaptureExtension.class)
class RateLimitKafkaAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, RateLimitAutoConfiguration.class,
				RateLimitKafkaAutoConfiguration.class))
		.withUserConfiguration(Listeners.class)
		.withPropertyValues("spring.kafka.listener.auto-startup=false", "ratelimit.limiters.orders-drain.rate=200/1s",
				"ratelimit.kafka.listeners.orders.limiter=orders-drain");

	@Test
	void throttledListenerTakesPermitsAndEveryContainerHandlesDenials() {
		this.contextRunner.run((context) -> {
			assertThat(context).hasNotFailed().hasSingleBean(ConsumerLagMonitor.class);
			AbstractMessageListenerContainer<?, ?> orders = container(context, "orders");
			assertThat(orders.getRecordInterceptor()).hasToString("ThrottlingInterceptor[orders, orders-drain x 1]");
			assertThat(orders.getBatchInterceptor()).isSameAs(orders.getRecordInterceptor());
			assertThat(orders.getCommonErrorHandler()).isInstanceOfSatisfying(ThrottlingErrorHandler.class,
					(handler) -> assertThat(handler.getDelegate()).isInstanceOf(DefaultErrorHandler.class));
			// not throttled, but a @RateLimited denial in it is a denial too
			AbstractMessageListenerContainer<?, ?> payments = container(context, "payments");
			assertThat(payments.getRecordInterceptor()).isNull();
			assertThat(payments.getCommonErrorHandler()).isInstanceOf(ThrottlingErrorHandler.class);
		});
	}

	@Test
	void applicationRecordInterceptorIsKeptAndRunsFirst() {
		this.contextRunner.withUserConfiguration(SkippingInterceptor.class)
			// one permit that does not come back within the test (at 200/s it would in 5 ms on a busy host)
			.withPropertyValues("ratelimit.limiters.orders-drain.rate=1/1h", "ratelimit.limiters.orders-drain.capacity=1")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				@SuppressWarnings("unchecked")
				RecordInterceptor<Object, Object> interceptor = (RecordInterceptor<Object, Object>) container(context,
						"orders")
					.getRecordInterceptor();
				@SuppressWarnings("unchecked")
				Consumer<Object, Object> consumer = (Consumer<Object, Object>) (Consumer<?, ?>) new MockConsumer<>(
						"earliest");
				// filtered out by the application's interceptor: costs no permit
				ConsumerRecord<Object, Object> skipped = new ConsumerRecord<>("orders", 0, 0, null, "skip");
				assertThat(interceptor.intercept(skipped, consumer)).isNull();
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders-drain").snapshot().available())
					.isOne();
				ConsumerRecord<Object, Object> kept = new ConsumerRecord<>("orders", 0, 1, null, "keep");
				assertThat(interceptor.intercept(kept, consumer)).isSameAs(kept);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders-drain").snapshot().available())
					.isZero();
			});
	}

	@Test
	void applicationErrorHandlerIsWrappedNotReplaced() {
		this.contextRunner.withBean(CommonErrorHandler.class, CommonLoggingErrorHandler::new).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(container(context, "orders").getCommonErrorHandler())
				.isInstanceOfSatisfying(ThrottlingErrorHandler.class, (handler) -> assertThat(handler.getDelegate())
					.isSameAs(context.getBean(CommonErrorHandler.class)));
		});
	}

	@Test
	void applicationContainerCustomizerStillApplies() {
		this.contextRunner.withUserConfiguration(ClientIdCustomizer.class).run((context) -> {
			assertThat(context).hasNotFailed();
			AbstractMessageListenerContainer<?, ?> orders = container(context, "orders");
			assertThat(orders.getContainerProperties().getClientId()).isEqualTo("customized");
			assertThat(orders.getCommonErrorHandler()).isInstanceOf(ThrottlingErrorHandler.class);
		});
	}

	@Test
	void unknownListenerIdFailsStartUpNamingTheProperty() {
		this.contextRunner.withPropertyValues("ratelimit.kafka.listeners.ordrs.limiter=orders-drain")
			.run((context) -> assertThat(failure(context)).hasMessage(
					"ratelimit.kafka.listeners.ordrs: no Kafka listener container has the id 'ordrs'")
				.satisfies((ex) -> assertThat(ex.getAction())
					.isEqualTo("Use the id of a @KafkaListener (its id attribute) or the bean name of a listener "
							+ "container; the application has listener containers orders, payments.")));
	}

	@Test
	void unknownLimiterFailsStartUpNamingTheProperty() {
		this.contextRunner.withPropertyValues("ratelimit.kafka.listeners.orders.limiter=nope")
			.run((context) -> assertThat(failure(context)).hasMessage("ratelimit.kafka.listeners.orders.limiter = "
					+ "'nope': no limiter named 'nope' is declared and ratelimit.defaults.rate is not set"));
	}

	@Test
	void concurrencyLimiterCannotThrottleRecords() {
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.pool.algorithm=concurrency",
					"ratelimit.limiters.pool.max-concurrent=4",
					"ratelimit.kafka.listeners.orders.limiter=pool")
			.run((context) -> assertThat(failure(context)).hasMessage("ratelimit.kafka.listeners.orders.limiter = "
					+ "'pool': limiter 'pool' is a concurrency limit, which has no rate to pace records with"));
	}

	@Test
	void recordsTakeAtLeastOnePermit() {
		this.contextRunner.withPropertyValues("ratelimit.kafka.listeners.orders.permits-per-record=0")
			.run((context) -> assertThat(failure(context))
				.hasMessage("ratelimit.kafka.listeners.orders.permits-per-record = '0': "
						+ "each record must take at least one permit"));
	}

	@Test
	void recordsTakeAtMostTheCapacity() {
		this.contextRunner.withPropertyValues("ratelimit.kafka.listeners.orders.permits-per-record=201")
			.run((context) -> assertThat(failure(context))
				.hasMessage("ratelimit.kafka.listeners.orders.permits-per-record = '201': "
						+ "a record would take more permits than limiter 'orders-drain' holds (200)"));
	}

	@Test
	void recordsTakeTheirListenersPriorityClass() {
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.orders-drain.priority.classes=live,replay",
					"ratelimit.kafka.listeners.orders.priority=urgent")
			.run((context) -> assertThat(failure(context)).hasMessageStartingWith(
					"ratelimit.kafka.listeners.orders.priority = 'urgent': no priority class named 'urgent'"));
		// replay leaves 40 of the 200 to live
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.orders-drain.priority.classes=live,replay",
					"ratelimit.kafka.listeners.orders.permits-per-record=161")
			.run((context) -> assertThat(failure(context))
				.hasMessage("ratelimit.kafka.listeners.orders.permits-per-record = '161': a record would take more "
						+ "permits than priority class 'replay' of limiter 'orders-drain' can take at once (160)"));
		this.contextRunner
			.withPropertyValues("ratelimit.limiters.orders-drain.priority.classes=live,replay",
					"ratelimit.kafka.listeners.orders.priority=live",
					"ratelimit.kafka.listeners.orders.permits-per-record=161")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void lagIntervalMustBePositive() {
		this.contextRunner.withPropertyValues("ratelimit.kafka.backpressure.lag-interval=0s")
			.run((context) -> assertThat(failure(context)).hasMessage("ratelimit.kafka.backpressure.lag-interval = "
					+ "'PT0S': the interval between lag readings must be positive"));
	}

	@Test
	void watchedGroupNeedsAGroupId() {
		this.contextRunner.withPropertyValues("ratelimit.kafka.backpressure.watch[0].topics=invoices")
			.run((context) -> assertThat(failure(context)).hasMessage(
					"ratelimit.kafka.backpressure.watch[0].group: a watched consumer group needs its group id"));
	}

	@Test
	void invalidListenerConfigurationIsReportedAtStartUp(CapturedOutput output) {
		SpringApplication application = new SpringApplication(App.class);
		application.setWebApplicationType(WebApplicationType.NONE);
		assertThatException().isThrownBy(() -> application
			.run("--spring.main.banner-mode=off", "--spring.kafka.listener.auto-startup=false",
					"--ratelimit.limiters.orders-drain.rate=200/1s",
					"--ratelimit.kafka.listeners.ordrs.limiter=orders-drain")
			.close());
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Property: ratelimit.kafka.listeners.ordrs")
			.contains("Reason: no Kafka listener container has the id 'ordrs'")
			.contains("the application has listener containers orders, payments.");
	}

	@Test
	void whenSpringKafkaIsNotOnTheClasspathThenNothingBreaks() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, RateLimitAutoConfiguration.class,
					RateLimitKafkaAutoConfiguration.class))
			.withClassLoader(new FilteredClassLoader("org.springframework.kafka"))
			.withPropertyValues("ratelimit.limiters.orders-drain.rate=200/1s",
					"ratelimit.kafka.listeners.orders.limiter=orders-drain")
			.run((context) -> {
				assertThat(context).hasNotFailed()
					.hasSingleBean(RateLimiterRegistry.class)
					.doesNotHaveBean(ConsumerLagMonitor.class)
					.doesNotHaveBean(KafkaListenerThrottling.class);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("orders-drain").tryAcquire()).isTrue();
			});
	}

	@Test
	void whenMicrometerIsNotOnTheClasspathThenThereAreNoLagGauges() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(MeterRegistry.class.getPackageName()))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(ConsumerLagMonitor.class)
				.hasSingleBean(KafkaListenerThrottling.class)
				.doesNotHaveBean(ConsumerLagMetrics.class));
	}

	@Test
	void whenMicrometerIsPresentThenLagIsPublished() {
		this.contextRunner.run((context) -> assertThat(context).hasSingleBean(ConsumerLagMetrics.class));
	}

	@Test
	void applicationBeansMakeTheirsBackOff() {
		this.contextRunner.withUserConfiguration(OwnBeans.class).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context).getBean(ConsumerLagMonitor.class).isSameAs(context.getBean("ownMonitor"));
			assertThat(context).getBean(KafkaListenerThrottling.class).isSameAs(context.getBean("ownThrottling"));
			assertThat(context).getBean(ConsumerLagMetrics.class).isSameAs(context.getBean("ownMetrics"));
			// the application's throttling applies no limits: the containers are as Boot built them
			assertThat(container(context, "orders").getCommonErrorHandler()).isNull();
		});
	}

	@Test
	void whenRateLimitingIsDisabledThenContainersAreUntouched() {
		this.contextRunner.withPropertyValues("ratelimit.enabled=false").run((context) -> {
			assertThat(context).hasNotFailed()
				.doesNotHaveBean(KafkaListenerThrottling.class)
				.doesNotHaveBean(ConsumerLagMonitor.class);
			assertThat(container(context, "orders").getRecordInterceptor()).isNull();
		});
	}

	private static AbstractMessageListenerContainer<?, ?> container(AssertableApplicationContext context, String id) {
		return (ConcurrentMessageListenerContainer<?, ?>) context.getBean(KafkaListenerEndpointRegistry.class)
			.getListenerContainer(id);
	}

	private static InvalidRateLimitConfigurationException failure(AssertableApplicationContext context) {
		assertThat(context).hasFailed();
		Throwable cause = context.getStartupFailure();
		while (cause != null && !(cause instanceof InvalidRateLimitConfigurationException)) {
			cause = cause.getCause();
		}
		assertThat(cause).as("cause of %s", context.getStartupFailure()).isNotNull();
		return (InvalidRateLimitConfigurationException) cause;
	}

	@Configuration(proxyBeanMethods = false)
	static class Listeners {

		@Bean
		OrderListeners orderListeners() {
			return new OrderListeners();
		}

	}

	static class OrderListeners {

		@KafkaListener(id = "orders", topics = "orders", groupId = "orders")
		void onOrder(String order) {
		}

		@KafkaListener(id = "payments", topics = "payments", groupId = "payments")
		void onPayment(String payment) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class SkippingInterceptor {

		@Bean
		RecordInterceptor<Object, Object> skipping() {
			return (record, consumer) -> "skip".equals(record.value()) ? null : record;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ClientIdCustomizer {

		@Bean
		ContainerCustomizer<Object, Object, ConcurrentMessageListenerContainer<Object, Object>> clientId() {
			return (container) -> container.getContainerProperties().setClientId("customized");
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OwnBeans {

		@Bean
		ConsumerLagMonitor ownMonitor() {
			return new ConsumerLagMonitor(List.of(), java.time.Duration.ofMinutes(1), null);
		}

		@Bean
		KafkaListenerThrottling ownThrottling(ConsumerLagMonitor monitor) {
			return new KafkaListenerThrottling(List::of, Map.of(), monitor, Scheduler.system());
		}

		@Bean
		ConsumerLagMetrics ownMetrics(ConsumerLagMonitor monitor) {
			return new ConsumerLagMetrics(monitor);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	@Import(Listeners.class)
	static class App {

	}

}
