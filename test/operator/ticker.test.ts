// Tests of the single-timer tick scheduler with a fake clock: order, no drift accumulation, skipped slots,
// remove/reschedule/triggerNow, and 10,000 keys each firing exactly once per interval.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../operator/queue.js';
import { Ticker } from '../../operator/ticker.js';

interface FakeTimer {
  atMs: number;
  fn: () => void;
  id: number;
}

/**
 * Virtual time. `advance(ms)` fires due timers in time order, each `lateMs` after its due time (a slow event
 * loop); `jump(ms)` moves time without firing anything (a stalled process).
 */
class FakeClock implements Clock {
  nowMs = 0;
  lateMs = 0;
  timersSet = 0;
  private timers: FakeTimer[] = [];
  private nextId = 0;

  now(): number {
    return this.nowMs;
  }
  setTimer(fn: () => void, ms: number): unknown {
    this.timersSet++;
    const t = { atMs: this.nowMs + ms, fn, id: this.nextId++ };
    this.timers.push(t);
    return t.id;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const endMs = this.nowMs + ms;
    for (;;) {
      const next = this.timers.reduce<FakeTimer | undefined>(
        (a, t) => (!a || t.atMs < a.atMs ? t : a),
        undefined,
      );
      if (!next || next.atMs + this.lateMs > endMs) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.atMs + this.lateMs);
      next.fn();
    }
    this.nowMs = endMs;
  }
  jump(ms: number): void {
    this.nowMs += ms;
  }
}

function setup(): {
  clock: FakeClock;
  ticker: Ticker;
  fires: { key: string; atMs: number }[];
  drifts: number[];
} {
  const clock = new FakeClock();
  const fires: { key: string; atMs: number }[] = [];
  const drifts: number[] = [];
  const ticker = new Ticker({
    clock,
    onDue: (key) => fires.push({ key, atMs: clock.now() }),
    onDrift: (driftMs) => drifts.push(driftMs),
  });
  return { clock, ticker, fires, drifts };
}

