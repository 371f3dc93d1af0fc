package dev.ratelimit.kafka.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The records of the lease protocol and their wire format: a version byte, a type byte, then the
 * fields in a fixed order. Hand-written rather than JSON so the core needs no serialization
 * library and a record costs a few dozen bytes. A record that cannot be read raises
 * {@link MalformedRecordException}; readers skip it, log it once and count it.
 */
public final class Messages {

	static final byte VERSION = 1;

	static final byte LEASE = 1;

	static final byte UPDATE = 2;

	static final byte RESET = 3;

	/** Asks for an empty answer, without touching any bucket: the backend's health probe. */
	static final byte PROBE = 4;

	/** An instance leaves a key: it gives back what it holds and stops counting for fair share. */
	static final byte LEAVE = 5;

	/**
	 * Permits admitted locally for cold keys (see {@link Report}), many keys of one request partition
	 * in one record. Never answered, except by a {@link #GRANT} notice for a key that ran low.
	 */
	static final byte REPORT = 6;

	/** The most keys one {@link Report} carries, so a record stays far below the broker's size limit. */
	public static final int MAX_REPORT_ENTRIES = 4_096;

	/**
	 * Many requests of one instance for keys of one request partition, and that partition's report,
	 * in one record (see {@link Batch}); answered with one {@link #GRANTS} record.
	 */
	static final byte BATCH = 7;

	/** The most requests one {@link Batch} carries. */
	public static final int MAX_BATCH_REQUESTS = 4_096;

	/**
	 * A record of encoded requests, grants or a report stops growing past this many bytes (a tenth of
	 * the broker's default message size), so a batch never meets the broker's limit.
	 */
	public static final int MAX_BATCH_BYTES = 100_000;

	static final byte GRANT = 10;

	/** Many grants (and notices) for one instance in one record: the answer to a {@link Batch}. */
	static final byte GRANTS = 11;

	static final byte STATE = 20;

	private Messages() {
	}

	/**
	 * A limit as the authority keeps it: a token bucket of {@code capacity} refilling
	 * {@code permits} per {@code periodNanos}.
	 */
	public record Spec(long capacity, long permits, long periodNanos) {

		void write(DataOutputStream out) throws IOException {
			out.writeLong(this.capacity);
			out.writeLong(this.permits);
			out.writeLong(this.periodNanos);
		}

		static Spec read(DataInputStream in) throws IOException {
			Spec spec = new Spec(in.readLong(), in.readLong(), in.readLong());
			if (spec.capacity <= 0 || spec.permits <= 0 || spec.periodNanos <= 0) {
				throw new MalformedRecordException("limit spec has a non-positive field: " + spec);
			}
			if (spec.equals(lastValid)) {
				return spec; // nearly every record carries the limit the one before did: checked once
			}
			try {
				// the bounds the API enforces: a spec no limiter could be built from is never stored
				spec.toRateLimit();
			}
			catch (IllegalArgumentException ex) {
				throw new MalformedRecordException("limit spec out of range: " + spec + ": " + ex.getMessage());
			}
			lastValid = spec;
			return spec;
		}

		/** The last spec found within the API's bounds (any thread may replace it; a record is immutable). */
		private static volatile Spec lastValid;

		/** The token bucket this spec describes, as the API builds it (and bounds it). */
		dev.ratelimit.RateLimit toRateLimit() {
			return dev.ratelimit.RateLimit
				.tokenBucket(dev.ratelimit.Rate.of(this.permits, java.time.Duration.ofNanos(this.periodNanos)))
				.capacity(this.capacity)
				.build();
		}

		double perSecond() {
			return this.permits * 1e9 / this.periodNanos;
		}

		// written out: the authority compares specs several times per record, and the generated
		// record methods showed in its profile
		@Override
		public boolean equals(Object other) {
			return this == other || (other instanceof Spec spec && this.capacity == spec.capacity
					&& this.permits == spec.permits && this.periodNanos == spec.periodNanos);
		}

		@Override
		public int hashCode() {
			return Long.hashCode(this.capacity) * 961 + Long.hashCode(this.permits) * 31 + Long.hashCode(this.periodNanos);
		}

	}

