package dev.ratelimit.sample;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;

/**
 * The sample app on a random port with its embedded broker on a free port, a partner that never
 * refuses, and a CPU signal that never warns (a busy test machine would slow the shipments), so
 * that the drain runs at the {@code drain} limiter's rate. Test classes with
 * this annotation share one application context (and broker) in a run.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@SpringBootTest(classes = SampleApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sample.embedded-kafka.port=0", "sample.partner.capacity=1000/1s",
				"sample.partner.brownout-every=0s", "ratelimit.kafka.session-timeout=6s",
				"ratelimit.limiters.shipments-out.adaptive.load.process-cpu.warning=1.0" })
@interface SampleAppTest {

}
