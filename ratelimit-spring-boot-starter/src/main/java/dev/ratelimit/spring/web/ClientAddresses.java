package dev.ratelimit.spring.web;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * Finds the address of the client behind a request: the peer's address, unless the peer is a
 * trusted proxy, in which case the hops it forwarded are walked from the nearest back, and the
 * first one that is not a trusted proxy is the client. Only the one header the proxies write is
 * read ({@code X-Forwarded-For} by default, or {@code Forwarded}): a proxy that appends to one
 * passes the other through as the client sent it. A header from a peer that is not trusted is
 * never read, so a client cannot choose its own key by sending one.
 *
 * <p>A hop that is not an address ({@code unknown}, an obfuscated identifier, garbage) ends the
 * walk at the proxy that reported it: every client behind a proxy that hides them shares that
 * proxy's key, which limits rather than opens. At most {@value #MAX_HOPS} hops are read. Addresses
 * are parsed as literals only, never looked up in DNS, and returned in one canonical form (IPv6
 * as {@link InetAddress#getHostAddress()} writes it, in full; an IPv4-mapped IPv6 address as IPv4;
 * a zone such as {@code %0} of the peer left out).
 *
 * <p>Free of Spring and of servlet and reactive types; immutable and thread-safe.
 */
public final class ClientAddresses {

	/** The most forwarded hops read from a request. */
	public static final int MAX_HOPS = 32;

	private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

	/** The header the trusted proxies write. */
	public enum Header {

		/** {@code X-Forwarded-For: client, proxy1, proxy2}. */
		X_FORWARDED_FOR("X-Forwarded-For"),

		/** {@code Forwarded: for=client, for=proxy1} (RFC 7239). */
		FORWARDED("Forwarded");

		private final String fieldName;

		Header(String fieldName) {
			this.fieldName = fieldName;
		}

		/**
		 * Returns the field's name.
		 * @return the name
		 */
		public String fieldName() {
			return this.fieldName;
		}

	}

	private static final ClientAddresses NONE = new ClientAddresses(List.of(), Header.X_FORWARDED_FOR);

	private final List<Range> trusted;

	private final Header header;

	private ClientAddresses(List<Range> trusted, Header header) {
		this.trusted = trusted;
		this.header = header;
	}

	/**
	 * Returns a resolver that trusts no proxy: the client is always the peer.
	 * @return the resolver
	 */
	public static ClientAddresses none() {
		return NONE;
	}

	/**
	 * Returns a resolver that trusts the given proxies.
	 * @param trustedProxies addresses ({@code 10.0.0.7}, {@code ::1}) and ranges in CIDR notation
	 * ({@code 10.0.0.0/8}, {@code fd00::/8})
	 * @return the resolver
	 * @throws IllegalArgumentException naming the first entry that is neither
	 */
	public static ClientAddresses trusting(List<String> trustedProxies) {
		return trusting(trustedProxies, Header.X_FORWARDED_FOR);
	}

	/**
	 * Returns a resolver that trusts the given proxies and reads the given header.
	 * @param trustedProxies addresses ({@code 10.0.0.7}, {@code ::1}) and ranges in CIDR notation
	 * ({@code 10.0.0.0/8}, {@code fd00::/8})
	 * @param header the header those proxies write
	 * @return the resolver
	 * @throws IllegalArgumentException naming the first entry that is neither
	 */
	public static ClientAddresses trusting(List<String> trustedProxies, Header header) {
		if (trustedProxies.isEmpty()) {
			return NONE;
		}
		List<Range> ranges = new ArrayList<>(trustedProxies.size());
		for (String entry : trustedProxies) {
			ranges.add(Range.parse(entry));
		}
		return new ClientAddresses(List.copyOf(ranges), header);
	}

	/**
	 * Returns the header the trusted proxies write, which {@link #client} reads.
	 * @return the header
	 */
	public Header header() {
		return this.header;
	}

	/**
	 * Returns whether a proxy is trusted.
	 * @return {@code true} when at least one proxy is
	 */
	public boolean trustsAny() {
		return !this.trusted.isEmpty();
	}

	/**
	 * Returns the client's address.
	 * @param peer the address of the connection's peer ({@code getRemoteAddr()})
	 * @param forwarded the values of the {@link #header()} fields, in the order received
	 * @return the client's address in canonical form; the peer as given when it is not an address,
	 * or when no proxy is trusted
	 */
	public String client(@Nullable String peer, List<String> forwarded) {
		String address = withoutZone(peer);
		if (this.trusted.isEmpty()) {
			return address; // as the server wrote it: nothing to compare it with
		}
		byte[] current = parse(address);
		if (current == null) {
			return address;
		}
		if (!isTrusted(current)) {
			return canonical(current);
		}
		List<String> hops = split(forwarded, this.header == Header.FORWARDED);
		for (int i = hops.size() - 1; i >= 0 && isTrusted(current); i--) {
			byte[] hop = parse(hops.get(i));
			if (hop == null) {
				break; // the trusted proxy that wrote this hop hid the client: it is the key
			}
			current = hop;
		}
		return canonical(current);
	}

	/** The peer's address without a zone ({@code fe80::1%eth0}, {@code ::1%0} from Netty). */
	private static String withoutZone(@Nullable String peer) {
		if (peer == null) {
			return "";
		}
		int zone = peer.indexOf('%');
		return (zone > 0 && peer.indexOf(':') >= 0) ? peer.substring(0, zone) : peer;
	}

	private boolean isTrusted(byte[] address) {
		for (Range range : this.trusted) {
			if (range.contains(address)) {
				return true;
			}
		}
		return false;
	}

	/** The hops of the fields, nearest last, at most {@link #MAX_HOPS} of the nearest. */
	private static List<String> split(List<String> values, boolean forwardedSyntax) {
		List<String> hops = new ArrayList<>();
		for (String value : values) {
			if (value == null) {
				continue;
			}
			for (String element : value.split(",")) { // the server bounds a field's length
				hops.add(forwardedSyntax ? forParameter(element) : element.trim());
			}
		}
		return (hops.size() > MAX_HOPS) ? hops.subList(hops.size() - MAX_HOPS, hops.size()) : hops;
	}

	/** The {@code for} parameter of one element of a {@code Forwarded} field, or "" when absent. */
	private static String forParameter(String element) {
		for (String pair : element.split(";", 8)) {
			int equals = pair.indexOf('=');
			if (equals > 0 && pair.substring(0, equals).trim().equalsIgnoreCase("for")) {
				String value = pair.substring(equals + 1).trim();
				if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
					value = value.substring(1, value.length() - 1);
				}
				return value;
			}
		}
		return "";
	}

	/**
	 * Parses an address literal, with an optional port ({@code 192.0.2.1:8080},
	 * {@code [2001:db8::1]:8080}); {@code null} when it is not one. Never looks anything up.
	 */
	static byte[] parse(String text) {
		if (text == null) {
			return null;
		}
		String address = text.trim();
		if (address.startsWith("[")) {
			int close = address.indexOf(']');
			if (close < 0 || !isPortOrEmpty(address.substring(close + 1))) {
				return null;
			}
			address = address.substring(1, close);
		}
		else if (address.indexOf(':') == address.lastIndexOf(':') && address.indexOf(':') > 0) {
			int colon = address.indexOf(':'); // IPv4 with a port
			if (!isPortOrEmpty(address.substring(colon))) {
				return null;
			}
			address = address.substring(0, colon);
		}
		byte[] v4 = ipv4(address);
		if (v4 != null) {
			return v4;
		}
		if (isIpv6Literal(address)) {
			return literal(address);
		}
		return null;
	}

	/** A dotted quad without leading zeros, parsed by hand: the common case, without a regex or InetAddress. */
	private static byte[] ipv4(String text) {
		int length = text.length();
		if (length < 7 || length > 15) {
			return null;
		}
		byte[] bytes = new byte[4];
		int part = 0;
		int value = 0;
		int digits = 0;
		for (int i = 0; i <= length; i++) {
			char c = (i < length) ? text.charAt(i) : '.';
			if (c == '.') {
				if (digits == 0 || part == 4) {
					return null;
				}
				bytes[part++] = (byte) value;
				value = 0;
				digits = 0;
			}
			else if (c >= '0' && c <= '9') {
				if (digits > 0 && value == 0) {
					return null; // a leading zero: octal to some parsers, refused by all here
				}
				value = value * 10 + (c - '0');
				if (++digits > 3 || value > 255) {
					return null;
				}
			}
			else {
				return null;
			}
		}
		return (part == 4) ? bytes : null;
	}

	private static boolean isPortOrEmpty(String rest) {
		if (rest.isEmpty()) {
			return true;
		}
		if (rest.length() < 2 || rest.length() > 6 || rest.charAt(0) != ':') {
			return false;
		}
		for (int i = 1; i < rest.length(); i++) {
			if (!Character.isDigit(rest.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Whether the text can only be read as an IPv6 literal: two colons at least, address
	 * characters only, and a hex digit or a colon first (the JDK reads anything else, such as
	 * {@code .::1}, as a host name to look up).
	 */
	private static boolean isIpv6Literal(String text) {
		if (text.isEmpty() || text.indexOf(':') == text.lastIndexOf(':')) {
			return false;
		}
		char first = text.charAt(0);
		boolean hexOrColon = first == ':' || Character.digit(first, 16) >= 0;
		return hexOrColon && IPV6_CHARS.matcher(text).matches();
	}

	/** A literal checked to hold only address characters: resolved without DNS. */
	private static byte[] literal(String checked) {
		try {
			InetAddress address = InetAddress.getByName(checked);
			byte[] bytes = address.getAddress();
			return (address instanceof Inet4Address || isMapped(bytes)) ? v4(bytes) : bytes;
		}
		catch (UnknownHostException ex) {
			return null;
		}
	}

	private static boolean isMapped(byte[] bytes) {
		if (bytes.length != 16) {
			return false;
		}
		for (int i = 0; i < 10; i++) {
			if (bytes[i] != 0) {
				return false;
			}
		}
		return bytes[10] == (byte) 0xff && bytes[11] == (byte) 0xff;
	}

	private static byte[] v4(byte[] bytes) {
		return (bytes.length == 4) ? bytes : new byte[] { bytes[12], bytes[13], bytes[14], bytes[15] };
	}

	private static String canonical(byte[] address) {
		if (address.length == 4) {
			return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "." + (address[3] & 0xff);
		}
		try {
			return InetAddress.getByAddress(address).getHostAddress().toLowerCase(Locale.ROOT);
		}
		catch (UnknownHostException ex) {
			throw new IllegalStateException(ex); // four or sixteen bytes always make an address
		}
	}

	/** An address range: a network and its prefix length. */
	private record Range(byte[] network, int prefix) {

		static Range parse(String entry) {
			String text = (entry != null) ? entry.trim() : "";
			int slash = text.indexOf('/');
			String address = (slash >= 0) ? text.substring(0, slash) : text;
			boolean literal = ipv4(address) != null || isIpv6Literal(address);
			byte[] network = literal ? ClientAddresses.parse(address) : null;
			if (network == null) {
				throw new IllegalArgumentException("'" + entry + "' is not an IP address or a range in CIDR notation");
			}
			int prefix = network.length * 8;
			if (slash >= 0) {
				try {
					prefix = Integer.parseInt(text.substring(slash + 1));
				}
				catch (NumberFormatException ex) {
					prefix = -1;
				}
				if (prefix < 0 || prefix > network.length * 8) {
					throw new IllegalArgumentException("'" + entry + "' has a prefix length outside 0-"
							+ (network.length * 8));
				}
			}
			return new Range(network, prefix);
		}

		boolean contains(byte[] address) {
			if (address.length != this.network.length) {
				return false;
			}
			int whole = this.prefix / 8;
			for (int i = 0; i < whole; i++) {
				if (address[i] != this.network[i]) {
					return false;
				}
			}
			int bits = this.prefix % 8;
			if (bits == 0) {
				return true;
			}
			int mask = (0xff << (8 - bits)) & 0xff;
			return (address[whole] & mask) == (this.network[whole] & mask);
		}

	}

}
