package dev.ratelimit.adaptive;

import java.time.Duration;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

class AdaptiveConfigTest {

	private static final String FRACTION = " must be between 0.000001 and 1 (inclusive), but was ";

	private static final String FRACTION_FIX = ": it is a fraction of the ceiling, for example 0.01 for 1%";

	private static final String FACTOR = " must be greater than 0 and less than 1, but was ";

	private static final String FACTOR_FIX = ": the rate is multiplied by it on each decrease, "
			+ "for example 0.5 to halve it";

	private static final String WATERMARK = " must be between 0 and 1 (inclusive), but was ";

	private static final String WATERMARK_FIX = ": it is a share of capacity in use, for example 0.9 for 90%";

	@Test
	void defaultsAreTheDocumentedOnes() {
		AdaptiveConfig config = AdaptiveConfig.defaults();
		assertThat(config.floorFraction()).isEqualTo(0.01);
		assertThat(config.decreaseFactor()).isEqualTo(0.5);
		assertThat(config.decreaseCooldown()).isEqualTo(Duration.ofSeconds(1));
		assertThat(config.recoveryInterval()).isEqualTo(Duration.ofSeconds(5));
		assertThat(config.recoveryStep()).isEqualTo(0.1);
		assertThat(config.warningLag()).isEqualTo(5_000);
		assertThat(config.criticalLag()).isEqualTo(10_000);
		assertThat(config.emergencyLag()).isEqualTo(20_000);
		assertThat(config.recoveryLag()).isEqualTo(1_000);
		assertThat(config.warningFraction()).isEqualTo(0.8);
		assertThat(config.criticalFraction()).isEqualTo(0.1);
		assertThat(config.highUtilization()).isEqualTo(0.9);
		assertThat(config.lowUtilization()).isEqualTo(0.5);
		assertThat(config.utilizationDecreaseFactor()).isEqualTo(0.9);
		assertThat(config.loadSignals()).isEmpty();
	}

	@Test
	void builderStartsFromTheDefaults() {
		assertThat(AdaptiveConfig.builder().build()).isEqualTo(AdaptiveConfig.defaults())
			.hasSameHashCodeAs(AdaptiveConfig.defaults());
	}

	@Test
	void builderSetsEveryValue() {
		AdaptiveConfig config = AdaptiveConfig.builder()
			.floorFraction(0.05)
			.decreaseFactor(0.7)
			.decreaseCooldown(Duration.ofMillis(500))
			.recoveryInterval(Duration.ofSeconds(10))
			.recoveryStep(0.25)
			.warningLag(100)
			.criticalLag(200)
			.emergencyLag(300)
			.recoveryLag(50)
			.warningFraction(0.6)
			.criticalFraction(0.2)
			.highUtilization(0.95)
			.lowUtilization(0.3)
			.utilizationDecreaseFactor(0.8)
			.loadSignal("process-cpu", LoadThresholds.of(0.85, 0.75))
			.build();
		assertThat(config.toString()).isEqualTo("AdaptiveConfig[floorFraction=0.05, decreaseFactor=0.7, "
				+ "decreaseCooldown=PT0.5S, recoveryInterval=PT10S, recoveryStep=0.25, warningLag=100, "
				+ "criticalLag=200, emergencyLag=300, recoveryLag=50, warningFraction=0.6, criticalFraction=0.2, "
				+ "highUtilization=0.95, lowUtilization=0.3, utilizationDecreaseFactor=0.8, loadSignals={process-cpu="
				+ "LoadThresholds[warning=0.85, critical=Infinity, emergency=Infinity, recovery=0.75]}]");
		assertThat(config).isNotEqualTo(AdaptiveConfig.defaults());
		assertThat(config.loadSignals()).containsOnlyKeys("process-cpu");
	}