describe('Ticker', () => {
  it('fires keys in due order, each at its own interval, first due now by default', () => {
    const { clock, ticker, fires } = setup();
    ticker.schedule('a', 300);
    ticker.schedule('b', 500);
    ticker.schedule('c', 700, 100);
    expect(fires).toEqual([]); // never inside schedule()
    clock.advance(1000);
    expect(fires.map((f) => `${f.key}@${f.atMs}`)).toEqual([
      'a@0',
      'b@0',
      'c@100',
      'a@300',
      'b@500',
      'a@600',
      'c@800',
      'a@900',
      'b@1000',
    ]);
    expect(clock.pending).toBe(1);
  });

  it('measures the next slot from the previous due time, so late timers do not accumulate drift', () => {
    const { clock, ticker, fires, drifts } = setup();
    clock.lateMs = 7;
    ticker.schedule('a', 1000, 1000);
    clock.advance(100_500);
    expect(fires).toHaveLength(100);
    expect(fires.at(-1)?.atMs).toBe(100_007);
    expect(new Set(drifts)).toEqual(new Set([7]));
    expect(ticker.nextDueMs('a')).toBe(101_000);
  });

  it('skips missed slots after a stall instead of bursting, and reports the lateness', () => {
    const clock = new FakeClock();
    const fires: number[] = [];
    const seen: [number, number][] = [];
    const ticker = new Ticker({
      clock,
      onDue: () => fires.push(clock.now()),
      onDrift: (driftMs, _key, skippedSlots) => seen.push([driftMs, skippedSlots]),
    });
    ticker.schedule('a', 1000);
    clock.advance(0);
    clock.jump(3500); // slots at 1000, 2000 and 3000 are all overdue
    clock.advance(0);
    expect(fires).toEqual([0, 3500]);
    expect(seen).toEqual([
      [0, 0],
      [2500, 2],
    ]);
    expect(ticker.nextDueMs('a')).toBe(4000);
    clock.advance(500);
    expect(fires).toEqual([0, 3500, 4000]);
  });

  it('remove stops a key; schedule of an existing key replaces its phase; reschedule keeps it', () => {
    const { clock, ticker, fires } = setup();
    ticker.schedule('a', 1000, 1000);
    ticker.schedule('b', 1000, 1000);
    ticker.schedule('c', 1000, 1000);
    expect(ticker.remove('b')).toBe(true);
    expect(ticker.remove('b')).toBe(false);
    ticker.schedule('c', 1000, 1500);
    clock.advance(1000);
    ticker.reschedule('a', 400); // last slot 1000 → next 1400
    ticker.reschedule('c', 1000); // unchanged: no-op
    clock.advance(1000);
    expect(fires.map((f) => `${f.key}@${f.atMs}`)).toEqual(['a@1000', 'a@1400', 'c@1500', 'a@1800']);
    expect(ticker.size).toBe(2);
    expect(ticker.has('b')).toBe(false);
  });

  it('reschedule to a shorter interval whose slot has passed fires on the next turn', () => {
    const { clock, ticker, fires } = setup();
    ticker.schedule('a', 10_000, 0);
    clock.advance(5000); // fired at 0, next 10000
    ticker.reschedule('a', 1000); // 0 + 1000 is in the past → now
    clock.advance(0);
    clock.advance(1000);
    expect(fires.map((f) => f.atMs)).toEqual([0, 5000, 6000]);
  });

  it('triggerNow fires on the next timer turn and restarts the cadence from now', () => {
    const { clock, ticker, fires } = setup();
    ticker.schedule('a', 1000, 1000);
    clock.advance(200);
    expect(ticker.triggerNow('a')).toBe(true);
    expect(ticker.triggerNow('missing')).toBe(false);
    expect(fires).toEqual([]);
    clock.advance(0);
    clock.advance(1000);
    expect(fires.map((f) => f.atMs)).toEqual([200, 1200]);
  });

  it('callbacks may remove keys due in the same turn; those do not fire', () => {
    const clock = new FakeClock();
    const fires: string[] = [];
    let retriggered = false;
    const ticker: Ticker = new Ticker({
      clock,
      onDue: (key) => {
        fires.push(key);
        if (key === 'a') ticker.remove('b');
        if (key === 'c' && !retriggered) retriggered = ticker.triggerNow('c');
      },
    });
    ticker.schedule('a', 1000);
    ticker.schedule('b', 1000);
    ticker.schedule('c', 1000);
    clock.advance(0);
    // c, triggered from its own callback, fires again on a later timer turn, not within the same loop.
    expect(fires).toEqual(['a', 'c', 'c']);
    expect(ticker.nextDueMs('c')).toBe(1000);
  });

  it('fires 10,000 keys exactly once per interval with one timer pending', () => {
    const clock = new FakeClock();
    const counts = new Map<string, number>();
    let maxPending = 0;
    const ticker = new Ticker({
      clock,
      onDue: (key) => {
        counts.set(key, (counts.get(key) ?? 0) + 1);
        maxPending = Math.max(maxPending, clock.pending);
      },
    });
    const n = 10_000;
    const intervalMs = 10_000;
    // Phases spread over the interval (1,000 distinct due times), as canaries created at different times.
    for (let i = 0; i < n; i++) ticker.schedule(`ns/canary-${i}`, intervalMs, (i % 1000) * 10);
    expect(clock.pending).toBe(1);
    clock.advance(5 * intervalMs - 1);
    expect(counts.size).toBe(n);
    expect(new Set(counts.values())).toEqual(new Set([5]));
    expect(maxPending).toBe(1);
    // One timer per distinct due time, not per key.
    expect(clock.timersSet).toBeLessThanOrEqual(5 * 1000 + 1);
  });

  it('stop clears the timer and fires nothing more', () => {
    const { clock, ticker, fires } = setup();
    ticker.schedule('a', 1000);
    ticker.stop();
    clock.advance(5000);
    expect(fires).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('rejects a non-positive interval as a bug', () => {
    const { ticker } = setup();
    expect(() => ticker.schedule('a', 0)).toThrow(/positive/);
  });
});
