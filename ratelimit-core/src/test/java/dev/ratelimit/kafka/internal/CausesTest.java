package dev.ratelimit.kafka.internal;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Skipped records are logged once per cause, and the causes kept are bounded. */
class CausesTest {

	@Test
	void eachCauseIsFirstOnceWhateverItsNumbers() {
		Causes causes = new Causes();
		assertThat(causes.firstOf(new MalformedRecordException("unsupported format version 7"))).isTrue();
		assertThat(causes.firstOf(new MalformedRecordException("unsupported format version 9"))).isFalse();
		assertThat(causes.firstOf(new MalformedRecordException("truncated record: java.io.EOFException"))).isTrue();
		assertThat(causes.firstOf(new IllegalStateException("unsupported format version 7"))).isTrue();
		assertThat(causes.firstOf(new AssertionError((Object) null))).isTrue();
		assertThat(causes.firstOf(new AssertionError((Object) null))).isFalse();
	}

	@Test
	void pastTheBoundCausesAreOnlyCounted() {
		Causes causes = new Causes();
		for (int i = 0; i < Causes.MAX; i++) {
			assertThat(causes.firstOf(new MalformedRecordException("cause " + (char) ('a' + i % 26) + i / 26 + "x"
					+ "y".repeat(i)))).isTrue();
		}
		assertThat(causes.firstOf(new MalformedRecordException("one cause more"))).isFalse();
	}

}
