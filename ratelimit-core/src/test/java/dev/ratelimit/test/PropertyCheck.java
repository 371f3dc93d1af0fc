package dev.ratelimit.test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Property tests on plain JUnit 5 with generators we own: a property runs {@code tries} times,
 * each try with its own seeded {@link Gen}; a failure names the seed that reproduces it. The base
 * seed is random per run unless the system property {@code ratelimit.seed} fixes it (the failing
 * try's seed, as printed, replays that try first).
 */
public final class PropertyCheck {

	private PropertyCheck() {
	}

	public static void forAll(int tries, Consumer<Gen> property) {
		Long fixed = Long.getLong("ratelimit.seed");
		long base = (fixed != null) ? fixed : new SplittableRandom().nextLong();
		SplittableRandom seeds = new SplittableRandom(base);
		for (int i = 0; i < tries; i++) {
			long seed = (i == 0 && fixed != null) ? fixed : seeds.nextLong();
			try {
				property.accept(new Gen(seed));
			}
			catch (AssertionError | RuntimeException ex) {
				String message = "property failed on try " + (i + 1) + " of " + tries + "; replay it with -Dratelimit.seed="
						+ seed;
				System.err.println(message);
				throw new AssertionError(message + ": " + ex.getMessage(), ex);
			}
		}
	}

	/** Values for one try, drawn from one seed, edges (the bounds) more often than chance would. */
	public static final class Gen {

		private final SplittableRandom random;

		Gen(long seed) {
			this.random = new SplittableRandom(seed);
		}

		/** A long in [min, max] (min < max, or equal), each bound one time in twenty. */
		public long longs(long min, long max) {
			int edge = this.random.nextInt(20);
			if (edge == 0) {
				return min;
			}
			if (edge == 1) {
				return max;
			}
			// the upper bound is exclusive: at Long.MAX_VALUE the edge case above covers max itself
			return (max == Long.MAX_VALUE) ? this.random.nextLong(min, max) : this.random.nextLong(min, max + 1);
		}

		/** An int in [min, max], each bound one time in twenty. */
		public int ints(int min, int max) {
			return (int) longs(min, max);
		}

		public boolean bools() {
			return this.random.nextBoolean();
		}

		/** One of the choices, each with its weight. */
		@SafeVarargs
		public final <T> T oneOf(Weighted<T>... choices) {
			int total = 0;
			for (Weighted<T> choice : choices) {
				total += choice.weight();
			}
			int pick = this.random.nextInt(total);
			for (Weighted<T> choice : choices) {
				pick -= choice.weight();
				if (pick < 0) {
					return choice.value().apply(this);
				}
			}
			throw new IllegalStateException("no choice");
		}

		/** A list of {@code min} to {@code max} elements. */
		public <T> List<T> lists(int min, int max, Function<Gen, T> element) {
			int size = ints(min, max);
			List<T> list = new ArrayList<>(size);
			for (int i = 0; i < size; i++) {
				list.add(element.apply(this));
			}
			return list;
		}

	}

	/** A choice for {@link Gen#oneOf} and its weight. */
	public record Weighted<T>(int weight, Function<Gen, T> value) {

		public static <T> Weighted<T> of(int weight, Function<Gen, T> value) {
			return new Weighted<>(weight, value);
		}

	}

}
