// A keyed work queue in the manner of client-go's: keys waiting are deduplicated, one key is never processed
// by two workers at once, failures are retried with per-key exponential back-off, shutdown aborts work.

/** Time as the queue and the ticker see it; tests inject a fake to drive time deterministically. */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`; the returned handle is only ever passed back to `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The process clock: Date.now and Node's timers. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}

export interface QueueLogger {
  warn(obj: object, msg: string): void;
}

export interface WorkQueueOptions {
  /**
   * Handles one key. Resolving means done (back-off forgotten); rejecting means "retry later" (back-off
   * grows). `signal` aborts when the queue shuts down; process must honour it for shutdown to be prompt.
   */
  process: (key: string, signal: AbortSignal) => Promise<void>;
  /** Workers running at most; ≥ 1. */
  concurrency: number;
  /** Retry delay after the n-th consecutive failure of a key: min(maxMs, baseMs × 2^(n−1)). */
  backoff: { baseMs: number; maxMs: number };
  clock?: Clock;
  log?: QueueLogger;
}

export interface WorkQueueStats {
  /** Keys waiting for a worker. */
  depth: number;
  /** Keys being processed. */
  inFlight: number;
  /** Keys waiting on a timer (addAfter or a retry). */
  delayed: number;
  /** Failed runs re-queued with back-off since the queue was made. */
  retries: number;
}

interface Delayed {
  dueMs: number;
  handle: unknown;
}

/**
 * Contracts:
 * - `add(key)` while the key waits is a no-op; while it is being processed, the key is marked dirty and runs
 *   once more after the current run (many adds during a run still give one more run).
 * - At most `concurrency` keys run at a time and never the same key twice at once.
 * - Keys are handed to workers in the order they were first added (FIFO).
 * - After `shutdown()`, adds are ignored and no new run starts.
 */
export class WorkQueue {
  /** Waiting for a worker, in insertion order (a Set keeps order and dedupes). */
  private readonly waiting = new Set<string>();
  private readonly processing = new Set<string>();
  /** Added while processing: to run again afterwards. */
  private readonly dirty = new Set<string>();
  private readonly delayedAdds = new Map<string, Delayed>();
  private readonly failureCounts = new Map<string, number>();
  private readonly workers = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly clock: Clock;
  private readonly concurrency: number;
  private retries = 0;
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions) {
    if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1)
      throw new Error(`WorkQueue: concurrency must be an integer ≥ 1, got ${opts.concurrency}`);
    this.concurrency = opts.concurrency;
    this.clock = opts.clock ?? systemClock();
  }

  add(key: string): void {
    if (this.shuttingDown || this.waiting.has(key)) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.waiting.add(key);
    this.startWorkers();
  }

  /**
   * Adds the key after `delayMs` (now if ≤ 0). If the key already has a pending delayed add, the earlier of
   * the two wins.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueMs = this.clock.now() + delayMs;
    const pending = this.delayedAdds.get(key);
    if (pending) {
      if (pending.dueMs <= dueMs) return;
      this.clock.clearTimer(pending.handle);
    }
    const handle = this.clock.setTimer(() => {
      this.delayedAdds.delete(key);
      this.add(key);
    }, delayMs);
    this.delayedAdds.set(key, { dueMs, handle });
  }

  /** Drops the key's back-off history and any pending delayed add; a waiting or running key is unaffected. */
  forget(key: string): void {
    this.failureCounts.delete(key);
    const pending = this.delayedAdds.get(key);
    if (pending) {
      this.clock.clearTimer(pending.handle);
      this.delayedAdds.delete(key);
    }
  }

  /** Consecutive failed runs of the key (0 after a success or `forget`). */
  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  stats(): WorkQueueStats {
    return {
      depth: this.waiting.size,
      inFlight: this.processing.size,
      delayed: this.delayedAdds.size,
      retries: this.retries,
    };
  }

  /**
   * Stops taking work, drops waiting and delayed keys, aborts the signal of runs in flight and resolves once
   * every worker has stopped, or after `timeoutMs` (then `drained` is false: some `process` ignored its signal).
   */
  async shutdown(timeoutMs = 30_000): Promise<{ drained: boolean }> {
    this.shuttingDown = true;
    this.waiting.clear();
    this.dirty.clear();
    for (const d of this.delayedAdds.values()) this.clock.clearTimer(d.handle);
    this.delayedAdds.clear();
    this.abort.abort(new Error('work queue shut down'));
    let timer: unknown;
    const timedOut = new Promise<false>((resolve) => {
      timer = this.clock.setTimer(() => resolve(false), timeoutMs);
    });
    const drained = await Promise.race([Promise.all(this.workers).then(() => true as const), timedOut]);
    this.clock.clearTimer(timer);
    return { drained };
  }

  /** Starts a worker for each waiting key while below `concurrency`; each claims its first key right away. */
  private startWorkers(): void {
    while (this.workers.size < this.concurrency) {
      const key = this.claim();
      if (key === undefined) return;
      const worker: Promise<void> = this.work(key).finally(() => {
        this.workers.delete(worker);
        // A key added while this worker was finishing saw the pool full: pick it up now.
        this.startWorkers();
      });
      this.workers.add(worker);
    }
  }

  /** Moves the oldest waiting key to `processing`. */
  private claim(): string | undefined {
    if (this.shuttingDown) return undefined;
    const key = this.waiting.values().next().value;
    if (key === undefined) return undefined;
    this.waiting.delete(key);
    this.processing.add(key);
    return key;
  }

  private async work(first: string): Promise<void> {
    // `process` never runs inside the caller of add(): the first run waits for a microtask.
    await Promise.resolve();
    for (let key: string | undefined = first; key !== undefined; key = this.claim()) {
      await this.run(key);
      this.processing.delete(key);
      if (this.dirty.delete(key) && !this.shuttingDown) this.waiting.add(key);
    }
  }

  /** One run of `process`; never rejects. */
  private async run(key: string): Promise<void> {
    const signal = this.abort.signal;
    try {
      await this.opts.process(key, signal);
      this.failureCounts.delete(key);
    } catch (err) {
      if (this.shuttingDown) return;
      const n = (this.failureCounts.get(key) ?? 0) + 1;
      this.failureCounts.set(key, n);
      const delayMs = Math.min(this.opts.backoff.maxMs, this.opts.backoff.baseMs * 2 ** (n - 1));
      this.retries++;
      this.opts.log?.warn(
        { key, failures: n, retryInMs: delayMs, error: err instanceof Error ? err.message : String(err) },
        'work item failed; retrying with back-off',
      );
      this.addAfter(key, delayMs);
    }
  }
}
