package dev.ratelimit.sample.broker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.Map;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.support.DefaultSingletonBeanRegistry;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * Starts a real single-node KRaft broker in this process before the application context is
 * refreshed, unless {@code spring.kafka.bootstrap-servers} is set (then the application uses that
 * cluster) or {@code sample.embedded-kafka.enabled=false}. The broker listens on
 * {@code sample.embedded-kafka.port} (9092 unless set; 0 picks a free port), becomes
 * {@code spring.kafka.bootstrap-servers}, and stops after every other bean when the context
 * closes. Its data lives in a temporary directory and is gone with the process.
 *
 * <p>Registered in {@code META-INF/spring.factories}, so it runs for {@code SpringApplication.run}
 * and for {@code @SpringBootTest} alike.
 */
public class EmbeddedKafkaInitializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

	/** Name of the broker's singleton bean, and of the property source that points at it. */
	public static final String BEAN_NAME = "sampleEmbeddedKafkaBroker";

	private static final String LISTENER = "CLIENTS";

	private static final String BOOTSTRAP_SERVERS = "spring.kafka.bootstrap-servers";

	private static final Log logger = LogFactory.getLog(EmbeddedKafkaInitializer.class);

	/** Set by Spring Boot while it processes the application ahead of time (process-aot). */
	private static final String AOT_PROCESSING = "spring.aot.processing";

	@Override
	public void initialize(ConfigurableApplicationContext context) {
		ConfigurableEnvironment environment = context.getEnvironment();
		if (!environment.getProperty("sample.embedded-kafka.enabled", Boolean.class, true)
				|| environment.containsProperty(BOOTSTRAP_SERVERS) || Boolean.getBoolean(AOT_PROCESSING)) {
			// no broker while the build processes the application ahead of time: nothing connects
			return;
		}
		int port = environment.getProperty("sample.embedded-kafka.port", Integer.class, 9092);
		if (port != 0 && !isFree(port)) {
			throw new IllegalStateException("Port " + port + " is taken, perhaps by another instance of the sample "
					+ "running its embedded broker. Join that broker with --spring.kafka.bootstrap-servers=localhost:"
					+ port + ", or start a broker of your own on another port with --sample.embedded-kafka.port.");
		}
		long started = System.nanoTime();
		Map<String, String> properties = new HashMap<>(Map.of(
				// a single broker cannot hold the defaults of three replicas
				"transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
				"offsets.topic.replication.factor", "1",
				// consumers of a fresh group start at once rather than after three seconds
				"group.initial.rebalance.delay.ms", "0"));
		if (port != 0) {
			// The test kit binds its own listeners (EXTERNAL for clients, CONTROLLER) to free ports and
			// ignores kafkaPorts, so clients get a third listener on the fixed port.
			properties.put("listeners", "EXTERNAL://localhost:0,CONTROLLER://localhost:0," + LISTENER
					+ "://localhost:" + port);
			properties.put("listener.security.protocol.map",
					"EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + LISTENER + ":PLAINTEXT");
		}
		EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1);
		broker.brokerProperties(properties);
		broker.afterPropertiesSet();
		String bootstrap = (port != 0) ? "localhost:" + port : broker.getBrokersAsString();
		logger.info("Started an embedded Kafka broker at " + bootstrap + " in "
				+ (System.nanoTime() - started) / 1_000_000 + " ms; a second instance joins it with --"
				+ BOOTSTRAP_SERVERS + "=" + bootstrap);
		environment.getPropertySources()
			.addFirst(new MapPropertySource(BEAN_NAME, Map.of(BOOTSTRAP_SERVERS, bootstrap)));
		// registered before any other bean, so destroyed after all of them: the consumers,
		// producers and the rate limit backend are closed while the broker still answers
		context.getBeanFactory().registerSingleton(BEAN_NAME, broker);
		((DefaultSingletonBeanRegistry) context.getBeanFactory()).registerDisposableBean(BEAN_NAME, broker::destroy);
	}

	private static boolean isFree(int port) {
		try (ServerSocket socket = new ServerSocket()) {
			socket.setReuseAddress(true);
			socket.bind(new InetSocketAddress(port));
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

}