	/**
	 * A message to the authority of one limiter key: a lease request, a rate update or a reset.
	 *
	 * @param type {@link #LEASE}, {@link #UPDATE}, {@link #RESET}, {@link #PROBE} or {@link #LEAVE}
	 * @param instance the requesting instance's id
	 * @param incarnation random per process start, so a restarted instance's sequence numbers are new
	 * @param seq the request's sequence number, increasing per instance incarnation and key
	 * @param want permits wanted
	 * @param returned unspent permits given back
	 * @param demand the instance's recent demand, permits per second (denied attempts included)
	 * @param horizonMillis how long the instance plans to spend a lease
	 * @param spentTotal all permits this incarnation admitted on its own (cold-start allowance,
	 * local share) and reported so far, a running total: the authority debits what it has not
	 * debited yet, so a report sent twice, retried, or lost and superseded is debited exactly once
	 * @param spentAcked the part of {@code spentTotal} the instance knows was debited (from grants),
	 * used when the authority has forgotten the instance
	 * @param spentOverMillis how long before the request the permits not yet acknowledged began to
	 * be spent, so the authority debits them as of then rather than after the bucket refilled
	 * @param spec the limit the instance is configured with (a lease) or wants (an update)
	 * @param classes the demand of each priority class, for a limit divided among classes, or
	 * {@code null}
	 */
	public record Request(byte type, String instance, long incarnation, long seq, long want, long returned,
			double demand, long horizonMillis, long spentTotal, long spentAcked, long spentOverMillis, Spec spec,
			Classes classes) {

		/** A request of a limit without priority classes. */
		public Request(byte type, String instance, long incarnation, long seq, long want, long returned,
				double demand, long horizonMillis, long spentTotal, long spentAcked, long spentOverMillis, Spec spec) {
			this(type, instance, incarnation, seq, want, returned, demand, horizonMillis, spentTotal, spentAcked,
					spentOverMillis, spec, null);
		}

		/** This request with the time its locally spent permits span, measured as it is sent. */
		public Request withSpentOver(long millis) {
			return new Request(this.type, this.instance, this.incarnation, this.seq, this.want, this.returned,
					this.demand, this.horizonMillis, this.spentTotal, this.spentAcked, Math.max(0, millis), this.spec,
					this.classes);
		}

		public byte[] encode() {
			return write((out) -> {
				out.writeByte(this.type);
				out.writeUTF(this.instance);
				out.writeLong(this.incarnation);
				out.writeLong(this.seq);
				out.writeLong(this.want);
				out.writeLong(this.returned);
				out.writeDouble(this.demand);
				out.writeLong(this.horizonMillis);
				out.writeLong(this.spentTotal);
				out.writeLong(this.spentAcked);
				out.writeLong(this.spentOverMillis);
				this.spec.write(out);
				if (this.classes != null) {
					this.classes.write(out); // a trailer: readers of older versions refuse it as trailing bytes
				}
			});
		}

		public static Request decode(byte[] bytes) {
			return read(bytes, (in) -> {
				byte type = in.readByte();
				if (type != LEASE && type != UPDATE && type != RESET && type != PROBE && type != LEAVE) {
					throw new MalformedRecordException("unknown request type " + type);
				}
				Request request = new Request(type, in.readUTF(), in.readLong(), in.readLong(), in.readLong(),
						in.readLong(), in.readDouble(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
						Spec.read(in), (in.available() > 0) ? Classes.read(in) : null);
				checkInstance(request.instance);
				if (request.want < 0 || request.returned < 0 || !(request.demand >= 0)
						|| !Double.isFinite(request.demand) || request.horizonMillis < 0
						|| request.spentTotal < 0 || request.spentAcked < 0 || request.spentAcked > request.spentTotal
						|| request.spentOverMillis < 0) {
					throw new MalformedRecordException("request has a negative field: " + request);
				}
				return request;
			});
		}

	}

	/**
	 * What an instance asks of a limit divided among priority classes: each class's demand (highest
	 * class first) and the share of the rate each class is guaranteed. The authority fills the
	 * instances' shares class by class: guaranteed minimums first, then each class in order, so a
	 * higher class anywhere in the fleet is served before a lower one.
	 *
	 * @param demands permits per second each class tried, denied attempts included
	 * @param minimums each class's guaranteed share of the rate, 0 to 1
	 */
	public record Classes(double[] demands, double[] minimums) {

		public Classes {
			if (demands.length != minimums.length || demands.length < 1
					|| demands.length > dev.ratelimit.Priorities.MAX_CLASSES) {
				throw new MalformedRecordException("priority classes of " + demands.length + " demands and "
						+ minimums.length + " minimums");
			}
			double reserved = 0;
			for (int i = 0; i < demands.length; i++) {
				if (!(demands[i] >= 0) || !Double.isFinite(demands[i]) || !(minimums[i] >= 0) || !(minimums[i] <= 1)) {
					throw new MalformedRecordException("priority class " + i + " with demand " + demands[i]
							+ " and minimum share " + minimums[i]);
				}
				reserved += minimums[i];
			}
			if (reserved > 1 + 1e-9) {
				throw new MalformedRecordException("priority classes reserve " + reserved + " of the rate");
			}
		}

		void write(java.io.DataOutputStream out) throws java.io.IOException {
			out.writeByte(this.demands.length);
			for (int i = 0; i < this.demands.length; i++) {
				out.writeDouble(this.demands[i]);
				out.writeDouble(this.minimums[i]);
			}
		}

		static Classes read(java.io.DataInputStream in) throws java.io.IOException {
			int count = in.readUnsignedByte();
			if (count < 1 || count > dev.ratelimit.Priorities.MAX_CLASSES) {
				throw new MalformedRecordException("priority classes: " + count);
			}
			double[] demands = new double[count];
			double[] minimums = new double[count];
			for (int i = 0; i < count; i++) {
				demands[i] = in.readDouble();
				minimums[i] = in.readDouble();
			}
			return new Classes(demands, minimums);
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof Classes that && java.util.Arrays.equals(this.demands, that.demands)
					&& java.util.Arrays.equals(this.minimums, that.minimums);
		}

		@Override
		public int hashCode() {
			return java.util.Arrays.hashCode(this.demands) * 31 + java.util.Arrays.hashCode(this.minimums);
		}

		@Override
		public String toString() {
			return "Classes[demands=" + java.util.Arrays.toString(this.demands) + ", minimums="
					+ java.util.Arrays.toString(this.minimums) + "]";
		}

	}

	/**
	 * The authority's answer to a request, sent to the requesting instance.
	 *
	 * @param key the limiter key
	 * @param instance the instance it is for
	 * @param incarnation the incarnation it is for
	 * @param seq the request it answers
	 * @param granted permits granted (may be zero)
	 * @param ttlMillis how long the lease may be spent after it is received
	 * @param spec the limit in force
	 * @param version increases whenever the limit in force changes
	 * @param share the instance's fair share of the rate, permits per second, for degraded mode
	 * @param instances instances active on this key
	 * @param available permits left in the shared bucket after this grant, negative when it owes
	 * @param debitedTotal how much of the instance's running total of permits admitted on its own
	 * the authority has debited
	 */
	public record Grant(String key, String instance, long incarnation, long seq, long granted, long ttlMillis,
			Spec spec, long version, double share, int instances, long available, long debitedTotal) {

		public byte[] encode() {
			return write((out) -> {
				out.writeByte(GRANT);
				out.writeUTF(this.key);
				out.writeUTF(this.instance);
				out.writeLong(this.incarnation);
				out.writeLong(this.seq);
				out.writeLong(this.granted);
				out.writeLong(this.ttlMillis);
				this.spec.write(out);
				out.writeLong(this.version);
				out.writeDouble(this.share);
				out.writeInt(this.instances);
				out.writeLong(this.available);
				out.writeLong(this.debitedTotal);
			});
		}

		public static Grant decode(byte[] bytes) {
			return read(bytes, (in) -> {
				byte type = in.readByte();
				if (type != GRANT) {
					throw new MalformedRecordException("not a grant: type " + type);
				}
				Grant grant = new Grant(in.readUTF(), in.readUTF(), in.readLong(), in.readLong(), in.readLong(),
						in.readLong(), Spec.read(in), in.readLong(), in.readDouble(), in.readInt(), in.readLong(),
						in.readLong());
				if (grant.granted < 0 || grant.ttlMillis < 0 || grant.debitedTotal < 0) {
					throw new MalformedRecordException("grant has a negative field: " + grant);
				}
				return grant;
			});
		}

	}

	/**
	 * Permits an instance admitted on its own for keys in the cold regime (each instance admits a
	 * cold key from a local allowance, its part of the bucket, and reports afterwards), for the keys
	 * of one request partition since the last report. The authority debits each key as of
	 * {@code spentOverMillis} before the record's time. Not answered: a report is sent once (the
	 * producer is idempotent, and a failed send is added to the next report); the authority answers
	 * only for a key whose bucket ran low, with a notice (a {@link Grant} with sequence 0) that
	 * moves the key to leases on that instance.
	 *
	 * @param instance the reporting instance's id
	 * @param incarnation the reporting runtime's incarnation
	 * @param entries one per key, at most {@link #MAX_REPORT_ENTRIES}
	 */
	public record Report(String instance, long incarnation, java.util.List<Entry> entries) {

		/**
		 * One key's permits admitted locally.
		 *
		 * @param key the limiter key
		 * @param limiterIncarnation the incarnation of the limiter that admitted them, for notices
		 * @param spent permits admitted, positive
		 * @param spentOverMillis how long before the report they began to be spent
		 * @param spec the limit the instance is configured with
		 */
		public record Entry(String key, long limiterIncarnation, long spent, long spentOverMillis, Spec spec) {
		}

		public byte[] encode() {
			return write((out) -> {
				out.writeByte(REPORT);
				out.writeUTF(this.instance);
				out.writeLong(this.incarnation);
				out.writeInt(this.entries.size());
				for (Entry entry : this.entries) {
					out.writeUTF(entry.key());
					out.writeLong(entry.limiterIncarnation());
					out.writeLong(entry.spent());
					out.writeLong(entry.spentOverMillis());
					entry.spec().write(out);
				}
			});
		}

		public static Report decode(byte[] bytes) {
			return read(bytes, (in) -> {
				byte type = in.readByte();
				if (type != REPORT) {
					throw new MalformedRecordException("not a report: type " + type);
				}
				String instance = in.readUTF();
				checkInstance(instance);
				long incarnation = in.readLong();
				int count = in.readInt();
				if (count < 0 || count > MAX_REPORT_ENTRIES) {
					throw new MalformedRecordException("report with " + count + " entries (at most "
							+ MAX_REPORT_ENTRIES + ")");
				}
				java.util.List<Entry> entries = new java.util.ArrayList<>(count);
				for (int i = 0; i < count; i++) {
					Entry entry = new Entry(in.readUTF(), in.readLong(), in.readLong(), in.readLong(), Spec.read(in));
					if (entry.spent() <= 0 || entry.spentOverMillis() < 0) {
						throw new MalformedRecordException("report entry with a non-positive count: " + entry);
					}
					entries.add(entry);
				}
				return new Report(instance, incarnation, entries);
			});
		}

		/** The type byte of an encoded request record, or -1: reports and requests share a topic. */
		static int typeOf(byte[] bytes) {
			return (bytes == null || bytes.length < 2) ? -1 : bytes[1];
		}

	}

	/**
	 * Requests of one instance for keys of one request partition, and optionally that partition's
	 * report, in one record: an instance's keeper sends what one of its passes produced for a
	 * partition together, so keys leasing at the same cadence (keys over their limit ask once per
	 * report interval) cost one record per partition rather than one per key.
	 *
	 * @param instance the sending instance's id; every request in the batch is from it
	 * @param report the partition's report of cold permits, or null
	 * @param keys the limiter key of each request
	 * @param requests the requests, in the order they were made (a key's requests stay in order)
	 */
	public record Batch(String instance, Report report, java.util.List<String> keys, java.util.List<Request> requests) {

		public Batch {
			if (keys.size() != requests.size()) {
				throw new IllegalArgumentException(keys.size() + " keys for " + requests.size() + " requests");
			}
		}

		public byte[] encode() {
			return write((out) -> {
				out.writeByte(BATCH);
				out.writeUTF(this.instance);
				byte[] report = (this.report != null) ? this.report.encode() : new byte[0];
				out.writeInt(report.length);
				out.write(report);
				out.writeInt(this.requests.size());
				for (int i = 0; i < this.requests.size(); i++) {
					out.writeUTF(this.keys.get(i));
					byte[] request = this.requests.get(i).encode();
					out.writeInt(request.length);
					out.write(request);
				}
			});
		}

		/**
		 * Reads a batch. An entry that cannot be read, or names another instance, is left out and
		 * counted in {@code skipped} (the others still count); a batch whose frame cannot be read
		 * raises {@link MalformedRecordException}.
		 */
		public static Batch decode(byte[] bytes, java.util.function.Consumer<RuntimeException> skipped) {
			return read(bytes, (in) -> {
				byte type = in.readByte();
				if (type != BATCH) {
					throw new MalformedRecordException("not a batch: type " + type);
				}
				String instance = in.readUTF();
				checkInstance(instance);
				Report report = null;
				byte[] reportBytes = nested(in);
				if (reportBytes.length > 0) {
					try {
						report = Report.decode(reportBytes);
						if (!report.instance().equals(instance)) {
							throw new MalformedRecordException("report of " + report.instance() + " in a batch of " + instance);
						}
					}
					catch (MalformedRecordException ex) {
						skipped.accept(ex);
						report = null;
					}
				}
				int count = in.readInt();
				if (count < 0 || count > MAX_BATCH_REQUESTS) {
					throw new MalformedRecordException("batch with " + count + " requests (at most " + MAX_BATCH_REQUESTS + ")");
				}
				java.util.List<String> keys = new java.util.ArrayList<>(Math.min(count, 64));
				java.util.List<Request> requests = new java.util.ArrayList<>(Math.min(count, 64));
				for (int i = 0; i < count; i++) {
					String key = in.readUTF();
					byte[] requestBytes = nested(in);
					try {
						Request request = Request.decode(requestBytes);
						if (!request.instance().equals(instance)) {
							throw new MalformedRecordException("request of " + request.instance() + " in a batch of " + instance);
						}
						if (request.type() == PROBE) {
							throw new MalformedRecordException("a probe in a batch");
						}
						keys.add(key);
						requests.add(request);
					}
					catch (MalformedRecordException ex) {
						skipped.accept(ex);
					}
				}
				return new Batch(instance, report, keys, requests);
			});
		}

	}

	/**
	 * Grants and notices for one instance in one record: the authority's answer to a {@link Batch}.
	 */
	public static final class Grants {

		private Grants() {
		}

		/** A grants record of grants already encoded. */
		public static byte[] encode(java.util.List<byte[]> grants) {
			return write((out) -> {
				out.writeByte(GRANTS);
				out.writeInt(grants.size());
				for (byte[] grant : grants) {
					out.writeInt(grant.length);
					out.write(grant);
				}
			});
		}

		/**
		 * Reads the grants of a record: one {@link Grant}, or a {@link Grants} record. A grant of a
		 * list that cannot be read is left out and counted in {@code skipped}.
		 */
		public static java.util.List<Grant> decodeAny(byte[] bytes, java.util.function.Consumer<RuntimeException> skipped) {
			if (Report.typeOf(bytes) == GRANT) {
				return java.util.List.of(Grant.decode(bytes));
			}
			return read(bytes, (in) -> {
				byte type = in.readByte();
				if (type != GRANTS) {
					throw new MalformedRecordException("not a grant: type " + type);
				}
				int count = in.readInt();
				if (count < 0 || count > 2 * MAX_BATCH_REQUESTS) {
					throw new MalformedRecordException("grants record with " + count + " grants");
				}
				java.util.List<Grant> grants = new java.util.ArrayList<>(Math.min(count, 64));
				for (int i = 0; i < count; i++) {
					byte[] grant = nested(in);
					try {
						grants.add(Grant.decode(grant));
					}
					catch (MalformedRecordException ex) {
						skipped.accept(ex);
					}
				}
				return grants;
			});
		}

	}

	/** A length-prefixed nested record, its length checked against what is left. */
	private static byte[] nested(DataInputStream in) throws IOException {
		int length = in.readInt();
		if (length < 0 || length > in.available()) {
			throw new MalformedRecordException("nested record of " + length + " bytes, " + in.available() + " left");
		}
		byte[] bytes = new byte[length];
		in.readFully(bytes);
		return bytes;
	}

	/** The longest instance id a record may carry. */
	static final int MAX_INSTANCE_ID_LENGTH = 255;

	static void checkInstance(String instance) {
		if (instance.isEmpty() || instance.length() > MAX_INSTANCE_ID_LENGTH) {
			throw new MalformedRecordException("instance id of " + instance.length() + " characters (1 to "
					+ MAX_INSTANCE_ID_LENGTH + ")");
		}
	}

	/** Writes a record body after the version byte. */
	interface Writer {

		void write(DataOutputStream out) throws IOException;

	}

	/** Reads a record body after the version byte. */
	interface Reader<T> {

		T read(DataInputStream in) throws IOException;

	}

	static byte[] write(Writer writer) {
		Output bytes = new Output();
		try (DataOutputStream out = new DataOutputStream(bytes)) {
			out.writeByte(VERSION);
			writer.write(out);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return bytes.toByteArray();
	}

	static <T> T read(byte[] bytes, Reader<T> reader) {
		if (bytes == null || bytes.length == 0) {
			throw new MalformedRecordException("empty record");
		}
		try (DataInputStream in = new DataInputStream(new Input(bytes))) {
			byte version = in.readByte();
			if (version != VERSION) {
				throw new MalformedRecordException("unsupported format version " + version);
			}
			T value = reader.read(in);
			if (in.available() > 0) {
				throw new MalformedRecordException(in.available() + " unexpected trailing bytes");
			}
			return value;
		}
		catch (IOException ex) {
			throw new MalformedRecordException("truncated record: " + ex);
		}
	}

	/**
	 * A byte array output without the locks of {@code ByteArrayOutputStream}: every record the
	 * authority and the clients encode is written by one thread, field by field.
	 */
	private static final class Output extends java.io.OutputStream {

		private byte[] bytes = new byte[256]; // a key's state with an instance or two fits

		private int size;

		@Override
		public void write(int b) {
			ensure(1);
			this.bytes[this.size++] = (byte) b;
		}

		@Override
		public void write(byte[] b, int off, int len) {
			java.util.Objects.checkFromIndexSize(off, len, b.length);
			ensure(len);
			System.arraycopy(b, off, this.bytes, this.size, len);
			this.size += len;
		}

		private void ensure(int more) {
			if (this.size + more > this.bytes.length) {
				this.bytes = java.util.Arrays.copyOf(this.bytes, Math.max(this.bytes.length * 2, this.size + more));
			}
		}

		byte[] toByteArray() {
			return java.util.Arrays.copyOf(this.bytes, this.size);
		}

	}

	/** A byte array input without the locks of {@code ByteArrayInputStream} (see {@link Output}). */
	private static final class Input extends java.io.InputStream {

		private final byte[] bytes;

		private int position;

		Input(byte[] bytes) {
			this.bytes = bytes;
		}

		@Override
		public int read() {
			return (this.position < this.bytes.length) ? (this.bytes[this.position++] & 0xff) : -1;
		}

		@Override
		public int read(byte[] b, int off, int len) {
			java.util.Objects.checkFromIndexSize(off, len, b.length);
			if (len == 0) {
				return 0;
			}
			int left = this.bytes.length - this.position;
			if (left <= 0) {
				return -1;
			}
			int n = Math.min(len, left);
			System.arraycopy(this.bytes, this.position, b, off, n);
			this.position += n;
			return n;
		}

		@Override
		public int available() {
			return this.bytes.length - this.position;
		}

	}

}
