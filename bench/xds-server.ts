// Child process of the xDS benchmark: the control plane alone (MeshPublisher → SnapshotCache → AdsServer,
// as mesh/mesh.ts wires them), so the client load does not share its event loop or heap. Driven over IPC.
import type { NodeGroup } from '../mesh/cache.js';
import { SnapshotCache } from '../mesh/cache.js';
import type { ConvergenceSink } from '../mesh/convergence.js';
import { ConvergenceTracker } from '../mesh/convergence.js';
import { MeshPublisher } from '../mesh/publisher.js';
import type { EncodedResource } from '../mesh/snapshot.js';
import { TYPE_URLS } from '../mesh/translate/index.js';
import { AdsServer } from '../mesh/xds/ads.js';
import { benchMesh, ECHO_LISTENER } from './xds-inputs.js';
import type {
  ChangeResult,
  ChildMessage,
  HeapSample,
  ParentMessage,
  ServerConfig,
  ServerOps,
} from './xds-ipc.js';

/**
 * Forwards to the tracker and notes, for the change in flight, when each stream first reports that it
 * has ACKed publish `targetSeq` (or later): the last of those is the change's fan-out time.
 */
class AckWatch implements ConvergenceSink {
  private targetSeq = Number.POSITIVE_INFINITY;
  private readonly acked = new Set<string>();
  private expected = 0;
  private onAll: (() => void) | undefined;
  lastAckMs = 0;

  constructor(private readonly inner: ConvergenceSink) {}

  /** Starts watching for publish `seq`; `onAll` runs once `expected` streams have ACKed it. */
  watch(seq: number, expected: number, onAll: () => void): void {
    this.targetSeq = seq;
    this.expected = expected;
    this.acked.clear();
    this.lastAckMs = 0;
    this.onAll = onAll;
  }

  get count(): number {
    return this.acked.size;
  }

  progress(streamKey: string, nodeId: string, group: NodeGroup, seq: number): void {
    this.inner.progress(streamKey, nodeId, group, seq);
    if (seq < this.targetSeq || this.acked.has(streamKey)) return;
    this.acked.add(streamKey);
    this.lastAckMs = performance.now();
    if (this.acked.size >= this.expected) {
      const done = this.onAll;
      this.onAll = undefined;
      done?.();
    }
  }

