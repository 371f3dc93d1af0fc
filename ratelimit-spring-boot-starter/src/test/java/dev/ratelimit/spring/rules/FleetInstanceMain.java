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
 * security on this classpath: the author is {@code anonymous}), and two limiters: {@code orders},
 * and {@code tiered}, divided among the priority classes critical and batch. Arguments are Spring
 * Boot properties ({@code --name=value}). On standard output: {@code READY <port> <orders> <tiered>}
 * once it serves, and {@code RULE <version> <appliedAtMillis> <limit>} for each rule it applies,
 * each limit as {@code rate,capacity} (with {@code ,shares} for tiered).
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
				"management.endpoint.ratelimits.access", "unrestricted", "ratelimit.limiters.tiered.rate", "100/1s",
				"ratelimit.limiters.tiered.priority.classes", "critical,batch"));
		ConfigurableApplicationContext context = application.run(args);
		int port = ((WebServerApplicationContext) context).getWebServer().getPort();
		RateLimiterRegistry registry = context.getBean(RateLimiterRegistry.class);
		out.println("READY " + port + " " + limit(registry, "orders") + " " + limit(registry, "tiered"));
	}

	private static String limit(RateLimiterRegistry registry, String name) {
		if (registry.hasPriorities(name)) {
			dev.ratelimit.PriorityRateLimiter divided = registry.priorities(name);
			java.util.Map<String, Double> shares = new java.util.LinkedHashMap<>();
			for (String priorityClass : divided.priorities().classes()) {
				double share = divided.priorities().minimumShare(priorityClass);
				if (share > 0) {
					shares.put(priorityClass, share);
				}
			}
			return divided.limit().rate() + "," + divided.limit().capacity() + ","
					+ dev.ratelimit.rules.LimitRule.describeShares(shares);
		}
		RateLimit limit = registry.limiter(name).limit();
		return limit.rate() + "," + limit.capacity();
	}

	@Bean
	ApplicationListener<RateLimitRuleEvent> printRules(RateLimiterRegistry registry) {
		return (event) -> out.println("RULE " + event.getRule().version() + " " + System.currentTimeMillis() + " "
				+ ((event.getLimit() != null) ? limit(registry, event.getRule().limiter()) : "REFUSED"));
	}

}
