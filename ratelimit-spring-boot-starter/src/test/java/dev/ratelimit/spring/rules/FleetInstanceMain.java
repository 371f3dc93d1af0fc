package dev.ratelimit.spring.rules;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.ratelimit.RateLimit;
import dev.ratelimit.RateLimiterRegistry;

/**
 * One instance of an application in its own JVM, for the test of rules across processes: a web
 * application with the starter, runtime rules on, the actuator's ratelimits endpoint writable (no
 * security on this classpath: the author is {@code anonymous}), and one limiter, {@code orders}. Arguments are Spring Boot
 * properties ({@code --name=value}). On standard output: {@code READY <port> <limit>} once it
 * serves, and {@code RULE <version> <appliedAtMillis> <limit>} for each rule it applies.
 */
@Configuration(proxyBeanMethods = false)
@EnableAutoConfiguration
public class FleetInstanceMain {

	private static final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
			StandardCharsets.UTF_8);

	public static void main(String[] args) {
		SpringApplication application = new SpringApplication(FleetInstanceMain.class);
		application.setDefaultProperties(java.util.Map.of("server.port", "0", "spring.main.banner-mode", "off",
				"ratelimit.rules.enabled", "true", "management.endpoints.web.exposure.include", "ratelimits",
				"management.endpoint.ratelimits.access", "unrestricted"));
		ConfigurableApplicationContext context = application.run(args);
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		out.println("READY " + port + " " + limit(context.getBean(RateLimiterRegistry.class)));
	}

	private static String limit(RateLimiterRegistry registry) {
		RateLimit limit = registry.limiter("orders").limit();
		return limit.rate() + "," + limit.capacity();
	}

	@Bean
	ApplicationListener<RateLimitRuleEvent> printRules(RateLimiterRegistry registry) {
		return (event) -> out.println("RULE " + event.getRule().version() + " " + System.currentTimeMillis() + " "
				+ ((event.getLimit() != null) ? limit(registry) : "REFUSED"));
	}

}
