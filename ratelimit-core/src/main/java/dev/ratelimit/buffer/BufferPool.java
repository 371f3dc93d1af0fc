package dev.ratelimit.buffer;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

import dev.ratelimit.ConcurrencyLimiter;
import dev.ratelimit.RateLimiter;
import dev.ratelimit.Scheduler;
import dev.ratelimit.Ticker;
import dev.ratelimit.buffer.Batching.Batch;

/**
 * A bounded buffer that hands items to a {@link FlushHandler} in batches, in the order they were
 * offered, and applies backpressure when the handler cannot keep up.
 *
 * <pre class="code">
 * BufferPool&lt;ProducerRecord&lt;String, byte[]&gt;&gt; pool = BufferPool.builder(producer::sendBatch)
 * 	.maxItems(10_000)
 * 	.maxBytes(64 * 1024 * 1024)
 * 	.sizeInBytes((record) -&gt; record.value().length)
 * 	.maxBatchSize(500)
 * 	.maxAge(Duration.ofMillis(200))
 * 	.limiter(RateLimiter.of("downstream", RateLimit.perSecond(2000)))
 * 	.build();
 *
 * if (!pool.offer(record)) {
 * 	// full: the handler is behind; slow the source down
 * }
 * </pre>
 *
 * <p><b>Bounds.</b> The buffer holds at most {@code maxItems} items and {@code maxBytes} bytes (as
 * measured by {@code sizeInBytes}), counting the batch being delivered. {@link #offer(Object)}
 * refuses at once when an item does not fit; {@link #offer(Object, Duration)} waits for room, at
 * most its timeout. Memory is bounded whatever the handler does.
 *
 * <p><b>Flushing.</b> A batch of up to {@code maxBatchSize} items and {@code maxBatchBytes} bytes
 * is flushed as soon as that many are buffered, or when the oldest buffered item is
 * {@code maxAge} old, whichever comes first; {@link #flush()} forces out what is buffered now. One
 * batch is in flight at a time. With a {@code limiter}, each delivery attempt first takes one
 * permit per item of the batch, waiting for them without parking a thread.
 *
 * <p><b>No loss, no reordering.</b> A batch whose handler call throws stays at the head of the
 * buffer and is retried, the same batch, after an exponential backoff, before anything newer; items
 * offered meanwhile queue behind it and count against the bounds, which is what pushes back on
 * producers. (Should the limiter's capacity drop below the batch's size meanwhile, the batch is
 * split, in order, since it could never be permitted whole.) Retries go on until the batch is
 * delivered or {@link #close()} gives up on it. Ordering is total: batches, and items within them,
 * follow the global offer order, so items of any one key (or any one producer thread) are also
 * delivered in order. Delivery is at least once: a batch is delivered again after a failed attempt,
 * even if that attempt wrote part of it.
 *
 * <p><b>Close.</b> {@link #close()} stops accepting items (offers then throw
 * {@link IllegalStateException}), flushes everything left, retries included, for at most
 * {@code closeTimeout}, and reports what it could not deliver; see {@link #close(Duration)}.
 *
 * <p><b>Time and threads.</b> Ages, backoffs and timeouts are measured on the injected
 * {@link Ticker} and scheduled on the injected {@link Scheduler}, so tests drive them with a
 * manual clock. The handler runs on the flush {@link Executor}: by default a dedicated daemon
 * thread per pool, started on first use and stopped by close.
 *
 * <p>All methods are thread-safe. The pool takes a lock for each call; offers from many threads
 * are serialized there, never while the handler or the limiter runs.
 *
 * @param <T> the type of the items
 */
public final class BufferPool<T> implements AutoCloseable {


	// How it is built: the pool coordinates its parts, each a package-private class that owns its
	// state and says which of it the lock guards: BufferBounds (what is held, against maxItems,
	// maxBytes and the low-water mark), Batching (the queue, the batch in flight and when the next
	// one is due), FlushPacing (the limiter and the permit wait in flight), RetryBackoff (the wait
	// after a failure) and Closing (open, closing or closed, and what close gave up on). One lock
	// guards them all, so that an offer, a delivery and a close each see and change them together;
	// the size function, the limiter, the handler and flush futures are called without it.

	private static final System.Logger logger = System.getLogger(BufferPool.class.getName());

	/** Default of {@link Builder#maxItems(int)}. */
	static final int DEFAULT_MAX_ITEMS = 10_000;

	/** Default of {@link Builder#maxBatchSize(int)}, lowered to fit the bound and the limiter. */
	static final int DEFAULT_MAX_BATCH_SIZE = 100;

	static final Duration DEFAULT_MAX_AGE = Duration.ofSeconds(1);

