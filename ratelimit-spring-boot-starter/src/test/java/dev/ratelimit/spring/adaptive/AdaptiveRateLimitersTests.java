package dev.ratelimit.spring.adaptive;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.TaskDecorator;

import dev.ratelimit.Rate;
import dev.ratelimit.RateLimiterRegistry;
import dev.ratelimit.adaptive.ChangeReason;
import dev.ratelimit.spring.annotation.RateLimited;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAdaptiveAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitAutoConfiguration;
import dev.ratelimit.spring.boot.autoconfigure.RateLimitedAnnotationAutoConfiguration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

class AdaptiveRateLimitersTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(RateLimitAutoConfiguration.class,
				RateLimitedAnnotationAutoConfiguration.class, RateLimitAdaptiveAutoConfiguration.class))
		.withUserConfiguration(ClientConfiguration.class)
		.withPropertyValues("ratelimit.limiters.partner.rate=100/1s",
				"ratelimit.limiters.partner.adaptive.enabled=true",
				"ratelimit.limiters.partner.adaptive.recovery-interval=300ms",
				"ratelimit.limiters.partner.adaptive.recovery-step=0.25",
				"ratelimit.limiters.partner.adaptive.reduce-on[0]=" + TooManyRequests.class.getName(),
				"ratelimit.limiters.plain.rate=10/1s");

	@Test
	void aListedExceptionHalvesTheRateWhichRecoversStepByStep() {
		this.contextRunner.run((context) -> {
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			Client client = context.getBean(Client.class);
			Events events = context.getBean(Events.class);
			assertThatExceptionOfType(TooManyRequests.class).isThrownBy(client::call);
			assertThat(registry.limiter("partner").limit().rate().perSecond()).isEqualTo(50.0);
			assertThat(events.received).first().satisfies((event) -> {
				assertThat(event.getLimiterName()).isEqualTo("partner");
				assertThat(event.getReason()).isEqualTo(ChangeReason.DECREASE_SIGNAL);
				assertThat(event.getCurrent()).isEqualTo(Rate.perSecond(50));
			});
			// 50 -> 75 -> 100 at one step per recovery interval, driven by the controllers' scheduler
			await().atMost(Duration.ofSeconds(20))
				.until(() -> registry.limiter("partner").limit().rate().perSecond() == 100.0);
			assertThat(events.received).extracting(RateLimitAdjustedEvent::getReason)
				.containsExactly(ChangeReason.DECREASE_SIGNAL, ChangeReason.RECOVERY, ChangeReason.RECOVERY);
		});
	}

	@Test
	void recoveryStepsRunOnASchedulerBuiltLikeTheApplicationsWithItsTaskDecorator() {
		List<String> decorated = new CopyOnWriteArrayList<>();
		this.contextRunner.withConfiguration(AutoConfigurations.of(TaskSchedulingAutoConfiguration.class))
			.withBean(TaskDecorator.class, () -> (runnable) -> () -> {
				decorated.add(Thread.currentThread().getName());
				runnable.run();
			})
			.run((context) -> {
				RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
				assertThatExceptionOfType(TooManyRequests.class).isThrownBy(context.getBean(Client.class)::call);
				await().atMost(Duration.ofSeconds(20))
					.until(() -> registry.limiter("partner").limit().rate().perSecond() == 100.0);
				assertThat(decorated).isNotEmpty()
					.allSatisfy((thread) -> assertThat(thread).startsWith("ratelimit-adaptive-"));
			});
	}

	@Test
	void otherFailuresAndOtherLimitersChangeNothing() {
		this.contextRunner.run((context) -> {
			RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
			Client client = context.getBean(Client.class);
			assertThatExceptionOfType(IllegalStateException.class).isThrownBy(client::broken);
			assertThat(registry.limiter("partner").limit().rate().perSecond()).isEqualTo(100.0);
			AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
			assertThat(adaptive.reduce("plain", "manual")).isFalse();
			assertThat(adaptive.states()).containsOnlyKeys("partner");
		});
	}

	@Test
	void reduceByName() {
		this.contextRunner.run((context) -> {
			AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
			assertThat(adaptive.reduce("partner", "manual")).isTrue();
			assertThat(adaptive.states().get("partner").rate().perSecond()).isEqualTo(50.0);
		});
	}

	@Test
	void lagFromItsSourceSetsTheSeverity() {
		this.contextRunner.withPropertyValues("ratelimit.limiters.partner.adaptive.lag-source=billing")
			.run((context) -> {
				AdaptiveRateLimiters adaptive = context.getBean(AdaptiveRateLimiters.class);
				adaptive.onLag("other-group", 50_000);
				assertThat(adaptive.states().get("partner").rate().perSecond()).isEqualTo(100.0);
				adaptive.onLag("billing", 12_000);
				assertThat(adaptive.states().get("partner").rate().perSecond()).isEqualTo(10.0);
				assertThat(context.getBean(RateLimiterRegistry.class).limiter("partner").limit().rate().perSecond())
					.isEqualTo(10.0);
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class ClientConfiguration {

		@Bean
		Client client() {
			return new Client();
		}

		@Bean
		Events events() {
			return new Events();
		}

	}

	static class Client {

		@RateLimited("partner")
		public void call() {
			throw new TooManyRequests();
		}

		@RateLimited("partner")
		public void broken() {
			throw new IllegalStateException("not a back-off signal");
		}

	}

	static class TooManyRequests extends RuntimeException {

		private static final long serialVersionUID = 1L;

	}

	static class Events implements ApplicationListener<RateLimitAdjustedEvent> {

		final List<RateLimitAdjustedEvent> received = new CopyOnWriteArrayList<>();

		@Override
		public void onApplicationEvent(RateLimitAdjustedEvent event) {
			this.received.add(event);
		}

	}

}
