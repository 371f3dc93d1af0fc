package dev.ratelimit.kafka.internal;

/**
 * A record on one of the backend's topics that cannot be read. Never fatal: the reader skips it.
 */
public class MalformedRecordException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	public MalformedRecordException(String message) {
		super(message);
	}

}