	static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);

	static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);

	static final double DEFAULT_BACKOFF_MULTIPLIER = 2.0;

	static final double DEFAULT_LOW_WATER_MARK = 0.5;

	static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(30);

	private static final BufferPoolListener<Object> NO_LISTENER = new BufferPoolListener<>() {
	};

	/** A {@link #flush()} waiting for the first {@code upTo} offered items to be delivered. */
	private record FlushRequest(long upTo, CompletableFuture<Void> future) {
	}

	private final String name;

	private final FlushHandler<T> handler;

	private final int maxItems;

	private final long maxBytes;

	private final Duration closeTimeout;

	private final BufferPoolListener<T> listener;

	private final Ticker ticker;

	private final Scheduler scheduler;

	private final Executor executor;

	/** The default executor, which the pool shuts down on close; null for a user's executor. */
	private final ExecutorService ownedExecutor;

	private final RetryBackoff backoff;

	private final FlushPacing pacing;

	private final ReentrantLock lock = new ReentrantLock();

	/** Signalled when room is freed, when the pool closes and when a timed offer's wait ends. */
	private final Condition roomOrClosed = this.lock.newCondition();

	/** Signalled when a batch is delivered and when the close timeout passes. */
	private final Condition settled = this.lock.newCondition();

	/** The thread running the handler, if any, to refuse a close() from inside the handler. */
	private volatile Thread deliveringThread;

	// Everything below is guarded by the lock, FlushPacing's permit wait above included.

	private final BufferBounds<T> bounds;

	private final Batching<T> batching;

	private final Closing<T> closing;

	/** Wakes timed offers on the pool's scheduler, so that a manual clock can end their wait. */
	private final EarliestTimer offerWakeUp;

	private long offered;

	private long refused;

	private long flushed;

	private long batches;

	private long failedAttempts;

	/** Items up to this offer count must be flushed without waiting for size or age. */
	private long forcedUpTo;

	/** Pending {@link #flush()} futures; their {@code upTo} never decreases. */
	private final ArrayDeque<FlushRequest> flushRequests = new ArrayDeque<>();

	@SuppressWarnings("unchecked")
	private BufferPool(Builder<T> builder, int maxBatchSize, long maxBatchBytes) {
		this.name = builder.name;
		this.handler = builder.handler;
		this.maxItems = builder.maxItems;
		this.maxBytes = builder.maxBytes;
		this.closeTimeout = builder.closeTimeout;
		// the listener only consumes items, so one for a supertype of T is safe to use as one for T
		this.listener = (BufferPoolListener<T>) builder.listener;
		this.ticker = builder.ticker;
		this.scheduler = builder.scheduler;
		this.ownedExecutor = (builder.executor != null) ? null : defaultExecutor(builder.name);
		this.executor = (builder.executor != null) ? builder.executor : this.ownedExecutor;
		this.backoff = new RetryBackoff(nanos(builder.initialBackoff), nanos(builder.maxBackoff),
				builder.backoffMultiplier);
		this.pacing = new FlushPacing(builder.limiter);
		this.bounds = new BufferBounds<>(builder.name, builder.maxItems, builder.maxBytes, builder.sizeInBytes,
				builder.lowWaterMark);
		this.batching = new Batching<>(maxBatchSize, maxBatchBytes, nanos(builder.maxAge), this.pacing,
				builder.scheduler, this::ageCheck);
		this.closing = new Closing<>(builder.name);
		this.offerWakeUp = new EarliestTimer(builder.scheduler, this::wakeUpOffers);
	}

	/**
	 * Starts building a pool that delivers batches to {@code handler}.
	 * @param <T> the type of the items
	 * @param handler the handler
	 * @return the builder
	 */
	public static <T> Builder<T> builder(FlushHandler<T> handler) {
		return new Builder<>(handler);
	}

	/**
	 * Returns the pool's name, used in thread names and messages.
	 * @return the name
	 */
	public String name() {
		return this.name;
	}

	/**
	 * Returns the most items the buffer holds, the batch in flight included.
	 * @return {@code maxItems}
	 */
	public int maxItems() {
		return this.maxItems;
	}

	/**
	 * Returns the most bytes the buffer holds, as measured by {@code sizeInBytes}.
	 * @return {@code maxBytes}, {@link Long#MAX_VALUE} when there is no byte bound
	 */
	public long maxBytes() {
		return this.maxBytes;
	}

	/**
	 * Returns how long {@link #close()} waits for what is left to be delivered.
	 * @return {@code closeTimeout}
	 */
	public Duration closeTimeout() {
		return this.closeTimeout;
	}

	/**
	 * Adds an item if there is room for it now, without waiting.
	 * @param item the item, not null
	 * @return whether the item was accepted; {@code false} when the buffer is full
	 * @throws IllegalStateException if the pool is closed (or closing)
	 * @throws IllegalArgumentException if the item alone is larger than {@code maxBytes}, or its
	 * size is negative
	 */
	public boolean offer(T item) {
		long itemBytes = this.bounds.sizeOf(item);
		Batch<T> start;
		this.lock.lock();
		try {
			this.closing.checkOpen();
			if (!this.bounds.hasRoom(itemBytes)) {
				refuse(item);
				return false;
			}
			start = accept(item, itemBytes);
		}
		finally {
			this.lock.unlock();
		}
		deliverLater(start);
		return true;
	}

	/**
	 * Adds an item, waiting at most {@code timeout} for room. Waiting offers are not served in
	 * arrival order, and a smaller item may pass a larger one that does not fit yet. The timeout is
	 * measured on the pool's ticker and is never exceeded in real time either.
	 * @param item the item, not null
	 * @param timeout the longest wait, zero for none
	 * @return whether the item was accepted; {@code false} when no room was made in time
	 * @throws InterruptedException if interrupted while waiting; the item was not added
	 * @throws IllegalStateException if the pool is closed, or closes while the offer waits
	 * @throws IllegalArgumentException if the timeout is negative, the item alone is larger than
	 * {@code maxBytes}, or its size is negative
	 */
	public boolean offer(T item, Duration timeout) throws InterruptedException {
		long timeoutNanos = nanos(checkTimeout(timeout));
		long itemBytes = this.bounds.sizeOf(item);
		Batch<T> start;
		this.lock.lockInterruptibly();
		try {
			this.closing.checkOpen();
			if (!this.bounds.hasRoom(itemBytes)) {
				becameFull();
				Deadline deadline = Deadline.after(timeoutNanos, this.ticker.read());
				do {
					long now = this.ticker.read();
					long left = deadline.remainingNanos(now);
					if (left <= 0) {
						refuse(item);
						return false;
					}
					// one wake-up serves every offer due by then; those due later ask again when it wakes them
					this.offerWakeUp.atMost(left, now);
					this.roomOrClosed.awaitNanos(left);
					this.closing.checkOpen();
				}
				while (!this.bounds.hasRoom(itemBytes));
			}
			start = accept(item, itemBytes);
		}
		finally {
			this.lock.unlock();
		}
		deliverLater(start);
		return true;
	}

	/**
	 * Flushes what is buffered now without waiting for a full batch or for {@code maxAge}; pacing
	 * and retries still apply. The future completes, on the flush thread, once every item accepted
	 * before this call has been delivered, so chain non-trivial work with an {@code *Async} method.
	 * Never wait for it inside the handler, which must return for it to complete.
	 * @return a future that completes when those items are delivered, at once when there are none,
	 * or exceptionally with {@link IllegalStateException} if close gives up on them
	 */
	public CompletableFuture<Void> flush() {
		CompletableFuture<Void> future;
		Batch<T> start;
		this.lock.lock();
		try {
			if (this.closing.gaveUp()) {
				return CompletableFuture.failedFuture(this.closing.notFlushed());
			}
			if (this.flushed == this.offered) {
				return CompletableFuture.completedFuture(null);
			}
			future = new CompletableFuture<>();
			this.flushRequests.addLast(new FlushRequest(this.offered, future));
			this.forcedUpTo = this.offered;
			start = startIfDue(this.ticker.read());
		}
		finally {
			this.lock.unlock();
		}
		deliverLater(start);
		return future;
	}

	/**
	 * Returns the number of items held, the batch in flight included.
	 * @return the items held
	 */
	public int size() {
		this.lock.lock();
		try {
			return this.bounds.size();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns the bytes held, as measured by {@code sizeInBytes}, the batch in flight included.
	 * @return the bytes held
	 */
	public long bytes() {
		this.lock.lock();
		try {
			return this.bounds.bytes();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns how full the buffer is: the larger of {@code size / maxItems} and
	 * {@code bytes / maxBytes}.
	 * @return the utilization, between 0 and 1
	 */
	public double utilization() {
		this.lock.lock();
		try {
			return this.bounds.utilization();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns the counters since the pool was built, read together.
	 * @return the counters
	 */
	public BufferStats stats() {
		this.lock.lock();
		try {
			return new BufferStats(this.offered, this.refused, this.flushed, this.batches, this.failedAttempts);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns whether {@link #close()} was called: the pool accepts no more items.
	 * @return whether the pool is closed or closing
	 */
	public boolean isClosed() {
		this.lock.lock();
		try {
			return !this.closing.isOpen();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Returns the items a close gave up on, in offer order.
	 * @return the items not delivered by close, empty before close or when everything was delivered
	 */
	public List<T> unflushed() {
		this.lock.lock();
		try {
			return this.closing.unflushed();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Closes the pool with the configured {@code closeTimeout}; see {@link #close(Duration)}.
	 * @throws IllegalStateException if items were left undelivered (they are in
	 * {@link #unflushed()}), so that they cannot go unnoticed; or if called from the handler or a
	 * listener
	 */
	@Override
	public void close() {
		List<T> left = close(this.closeTimeout);
		if (!left.isEmpty()) {
			throw notFlushed();
		}
	}

	/**
	 * Stops accepting items, flushes everything left and waits at most {@code timeout} for it to
	 * be delivered. Batches are formed and paced as usual and failed ones retried with their
	 * backoff, without waiting for a full batch or for {@code maxAge}. Offers made after this, or
	 * waiting when it is called, throw {@link IllegalStateException}.
	 *
	 * <p>If the timeout passes (or the calling thread is interrupted, whose flag is then set
	 * again), the pool stops retrying, cancels any permit wait and returns what it did not deliver;
	 * the listener receives it too, and {@link #flush()} futures still pending fail. When a handler
	 * call was in progress at that moment, its batch is among the items returned, though that call
	 * may still succeed: at least once, never lost.
	 *
	 * <p>Idempotent: later calls wait for the first one to finish (under its timeout) and return
	 * the same items. The default executor is shut down once nothing is left to flush.
	 * @param timeout the longest wait, zero for none
	 * @return the items not delivered, in offer order; empty when everything was delivered
	 * @throws IllegalStateException if called from the handler or a listener, where it would wait
	 * for itself
	 */
	public List<T> close(Duration timeout) {
		long timeoutNanos = nanos(checkTimeout(timeout));
		// listeners run under the lock: either way the caller would wait for a pool it holds up
		if (this.deliveringThread == Thread.currentThread() || this.lock.isHeldByCurrentThread()) {
			throw BufferErrors.closeFromCallback(this.name);
		}
		Batch<T> start = null;
		this.lock.lock();
		try {
			long now = this.ticker.read();
			if (this.closing.begin(timeout, timeoutNanos, now)) {
				this.roomOrClosed.signalAll(); // waiting offers fail now
				this.scheduler.schedule(this::closeTimeoutPassed, EarliestTimer.clamp(timeoutNanos));
				start = startIfDue(now);
			}
		}
		finally {
			this.lock.unlock();
		}
		deliverLater(start);
		return awaitClosed();
	}

	@Override
	public String toString() {
		this.lock.lock();
		try {
			return "BufferPool[" + this.name + ", " + this.bounds + ", " + this.closing.state() + "]";
		}
		finally {
			this.lock.unlock();
		}
	}

	/** The wait after the given failed attempt, in nanoseconds. */
	long backoffNanos(int attempt) {
		return this.backoff.afterAttempt(attempt);
	}

	// ---- offers (under the lock) ---------------------------------------------------------------

	private Batch<T> accept(T item, long itemBytes) {
		// read under the lock, so that offer times never decrease along the queue
		long now = this.ticker.read();
		this.batching.add(item, itemBytes, now);
		this.offered++;
		if (this.bounds.add(itemBytes)) {
			emitFull();
		}
		return startIfDue(now);
	}

	private void refuse(T item) {
		this.refused++;
		becameFull();
		double utilization = this.bounds.utilization();
		emit((listener) -> listener.onRefused(item, utilization));
	}

	private void becameFull() {
		if (this.bounds.becomeFull()) {
			emitFull();
		}
	}

	private void emitFull() {
		double utilization = this.bounds.utilization();
		emit((listener) -> listener.onFull(utilization));
	}

	private void wakeUpOffers(long due) {
		this.lock.lock();
		try {
			this.offerWakeUp.ran(due);
			this.roomOrClosed.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	// ---- starting batches ----------------------------------------------------------------------

	/** Under the lock: the next batch to deliver if one is due, else null. */
	private Batch<T> startIfDue(long now) {
		// forcedUpTo > flushed with no batch in flight means the head itself was offered before a flush()
		boolean forced = !this.closing.isOpen() || this.forcedUpTo > this.flushed;
		return this.batching.startIfDue(now, forced);
	}

	private void ageCheck(long due) {
		Batch<T> start;
		this.lock.lock();
		try {
			this.batching.ageCheckRan(due);
			start = startIfDue(this.ticker.read());
		}
		finally {
			this.lock.unlock();
		}
		deliverLater(start);
	}

	// ---- delivering (without the lock, taking it for each step) --------------------------------

	private void deliverLater(Batch<T> start) {
		if (start != null) {
			dispatch(start, () -> deliver(start, false));
		}
	}

	private void dispatch(Batch<T> target, Runnable task) {
		try {
			this.executor.execute(task);
		}
		catch (RejectedExecutionException ex) {
			// a saturated or shut-down executor fails this attempt; the retry tries it again
			failed(target, ex);
		}
	}

	private boolean isInFlight(Batch<T> target) {
		this.lock.lock();
		try {
			return this.batching.isInFlight(target);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Delivers the batch in flight and then, in the same task, each next batch that is due, so a
	 * direct executor does not recurse. Returns when nothing is due, when waiting for permits or
	 * for a retry (the wait continues with a new task), or when close gave up on the batch.
	 */
	private void deliver(Batch<T> first, boolean permitsTaken) {
		Batch<T> current = first;
		boolean taken = permitsTaken;
		while (current != null) {
			if (!isInFlight(current)) {
				if (taken) {
					this.pacing.release(current.size());
				}
				return;
			}
			if (!taken && this.pacing.isPaced()) {
				current = fitToCapacity(current);
				if (current == null || !takePermits(current)) {
					return;
				}
			}
			current = attempt(current);
			taken = false;
		}
	}

	private Batch<T> fitToCapacity(Batch<T> target) {
		this.lock.lock();
		try {
			return this.batching.fitToCapacity(target);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Takes one permit per item. Returns true when they were taken at once; otherwise the wait
	 * continues asynchronously (no thread is parked) or a retry is scheduled, and returns false.
	 */
	private boolean takePermits(Batch<T> target) {
		CompletableFuture<Boolean> permits;
		try {
			permits = this.pacing.acquire(target.size());
		}
		catch (RuntimeException ex) {
			failed(target, ex);
			return false;
		}
		if (permits.isDone()) {
			return permitted(target, permits);
		}
		boolean abandoned;
		this.lock.lock();
		try {
			abandoned = !this.batching.isInFlight(target);
			if (!abandoned) {
				this.pacing.waitFor(permits);
			}
		}
		finally {
			this.lock.unlock();
		}
		if (abandoned) {
			permits.cancel(false); // the limiter gives the permits back
			return false;
		}
		// completion runs on the limiter's scheduler thread: hand the delivery to the executor
		permits.whenComplete((granted, error) -> dispatch(target, () -> {
			if (permitted(target, permits)) {
				deliver(target, true);
			}
		}));
		return false;
	}

	/** Reads a completed permit wait; true when the batch may be delivered now. */
	private boolean permitted(Batch<T> target, CompletableFuture<Boolean> permits) {
		boolean granted = false;
		Throwable error = null;
		try {
			granted = Boolean.TRUE.equals(permits.join());
		}
		catch (CancellationException ex) {
			error = ex;
		}
		catch (CompletionException ex) {
			error = (ex.getCause() != null) ? ex.getCause() : ex;
		}
		boolean release = false;
		this.lock.lock();
		try {
			this.pacing.waited(permits);
			if (!this.batching.isInFlight(target)) {
				release = granted;
				return false;
			}
			if (error != null) {
				failedLocked(target, error);
				return false;
			}
			if (!granted) {
				// the limiter cannot tell when permits will come: look again later, not in a loop
				retryIn(target, this.backoff.initialNanos());
				return false;
			}
			return true;
		}
		finally {
			this.lock.unlock();
			if (release) {
				this.pacing.release(target.size());
			}
		}
	}

	/** Calls the handler once; returns the next batch to deliver at once, or null. */
	private Batch<T> attempt(Batch<T> target) {
		long start = this.ticker.read();
		Throwable failure = null;
		this.deliveringThread = Thread.currentThread();
		try {
			this.handler.flush(target.items);
		}
		catch (Throwable ex) {
			// anything thrown, errors included, means not delivered; letting it escape would strand
			// the batch in flight and stop every later flush
			failure = ex;
		}
		finally {
			this.deliveringThread = null;
			this.pacing.release(target.size());
		}
		long end = this.ticker.read();
		List<FlushRequest> done;
		Batch<T> next;
		this.lock.lock();
		try {
			if (!this.batching.isInFlight(target)) {
				return null; // close gave up on it while the handler ran; its items were handed back
			}
			if (failure != null) {
				failedLocked(target, failure);
				return null;
			}
			next = deliveredLocked(target, end - start, end);
			done = completedRequests();
		}
		finally {
			this.lock.unlock();
		}
		for (FlushRequest request : done) {
			request.future().complete(null);
		}
		return next;
	}

	private Batch<T> deliveredLocked(Batch<T> target, long latencyNanos, long end) {
		this.batching.delivered();
		int count = target.size();
		this.bounds.remove(count, target.bytes);
		this.flushed += count;
		this.batches++;
		double utilization = this.bounds.utilization();
		long waitNanos = end - target.oldestOfferedAt;
		emit((listener) -> listener.onFlushed(count, latencyNanos, waitNanos, utilization));
		if (this.bounds.drain()) {
			emit((listener) -> listener.onDrained(utilization));
		}
		this.roomOrClosed.signalAll();
		this.settled.signalAll();
		return startIfDue(this.ticker.read());
	}

	private List<FlushRequest> completedRequests() {
		List<FlushRequest> done = new ArrayList<>(0);
		while (!this.flushRequests.isEmpty() && this.flushRequests.peekFirst().upTo() <= this.flushed) {
			done.add(this.flushRequests.pollFirst());
		}
		return done;
	}

	// ---- retrying ------------------------------------------------------------------------------

	private void failed(Batch<T> target, Throwable error) {
		this.lock.lock();
		try {
			if (this.batching.isInFlight(target)) {
				failedLocked(target, error);
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	private void failedLocked(Batch<T> target, Throwable error) {
		this.failedAttempts++;
		int attempt = ++target.failures;
		long backoff = this.backoff.afterAttempt(attempt);
		double utilization = this.bounds.utilization();
		emit((listener) -> listener.onFlushFailed(target.size(), attempt, error, backoff, utilization));
		retryIn(target, backoff);
	}

	private void retryIn(Batch<T> target, long delayNanos) {
		this.scheduler.schedule(() -> dispatch(target, () -> deliver(target, false)),
				EarliestTimer.clamp(delayNanos));
	}

	// ---- closing -------------------------------------------------------------------------------

	private void closeTimeoutPassed() {
		this.lock.lock();
		try {
			this.settled.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Waits until everything is delivered or the close timeout passes, then settles the pool. The
	 * timeout is measured on the ticker, with real time as a backstop so that a manual or broken
	 * clock cannot hold close() past it.
	 */
	private List<T> awaitClosed() {
		boolean interrupted = false;
		boolean settledHere = false;
		CompletableFuture<Boolean> permitsToCancel = null;
		List<FlushRequest> requestsToFail = List.of();
		List<T> result;
		this.lock.lock();
		try {
			while (this.closing.isClosing()) {
				if (this.bounds.size() == 0) {
					this.closing.closed(List.of());
					this.settled.signalAll(); // other closers return too
					settledHere = true;
					break;
				}
				long left = this.closing.remainingNanos(this.ticker.read());
				if (left <= 0 || interrupted) {
					permitsToCancel = this.pacing.forget();
					requestsToFail = new ArrayList<>(this.flushRequests);
					abandonLocked();
					this.settled.signalAll(); // other closers return too
					settledHere = true;
					break;
				}
				try {
					this.settled.awaitNanos(left);
				}
				catch (InterruptedException ex) {
					interrupted = true;
				}
			}
			result = this.closing.unflushed();
		}
		finally {
			this.lock.unlock();
		}
		if (settledHere) {
			if (permitsToCancel != null) {
				permitsToCancel.cancel(false);
			}
			for (FlushRequest request : requestsToFail) {
				request.future().completeExceptionally(notFlushed());
			}
			if (this.ownedExecutor != null) {
				this.ownedExecutor.shutdown();
			}
		}
		if (interrupted) {
			Thread.currentThread().interrupt();
		}
		return result;
	}

	/** Hands back everything not delivered, the batch in flight first, and forgets it. */
	private void abandonLocked() {
		List<T> left = this.batching.abandon(this.bounds.size());
		this.bounds.clear();
		this.flushRequests.clear();
		this.closing.closed(left);
		if (!left.isEmpty()) {
			List<T> items = this.closing.unflushed();
			emit((listener) -> listener.onAbandoned(items));
		}
	}

	private IllegalStateException notFlushed() {
		this.lock.lock();
		try {
			return this.closing.notFlushed();
		}
		finally {
			this.lock.unlock();
		}
	}

	// ---- helpers -------------------------------------------------------------------------------

	private void emit(Consumer<BufferPoolListener<T>> event) {
		if (this.listener == NO_LISTENER) {
			return;
		}
		try {
			event.accept(this.listener);
		}
		catch (RuntimeException ex) {
			// a listener must not break the pool; its failure is still worth seeing
			logger.log(System.Logger.Level.WARNING, "Listener of buffer '" + this.name + "' failed", ex);
		}
	}

	private static Duration checkTimeout(Duration timeout) {
		Objects.requireNonNull(timeout, "timeout");
		if (timeout.isNegative()) {
			throw BufferErrors.negative("timeout", timeout, "it is the longest wait, zero for none");
		}
		return timeout;
	}

	static long nanos(Duration duration) {
		try {
			return duration.toNanos();
		}
		catch (ArithmeticException ex) {
			return Long.MAX_VALUE;
		}
	}

	private static ExecutorService defaultExecutor(String name) {
		// one thread: flushes are sequential anyway; it ends when idle and is started again on demand
		ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
				(runnable) -> {
					Thread thread = new Thread(runnable, "ratelimit-buffer-" + name);
					thread.setDaemon(true);
					return thread;
				});
		executor.allowCoreThreadTimeOut(true);
		return executor;
	}

	/**
	 * Builds a {@link BufferPool}. Every value has a default; all are checked together by
	 * {@link #build()}, since several are bounded by others. Not thread-safe.
	 *
	 * @param <T> the type of the items
	 */
	public static final class Builder<T> {

		private final FlushHandler<T> handler;

		private String name = "buffer";

		private int maxItems = DEFAULT_MAX_ITEMS;

		private long maxBytes = Long.MAX_VALUE;

		private ToLongFunction<? super T> sizeInBytes = (item) -> 0;

		private int maxBatchSize;

		private boolean maxBatchSizeSet;

		private long maxBatchBytes;

		private boolean maxBatchBytesSet;

		private Duration maxAge = DEFAULT_MAX_AGE;

		private RateLimiter limiter;

		private Duration initialBackoff = DEFAULT_INITIAL_BACKOFF;

		private Duration maxBackoff = DEFAULT_MAX_BACKOFF;

		private double backoffMultiplier = DEFAULT_BACKOFF_MULTIPLIER;

		private double lowWaterMark = DEFAULT_LOW_WATER_MARK;

		private Duration closeTimeout = DEFAULT_CLOSE_TIMEOUT;

		private BufferPoolListener<? super T> listener = NO_LISTENER;

		private Ticker ticker = Ticker.system();

		private Scheduler scheduler = Scheduler.system();

		private Executor executor;

		private Builder(FlushHandler<T> handler) {
			this.handler = Objects.requireNonNull(handler, "handler");
		}

		private Builder(Builder<T> settings, FlushHandler<T> handler) {
			this(handler);
			this.name = settings.name;
			this.maxItems = settings.maxItems;
			this.maxBytes = settings.maxBytes;
			this.sizeInBytes = settings.sizeInBytes;
			this.maxBatchSize = settings.maxBatchSize;
			this.maxBatchSizeSet = settings.maxBatchSizeSet;
			this.maxBatchBytes = settings.maxBatchBytes;
			this.maxBatchBytesSet = settings.maxBatchBytesSet;
			this.maxAge = settings.maxAge;
			this.limiter = settings.limiter;
			this.initialBackoff = settings.initialBackoff;
			this.maxBackoff = settings.maxBackoff;
			this.backoffMultiplier = settings.backoffMultiplier;
			this.lowWaterMark = settings.lowWaterMark;
			this.closeTimeout = settings.closeTimeout;
			this.listener = settings.listener;
			this.ticker = settings.ticker;
			this.scheduler = settings.scheduler;
			this.executor = settings.executor;
		}

		/**
		 * Returns a new builder with this one's values and another handler; this builder is left
		 * as it is. For a component that builds a pool again later, for example after a restart,
		 * with a fresh handler each time: it keeps a copy, which later changes to this builder do
		 * not reach.
		 * @param handler the handler of the pools the new builder builds
		 * @return the new builder
		 */
		public Builder<T> withHandler(FlushHandler<T> handler) {
			return new Builder<>(this, handler);
		}

		/**
		 * Sets the name used in thread names and messages. Default {@code "buffer"}.
		 * @param name the name
		 * @return this builder
		 */
		public Builder<T> name(String name) {
			this.name = Objects.requireNonNull(name, "name");
			return this;
		}

		/**
		 * Sets the most items the buffer holds, the batch in flight included. Default
		 * {@code 10000}.
		 * @param maxItems positive
		 * @return this builder
		 */
		public Builder<T> maxItems(int maxItems) {
			this.maxItems = maxItems;
			return this;
		}

		/**
		 * Sets the most bytes the buffer holds, as measured by {@link #sizeInBytes}, the batch in
		 * flight included. Default {@link Long#MAX_VALUE}: no byte bound.
		 * @param maxBytes positive
		 * @return this builder
		 */
		public Builder<T> maxBytes(long maxBytes) {
			this.maxBytes = maxBytes;
			return this;
		}

		/**
		 * Sets how an item's size in bytes is measured, for {@code maxBytes} and
		 * {@code maxBatchBytes}. Called once per offer, outside the pool's lock; must return zero or
		 * more. Default: every item counts 0 bytes.
		 * @param sizeInBytes the size function
		 * @return this builder
		 */
		public Builder<T> sizeInBytes(ToLongFunction<? super T> sizeInBytes) {
			this.sizeInBytes = Objects.requireNonNull(sizeInBytes, "sizeInBytes");
			return this;
		}

		/**
		 * Sets the most items in one batch; a batch is flushed as soon as this many are buffered.
		 * Default {@code 100}, lowered to {@code maxItems} and to the limiter's capacity when those
		 * are smaller.
		 * @param maxBatchSize positive, at most {@code maxItems} and the limiter's capacity
		 * @return this builder
		 */
		public Builder<T> maxBatchSize(int maxBatchSize) {
			this.maxBatchSize = maxBatchSize;
			this.maxBatchSizeSet = true;
			return this;
		}

		/**
		 * Sets the most bytes in one batch; a batch is flushed as soon as this many are buffered.
		 * An item larger than this is flushed in a batch of its own. Default {@code maxBytes}.
		 * @param maxBatchBytes positive, at most {@code maxBytes}
		 * @return this builder
		 */
		public Builder<T> maxBatchBytes(long maxBatchBytes) {
			this.maxBatchBytes = maxBatchBytes;
			this.maxBatchBytesSet = true;
			return this;
		}

		/**
		 * Sets how long the oldest item may wait before a batch smaller than the size bounds is
		 * flushed. Zero flushes whatever is buffered whenever the handler is free. Default 1
		 * second.
		 * @param maxAge zero or more
		 * @return this builder
		 */
		public Builder<T> maxAge(Duration maxAge) {
			this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
			return this;
		}

		/**
		 * Sets a limiter that paces flushes: before each delivery attempt, retries included, the
		 * pool takes one permit per item of the batch, waiting for them asynchronously. A
		 * {@link ConcurrencyLimiter}'s permits are given back when the attempt ends. Batches never
		 * exceed the limiter's capacity. Default: none.
		 * @param limiter the limiter
		 * @return this builder
		 */
		public Builder<T> limiter(RateLimiter limiter) {
			this.limiter = Objects.requireNonNull(limiter, "limiter");
			return this;
		}

		/**
		 * Sets the wait before the first retry of a failed batch. Default 100 milliseconds.
		 * @param initialBackoff positive
		 * @return this builder
		 */
		public Builder<T> initialBackoff(Duration initialBackoff) {
			this.initialBackoff = Objects.requireNonNull(initialBackoff, "initialBackoff");
			return this;
		}

		/**
		 * Sets the longest wait between retries. Default 30 seconds.
		 * @param maxBackoff at least {@code initialBackoff}
		 * @return this builder
		 */
		public Builder<T> maxBackoff(Duration maxBackoff) {
			this.maxBackoff = Objects.requireNonNull(maxBackoff, "maxBackoff");
			return this;
		}

		/**
		 * Sets the factor each retry's wait grows by, up to {@code maxBackoff}. Default
		 * {@code 2.0}.
		 * @param backoffMultiplier finite, at least 1.0 (1.0 keeps the wait constant)
		 * @return this builder
		 */
		public Builder<T> backoffMultiplier(double backoffMultiplier) {
			this.backoffMultiplier = backoffMultiplier;
			return this;
		}

		/**
		 * Sets the utilization below which a buffer that was full counts as drained and
		 * {@link BufferPoolListener#onDrained(double)} is called. Default {@code 0.5}.
		 * @param lowWaterMark greater than 0, at most 1
		 * @return this builder
		 */
		public Builder<T> lowWaterMark(double lowWaterMark) {
			this.lowWaterMark = lowWaterMark;
			return this;
		}

		/**
		 * Sets how long {@link BufferPool#close()} waits for what is left to be delivered. Default
		 * 30 seconds.
		 * @param closeTimeout zero or more
		 * @return this builder
		 */
		public Builder<T> closeTimeout(Duration closeTimeout) {
			this.closeTimeout = Objects.requireNonNull(closeTimeout, "closeTimeout");
			return this;
		}

		/**
		 * Sets the listener that receives backpressure and flush events. Default: none.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder<T> listener(BufferPoolListener<? super T> listener) {
			this.listener = Objects.requireNonNull(listener, "listener");
			return this;
		}

		/**
		 * Sets the ticker ages, backoffs and timeouts are measured on. Default
		 * {@link Ticker#system()}.
		 * @param ticker the ticker
		 * @return this builder
		 */
		public Builder<T> ticker(Ticker ticker) {
			this.ticker = Objects.requireNonNull(ticker, "ticker");
			return this;
		}

		/**
		 * Sets the scheduler that runs age checks, retries and timeouts. Its tasks only hand work
		 * to the executor. Default {@link Scheduler#system()}.
		 * @param scheduler the scheduler
		 * @return this builder
		 */
		public Builder<T> scheduler(Scheduler scheduler) {
			this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
			return this;
		}

		/**
		 * Sets the executor the handler runs on. The pool gives it one task at a time (flushes are
		 * sequential) and does not shut it down. {@code Runnable::run} runs the handler on the
		 * thread that triggers the flush (an offer, a scheduler task or close), which makes tests
		 * on a manual clock deterministic; with the system scheduler it would run handlers on the
		 * scheduler's shared thread, so keep it for tests. Default: a dedicated daemon thread, shut
		 * down by close.
		 * @param executor the executor
		 * @return this builder
		 */
		public Builder<T> executor(Executor executor) {
			this.executor = Objects.requireNonNull(executor, "executor");
			return this;
		}

		/**
		 * Builds the pool.
		 * @return the pool
		 * @throws InvalidBufferSettingException if a value is out of its range; the message names it,
		 * the value, the range and the fix
		 */
		public BufferPool<T> build() {
			if (this.maxItems <= 0) {
				throw BufferErrors.notPositive("maxItems", this.maxItems,
						"it is the most items the buffer holds before offers are refused");
			}
			if (this.maxBytes <= 0) {
				throw BufferErrors.notPositive("maxBytes", this.maxBytes,
						"it is the most bytes the buffer holds, as measured by sizeInBytes; leave it unset for no "
								+ "byte bound");
			}
			long capacity = (this.limiter != null) ? this.limiter.limit().capacity() : Long.MAX_VALUE;
			int batchSize = this.maxBatchSize;
			if (this.maxBatchSizeSet) {
				if (batchSize <= 0) {
					throw BufferErrors.notPositive("maxBatchSize", batchSize,
							"it is the most items handed to the handler at once");
				}
				if (batchSize > this.maxItems) {
					throw BufferErrors.batchOverBound("maxBatchSize", batchSize, "maxItems", this.maxItems);
				}
				if (batchSize > capacity) {
					throw BufferErrors.batchOverCapacity(batchSize, this.limiter.name(), capacity);
				}
			}
			else {
				batchSize = (int) Math.min(Math.min(DEFAULT_MAX_BATCH_SIZE, this.maxItems), Math.max(1, capacity));
			}
			long batchBytes = this.maxBatchBytesSet ? this.maxBatchBytes : this.maxBytes;
			if (batchBytes <= 0) {
				throw BufferErrors.notPositive("maxBatchBytes", batchBytes,
						"it is the most bytes handed to the handler at once");
			}
			if (batchBytes > this.maxBytes) {
				throw BufferErrors.batchOverBound("maxBatchBytes", batchBytes, "maxBytes", this.maxBytes);
			}
			if (this.maxAge.isNegative()) {
				throw BufferErrors.negative("maxAge", this.maxAge,
						"it is how long the oldest item may wait for a batch to fill; zero flushes whenever the "
								+ "handler is free");
			}
			if (this.initialBackoff.isNegative() || this.initialBackoff.isZero()) {
				throw BufferErrors.notPositive("initialBackoff", this.initialBackoff,
						"it is the wait before the first retry of a failed batch");
			}
			if (this.maxBackoff.compareTo(this.initialBackoff) < 0) {
				throw BufferErrors.maxBackoffBelowInitial(this.maxBackoff, this.initialBackoff);
			}
			if (!(this.backoffMultiplier >= 1.0) || Double.isInfinite(this.backoffMultiplier)) {
				throw BufferErrors.badMultiplier(this.backoffMultiplier);
			}
			if (!(this.lowWaterMark > 0.0 && this.lowWaterMark <= 1.0)) {
				throw BufferErrors.badLowWaterMark(this.lowWaterMark);
			}
			if (this.closeTimeout.isNegative()) {
				throw BufferErrors.negative("closeTimeout", this.closeTimeout,
						"it is how long close() waits for what is left to be delivered");
			}
			return new BufferPool<>(this, batchSize, batchBytes);
		}

	}

}
