// The per-provider background queue: notifications are enqueued synchronously and sent one at a time with
// a per-attempt timeout and bounded, backed-off retries, so a slow or dead chat service never slows the analysis.
import type { Logger } from 'pino';

/** What a Sender returns; a Sender never rejects. `aborted`: the signal fired (timeout or shutdown). */
export type SendOutcome =
  | { ok: true; status: number }
  | {
      ok: false;
      kind: 'http' | 'network' | 'aborted';
      status?: number;
      retryable: boolean;
      /** Already free of secrets. */
      message: string;
    };

/** Sends one serialized payload; must stop when signal aborts and must never reject. */
export type Sender = (body: string, signal: AbortSignal) => Promise<SendOutcome>;

export interface QueueItem {
  canary: { name: string; namespace: string };
  /** The serialized payload, fixed when the message was enqueued. */
  body: string;
}

export type FailureReason = 'timeout' | 'http' | 'network' | 'shutdown' | 'invalid';
export type DropReason = 'queue-full' | 'closed' | 'shutdown';

interface ReportBase {
  /** Provider type, e.g. 'slack'. */
  provider: string;
  /** The AlertProvider's name, when known. */
  providerName?: string;
  canary: { name: string; namespace: string };
}

/** The final outcome of one message. Messages are free of secrets. */
export type DeliveryReport =
  | (ReportBase & { kind: 'sent'; attempts: number; status: number })
  | (ReportBase & {
      kind: 'failed';
      attempts: number;
      reason: FailureReason;
      status?: number;
      message: string;
    })
  | (ReportBase & { kind: 'dropped'; reason: DropReason });

export interface QueueStats {
  enqueued: number;
  sent: number;
  failed: number;
  /** Discarded without a (complete) attempt: the queue was full, closed, or its drain time ran out. */
  dropped: number;
  /** Attempts after a message's first one. */
  retries: number;
  /** Attempts that hit the per-attempt timeout. */
  timeouts: number;
  /** Waiting now, not counting the one in flight. */
  queued: number;
}

export interface QueueOptions {
  send: Sender;
  /** Identifies the provider in reports and logs; endpoint must already be redacted. */
  provider: { type: string; name?: string | undefined; endpoint: string };
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  backoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
  maxLength?: number | undefined;
  logger?: Logger | undefined;
  onReport?: ((report: DeliveryReport) => void) | undefined;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 10_000;
export const DEFAULT_MAX_LENGTH = 100;
export const DEFAULT_DRAIN_MS = 2_000;

/** Resolves after ms, or at once when the signal aborts; the timer is cleared either way. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Resolves with an `aborted` outcome when the signal fires, so a Sender ignoring its signal cannot hang us. */
function whenAborted(signal: AbortSignal): { promise: Promise<SendOutcome>; dispose: () => void } {
  let dispose = (): void => {};
  const promise = new Promise<SendOutcome>((resolve) => {
    const onAbort = (): void =>
      resolve({ ok: false, kind: 'aborted', retryable: true, message: 'request aborted' });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    dispose = () => signal.removeEventListener('abort', onAbort);
  });
  return { promise, dispose };
}

/**
 * FIFO queue with one sender loop. Invariants: enqueue() is synchronous and never throws; at most one send
 * is in flight; every enqueued message ends in exactly one report (sent, failed or dropped); nothing here
 * rejects or throws into the caller.
 */
export class NotificationQueue {
  private readonly items: QueueItem[] = [];
  private readonly counters = { enqueued: 0, sent: 0, failed: 0, dropped: 0, retries: 0, timeouts: 0 };
  /** Aborted when the drain time of close() runs out: cancels the send in flight and any back-off. */
  private readonly shutdown = new AbortController();
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxLength: number;
  private readonly log: Logger | undefined;

  constructor(private readonly opts: QueueOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = Math.max(0, opts.retries ?? DEFAULT_RETRIES);
    this.backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.maxBackoffMs = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.maxLength = Math.max(1, opts.maxLength ?? DEFAULT_MAX_LENGTH);
    this.log = opts.logger?.child({ provider: opts.provider.type, endpoint: opts.provider.endpoint });
  }

  /** Adds a message and returns at once. When full, the oldest waiting message is dropped and reported. */
  enqueue(item: QueueItem): void {
    this.counters.enqueued++;
    if (this.closed) {
      this.drop(item, 'closed');
      return;
    }
    if (this.items.length >= this.maxLength) {
      const oldest = this.items.shift();
      if (oldest) this.drop(oldest, 'queue-full');
    }
    this.items.push(item);
    if (!this.running) {
      this.running = true;
      // Started from a microtask so that enqueue() does no sending work at all before it returns.
      queueMicrotask(() => void this.run());
    }
  }

