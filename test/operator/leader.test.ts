// LeaderElector against the sandbox API server with a fake clock: acquire, renew, a second candidate waits,
// expiry hands over, exactly one winner per round (resourceVersion guard), release on stop, stepping down.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElectionClock, LeaderElectionOptions } from '../../operator/leader.js';
import { LeaderElector, microTime } from '../../operator/leader.js';
import { kubeRequest } from '../../operator/k8s/raw.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { startKubeProxy } from '../helpers/kube-proxy.js';
import { waitFor } from '../helpers/wait-for.js';

/** Time moves only when the test says; sleepers wake when their deadline is passed (or on abort). */
class FakeClock implements ElectionClock {
  private ms = Date.parse('2026-01-01T00:00:00Z');
  private sleepers: Array<{ until: number; wake: () => void }> = [];

  now(): number {
    return this.ms;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = (): void => {
        this.sleepers = this.sleepers.filter((s) => s.wake !== wake);
        resolve();
      };
      this.sleepers.push({ until: this.ms + ms, wake });
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  get sleeping(): number {
    return this.sleepers.length;
  }

  advance(ms: number): void {
    this.ms += ms;
    for (const s of [...this.sleepers]) if (s.until <= this.ms) s.wake();
  }
}

interface StoredLease {
  metadata: { resourceVersion: string };
  spec: {
    holderIdentity?: string;
    leaseTransitions?: number;
    renewTime?: string;
    leaseDurationSeconds?: number;
  };
}

describe('LeaderElector (sandbox API server, fake clock)', () => {
  let cluster: TestCluster;
  const log = pino({ level: 'silent' });
  let leaseSeq = 0;

  beforeAll(async () => {
    cluster = await startTestCluster();
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const setup = (): {
    clock: FakeClock;
    candidate: (identity: string, extra?: Partial<LeaderElectionOptions>) => LeaderElector;
    lease: () => Promise<StoredLease>;
  } => {
    const clock = new FakeClock();
    const name = `lease-${++leaseSeq}`;
    return {
      clock,
      candidate: (identity, extra = {}) =>
        new LeaderElector({ kc: cluster.kc, log, namespace: 'default', name, identity, clock, ...extra }),
      lease: async () =>
        (
          await kubeRequest(cluster.kc, {
            method: 'GET',
            path: `/apis/coordination.k8s.io/v1/namespaces/default/leases/${name}`,
            timeoutMs: 5000,
          })
        ).body as StoredLease,
    };
  };

  it('acquires a missing lease, renews it, and a second candidate waits for its expiry', async () => {
    const { clock, candidate, lease } = setup();
    const a = candidate('a');
    const b = candidate('b');
    expect(await a.tryAcquireOrRenew()).toEqual({ ok: true, leader: true, holder: 'a' });
    const first = await lease();
    expect(first.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(first.spec.renewTime).toBe(microTime(clock.now()));

    expect(await b.tryAcquireOrRenew()).toEqual({ ok: true, leader: false, holder: 'a' });
    clock.advance(5_000);
    expect(await a.tryAcquireOrRenew()).toMatchObject({ leader: true });
    const renewed = await lease();
    expect(renewed.spec.renewTime).toBe(microTime(clock.now()));
    expect(renewed.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);

    // b saw the renewal at t=5 s, so a is held until t=20 s on b's clock.
    expect(await b.tryAcquireOrRenew()).toMatchObject({ leader: false });
    clock.advance(14_000);
    expect(await b.tryAcquireOrRenew()).toMatchObject({ leader: false, holder: 'a' });
    clock.advance(1_001);
    expect(await b.tryAcquireOrRenew()).toEqual({ ok: true, leader: true, holder: 'b' });
    expect((await lease()).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryAcquireOrRenew()).toEqual({ ok: true, leader: false, holder: 'b' });
  });

  it('lets exactly one of two candidates take an expired lease in the same round', async () => {
    const { clock, candidate } = setup();
    expect(await candidate('gone').tryAcquireOrRenew()).toMatchObject({ leader: true });
    const a = candidate('a');
    const b = candidate('b');
    await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
    clock.advance(15_001);
    const results = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
    expect(results.filter((r) => r.ok && r.leader)).toHaveLength(1);
    const loser = results.find((r) => !(r.ok && r.leader));
    // The loser either read the winner's write or lost the resourceVersion race.
    expect(loser?.ok ? loser.holder : loser?.reason).toMatch(/^(a|b|Conflict)$/);
  });

  it('runs the loop: leads, renews every retry period, and releases the lease on stop', async () => {
    const { clock, candidate, lease } = setup();
    const events: string[] = [];
    let term: AbortSignal | undefined;
    const a = candidate('a', {
      retryPeriodMs: 2_000,
      onStartedLeading: (t) => {
        term = t;
        events.push('started');
      },
      onStoppedLeading: () => events.push('stopped'),
    });
    a.start();
    await waitFor(() => a.isLeader && clock.sleeping === 1, { what: 'a leading' });
    const before = (await lease()).spec.renewTime;
    clock.advance(2_000);
    await waitFor(async () => (await lease()).spec.renewTime !== before, { what: 'a renewal' });
    expect((await lease()).spec.renewTime).toBe(microTime(clock.now()));

    // A standby waits while a renews…
    const b = candidate('b');
    expect(await b.tryAcquireOrRenew()).toMatchObject({ leader: false, holder: 'a' });
    await a.stop();
    expect(events).toEqual(['started', 'stopped']);
    expect(term?.aborted).toBe(true);
    expect(a.isLeader).toBe(false);
    expect((await lease()).spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    // …and takes the released lease at its next round, without waiting for an expiry.
    expect(await b.tryAcquireOrRenew()).toEqual({ ok: true, leader: true, holder: 'b' });
  });

  it('steps down when another replica holds the lease', async () => {
    const { clock, candidate, lease } = setup();
    const events: string[] = [];
    const a = candidate('a', {
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => events.push('stopped'),
    });
    a.start();
    await waitFor(() => a.isLeader && clock.sleeping === 1, { what: 'a leading' });
    // Another replica overwrote the lease (say a's renewals were lost and it expired on that replica's clock).
    const current = await lease();
    const put = await kubeRequest(cluster.kc, {
      method: 'PUT',
      path: `/apis/coordination.k8s.io/v1/namespaces/default/leases/${(current as { metadata: { name?: string } }).metadata.name ?? ''}`,
      body: {
        ...current,
        spec: { ...current.spec, holderIdentity: 'intruder', renewTime: microTime(clock.now()) },
      },
      timeoutMs: 5000,
    });
    expect(put.status).toBe(200);
    clock.advance(2_000);
    await waitFor(() => !a.isLeader, { what: 'a stepping down' });
    expect(events).toEqual(['started', 'stopped']);
    await a.stop();
    // A standby does not release what it does not hold.
    expect((await lease()).spec.holderIdentity).toBe('intruder');
  });

  it('steps down when it cannot renew within the renew deadline, and a standby takes over after expiry', async () => {
    const { clock, candidate, lease } = setup();
    const proxy = await startKubeProxy(cluster.kc);
    const events: string[] = [];
    const a = candidate('a', {
      kc: proxy.kc,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      timeoutMs: 1_000,
      onStartedLeading: () => events.push('started'),
      onStoppedLeading: () => events.push('stopped'),
    });
    const b = candidate('b');
    try {
      a.start();
      await waitFor(() => a.isLeader && clock.sleeping === 1, { what: 'a leading' });
      expect(await b.tryAcquireOrRenew()).toMatchObject({ leader: false, holder: 'a' });
      proxy.down = true;
      // Renewals fail; a keeps leading until 10 s have passed since its last renewal.
      for (let t = 2_000; t < 10_000; t += 2_000) {
        clock.advance(2_000);
        await waitFor(() => clock.sleeping === 1, { what: `a's round at ${t} ms` });
        expect(a.isLeader).toBe(true);
      }
      clock.advance(2_000);
      await waitFor(() => !a.isLeader, { what: 'a stepping down at the renew deadline' });
      expect(events).toEqual(['started', 'stopped']);
      // b still sees a's last record: it takes over 15 s after it first saw it, not before.
      expect(await b.tryAcquireOrRenew()).toMatchObject({ leader: false, holder: 'a' });
      clock.advance(5_001);
      expect(await b.tryAcquireOrRenew()).toEqual({ ok: true, leader: true, holder: 'b' });
      expect((await lease()).spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    } finally {
      await a.stop();
      await proxy.close();
    }
  });
});
