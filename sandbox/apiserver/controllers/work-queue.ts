// Keyed work queue for in-process controllers: de-duplicated keys, run on a later event-loop turn (never
// inside the write that queued them), failures retried with exponential backoff, delayed re-syncs.

export interface SyncOutcome {
  /** The sync failed (e.g. a write conflict); run it again with backoff. */
  retry?: boolean;
  /** Run it again after this long even if nothing changes (deadlines, minReadySeconds). */
  requeueAfterMs?: number;
}

export type SyncFn = (key: string) => SyncOutcome | undefined;

export interface WorkQueueOptions {
  /** Keys handled per event-loop turn before yielding to I/O. */
  batch?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called when a sync throws (a bug); the key is retried with backoff. */
  onError?: (key: string, err: unknown) => void;
}

export class WorkQueue {
  private readonly ready = new Set<string>();
  private readonly timers = new Map<string, { at: number; handle: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private scheduled = false;
  private stopped = false;
  private readonly batch: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly sync: SyncFn,
    private readonly opts: WorkQueueOptions = {},
  ) {
    this.batch = opts.batch ?? 64;
    this.baseBackoffMs = opts.baseBackoffMs ?? 5;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.ready.add(key);
    this.schedule();
  }

  /** Adds `key` after `delayMs`; an earlier pending delayed add wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const prior = this.timers.get(key);
    if (prior && prior.at <= at) return;
    if (prior) clearTimeout(prior.handle);
    const handle = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    handle.unref();
    this.timers.set(key, { at, handle });
  }

  /** Keys waiting to run now (not the delayed ones). */
  get length(): number {
    return this.ready.size;
  }

  stop(): void {
    this.stopped = true;
    this.ready.clear();
    for (const t of this.timers.values()) clearTimeout(t.handle);
    this.timers.clear();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    let n = 0;
    while (!this.stopped && n < this.batch) {
      const next = this.ready.values().next();
      if (next.done) break;
      const key = next.value;
      this.ready.delete(key);
      n++;
      this.runOne(key);
    }
    if (this.ready.size > 0) this.schedule();
  }

  private runOne(key: string): void {
    let outcome: SyncOutcome | undefined;
    try {
      outcome = this.sync(key);
    } catch (err) {
      this.opts.onError?.(key, err);
      outcome = { retry: true };
    }
    if (this.stopped) return;
    if (outcome?.retry) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      this.addAfter(key, Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (count - 1)));
      return;
    }
    this.failures.delete(key);
    if (outcome?.requeueAfterMs !== undefined) this.addAfter(key, outcome.requeueAfterMs);
  }
}