  closed(streamKey: string): void {
    this.inner.closed(streamKey);
  }
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const loud = {
  info: () => undefined,
  warn: (obj: object, msg: string) => console.warn(msg, obj),
  error: (obj: object, msg: string) => console.error(msg, obj),
};
const mesh = benchMesh(config.v1Port, config.v2Port, config.background);
const cache = new SnapshotCache();
const tracker = new ConvergenceTracker();
const watch = new AckWatch(tracker);
/** When the last publish reached the cache's listeners: subscribed before the ADS server, so first. */
let publishedAtMs: number | undefined;
cache.subscribe(() => {
  publishedAtMs = performance.now();
});
const publisher = new MeshPublisher({
  cache,
  tracker,
  inputs: () => mesh.inputs,
  log: loud,
});
let responses = 0;
const ads = new AdsServer({
  cache,
  convergence: watch,
  log: { ...loud, warn: quiet.warn },
  metrics: {
    pushed: () => {
      responses++;
    },
    nacked: (typeUrl) => console.error(`benchmark client NACKed ${typeUrl}`),
    connected: () => undefined,
  },
});
publisher.start();
const port = await ads.listen('127.0.0.1', 0);

/** Every EncodedResource object the cache serves now, over all groups (gateway shares sidecar's). */
function servedResources(): Set<EncodedResource> {
  const out = new Set<EncodedResource>();
  for (const g of ['sidecar', 'gateway', 'proxyless'] as const)
    for (const t of cache.get(g)?.types.values() ?? []) for (const r of t.resources.values()) out.add(r);
  return out;
}

/** The proxyless resources an echo client subscribes to: its listener, the listener's clusters, their EDS. */
function echoNames(): Record<string, string[]> {
  const snap = cache.get('proxyless');
  const listener = snap?.types.get(TYPE_URLS.listener)?.resources.get(ECHO_LISTENER);
  if (!snap || !listener) throw new Error(`no proxyless listener ${ECHO_LISTENER}`);
  const clusters = snap.types.get(TYPE_URLS.cluster)?.resources;
  const eds = listener.refs.clusters.map((c) => clusters?.get(c)?.refs.eds ?? c);
  return {
    [TYPE_URLS.listener]: [ECHO_LISTENER],
    [TYPE_URLS.cluster]: [...listener.refs.clusters],
    [TYPE_URLS.endpoint]: eds,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function heap(): Promise<HeapSample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { heapUsedBytes: m.heapUsed, rssBytes: m.rss, collected: gc !== undefined };
}

async function synced(args: ServerOps['synced']['args']): Promise<ServerOps['synced']['result']> {
  const deadline = performance.now() + args.timeoutMs;
  while (tracker.proxies !== args.streams && performance.now() < deadline) await sleep(20);
  if (tracker.proxies !== args.streams) return { ok: false, proxies: tracker.proxies };
  const r = await tracker.waitFor(cache.seq, { timeoutMs: Math.max(1, deadline - performance.now()) });
  return { ok: r.ok, proxies: tracker.proxies };
}

/**
 * One weight change down the whole path, timed from its start: the VirtualService object is replaced
 * and the publisher told it is weights-only (as MeshSources does), which publishes on the next turn.
 */
function change(args: ServerOps['change']['args']): Promise<ChangeResult> {
  const before = servedResources();
  const responsesBefore = responses;
  const targetSeq = cache.seq + 1;
  publishedAtMs = undefined;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      const after = servedResources();
      let encodes = 0;
      for (const r of after) if (!before.has(r)) encodes++;
      resolve({
        ok,
        acked: watch.count,
        snapshotMs: publishedAtMs === undefined ? NaN : publishedAtMs - t0,
        ackMs: ok ? watch.lastAckMs - t0 : NaN,
        encodes,
        responses: responses - responsesBefore,
      });
    };
    const timer = setTimeout(() => finish(false), args.timeoutMs);
    watch.watch(targetSeq, args.streams, () => finish(true));
    mesh.setEchoWeights(args.v1Percent, args.v2Percent);
    publisher.changed(true);
  });
}

function shared(): ServerOps['shared']['result'] {
  const buffers = new Set<Uint8Array>();
  let streams = 0;
  for (const id of new Set(ads.syncz().map((p) => p.id)))
    for (const s of ads.sentTo(id)) {
      streams++;
      for (const t of s.types)
        if (t.typeUrl === TYPE_URLS.listener) for (const r of t.resources) buffers.add(r.any);
    }
  return { streams, listenerBuffers: buffers.size };
}

async function stop(): Promise<void> {
  publisher.stop();
  await ads.close();
  process.exit(0);
}

const send = (m: ChildMessage): void => {
  process.send?.(m);
};

process.on('message', (m: ParentMessage) => {
  if (m.op === 'stop') {
    void stop();
    return;
  }
  const run = async (): Promise<unknown> => {
    switch (m.op) {
      case 'synced':
        return synced(m.args as ServerOps['synced']['args']);
      case 'heap':
        return heap();
      case 'change':
        return change(m.args as ServerOps['change']['args']);
      case 'shared':
        return shared();
    }
  };
  run().then(
    (result) => send({ id: m.id, result }),
    (err: unknown) => send({ id: m.id, error: String(err) }),
  );
});
// The benchmark went away without saying stop: do not outlive it.
process.on('disconnect', () => void stop());

if (!cache.synced) throw new Error('first publish failed');
send({ ready: { port, names: echoNames() } });
