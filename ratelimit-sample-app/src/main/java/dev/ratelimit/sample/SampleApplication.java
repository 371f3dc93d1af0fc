package dev.ratelimit.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * The sample service: takes orders over HTTP, forwards them to Kafka and drains them at a
 * controlled rate, with per-tenant and global limits shared by every instance through Kafka.
 * Without {@code spring.kafka.bootstrap-servers} it starts a Kafka broker of its own
 * ({@link dev.ratelimit.sample.broker.EmbeddedKafkaInitializer}).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
