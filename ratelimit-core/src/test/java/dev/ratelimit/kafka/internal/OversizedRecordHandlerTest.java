package dev.ratelimit.kafka.internal;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A record the broker refuses as too large (a state or grant outgrown by hostile input) is dropped,
 * so the task goes on with its partition; any other failure fails the task as by default.
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
	void anyOtherFailureFailsTheTask() {
		assertThat(this.handler.handleError(null, this.record, new TimeoutException("no broker")).result())
			.isEqualTo(Result.FAIL);
	}

}