  /** Records a message that could not even be serialized. */
  reject(canary: QueueItem['canary'], message: string): void {
    this.counters.enqueued++;
    this.finish({ kind: 'failed', ...this.base(canary), attempts: 0, reason: 'invalid', message });
  }

  stats(): QueueStats {
    return { ...this.counters, queued: this.items.length };
  }

  /**
   * Refuses further messages, lets the loop send what is queued for up to drainMs, then cancels the send
   * in flight and drops the rest (each reported). Resolves when the loop has stopped; never rejects.
   */
  async close(opts: { drainMs?: number } = {}): Promise<QueueStats> {
    this.closed = true;
    if (this.running) {
      const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      const drained = await Promise.race([
        idle.then(() => true),
        sleep(opts.drainMs ?? DEFAULT_DRAIN_MS, this.shutdown.signal).then(() => false),
      ]);
      if (!drained) {
        this.shutdown.abort();
        await idle;
      }
    }
    this.shutdown.abort();
    return this.stats();
  }

  private async run(): Promise<void> {
    try {
      for (let item = this.items.shift(); item; item = this.items.shift()) {
        if (this.shutdown.signal.aborted) this.drop(item, 'shutdown');
        else await this.deliver(item);
      }
    } catch (e) {
      // deliver() is written not to throw; this only keeps a bug from becoming an unhandled rejection.
      this.log?.error({ err: e instanceof Error ? e.message : String(e) }, 'notification queue loop failed');
      for (let item = this.items.shift(); item; item = this.items.shift()) this.drop(item, 'shutdown');
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async deliver(item: QueueItem): Promise<void> {
    const base = this.base(item.canary);
    for (let attempt = 1; ; attempt++) {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      const signal = AbortSignal.any([timeout, this.shutdown.signal]);
      const aborted = whenAborted(signal);
      let outcome: SendOutcome;
      try {
        outcome = await Promise.race([this.opts.send(item.body, signal), aborted.promise]);
      } catch (e) {
        // Senders must not reject; treat one that does as a network failure.
        outcome = {
          ok: false,
          kind: 'network',
          retryable: true,
          message: e instanceof Error ? e.message : 'send failed',
        };
      } finally {
        aborted.dispose();
      }
      if (outcome.ok) {
        this.finish({ kind: 'sent', ...base, attempts: attempt, status: outcome.status });
        return;
      }
      const reason: FailureReason = this.shutdown.signal.aborted
        ? 'shutdown'
        : timeout.aborted || outcome.kind === 'aborted'
          ? 'timeout'
          : outcome.kind;
      const message = reason === 'timeout' ? `no answer within ${this.timeoutMs} ms` : outcome.message;
      if (reason === 'timeout') this.counters.timeouts++;
      const retry = outcome.retryable && reason !== 'shutdown' && attempt <= this.retries;
      if (!retry) {
        this.finish({ kind: 'failed', ...base, attempts: attempt, reason, status: outcome.status, message });
        return;
      }
      const waitMs = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
      this.log?.debug(
        {
          canary: base.canary.name,
          namespace: base.canary.namespace,
          attempt,
          reason,
          status: outcome.status,
          err: message,
          waitMs,
        },
        'notification attempt failed, retrying',
      );
      this.counters.retries++;
      await sleep(waitMs, this.shutdown.signal);
    }
  }

  private base(canary: QueueItem['canary']): ReportBase {
    const b: ReportBase = { provider: this.opts.provider.type, canary };
    if (this.opts.provider.name !== undefined) b.providerName = this.opts.provider.name;
    return b;
  }

  private drop(item: QueueItem, reason: DropReason): void {
    this.finish({ kind: 'dropped', ...this.base(item.canary), reason });
  }

  /** Counts, logs and reports a final outcome. */
  private finish(report: DeliveryReport): void {
    const fields = { canary: report.canary.name, namespace: report.canary.namespace };
    switch (report.kind) {
      case 'sent':
        this.counters.sent++;
        this.log?.debug({ ...fields, attempts: report.attempts, status: report.status }, 'notification sent');
        break;
      case 'failed':
        this.counters.failed++;
        this.log?.warn(
          {
            ...fields,
            attempts: report.attempts,
            reason: report.reason,
            status: report.status,
            err: report.message,
          },
          'notification not delivered',
        );
        break;
      case 'dropped':
        this.counters.dropped++;
        this.log?.warn(
          { ...fields, reason: report.reason, dropped: this.counters.dropped },
          'notification dropped',
        );
        break;
    }
    try {
      this.opts.onReport?.(report);
    } catch {
      // A failing report callback must not stop the queue.
    }
  }
}
