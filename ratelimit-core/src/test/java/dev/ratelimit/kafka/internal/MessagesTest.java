package dev.ratelimit.kafka.internal;

import org.junit.jupiter.api.Test;

import dev.ratelimit.kafka.internal.Messages.Request;
import dev.ratelimit.kafka.internal.Messages.Spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The wire format refuses what the API would refuse: a bad field is a malformed record, never state. */
class MessagesTest {

	private static final Spec SPEC = new Spec(100, 100, 1_000_000_000L);

	private static Request lease(String instance, double demand) {
		return new Request(Messages.LEASE, instance, 1, 1, 10, 0, demand, 500, 0, 0, 0, SPEC);
	}

	@Test
	void aRequestRoundTrips() {
		Request request = lease("instance-0", 12.5);
		assertThat(Request.decode(request.encode())).isEqualTo(request);
	}

	@Test
	void anInstanceIdLongerThanTheBoundOrEmptyIsMalformed() {
		assertThat(Request.decode(lease("i".repeat(Messages.MAX_INSTANCE_ID_LENGTH), 1).encode()).instance())
			.hasSize(Messages.MAX_INSTANCE_ID_LENGTH);
		byte[] tooLong = lease("i".repeat(Messages.MAX_INSTANCE_ID_LENGTH + 1), 1).encode();
		assertThatThrownBy(() -> Request.decode(tooLong)).isInstanceOf(MalformedRecordException.class)
			.hasMessageContaining("instance id of 256 characters");
		byte[] empty = lease("", 1).encode();
		assertThatThrownBy(() -> Request.decode(empty)).isInstanceOf(MalformedRecordException.class);
	}

	@Test
	void aDemandThatIsNotAFiniteNonNegativeNumberIsMalformed() {
		for (double demand : new double[] { Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1 }) {
			byte[] bytes = lease("instance-0", demand).encode();
			assertThatThrownBy(() -> Request.decode(bytes)).as("demand %s", demand)
				.isInstanceOf(MalformedRecordException.class);
		}
	}

	@Test
	void aSpecOutsideTheApisBoundsIsMalformed() {
		byte[] bytes = new Request(Messages.UPDATE, "instance-0", 1, 1, 0, 0, 0, 500, 0, 0, 0,
				new Spec(100, 1_000_000_000L, 1)).encode();
		assertThatThrownBy(() -> Request.decode(bytes)).isInstanceOf(MalformedRecordException.class);
	}

	@Test
	void aTruncatedOrTrailingRecordIsMalformed() {
		byte[] bytes = lease("instance-0", 1).encode();
		byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 3);
		byte[] trailing = java.util.Arrays.copyOf(bytes, bytes.length + 2);
		assertThatThrownBy(() -> Request.decode(truncated)).isInstanceOf(MalformedRecordException.class);
		assertThatThrownBy(() -> Request.decode(trailing)).isInstanceOf(MalformedRecordException.class)
			.hasMessageContaining("trailing");
	}

}
