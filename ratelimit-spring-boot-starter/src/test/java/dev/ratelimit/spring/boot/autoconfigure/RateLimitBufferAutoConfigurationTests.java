package dev.ratelimit.spring.boot.autoconfigure;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.StreamSupport;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskExecutionAutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.task.SimpleAsyncTaskExecutorCustomizer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.context.event.EventListener;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.task.TaskDecorator;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.util.unit.DataSize;

import dev.ratelimit.spring.config.InvalidRateLimitConfigurationException;
import dev.ratelimit.spring.kafka.producer.BufferBackpressureEvent;
import dev.ratelimit.spring.kafka.producer.BufferEvent;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSender;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenderMetrics;
import dev.ratelimit.spring.kafka.producer.BufferedKafkaSenders;
import dev.ratelimit.spring.kafka.producer.MockKafka;
import dev.ratelimit.spring.kafka.producer.RateLimitBufferProperties;
import dev.ratelimit.spring.kafka.producer.RecordSizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class RateLimitBufferAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class, RateLimitAutoConfiguration.class,
				RateLimitBufferAutoConfiguration.class));

	/** The same runner over a mock producer, for tests that send. */
	private final ApplicationContextRunner mockRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitBufferAutoConfiguration.class))
		.withUserConfiguration(MockKafkaConfiguration.class)
		.withPropertyValues("ratelimit.buffers.orders.topic=orders", "ratelimit.buffers.orders.max-age=1h");

	/** Loads a YAML file as application.yml would be, below any property values of a test. */
	static ApplicationContextInitializer<ConfigurableApplicationContext> yaml(String resource) {
		return (context) -> {
			try {
				new YamlPropertySourceLoader().load(resource, new ClassPathResource(resource))
					.forEach(context.getEnvironment().getPropertySources()::addLast);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		};
	}

	@Test
	void theDocumentedExampleBindsEveryPropertyAndDeclaresItsSender() {
		this.contextRunner.withInitializer(yaml("docs/kafka-buffered-producing.yml"))
			.withUserConfiguration(OrdersClient.class)
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(BufferedKafkaSenders.class);
				RateLimitBufferProperties.Buffer orders = context.getBean(RateLimitBufferProperties.class)
					.getBuffers()
					.get("orders");
				assertThat(orders.getTopic()).isEqualTo("orders");
				assertThat(orders.getTemplate()).isNull();
				assertThat(orders.getMaxItems()).isEqualTo(50_000);
				assertThat(orders.getMaxBytes()).isEqualTo(DataSize.ofMegabytes(64));
				assertThat(orders.getMaxBatchSize()).isEqualTo(500);
				assertThat(orders.getMaxAge()).isEqualTo(Duration.ofMillis(200));
				assertThat(orders.getLimiter()).isEqualTo("orders-out");
				assertThat(orders.getInitialBackoff()).isEqualTo(Duration.ofMillis(100));
				assertThat(orders.getMaxBackoff()).isEqualTo(Duration.ofSeconds(5));
				assertThat(orders.getBackoffMultiplier()).isEqualTo(2.0);
				assertThat(orders.getSendTimeout()).isEqualTo(Duration.ofSeconds(30));
				assertThat(orders.getCloseTimeout()).isEqualTo(Duration.ofSeconds(30));
				assertThat(orders.getLowWaterMark()).isEqualTo(0.5);

				BufferedKafkaSender<?, ?> sender = context.getBean("ordersBufferedKafkaSender",
						BufferedKafkaSender.class);
				assertThat(context.getBean(OrdersClient.class).orders).isSameAs(sender);
				assertThat(sender.name()).isEqualTo("orders");
				assertThat(sender.topic()).isEqualTo("orders");
				assertThat(sender.maxItems()).isEqualTo(50_000);
				assertThat(sender.maxBytes()).isEqualTo(DataSize.ofMegabytes(64).toBytes());
				assertThat(context.getBean(BufferedKafkaSenders.class).senders()).containsExactly(sender);
			});
	}

	@Test
	void theDocumentationShowsTheExampleAsTheTestsLoadIt() throws IOException {
		String example = new ClassPathResource("docs/kafka-buffered-producing.yml")
			.getContentAsString(StandardCharsets.UTF_8);
		// the tests run in the module's directory
		assertThat(Files.readString(Path.of("..", "docs", "kafka.md"), StandardCharsets.UTF_8))
			.contains("```yaml\n" + example + "```\n");
	}

	@Test
	void defaultsApplyToEveryUnsetProperty() {
		this.contextRunner.withPropertyValues("ratelimit.buffers.events.topic=events").run((context) -> {
			RateLimitBufferProperties.Buffer events = context.getBean(RateLimitBufferProperties.class)
				.getBuffers()
				.get("events");
			// unset properties stay unset: the builders hold the defaults, once
			assertThat(events.getMaxItems()).isNull();
			assertThat(events.getMaxBytes()).isNull();
			assertThat(events.getMaxBatchSize()).isNull();
			assertThat(events.getMaxAge()).isNull();
			assertThat(events.getLimiter()).isNull();
			assertThat(events.getInitialBackoff()).isNull();
			assertThat(events.getMaxBackoff()).isNull();
			assertThat(events.getBackoffMultiplier()).isNull();
			assertThat(events.getSendTimeout()).isNull();
			assertThat(events.getCloseTimeout()).isNull();
			assertThat(events.getLowWaterMark()).isNull();
			assertThat(sender(context).maxItems()).isEqualTo(10_000);
			assertThat(sender(context).maxBytes()).isEqualTo(DataSize.ofMegabytes(32).toBytes());
			// sized with the serializers Boot configured for the template
			BufferedKafkaSender<String, String> sender = sender(context);
			sender.offer("events", "key", "value");
			assertThat(sender.bytes()).isEqualTo(8);
			sender.close(Duration.ZERO);
		});
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', textBlock = """
			max-items=0                | max-items          | maxItems must be positive, but was 0
			max-bytes=0B               | max-bytes          | maxBytes must be positive, but was 0
			max-batch-size=0           | max-batch-size     | maxBatchSize must be positive, but was 0
			max-batch-size=10001       | max-batch-size     | must be at most maxItems (10000)
			max-batch-size=600         | max-batch-size     | exceeds the capacity (500) of limiter 'orders-out'
			max-age=-1s                | max-age            | maxAge must be zero or a positive duration
			initial-backoff=0s         | initial-backoff    | initialBackoff must be a positive duration
			max-backoff=50ms           | max-backoff        | must be at least initialBackoff (PT0.1S)
			backoff-multiplier=0.5     | backoff-multiplier | a finite number of at least 1.0
			send-timeout=0s            | send-timeout       | sendTimeout must be a positive duration
			close-timeout=-1s          | close-timeout      | closeTimeout must be zero or a positive duration
			low-water-mark=0           | low-water-mark     | greater than 0 and at most 1
			low-water-mark=1.5         | low-water-mark     | greater than 0 and at most 1
			max-records=10             | max-records        | this property was renamed max-items
			max-batch=10               | max-batch          | this property was renamed max-batch-size
			topic=                     | topic              | a topic name cannot be blank
			limiter=missing            | limiter            | no limiter named 'missing' is declared
			template=nope              | template           | there is no bean named 'nope'
			template=rateLimiterRegistry | template         | bean 'rateLimiterRegistry' is not a KafkaTemplate
			""")
	void everyBadValueStopsStartUpNamingTheProperty(String assignment, String property, String reason) {
		this.contextRunner.withPropertyValues("ratelimit.limiters.orders-out.rate=500/1s",
				"ratelimit.buffers.orders.limiter=orders-out", "ratelimit.buffers.orders." + assignment)
			.run((context) -> {
				InvalidRateLimitConfigurationException failure = invalid(context);
				assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders." + property);
				assertThat(failure.getReason()).contains(reason);
				assertThat(failure.getAction()).isNotBlank();
			});
	}

	@Test
	void theFailureAnalysisNamesThePropertyValueReasonAndFix() {
		this.contextRunner.withPropertyValues("ratelimit.buffers.orders.max-items=0").run((context) -> {
			FailureAnalysis analysis = new InvalidRateLimitConfigurationFailureAnalyzer()
				.analyze(context.getStartupFailure());
			assertThat(analysis.getDescription()).contains("Property: ratelimit.buffers.orders.max-items")
				.contains("Value: \"0\"")
				.contains("it is the most items the buffer holds");
			assertThat(analysis.getAction())
				.isEqualTo("Set ratelimit.buffers.orders.max-items within that range, or remove it to use the default.");
		});
	}

	@Test
	void aRenamedPropertyStopsStartUpNamingItsNewName() {
		this.contextRunner
			.withPropertyValues("ratelimit.buffers.orders.topic=orders", "ratelimit.buffers.orders.maxRecords=10")
			.run((context) -> {
				InvalidRateLimitConfigurationException failure = invalid(context);
				// found under its documented name, whichever form was set
				assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders.max-records");
				assertThat(failure.getAction()).isEqualTo("Rename it to ratelimit.buffers.orders.max-items.");
			});
	}

	@Test
	void aBufferGivenOnlyARenamedPropertyStopsStartUpToo() {
		this.contextRunner.withPropertyValues("ratelimit.buffers.orders.max-records=10").run((context) -> {
			InvalidRateLimitConfigurationException failure = invalid(context);
			assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders.max-records");
			assertThat(failure.getAction()).isEqualTo("Rename it to ratelimit.buffers.orders.max-items.");
		});
		this.contextRunner.withPropertyValues("ratelimit.buffers.orders.max-itmes=10").run((context) -> {
			InvalidRateLimitConfigurationException failure = invalid(context);
			assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders");
			assertThat(failure.getMessage()).contains("none of the properties given for buffer 'orders'");
		});
	}

	@Test
	void withoutATemplateTheSenderCannotBeCreated() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitBufferAutoConfiguration.class))
			.withPropertyValues("ratelimit.buffers.orders.topic=orders")
			.run((context) -> {
				InvalidRateLimitConfigurationException failure = invalid(context);
				assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders.template");
				assertThat(failure.getReason()).isEqualTo("there is no KafkaTemplate bean to send with");
			});
	}

	@Test
	void withSeveralTemplatesAndNoPrimaryOneMustBeNamed() {
		this.mockRunner.withUserConfiguration(SecondTemplateConfiguration.class).run((context) -> {
			InvalidRateLimitConfigurationException failure = invalid(context);
			assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders.template");
			assertThat(failure.getReason()).contains("several KafkaTemplate beans").contains("none is primary");
		});
		this.mockRunner.withUserConfiguration(SecondTemplateConfiguration.class)
			.withPropertyValues("ratelimit.buffers.orders.template=secondTemplate",
					"ratelimit.buffers.orders.max-bytes=1MB")
			.withBean(RecordSizer.class, () -> (record) -> 1)
			.run((context) -> {
				BufferedKafkaSender<String, String> sender = sender(context);
				sender.offerDefault("k", "v");
				sender.flush().join();
				assertThat(context.getBean("second", MockKafka.class).sentValues()).containsExactly("v");
				assertThat(context.getBean("mockKafka", MockKafka.class).sentValues()).isEmpty();
			});
		this.mockRunner.withUserConfiguration(PrimaryTemplateConfiguration.class)
			.withBean(RecordSizer.class, RecordSizer::none)
			.run((context) -> assertThat(context).hasNotFailed().hasSingleBean(BufferedKafkaSender.class));
	}

	@Test
	void withoutSerializersToSizeWithARecordSizerBeanIsNeeded() {
		this.mockRunner.run((context) -> {
			InvalidRateLimitConfigurationException failure = invalid(context);
			assertThat(failure.getProperty()).isEqualTo("ratelimit.buffers.orders.max-bytes");
			assertThat(failure.getReason()).contains("has no key.serializer");
		});
		this.mockRunner.withBean(RecordSizer.class, () -> (record) -> 7).run((context) -> {
			BufferedKafkaSender<String, String> sender = sender(context);
			sender.offerDefault("k", "v");
			assertThat(sender.bytes()).isEqualTo(7);
		});
	}

	@Test
	void closingTheContextSendsWhatIsBuffered() {
		MockKafka[] kafka = new MockKafka[1];
		this.mockRunner.withBean(RecordSizer.class, RecordSizer::none).run((context) -> {
			kafka[0] = context.getBean(MockKafka.class);
			BufferedKafkaSender<String, String> sender = sender(context);
			for (int i = 0; i < 5; i++) {
				sender.offerDefault("k", "v" + i);
			}
			assertThat(kafka[0].sentValues()).isEmpty();
		});
		assertThat(kafka[0].sentValues()).containsExactly("v0", "v1", "v2", "v3", "v4");
	}

	@Test
	void backpressureIsPublishedAsAnApplicationEvent() {
		new ApplicationContextRunner()
			.withConfiguration(
					AutoConfigurations.of(RateLimitAutoConfiguration.class, RateLimitBufferAutoConfiguration.class))
			.withBean(RecordSizer.class, RecordSizer::none)
			.withBean(KafkaTemplate.class, () -> new MockKafka(false).template)
			.withPropertyValues("ratelimit.buffers.orders.topic=orders", "ratelimit.buffers.orders.max-items=2",
					"ratelimit.buffers.orders.close-timeout=0s")
			.withUserConfiguration(EventsConfiguration.class)
			.run((context) -> {
				BufferedKafkaSender<String, String> sender = sender(context);
				sender.offerDefault("k", "v0");
				sender.offerDefault("k", "v1");
				assertThat(sender.offerDefault("k", "v2")).isFalse();
				List<BufferEvent> events = context.getBean(EventsConfiguration.class).events;
				await().until(() -> !events.isEmpty());
				assertThat(events.get(0)).isInstanceOf(BufferBackpressureEvent.class);
				assertThat(events.get(0).getBufferName()).isEqualTo("orders");
				assertThat(events.get(0).getUtilization()).isEqualTo(1.0);
			});
	}

	@Test
	void flushesAndEventsRunOnThreadsMadeByBootsTaskExecutionWithoutItsDecorator() {
		List<String> built = new CopyOnWriteArrayList<>();
		List<String> decorated = new CopyOnWriteArrayList<>();
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(TaskExecutionAutoConfiguration.class,
					RateLimitAutoConfiguration.class, RateLimitBufferAutoConfiguration.class))
			.withBean(RecordSizer.class, RecordSizer::none)
			.withBean(KafkaTemplate.class, () -> new MockKafka(false).template)
			.withBean(SimpleAsyncTaskExecutorCustomizer.class,
					() -> (executor) -> built.add(executor.getThreadNamePrefix()))
			.withBean(TaskDecorator.class, () -> (task) -> () -> {
				decorated.add(Thread.currentThread().getName());
				task.run();
			})
			.withPropertyValues("ratelimit.buffers.orders.topic=orders", "ratelimit.buffers.orders.max-items=2",
					"ratelimit.buffers.orders.max-age=0s", "ratelimit.buffers.orders.close-timeout=0s",
					"spring.task.execution.simple.concurrency-limit=1")
			.withUserConfiguration(EventsConfiguration.class)
			.run((context) -> {
				BufferedKafkaSender<String, String> sender = sender(context);
				sender.offerDefault("k", "v0");
				sender.offerDefault("k", "v1");
				assertThat(sender.offerDefault("k", "v2")).isFalse(); // unacknowledged: still full
				EventsConfiguration events = context.getBean(EventsConfiguration.class);
				await().until(() -> !events.events.isEmpty());
				// built by Boot's builder (the application's customizers ran), on their own threads
				assertThat(built).contains("ratelimit-buffer-orders-", "ratelimit-buffer-events-");
				assertThat(events.threads).allMatch((name) -> name.startsWith("ratelimit-buffer-events-"));
				// a flush or a run of events serves many callers: no caller's decorator around it
				assertThat(decorated).noneMatch((name) -> name.startsWith("ratelimit-buffer-"));
			});
	}

	@Test
	void sendersHaveMetersWhenThereIsAMeterRegistry() {
		this.mockRunner.withBean(RecordSizer.class, RecordSizer::none)
			.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
					SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
			.run((context) -> {
				BufferedKafkaSender<String, String> sender = sender(context);
				sender.offerDefault("k", "v");
				MeterRegistry meters = context.getBean(MeterRegistry.class);
				assertThat(meters.get("ratelimit.buffer.size").tag("name", "orders").gauge().value()).isOne();
				assertThat(meters.get("ratelimit.buffer.utilization").tag("name", "orders").gauge().value())
					.isEqualTo(1.0 / 10_000);
				assertThat(meters.get("ratelimit.buffer.offers")
					.tags("name", "orders", "result", "accepted")
					.functionCounter()
					.count()).isOne();
			});
	}

	@Test
	void whenMicrometerIsNotOnTheClasspathThenThereIsNoMeterBinder() {
		this.mockRunner.withBean(RecordSizer.class, RecordSizer::none)
			.withClassLoader(new FilteredClassLoader(MeterBinder.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(BufferedKafkaSender.class)
				.doesNotHaveBean(BufferedKafkaSenderMetrics.class));
	}

	@Test
	void whenKafkaIsNotOnTheClasspathThenNothingIsDeclared() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(KafkaTemplate.class))
			.withPropertyValues("ratelimit.buffers.orders.topic=orders")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(BufferedKafkaSenders.class)
				.doesNotHaveBean(BufferedKafkaSender.class)
				.doesNotHaveBean(RateLimitBufferProperties.class));
	}

	@Test
	void whenRateLimitingIsDisabledThenNothingIsDeclared() {
		this.contextRunner.withPropertyValues("ratelimit.enabled=false", "ratelimit.buffers.orders.topic=orders")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(BufferedKafkaSenders.class)
				.doesNotHaveBean(BufferedKafkaSender.class));
	}

	@Test
	void userBeansBackOff() {
		this.mockRunner.withBean(RecordSizer.class, RecordSizer::none)
			.withUserConfiguration(UserBeansConfiguration.class)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(BufferedKafkaSenders.class)).isSameAs(UserBeansConfiguration.SENDERS);
				assertThat(context.getBean(BufferedKafkaSenderMetrics.class)).isSameAs(UserBeansConfiguration.METRICS);
				// a bean of the sender's name wins over the property-declared one
				assertThat(context.getBean("ordersBufferedKafkaSender")).isEqualTo("the user's");
			});
	}

	@Test
	void theAutoConfigurationIsImported() {
		List<String> imports = StreamSupport
			.stream(ImportCandidates.load(AutoConfiguration.class, getClass().getClassLoader()).spliterator(), false)
			.toList();
		assertThat(imports).contains(RateLimitBufferAutoConfiguration.class.getName());
	}

	@SuppressWarnings("unchecked")
	private static BufferedKafkaSender<String, String> sender(ConfigurableApplicationContext context) {
		return context.getBean(BufferedKafkaSender.class);
	}

	private static InvalidRateLimitConfigurationException invalid(
			org.springframework.boot.test.context.assertj.AssertableApplicationContext context) {
		assertThat(context).hasFailed();
		Throwable cause = context.getStartupFailure();
		while (cause != null && !(cause instanceof InvalidRateLimitConfigurationException)) {
			cause = cause.getCause();
		}
		assertThat(cause).as("an InvalidRateLimitConfigurationException in %s", context.getStartupFailure())
			.isNotNull();
		return (InvalidRateLimitConfigurationException) cause;
	}

	@Configuration(proxyBeanMethods = false)
	static class MockKafkaConfiguration {

		@Bean
		MockKafka mockKafka() {
			return new MockKafka(true);
		}

		@Bean
		KafkaTemplate<String, String> kafkaTemplate(MockKafka mockKafka) {
			return mockKafka.template;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class SecondTemplateConfiguration {

		@Bean
		MockKafka second() {
			return new MockKafka(true);
		}

		@Bean
		KafkaTemplate<String, String> secondTemplate(@Qualifier("second") MockKafka second) {
			return second.template;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OrdersClient {

		BufferedKafkaSender<String, String> orders;

		@Bean
		String ordersClient(@Qualifier("orders") BufferedKafkaSender<String, String> orders) {
			this.orders = orders;
			return "client";
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class EventsConfiguration {

		final List<BufferEvent> events = new CopyOnWriteArrayList<>();

		final List<String> threads = new CopyOnWriteArrayList<>();

		@EventListener
		void on(BufferEvent event) {
			this.threads.add(Thread.currentThread().getName());
			this.events.add(event);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserBeansConfiguration {

		static final BufferedKafkaSenders SENDERS = new BufferedKafkaSenders();

		static final BufferedKafkaSenderMetrics METRICS = new BufferedKafkaSenderMetrics(SENDERS);

		@Bean
		BufferedKafkaSenders mySenders() {
			return SENDERS;
		}

		@Bean
		BufferedKafkaSenderMetrics myMetrics() {
			return METRICS;
		}

		@Bean
		String ordersBufferedKafkaSender() {
			return "the user's";
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class PrimaryTemplateConfiguration {

		@Bean
		@Primary
		KafkaTemplate<String, String> primaryTemplate() {
			return new MockKafka(true).template;
		}

	}

}