	@Test
	void acceptsTheEdgesOfEveryRange() {
		AdaptiveConfig config = AdaptiveConfig.builder()
			.floorFraction(1)
			.recoveryStep(0.000001)
			.decreaseCooldown(Duration.ZERO)
			.recoveryLag(1)
			.warningLag(2)
			.criticalLag(2)
			.emergencyLag(Long.MAX_VALUE)
			.warningFraction(1)
			.criticalFraction(1)
			.lowUtilization(0)
			.highUtilization(1)
			.build();
		assertThat(config.criticalLag()).isEqualTo(config.warningLag());
		assertThat(config.decreaseCooldown()).isZero();
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0, -0.5, 0.0000005, 1.000001, Double.NaN, Double.POSITIVE_INFINITY })
	void rejectsFloorFractionOutOfRange(double value) {
		assertRejected((builder) -> builder.floorFraction(value), "floorFraction" + FRACTION + value + FRACTION_FIX);
	}

	@Test
	void rejectsZeroFloorFractionWithTheExactMessage() {
		assertRejected((builder) -> builder.floorFraction(0),
				"floorFraction must be between 0.000001 and 1 (inclusive), but was 0.0: it is a fraction of the "
						+ "ceiling, for example 0.01 for 1%");
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0, -0.1, 1, 1.5, Double.NaN })
	void rejectsDecreaseFactorOutOfRange(double value) {
		assertRejected((builder) -> builder.decreaseFactor(value), "decreaseFactor" + FACTOR + value + FACTOR_FIX);
	}

	@Test
	void rejectsDecreaseFactorOfOneWithTheExactMessage() {
		assertRejected((builder) -> builder.decreaseFactor(1),
				"decreaseFactor must be greater than 0 and less than 1, but was 1.0: the rate is multiplied by it "
						+ "on each decrease, for example 0.5 to halve it");
	}

	@Test
	void rejectsNegativeDecreaseCooldown() {
		assertRejected((builder) -> builder.decreaseCooldown(Duration.ofSeconds(-1)),
				"decreaseCooldown must be zero or a positive duration, but was PT-1S");
	}

	@Test
	void rejectsZeroRecoveryInterval() {
		assertRejected((builder) -> builder.recoveryInterval(Duration.ZERO),
				"recoveryInterval must be a positive duration, but was PT0S");
	}

	@Test
	void rejectsNegativeRecoveryInterval() {
		assertRejected((builder) -> builder.recoveryInterval(Duration.ofMillis(-5)),
				"recoveryInterval must be a positive duration, but was PT-0.005S");
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0, -0.1, 1.1, Double.NaN })
	void rejectsRecoveryStepOutOfRange(double value) {
		assertRejected((builder) -> builder.recoveryStep(value), "recoveryStep" + FRACTION + value + FRACTION_FIX);
	}

	@ParameterizedTest
	@ValueSource(longs = { 0, -1 })
	void rejectsRecoveryLagNotPositive(long value) {
		assertRejected((builder) -> builder.recoveryLag(value), "recoveryLag must be positive, but was " + value);
	}

	@Test
	void rejectsRecoveryLagNotBelowWarningLag() {
		assertRejected((builder) -> builder.recoveryLag(5_000),
				"recoveryLag (5000) must be less than warningLag (5000): a severity is left only when the lag "
						+ "falls below recoveryLag, so the gap between the two is what keeps the severity from "
						+ "flapping; lower recoveryLag or raise warningLag");
	}

	@Test
	void rejectsWarningLagBelowRecoveryLag() {
		assertRejected((builder) -> builder.warningLag(500),
				"recoveryLag (1000) must be less than warningLag (500): a severity is left only when the lag "
						+ "falls below recoveryLag, so the gap between the two is what keeps the severity from "
						+ "flapping; lower recoveryLag or raise warningLag");
	}

	@Test
	void rejectsCriticalLagBelowWarningLag() {
		assertRejected((builder) -> builder.criticalLag(4_000),
				"criticalLag (4000) must be at least warningLag (5000): a more severe level needs at least as much "
						+ "lag; set them equal to skip the lower level");
	}

	@Test
	void rejectsEmergencyLagBelowCriticalLag() {
		assertRejected((builder) -> builder.emergencyLag(9_999),
				"emergencyLag (9999) must be at least criticalLag (10000): a more severe level needs at least as "
						+ "much lag; set them equal to skip the lower level");
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0, 1.5, Double.NaN })
	void rejectsWarningFractionOutOfRange(double value) {
		assertRejected((builder) -> builder.warningFraction(value),
				"warningFraction" + FRACTION + value + FRACTION_FIX);
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0, -1, Double.NaN })
	void rejectsCriticalFractionOutOfRange(double value) {
		assertRejected((builder) -> builder.criticalFraction(value),
				"criticalFraction" + FRACTION + value + FRACTION_FIX);
	}

	@Test
	void rejectsCriticalFractionAboveWarningFraction() {
		assertRejected((builder) -> builder.criticalFraction(0.9),
				"criticalFraction (0.9) must be at most warningFraction (0.8): a more severe level cannot allow a "
						+ "higher rate");
	}

	@ParameterizedTest
	@ValueSource(doubles = { -0.1, 1.5, Double.NaN })
	void rejectsHighUtilizationOutOfRange(double value) {
		assertRejected((builder) -> builder.highUtilization(value),
				"highUtilization" + WATERMARK + value + WATERMARK_FIX);
	}

	@ParameterizedTest
	@ValueSource(doubles = { -0.1, 1.5, Double.NaN })
	void rejectsLowUtilizationOutOfRange(double value) {
		assertRejected((builder) -> builder.lowUtilization(value),
				"lowUtilization" + WATERMARK + value + WATERMARK_FIX);
	}

	@Test
	void rejectsLowUtilizationNotBelowHighUtilization() {
		assertRejected((builder) -> builder.lowUtilization(0.9),
				"lowUtilization (0.9) must be less than highUtilization (0.9): utilization above highUtilization "
						+ "lowers the rate and below lowUtilization lets it recover");
	}

	@ParameterizedTest
	@ValueSource(doubles = { 0, 1, 2, Double.NaN })
	void rejectsUtilizationDecreaseFactorOutOfRange(double value) {
		assertRejected((builder) -> builder.utilizationDecreaseFactor(value),
				"utilizationDecreaseFactor" + FACTOR + value + FACTOR_FIX);
	}

	@Test
	void rejectsNullDurationsAtOnce() {
		assertThatNullPointerException().isThrownBy(() -> AdaptiveConfig.builder().decreaseCooldown(null))
			.withMessage("decreaseCooldown");
		assertThatNullPointerException().isThrownBy(() -> AdaptiveConfig.builder().recoveryInterval(null))
			.withMessage("recoveryInterval");
	}

	@Test
	void validatesWhenBuiltSoValuesMayBeSetInAnyOrder() {
		// raising every lag threshold one by one passes through states that would be invalid
		AdaptiveConfig config = AdaptiveConfig.builder()
			.warningLag(50_000)
			.criticalLag(100_000)
			.emergencyLag(200_000)
			.recoveryLag(10_000)
			.build();
		assertThat(config.warningLag()).isEqualTo(50_000);
	}

	private static void assertRejected(UnaryOperator<AdaptiveConfig.Builder> change, String message) {
		AdaptiveConfig.Builder builder = change.apply(AdaptiveConfig.builder());
		assertThatIllegalArgumentException().isThrownBy(builder::build).withMessage(message);
	}

}
