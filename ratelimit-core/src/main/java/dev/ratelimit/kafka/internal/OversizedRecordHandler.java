package dev.ratelimit.kafka.internal;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

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
 * where it runs, its state restored from the changelog, and the stream thread goes on (under
 * exactly-once Streams also asks for a rebalance, in which no member leaves); one that is not
 * fails the thread, which the authority replaces. Failing on a retriable one replaced the thread
 * for a passing broker fault, and the new thread's consumer rebalanced the whole authority group.
 * A retriable failure is logged (the first, then at most one a minute), since it never reaches
 * the authority's uncaught-exception handler: a fault that lasts (too few in-sync replicas, a
 * deleted topic) would otherwise re-initialise the task every delivery timeout unseen.
 */
public final class OversizedRecordHandler implements ProductionExceptionHandler {

	private static final System.Logger logger = System.getLogger(OversizedRecordHandler.class.getName());

	private static final AtomicBoolean LOGGED = new AtomicBoolean();

	/** How often a retriable failure is logged at most. */
	static final long RETRY_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

	/** When a retriable failure was last logged ({@link System#nanoTime()}), or 0 for never. */
	private static final AtomicLong retryLogged = new AtomicLong();

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
		if (!(exception instanceof RetriableException)) {
			return Response.fail();
		}
		long now = System.nanoTime() | 1; // never 0, which means never logged
		long last = retryLogged.get();
		if ((last == 0 || now - last >= RETRY_LOG_INTERVAL_NANOS) && retryLogged.compareAndSet(last, now)) {
			logger.log(System.Logger.Level.WARNING, "Rate limit authority could not write to {0} ({1}); Kafka Streams "
					+ "re-initialises the task and tries again (logged at most once a minute)", record.topic(),
					exception.toString());
		}
		return Response.retry();
	}

}
