package dev.ratelimit.sample;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.ratelimit.Rate;

/**
 * Settings of the sample, under {@code sample}. The embedded broker's settings
 * ({@code sample.embedded-kafka.*}) are read before binding, by
 * {@link dev.ratelimit.sample.broker.EmbeddedKafkaInitializer}.
 *
 * @param partner the fake partner API whose 429s lower the {@code partner} limiter's rate
 * @param downstream the simulated downstream consumer of {@code shipments}
 */
@ConfigurationProperties("sample")
public record SampleProperties(@DefaultValue Partner partner, @DefaultValue Downstream downstream) {

	/**
	 * The fake partner API: a hidden limit that the sample does not know and learns from 429s.
	 *
	 * @param capacity calls per period the partner accepts normally
	 * @param brownoutCapacity calls per period it accepts during a brownout
	 * @param brownoutEvery time from the start of one brownout to the next; zero for none except
	 * those started with {@code POST /partner/brownout}
	 * @param brownoutLength how long a brownout lasts
	 */
	public record Partner(@DefaultValue("8/1s") Rate capacity, @DefaultValue("2/1s") Rate brownoutCapacity,
			@DefaultValue("60s") Duration brownoutEvery, @DefaultValue("15s") Duration brownoutLength) {

	}

	/**
	 * The simulated downstream consumer group {@code warehouse}, which reads {@code shipments}.
	 *
	 * @param fast its rate after {@code POST /downstream/fast} (and at start)
	 * @param slow its rate after {@code POST /downstream/slow}
	 */
	public record Downstream(@DefaultValue("50/1s") Rate fast, @DefaultValue("1/1s") Rate slow) {

	}


}
