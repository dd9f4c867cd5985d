// Tests of the EventRecorder against the sandbox API server through the real client-node: Events created,
// repeats aggregated into count/lastTimestamp, Warning type, and failures logged instead of thrown.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CoreV1Event } from '@kubernetes/client-node';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvolvedObject } from '../../operator/k8s/events.js';
import { EventRecorder, canaryRef } from '../../operator/k8s/events.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const MINUTE = 60_000;

class RecordingLogger {
  readonly warnings: { obj: object; msg: string }[] = [];
  warn(obj: object, msg: string): void {
    this.warnings.push({ obj, msg });
  }
}

let cluster: TestCluster;
let core: CoreV1Api;
let nsCount = 0;

beforeAll(async () => {
  cluster = await startTestCluster();
  core = cluster.kc.makeApiClient(CoreV1Api);
});

afterAll(async () => {
  await cluster?.close();
});

/** A fresh namespace and a Canary reference in it. */
async function freshCanary(): Promise<InvolvedObject> {
  const namespace = `events-${++nsCount}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return canaryRef({ metadata: { name: 'podinfo', namespace, uid: `uid-${nsCount}` } });
}

async function eventsOf(namespace: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({ namespace });
  return list.items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

function recorder(opts: { now?: () => number; cacheSize?: number } = {}): {
  rec: EventRecorder;
  log: RecordingLogger;
} {
  const log = new RecordingLogger();
  return { rec: new EventRecorder(core, log, { instance: 'fledge-test-0', ...opts }), log };
}

describe('EventRecorder', () => {
  it('creates a Normal Event on the Canary with source, reporting controller and timestamps', async () => {
    const canary = await freshCanary();
    const { rec, log } = recorder({ now: () => T0 + 1500 });
    rec.normal(canary, 'Synced', 'Initialization done! podinfo.test');
    await rec.flush();
    const events = await eventsOf(canary.namespace);
    expect(events).toHaveLength(1);
    const ev = events[0];
    expect(ev?.metadata?.name).toMatch(/^podinfo\.[0-9a-f]+$/);
    expect(ev?.involvedObject).toMatchObject({
      apiVersion: 'flagger.app/v1beta1',
      kind: 'Canary',
      name: 'podinfo',
      namespace: canary.namespace,
      uid: canary.uid,
    });
    expect(ev).toMatchObject({
      type: 'Normal',
      reason: 'Synced',
      message: 'Initialization done! podinfo.test',
      count: 1,
      source: { component: 'fledge', host: 'fledge-test-0' },
      reportingComponent: 'fledge.dev/operator',
      reportingInstance: 'fledge-test-0',
    });
    expect(ev?.firstTimestamp?.toISOString()).toBe('2024-05-01T10:00:01.000Z');
    expect(ev?.lastTimestamp?.toISOString()).toBe('2024-05-01T10:00:01.000Z');
    expect(log.warnings).toEqual([]);
  });

  it('writes Warning events', async () => {
    const canary = await freshCanary();
    const { rec } = recorder();
    rec.warn(canary, 'Synced', 'Halt advancement podinfo-primary.test waiting for rollout to finish');
    await rec.flush();
    const events = await eventsOf(canary.namespace);
    expect(events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'Synced']]);
  });

  it('aggregates repeats within 10 minutes into one Event, and starts a new one after', async () => {
    const canary = await freshCanary();
    let nowMs = T0;
    const { rec } = recorder({ now: () => nowMs });
    const msg = 'Advance podinfo.test canary weight 10';
    rec.normal(canary, 'Synced', msg);
    await rec.flush();
    nowMs = T0 + 4 * MINUTE;
    rec.normal(canary, 'Synced', msg);
    await rec.flush();
    nowMs = T0 + 13 * MINUTE; // 9 minutes after the previous occurrence
    rec.normal(canary, 'Synced', msg);
    rec.normal(canary, 'Synced', 'Advance podinfo.test canary weight 20'); // another message: its own Event
    await rec.flush();

    let events = await eventsOf(canary.namespace);
    expect(events).toHaveLength(2);
    const repeated = events.find((e) => e.message === msg);
    expect(repeated?.count).toBe(3);
    expect(repeated?.firstTimestamp?.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(repeated?.lastTimestamp?.toISOString()).toBe('2024-05-01T10:13:00.000Z');

    nowMs = T0 + 24 * MINUTE; // 11 minutes later: outside the window
    rec.normal(canary, 'Synced', msg);
    await rec.flush();
    events = await eventsOf(canary.namespace);
    expect(events.filter((e) => e.message === msg).map((e) => e.count)).toEqual([3, 1]);
  });

  it('coalesces repeats recorded while a write is in flight into one Event with the full count', async () => {
    const canary = await freshCanary();
    const { rec } = recorder();
    for (let i = 0; i < 5; i++)
      rec.warn(canary, 'Synced', 'Rolling back podinfo.test failed checks threshold reached 5');
    await rec.flush();
    const events = await eventsOf(canary.namespace);
    expect(events.map((e) => e.count)).toEqual([5]);
  });

  it('remembers a bounded number of distinct events (least recently used forgotten)', async () => {
    const canary = await freshCanary();
    const { rec } = recorder({ cacheSize: 2 });
    for (const m of ['a', 'b', 'c', 'a']) {
      rec.normal(canary, 'Synced', m);
      await rec.flush();
    }
    const events = await eventsOf(canary.namespace);
    // 'a' was evicted by 'c', so its repeat is a new Event rather than count 2.
    expect(events.map((e) => `${e.message}:${e.count}`).sort()).toEqual(['a:1', 'a:1', 'b:1', 'c:1']);
  });

  it('creates a new Event when the one it would update is gone', async () => {
    const canary = await freshCanary();
    const { rec, log } = recorder();
    rec.normal(canary, 'Synced', 'New revision detected');
    await rec.flush();
    const [first] = await eventsOf(canary.namespace);
    await core.deleteNamespacedEvent({ namespace: canary.namespace, name: first?.metadata?.name ?? '' });
    rec.normal(canary, 'Synced', 'New revision detected');
    await rec.flush();
    const events = await eventsOf(canary.namespace);
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata?.name).not.toBe(first?.metadata?.name);
    expect(events[0]?.count).toBe(1);
    expect(log.warnings).toEqual([]);
  });

  it('logs an API error instead of throwing', async () => {
    const canary = await freshCanary();
    const kc = new KubeConfig();
    const server = cluster.kc.getCurrentCluster();
    if (!server) throw new Error('test cluster has no current cluster');
    kc.loadFromOptions({
      clusters: [server],
      users: [{ name: 'intruder', token: 'not-the-token' }],
      contexts: [{ name: 'bad', cluster: server.name, user: 'intruder' }],
      currentContext: 'bad',
    });
    const log = new RecordingLogger();
    const rec = new EventRecorder(kc.makeApiClient(CoreV1Api), log);
    expect(() => rec.warn(canary, 'Synced', 'x')).not.toThrow();
    await rec.flush();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]?.obj).toMatchObject({
      namespace: canary.namespace,
      name: 'podinfo',
      reason: 'Synced',
    });
    expect(JSON.stringify(log.warnings[0]?.obj)).toContain('401');
    expect(await eventsOf(canary.namespace)).toEqual([]);
  });

  it('gives up on a request after the timeout and logs it', async () => {
    // An API server that accepts connections and never answers.
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [
          {
            name: 'silent',
            server: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
            skipTLSVerify: true,
          },
        ],
        users: [{ name: 'u' }],
        contexts: [{ name: 'silent', cluster: 'silent', user: 'u' }],
        currentContext: 'silent',
      });
      const log = new RecordingLogger();
      const rec = new EventRecorder(kc.makeApiClient(CoreV1Api), log, { timeoutMs: 200 });
      rec.normal({ kind: 'Canary', namespace: 'test', name: 'podinfo' }, 'Synced', 'x');
      await rec.flush();
      expect(log.warnings.map((w) => w.obj)).toEqual([
        expect.objectContaining({ error: 'timed out after 200 ms' }),
      ]);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
