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
	void aRequestOfADividedLimitCarriesEachClasssDemandAndMinimumAndOlderRequestsHaveNone() {
		Request plain = lease("instance-0", 12.5);
		Request divided = new Request(Messages.LEASE, "instance-0", 1, 1, 10, 0, 12.5, 500, 0, 0, 0, SPEC,
				new Messages.Classes(new double[] { 2.5, 10 }, new double[] { 0, 0.05 }));

		assertThat(Request.decode(divided.encode())).isEqualTo(divided);
		assertThat(Request.decode(plain.encode()).classes()).isNull();
		assertThat(divided.encode()).startsWith(plain.encode()).hasSize(plain.encode().length + 1 + 2 * 16);
		assertThat(divided.withSpentOver(5).classes()).isEqualTo(divided.classes());
	}

	@Test
	void classesThatCannotBeAreMalformed() {
		for (double[][] classes : new double[][][] { { { -1, 2 }, { 0, 0 } }, { { Double.NaN }, { 0 } },
				{ { 1, 1 }, { 0.6, 0.6 } }, { { 1 }, { 1.5 } }, { { 1, 2 }, { 0 } }, { {}, {} } }) {
			assertThatThrownBy(() -> new Messages.Classes(classes[0], classes[1]))
				.isInstanceOf(MalformedRecordException.class);
		}
		byte[] tooMany = new Request(Messages.LEASE, "i", 1, 1, 10, 0, 1, 500, 0, 0, 0, SPEC,
				new Messages.Classes(new double[] { 1 }, new double[] { 0 })).encode();
		tooMany[tooMany.length - 17] = 17; // the class count
		assertThatThrownBy(() -> Request.decode(tooMany)).isInstanceOf(MalformedRecordException.class);
	}

	@Test
	void aBucketStateKeepsEachInstancesClassesAndReadsStatesWrittenWithout() {
		BucketState state = BucketState.create(SPEC, 1_000);
		BucketState.Instance classed = new BucketState.Instance("classed", 1);
		classed.classes = new Messages.Classes(new double[] { 3, 4 }, new double[] { 0.1, 0 });
		BucketState.Instance plain = new BucketState.Instance("plain", 2);
		state.instances.put(classed.key(), classed);
		state.instances.put(plain.key(), plain);

		BucketState read = BucketState.decode(state.encode());

		assertThat(read.instances.get(classed.key()).classes).isEqualTo(classed.classes);
		assertThat(read.instances.get(plain.key()).classes).isNull();
		classed.classes = null;
		assertThat(BucketState.decode(state.encode()).instances.get(classed.key()).classes).isNull();
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
		// bytes after the spec are read as a priority classes trailer: these are none
		assertThatThrownBy(() -> Request.decode(trailing)).isInstanceOf(MalformedRecordException.class)
			.hasMessageContaining("priority classes: 0");
		byte[] divided = new Request(Messages.LEASE, "instance-0", 1, 1, 10, 0, 1, 500, 0, 0, 0, SPEC,
				new Messages.Classes(new double[] { 1 }, new double[] { 0 })).encode();
		byte[] afterClasses = java.util.Arrays.copyOf(divided, divided.length + 2);
		assertThatThrownBy(() -> Request.decode(afterClasses)).isInstanceOf(MalformedRecordException.class)
			.hasMessageContaining("trailing");
	}

}
