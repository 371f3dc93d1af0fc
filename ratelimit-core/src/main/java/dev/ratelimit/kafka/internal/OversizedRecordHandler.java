package dev.ratelimit.kafka.internal;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;

/**
 * The authority's production exception handler: a record the broker refuses as too large (a
 * bucket state or a grant outgrown by hostile input) is dropped and logged, so it cannot fail the
 * task and stop every key of its partition, replayed forever. The state stays in the task's store;
 * its changelog keeps the previous version for that key.
 *
 * <p>Any other failure is answered as Kafka Streams' default handler answers it: a retriable one
 * (a broker that is not the leader yet or any more, a delivery timeout) re-initialises the task
 * where it runs, and the stream thread goes on; one that is not fails the thread, which the
 * authority replaces. Failing on a retriable one would replace the thread for a passing broker
 * fault, and the new thread's consumer would rebalance the whole authority group.
 */
public final class OversizedRecordHandler implements ProductionExceptionHandler {

	private static final System.Logger logger = System.getLogger(OversizedRecordHandler.class.getName());

	private static final AtomicBoolean LOGGED = new AtomicBoolean();

	@Override
	public void configure(Map<String, ?> configs) {
	}

	@Override
	public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
		if (exception instanceof RecordTooLargeException) {
			if (LOGGED.compareAndSet(false, true)) {
				logger.log(System.Logger.Level.WARNING, "Dropping a record to {0} the broker refused as too large "
						+ "(further ones are dropped silently): {1}", record.topic(), exception.getMessage());
			}
			return Response.resume();
		}
		return (exception instanceof RetriableException) ? Response.retry() : Response.fail();
	}

}
