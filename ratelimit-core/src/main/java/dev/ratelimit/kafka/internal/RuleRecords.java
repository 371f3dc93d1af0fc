package dev.ratelimit.kafka.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;

import dev.ratelimit.Rate;
import dev.ratelimit.rules.LimitRule;

/**
 * The wire format of a rule on the rules topic: UTF-8 text, one {@code field=value} per line, the
 * first line {@code ratelimit-rule=1} ({@code =2} for a rule that sets class shares, which a
 * reader of format 1 must not take for a rule without them), so that an operator can read the topic with the console
 * consumer. The record's key is the limiter name; its version is its offset plus one and is not
 * written. Fields a later version adds are ignored; a record too long, not UTF-8, with a field
 * twice, a value out of its bounds or a limiter other than its key is refused whole.
 */
public final class RuleRecords {

	/** Longest rule record read: far more than any valid rule takes. */
	public static final int MAX_BYTES = 8 * 1024;

	private static final String HEADER = "ratelimit-rule";

	private RuleRecords() {
	}

	public static byte[] encode(LimitRule rule) {
		StringBuilder text = new StringBuilder(256);
		// format 2 only for what format 1 cannot say: a reader of format 1 skips such a rule
		// whole (and keeps the one before) rather than apply part of it
		line(text, HEADER, (rule.shares() != null) ? "2" : "1");
		line(text, "limiter", rule.limiter());
		if (rule.rate() != null) {
			line(text, "rate", rule.rate().toString());
		}
		if (rule.capacity() != null) {
			line(text, "capacity", rule.capacity().toString());
		}
		if (rule.enabled() != null) {
			line(text, "enabled", rule.enabled().toString());
		}
		if (rule.shares() != null) {
			line(text, "shares", LimitRule.describeShares(rule.shares()));
		}
		line(text, "author", rule.author());
		line(text, "reason", rule.reason());
		line(text, "at", rule.at().toString());
		line(text, "origin", rule.origin());
		line(text, "configured", rule.configured());
		return text.toString().getBytes(StandardCharsets.UTF_8);
	}

	private static void line(StringBuilder text, String field, String value) {
		text.append(field).append('=').append(value).append('\n');
	}

	/**
	 * Reads a rule record.
	 * @param key the record's key
	 * @param value the record's value
	 * @param version the version to give it (its offset plus one)
	 * @return the rule
	 * @throws MalformedRecordException naming what is wrong
	 */
	public static LimitRule decode(String key, byte[] value, long version) {
		if (value.length > MAX_BYTES) {
			throw new MalformedRecordException("rule record of " + value.length + " bytes, more than " + MAX_BYTES);
		}
		String text;
		try {
			text = StandardCharsets.UTF_8.newDecoder()
				.onMalformedInput(CodingErrorAction.REPORT)
				.onUnmappableCharacter(CodingErrorAction.REPORT)
				.decode(ByteBuffer.wrap(value))
				.toString();
		}
		catch (CharacterCodingException ex) {
			throw new MalformedRecordException("rule record is not UTF-8 text");
		}
		Map<String, String> fields = new HashMap<>();
		for (String line : text.split("\n", -1)) {
			if (line.isEmpty()) {
				continue;
			}
			int eq = line.indexOf('=');
			if (eq <= 0) {
				throw new MalformedRecordException("rule record line without field=value");
			}
			if (fields.put(line.substring(0, eq), line.substring(eq + 1)) != null) {
				throw new MalformedRecordException("rule record with field '" + printable(line.substring(0, eq))
						+ "' twice");
			}
		}
		String format = fields.get(HEADER);
		if (!"1".equals(format) && !"2".equals(format)) {
			throw new MalformedRecordException("not a rule record of format 1 or 2 (first line ratelimit-rule=1 or 2)");
		}
		String limiter = required(fields, "limiter");
		if (!limiter.equals(key)) {
			throw new MalformedRecordException("rule record for limiter '" + printable(limiter) + "' under key '"
					+ printable(key) + "': the key must be the limiter's name");
		}
		try {
			Rate rate = fields.containsKey("rate") ? Rate.parse(fields.get("rate")) : null;
			Long capacity = fields.containsKey("capacity") ? Long.valueOf(fields.get("capacity")) : null;
			Boolean enabled = fields.containsKey("enabled") ? bool(fields.get("enabled")) : null;
			java.util.Map<String, Double> shares = ("2".equals(format) && fields.containsKey("shares"))
					? LimitRule.parseShares(fields.get("shares")) : null;
			return new LimitRule(limiter, version, rate, capacity, enabled, shares, required(fields, "author"),
					fields.getOrDefault("reason", ""), Instant.parse(required(fields, "at")), required(fields, "origin"),
					fields.getOrDefault("configured", ""));
		}
		catch (IllegalArgumentException | DateTimeParseException ex) {
			throw new MalformedRecordException("rule record for limiter '" + printable(limiter) + "' is not valid: "
					+ printable(ex.getMessage()));
		}
	}

	private static Boolean bool(String value) {
		return switch (value) {
			case "true" -> Boolean.TRUE;
			case "false" -> Boolean.FALSE;
			default -> throw new IllegalArgumentException("enabled must be true or false, but was '" + value + "'");
		};
	}

	private static String required(Map<String, String> fields, String field) {
		String value = fields.get(field);
		if (value == null) {
			throw new MalformedRecordException("rule record without " + field);
		}
		return value;
	}

	/** A value from a record, cut short and without control characters, fit for a log line. */
	static String printable(String value) {
		if (value == null) {
			return "null";
		}
		String cut = (value.length() > 100) ? value.substring(0, 100) + "..." : value;
		StringBuilder text = new StringBuilder(cut.length());
		for (int i = 0; i < cut.length(); i++) {
			char c = cut.charAt(i);
			text.append(Character.isISOControl(c) ? '?' : c);
		}
		return text.toString();
	}

}
