// Tests of the keyed work queue: dedupe, one run per key at a time, dirty re-runs, back-off and shutdown.
// Timers are recorded by a fake clock and fired by hand, so back-off delays are read, never waited for.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../operator/queue.js';
import { WorkQueue } from '../../operator/queue.js';
import { waitFor } from '../helpers/wait-for.js';

interface RecordedTimer {
  fn: () => void;
  ms: number;
  cleared: boolean;
}

/** A clock whose timers never fire by themselves: `fire()` runs one. */
function recordingClock(): Clock & { timers: RecordedTimer[]; live(): RecordedTimer[] } {
  const timers: RecordedTimer[] = [];
  return {
    timers,
    live: () => timers.filter((t) => !t.cleared),
    now: () => 0,
    setTimer(fn, ms) {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer(handle) {
      if (handle) (handle as RecordedTimer).cleared = true;
    },
  };
}

function fire(t: RecordedTimer | undefined): void {
  if (!t || t.cleared) throw new Error('no live timer to fire');
  t.cleared = true;
  t.fn();
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('WorkQueue', () => {
  it('processes a key added many times while it waits only once', async () => {
    const seen: string[] = [];
    const blocker = gate();
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 10, maxMs: 100 },
      clock: recordingClock(),
      process: async (key) => {
        seen.push(key);
        if (key === 'busy') await blocker.promise;
      },
    });
    q.add('busy');
    await waitFor(() => seen.includes('busy'));
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.stats().depth).toBe(2);
    blocker.open();
    await waitFor(() => q.stats().inFlight === 0 && q.stats().depth === 0);
    expect(seen).toEqual(['busy', 'a', 'b']);
  });

  it('never runs one key twice at once, and runs it once more after adds during a run', async () => {
    const running = new Map<string, number>();
    let maxPerKey = 0;
    let runsOfA = 0;
    const gates = [gate(), gate()];
    const q = new WorkQueue({
      concurrency: 4,
      backoff: { baseMs: 10, maxMs: 100 },
      clock: recordingClock(),
      process: async (key) => {
        const n = (running.get(key) ?? 0) + 1;
        running.set(key, n);
        maxPerKey = Math.max(maxPerKey, n);
        const g = gates[runsOfA++];
        await g?.promise;
        running.set(key, n - 1);
      },
    });
    q.add('a');
    await waitFor(() => runsOfA === 1);
    q.add('a');
    q.add('a');
    q.add('a');
    // Marked dirty, not waiting: a free worker must not pick it up.
    expect(q.stats()).toMatchObject({ depth: 0, inFlight: 1 });
    gates[0]?.open();
    await waitFor(() => runsOfA === 2);
    gates[1]?.open();
    await waitFor(() => q.stats().inFlight === 0);
    expect(runsOfA).toBe(2);
    expect(maxPerKey).toBe(1);
  });

  it('runs at most `concurrency` keys at once and all of them eventually', async () => {
    let active = 0;
    let maxActive = 0;
    const done: string[] = [];
    const blockers = new Map<string, Gate>();
    const q = new WorkQueue({
      concurrency: 3,
      backoff: { baseMs: 10, maxMs: 100 },
      clock: recordingClock(),
      process: async (key) => {
        active++;
        maxActive = Math.max(maxActive, active);
        const g = gate();
        blockers.set(key, g);
        await g.promise;
        active--;
        done.push(key);
      },
    });
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    for (const k of keys) q.add(k);
    for (const k of keys) {
      const g = await waitFor(() => blockers.get(k));
      expect(active).toBeLessThanOrEqual(3);
      g.open();
    }
    await waitFor(() => done.length === 10);
    expect(maxActive).toBe(3);
    expect(done).toEqual(keys);
  });

  it('retries a failing key with exponential back-off, capped, and resets it after a success', async () => {
    const clock = recordingClock();
    let failing = true;
    let runs = 0;
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 100, maxMs: 1000 },
      clock,
      process: () => {
        runs++;
        return failing ? Promise.reject(new Error('boom')) : Promise.resolve();
      },
    });
    const delays: number[] = [];
    q.add('a');
    for (let i = 1; i <= 6; i++) {
      await waitFor(() => q.failures('a') === i);
      const t = clock.live()[0];
      delays.push(t?.ms ?? -1);
      if (i < 6) fire(t);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.stats()).toMatchObject({ retries: 6, delayed: 1 });

    failing = false;
    fire(clock.live()[0]);
    await waitFor(() => runs === 7 && q.stats().inFlight === 0);
    expect(q.failures('a')).toBe(0);

    failing = true;
    q.add('a');
    await waitFor(() => q.failures('a') === 1);
    expect(clock.live().map((t) => t.ms)).toEqual([100]);
  });

  it('addAfter keeps the earlier of two delays; forget drops the delayed add and the back-off', async () => {
    const clock = recordingClock();
    const seen: string[] = [];
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 100, maxMs: 1000 },
      clock,
      process: (key) => {
        seen.push(key);
        return Promise.reject(new Error('fails once'));
      },
    });
    q.addAfter('a', 500);
    q.addAfter('a', 900);
    q.addAfter('a', 200);
    expect(clock.live().map((t) => t.ms)).toEqual([200]);
    fire(clock.live()[0]);
    await waitFor(() => q.failures('a') === 1);
    expect(q.stats().delayed).toBe(1);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
    expect(q.stats().delayed).toBe(0);
    expect(clock.live()).toEqual([]);
    expect(seen).toEqual(['a']);
  });

  it('shutdown aborts work in flight, waits for it, and ignores later adds', async () => {
    const clock = recordingClock();
    let started = false;
    let sawAbort = false;
    const processed: string[] = [];
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 100, maxMs: 1000 },
      clock,
      process: (key, signal) => {
        processed.push(key);
        started = true;
        return new Promise<void>((_, reject) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new Error('aborted'));
          });
        });
      },
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 1000);
    await waitFor(() => started);
    const result = await q.shutdown();
    expect(result).toEqual({ drained: true });
    expect(sawAbort).toBe(true);
    q.add('d');
    expect(q.stats()).toEqual({ depth: 0, inFlight: 0, delayed: 0, retries: 0 });
    expect(processed).toEqual(['a']);
    expect(clock.live()).toEqual([]);
  });

  it('shutdown reports drained: false when a run ignores its signal past the timeout', async () => {
    const clock = recordingClock();
    const never = gate();
    let started = false;
    const q = new WorkQueue({
      concurrency: 1,
      backoff: { baseMs: 100, maxMs: 1000 },
      clock,
      process: async () => {
        started = true;
        await never.promise;
      },
    });
    q.add('a');
    await waitFor(() => started);
    const done = q.shutdown(5000);
    const timeout = clock.live().find((t) => t.ms === 5000);
    fire(timeout);
    expect(await done).toEqual({ drained: false });
    never.open();
  });
});
