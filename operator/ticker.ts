// One scheduler for every canary's analysis tick: a min-heap of due times and a single timer armed for the
// earliest, instead of a timer per object. Due keys are handed to a callback (the operator queues them).
import type { Clock } from './queue.js';
import { systemClock } from './queue.js';

export interface TickerOptions {
  /** Called once per due slot of a key, on a timer turn (never inside schedule/remove/triggerNow). */
  onDue: (key: string) => void;
  /**
   * Lateness of each fire: fire time − due time (≥ 0), and how many whole slots were skipped because the
   * process fell behind by more than one interval.
   */
  onDrift?: (driftMs: number, key: string, skippedSlots: number) => void;
  clock?: Clock;
}

interface Entry {
  key: string;
  intervalMs: number;
  dueMs: number;
  /** Tie-break among equal due times: the order keys were first scheduled. */
  seq: number;
  /** Position in the heap array. */
  index: number;
}

/** Node's timers overflow (and fire at once) above 2^31−1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Contracts:
 * - Each key fires once per slot; slot n+1 is due at (due of slot n) + intervalMs, so lateness never
 *   accumulates. A fire later than a whole interval skips the missed slots (one fire, not a burst).
 * - schedule/reschedule/remove/triggerNow are O(log n); at most one timer is pending at any time.
 */
export class Ticker {
  private readonly heap: Entry[] = [];
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private seq = 0;
  private timer: unknown;
  private armedForMs: number | undefined;
  private stopped = false;

  constructor(private readonly opts: TickerOptions) {
    this.clock = opts.clock ?? systemClock();
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** When the key is next due (clock ms), or undefined if it is not scheduled. */
  nextDueMs(key: string): number | undefined {
    return this.entries.get(key)?.dueMs;
  }

  /** Adds the key, or replaces its interval and phase: first due at `firstDueMs` (default now). */
  schedule(key: string, intervalMs: number, firstDueMs: number = this.clock.now()): void {
    checkInterval(key, intervalMs);
    const e = this.entries.get(key);
    if (e) {
      e.intervalMs = intervalMs;
      this.move(e, firstDueMs);
    } else {
      const added: Entry = { key, intervalMs, dueMs: firstDueMs, seq: this.seq++, index: this.heap.length };
      this.entries.set(key, added);
      this.heap.push(added);
      this.siftUp(added.index);
    }
    this.arm();
  }

  /**
   * Changes a key's interval keeping its phase: the next slot is the last one plus the new interval (now, if
   * that has passed). Same interval: no-op. Unknown key: same as schedule(key, intervalMs).
   */
  reschedule(key: string, intervalMs: number): void {
    checkInterval(key, intervalMs);
    const e = this.entries.get(key);
    if (!e) {
      this.schedule(key, intervalMs);
      return;
    }
    if (e.intervalMs === intervalMs) return;
    const lastDueMs = e.dueMs - e.intervalMs;
    e.intervalMs = intervalMs;
    this.move(e, Math.max(lastDueMs + intervalMs, this.clock.now()));
    this.arm();
  }

  /** Stops ticking the key; false if it was not scheduled. */
  remove(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    const last = this.heap.pop();
    if (last && last !== e) {
      this.heap[e.index] = last;
      last.index = e.index;
      this.siftDown(this.siftUp(last.index));
    }
    if (this.heap.length === 0) this.disarm();
    return true;
  }

  /**
   * Makes the key due now: it fires on the next timer turn and its cadence continues from now.
   * False if the key is not scheduled.
   */
  triggerNow(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.move(e, this.clock.now());
    this.arm();
    return true;
  }

  /** Clears the timer and every key; the ticker fires nothing afterwards. */
  stop(): void {
    this.stopped = true;
    this.disarm();
    this.heap.length = 0;
    this.entries.clear();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedForMs = undefined;
    const nowMs = this.clock.now();
    // Advance every due key first, then call back: callbacks may schedule, remove or trigger keys freely.
    const fired: { e: Entry; driftMs: number; skippedSlots: number }[] = [];
    for (let top = this.heap[0]; top && top.dueMs <= nowMs; top = this.heap[0]) {
      const driftMs = nowMs - top.dueMs;
      const skippedSlots = Math.floor(driftMs / top.intervalMs);
      top.dueMs += (skippedSlots + 1) * top.intervalMs;
      this.siftDown(0);
      fired.push({ e: top, driftMs, skippedSlots });
    }
    this.arm();
    for (const { e, driftMs, skippedSlots } of fired) {
      // Removed or replaced by an earlier callback of this turn.
      if (this.entries.get(e.key) !== e) continue;
      this.opts.onDrift?.(driftMs, e.key, skippedSlots);
      this.opts.onDue(e.key);
    }
  };

  /** Keeps the one timer armed no later than the earliest due time. */
  private arm(): void {
    const top = this.heap[0];
    if (this.stopped || !top) return;
    // A timer armed earlier than needed just fires, finds nothing due and re-arms: cheaper than churn.
    if (this.armedForMs !== undefined && this.armedForMs <= top.dueMs) return;
    this.disarm();
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(0, top.dueMs - this.clock.now()));
    this.armedForMs = top.dueMs;
    this.timer = this.clock.setTimer(this.fire, delayMs);
  }

  private disarm(): void {
    if (this.armedForMs === undefined) return;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedForMs = undefined;
  }

  private move(e: Entry, dueMs: number): void {
    e.dueMs = dueMs;
    this.siftDown(this.siftUp(e.index));
  }

  private less(a: Entry, b: Entry): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as Entry;
    const b = this.heap[j] as Entry;
    this.heap[i] = b;
    this.heap[j] = a;
    b.index = i;
    a.index = j;
  }

  /** Returns the entry's final index. */
  private siftUp(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.heap[i] as Entry, this.heap[parent] as Entry)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < n && this.less(this.heap[l] as Entry, this.heap[min] as Entry)) min = l;
      if (r < n && this.less(this.heap[r] as Entry, this.heap[min] as Entry)) min = r;
      if (min === i) return;
      this.swap(i, min);
      i = min;
    }
  }
}

function checkInterval(key: string, intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new Error(`Ticker: interval of ${key} must be a positive number of ms, got ${intervalMs}`);
}
