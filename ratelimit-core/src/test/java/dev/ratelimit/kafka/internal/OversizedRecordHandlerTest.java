package dev.ratelimit.kafka.internal;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.DefaultProductionExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record the broker refuses as too large (a state or grant outgrown by hostile input) is dropped,
 * so the task goes on with its partition; any other failure is answered as by Kafka Streams' default
 * handler: a retriable one re-initialises the task, one that is not fails it.
 */
class OversizedRecordHandlerTest {

	private final OversizedRecordHandler handler = new OversizedRecordHandler();

	private final ProducerRecord<byte[], byte[]> record = new ProducerRecord<>("authority-buckets-changelog",
			new byte[] { 1 }, new byte[2_000_000]);

	@Test
	void aRecordTooLargeForTheBrokerIsDroppedAndTheTaskGoesOn() {
		assertThat(this.handler.handleError(null, this.record, new RecordTooLargeException("too large")).result())
			.isEqualTo(Result.RESUME);
	}

	@Test
	void aRetriableFailureIsRetriedAsByDefault() {
		for (Exception retriable : new Exception[] { new TimeoutException("no broker"),
				new NotLeaderOrFollowerException("not the leader yet") }) {
			assertThat(this.handler.handleError(null, this.record, retriable).result()).as(retriable.toString())
				.isEqualTo(Result.RETRY)
				.isEqualTo(new DefaultProductionExceptionHandler().handleError(null, this.record, retriable).result());
		}
	}

	@Test
	void anyOtherFailureFailsTheTask() {
		// an error Streams would not treat as fatal itself (an authorization error never reaches the handler)
		assertThat(this.handler.handleError(null, this.record, new InvalidRecordException("rejected")).result())
			.isEqualTo(Result.FAIL);
	}

}
