// Convergence tracking: which publish (SnapshotCache seq) each connected xDS stream has fully ACKed, and
// waits for "every proxy has ACKed publish N" so the operator starts a metrics window only once weights are live.
import type { NodeGroup } from './cache.js';

/** Where ADS servers (SotW and Delta) report stream progress. */
export interface ConvergenceSink {
  /**
   * The stream has ACKed everything it was sent and has nothing pending after seeing publish `seq`
   * (so it serves that publish's config, as far as its subscriptions go). Never called for a stream
   * that has a NACKed type outstanding.
   */
  progress(streamKey: string, nodeId: string, group: NodeGroup, seq: number): void;
  /** The stream ended: it no longer holds anyone back. */
  closed(streamKey: string): void;
}

export type ConvergenceResult =
  | { ok: true; proxies: number; elapsedMs: number }
  | { ok: false; reason: 'timeout' | 'aborted'; proxies: number; lagging: string[]; elapsedMs: number };

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

interface StreamProgress {
  nodeId: string;
  group: NodeGroup;
  seq: number;
}

interface Waiter {
  seq: number;
  startedMs: number;
  resolve: (r: ConvergenceResult) => void;
  timer: NodeJS.Timeout;
  cleanup: () => void;
}

export interface ConvergenceOptions {
  now?: () => number;
  /** Called once per publish when every stream has ACKed it (or a later one): seconds since the change began. */
  onConverged?: (seconds: number) => void;
}

export class ConvergenceTracker {
  private readonly streams = new Map<string, StreamProgress>();
  /** Per group, the seq of the last publish that changed that group's snapshot. */
  private readonly groupChanged = new Map<NodeGroup, number>();
  /** Publishes not yet ACKed by every stream: seq → when the change that led to it began. */
  private readonly open = new Map<number, number>();
  private readonly waiters = new Set<Waiter>();
  private readonly now: () => number;
  private readonly onConverged: ((seconds: number) => void) | undefined;
  private settleQueued = false;

  constructor(opts: ConvergenceOptions = {}) {
    this.now = opts.now ?? (() => performance.now());
    this.onConverged = opts.onConverged;
  }

  /** A publish happened: `changed` are the groups whose snapshot changed; `changeStartedMs` on this.now's clock. */
  published(seq: number, changed: readonly NodeGroup[], changeStartedMs: number): void {
    for (const g of changed) this.groupChanged.set(g, seq);
    if (changed.length > 0) this.open.set(seq, changeStartedMs);
    this.settle();
  }

  progress(streamKey: string, nodeId: string, group: NodeGroup, seq: number): void {
    const prev = this.streams.get(streamKey);
    if (prev && prev.seq >= seq) return;
    this.streams.set(streamKey, { nodeId, group, seq });
    this.queueSettle();
  }

  closed(streamKey: string): void {
    if (this.streams.delete(streamKey)) this.queueSettle();
  }

  /** Connected streams that have identified themselves and reported at least once. */
  get proxies(): number {
    return this.streams.size;
  }

  /** Node ids of the streams that have not ACKed publish `seq` yet, sorted. */
  lagging(seq: number): string[] {
    const out: string[] = [];
    for (const s of this.streams.values()) if (!this.upToDate(s, seq)) out.push(s.nodeId);
    return out.sort();
  }

  /**
   * Resolves when every connected stream has ACKed publish `seq` (streams connecting later get the full
   * current config anyway). Resolves — never rejects — with the lagging proxies on timeout or abort.
   */
  waitFor(seq: number, opts: WaitOptions): Promise<ConvergenceResult> {
    const startedMs = this.now();
    if (this.laggingCount(seq) === 0)
      return Promise.resolve({ ok: true, proxies: this.streams.size, elapsedMs: 0 });
    return new Promise((resolve) => {
      const finish = (reason: 'timeout' | 'aborted'): void => {
        waiter.cleanup();
        resolve({
          ok: false,
          reason,
          proxies: this.streams.size,
          lagging: this.lagging(seq),
          elapsedMs: this.now() - startedMs,
        });
      };
      const onAbort = (): void => finish('aborted');
      const waiter: Waiter = {
        seq,
        startedMs,
        resolve,
        timer: setTimeout(() => finish('timeout'), opts.timeoutMs),
        cleanup: () => {
          clearTimeout(waiter.timer);
          opts.signal?.removeEventListener('abort', onAbort);
          this.waiters.delete(waiter);
        },
      };
      if (opts.signal?.aborted) {
        queueMicrotask(onAbort);
        return;
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** ACKs arrive in bursts (one per stream): check the waiters once per burst, not once per ACK. */
  private queueSettle(): void {
    if (this.settleQueued || (this.waiters.size === 0 && this.open.size === 0)) return;
    this.settleQueued = true;
    setImmediate(() => {
      this.settleQueued = false;
      this.settle();
    });
  }

  /** A stream serves publish `seq` if it ACKed it, or ACKed its group's last change at or before it. */
  private upToDate(s: StreamProgress, seq: number): boolean {
    const changed = this.groupChanged.get(s.group) ?? 0;
    return s.seq >= (changed <= seq ? changed : seq);
  }

  private laggingCount(seq: number): number {
    let n = 0;
    for (const s of this.streams.values()) if (!this.upToDate(s, seq)) n++;
    return n;
  }

  private settle(): void {
    for (const w of [...this.waiters]) {
      if (this.laggingCount(w.seq) > 0) continue;
      w.cleanup();
      w.resolve({ ok: true, proxies: this.streams.size, elapsedMs: this.now() - w.startedMs });
    }
    for (const [seq, startedMs] of [...this.open]) {
      if (this.laggingCount(seq) > 0) continue;
      this.open.delete(seq);
      if (this.streams.size > 0) this.onConverged?.((this.now() - startedMs) / 1000);
    }
    // Bounded: a proxy that never ACKs must not make the open set grow forever.
    while (this.open.size > 1000) {
      const oldest = this.open.keys().next().value;
      if (oldest === undefined) break;
      this.open.delete(oldest);
    }
  }
}
