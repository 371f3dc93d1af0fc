package dev.ratelimit.buffer;

/**
 * A {@link BufferPool.Builder} value out of its range. The message names the setting, the value,
 * the allowed range and the fix; {@link #setting()} names the setting again for code that reports
 * it under another name, such as a configuration property.
 */
public final class InvalidBufferSettingException extends IllegalArgumentException {

	private static final long serialVersionUID = 1L;

	private final String setting;

	private final transient Object value;

	InvalidBufferSettingException(String setting, Object value, String message) {
		super(message);
		this.setting = setting;
		this.value = value;
	}

	/**
	 * Returns the name of the builder method that sets the bad value, such as
	 * {@code maxBatchSize}.
	 * @return the setting's name
	 */
	public String setting() {
		return this.setting;
	}

	/**
	 * Returns the bad value.
	 * @return the value
	 */
	public Object value() {
		return this.value;
	}

}
