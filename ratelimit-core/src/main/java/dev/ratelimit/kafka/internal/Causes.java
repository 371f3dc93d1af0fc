package dev.ratelimit.kafka.internal;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which causes of skipped records were logged already: each cause once, so a flood of one bad
 * record neither fills the log nor hides a different fault behind it. A cause is the exception's
 * class and its message with the numbers taken out ("unsupported format version 7" and "... 9" are
 * one cause). Bounded: past {@link #MAX} causes, the rest are only counted.
 */
final class Causes {

	static final int MAX = 64;

	private final Set<String> logged = ConcurrentHashMap.newKeySet();

	/**
	 * Whether {@code failure} is one of the JVM's own errors (out of memory, an internal error), which
	 * no thread should go on after: anything else one record or one listener throws is skipped.
	 */
	static boolean isFatal(Throwable failure) {
		return failure instanceof VirtualMachineError && !(failure instanceof StackOverflowError);
	}

	/** Whether {@code failure} is a cause not logged yet (and from now on it is). */
	boolean firstOf(Throwable failure) {
		if (this.logged.size() >= MAX) {
			return false;
		}
		String message = String.valueOf(failure.getMessage());
		if (message.length() > 200) {
			message = message.substring(0, 200);
		}
		return this.logged.add(failure.getClass().getName() + ": " + message.replaceAll("[0-9]+", "#"));
	}

}
