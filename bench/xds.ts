// xDS fan-out benchmark (SPEC §10): weight change → ACK by 100/1,000/5,000 ADS streams, control-plane heap
// per stream, encodes per change, and step latency seen by a real @grpc/grpc-js-xds client.
//
// Processes: the control plane runs alone in a child (bench/xds-server.ts, --expose-gc) so its heap and
// event loop hold only the server; this process holds the client side — the lightweight ADS streams
// (100 per HTTP/2 connection), the grpc-js-xds channel and the two echo backends it calls.
import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { loadAdsService } from '../mesh/xds/ads.js';
import { DemoClient, loadDemoService, toEchoRequest } from '../sandbox/demo-app/proto.js';
import type { BenchMetric } from './run.js';
import { AdsFleet } from './xds-fleet.js';
import { ECHO_LISTENER } from './xds-inputs.js';
import type { ChangeResult, ServerProcess } from './xds-ipc.js';
import { startServerProcess } from './xds-ipc.js';

const STREAM_COUNTS = [100, 1000, 5000];
/** Weight changes per stream count; fewer when a stream count's changes take longer than the budget. */
const CHANGES = 20;
const MIN_CHANGES = 5;
const CHANGES_BUDGET_MS = 30_000;
const STREAMS_PER_CHANNEL = 100;
/** Services besides echo in the model, so each rebuild translates and hashes a realistic amount. */
const BACKGROUND_SERVICES = 50;
/** Proxies with a connection each (no multiplexing), for the heap per proxy as real proxies connect. */
const OWN_CONNECTIONS = 1000;
const STEP_CHANGES = 100;
const STEP_TIMEOUT_MS = 5000;
const FANOUT_TARGET_STREAMS = 1000;

const round2 = (x: number): number => Math.round(x * 100) / 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of unsorted samples; NaN when there are none. */
function quantile(samples: readonly number[], p: number): number {
  const xs = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] as number;
}

interface Backend {
  port: number;
  close(): void;
}

/** A plain grpc-js server whose Echo answers with its own name as the version. */
function startBackend(service: ServiceDefinition, name: string): Promise<Backend> {
  const server = new grpc.Server();
  server.addService(service, {
    Echo: (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => {
      callback(null, { message: toEchoRequest(call.request).message, version: name, pod: `echo-${name}-a` });
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve({ port, close: () => server.forceShutdown() }),
    );
  });
}

/** Fan-out at each stream count, with the heap per stream and the encode/response counts. */
async function fanOut(server: ServerProcess, fleet: AdsFleet): Promise<BenchMetric[]> {
  const out: BenchMetric[] = [];
  const base = await server.call('heap', {}, 30_000);
  let flip = false;
  for (const n of STREAM_COUNTS) {
    const connectStart = performance.now();
    fleet.grow(n);
    const synced = await server.call('synced', { streams: n, timeoutMs: 90_000 }, 100_000);
    if (!synced.ok) throw new Error(`only ${synced.proxies} of ${n} streams synced (${fleet.lastError})`);
    const connectMs = performance.now() - connectStart;
    const heap = await server.call('heap', {}, 30_000);
    const results: ChangeResult[] = [];
    const start = performance.now();
    for (let i = 0; i < CHANGES; i++) {
      if (i >= MIN_CHANGES && performance.now() - start > CHANGES_BUDGET_MS) break;
      flip = !flip;
      const r = await server.call(
        'change',
        { v1Percent: flip ? 80 : 90, v2Percent: flip ? 20 : 10, streams: n, timeoutMs: 20_000 },
        30_000,
      );
      results.push(r);
      await sleep(20);
    }
    const shared = await server.call('shared', {}, 60_000);
    const ack = results.map((r) => r.ackMs);
    const failed = results.filter((r) => !r.ok).length;
    const m = (metric: string, value: number, unit: string, target = ''): void => {
      out.push({ metric: `${metric}@${n}`, value: round2(value), unit, target });
    };
    const fanoutTarget = n === FANOUT_TARGET_STREAMS ? '<= 100' : '';
    m('connect_and_sync', connectMs, 'ms');
    m('changes', results.length, 'count');
    m('changes_not_acked_by_all', failed, 'count', '0');
    m('change_to_last_ack_p50', quantile(ack, 50), 'ms');
    m('change_to_last_ack_p99', quantile(ack, 99), 'ms', fanoutTarget);
    const snapshot = results.map((r) => r.snapshotMs);
    const push = results.map((r) => r.ackMs - r.snapshotMs);
    m('change_to_snapshot_p50', quantile(snapshot, 50), 'ms');
    m('change_to_snapshot_p99', quantile(snapshot, 99), 'ms');
    m('snapshot_to_last_ack_p50', quantile(push, 50), 'ms');
    m('snapshot_to_last_ack_p99', quantile(push, 99), 'ms');
    m('heap_per_stream', (heap.heapUsedBytes - base.heapUsedBytes) / n / 1024, 'KB', '<= 50');
    m('rss_per_stream', (heap.rssBytes - base.rssBytes) / n / 1024, 'KB');
    m('encodes_per_change', Math.max(...results.map((r) => r.encodes)), 'resources', 'same at every N');
    m('responses_per_change', Math.max(...results.map((r) => r.responses)), 'responses', `${n}`);
    m('distinct_listener_buffers', shared.listenerBuffers, 'buffers', '1');
    if (!heap.collected)
      console.warn('xds bench: server ran without --expose-gc; heap is after a settle only');
  }
  return out;
}

/** Heap per proxy when each stream has its own HTTP/2 connection, as separate proxies do. */
async function ownConnections(server: ServerProcess, fleet: AdsFleet): Promise<BenchMetric[]> {
  const base = await server.call('heap', {}, 30_000);
  fleet.grow(OWN_CONNECTIONS);
  const synced = await server.call('synced', { streams: OWN_CONNECTIONS, timeoutMs: 90_000 }, 100_000);
  if (!synced.ok) throw new Error(`only ${synced.proxies} of ${OWN_CONNECTIONS} proxies synced`);
  const heap = await server.call('heap', {}, 30_000);
  const perKb = (bytes: number): number => round2(bytes / OWN_CONNECTIONS / 1024);
  return [
    {
      metric: `heap_per_stream_own_connection@${OWN_CONNECTIONS}`,
      value: perKb(heap.heapUsedBytes - base.heapUsedBytes),
      unit: 'KB',
      target: '<= 50',
    },
    {
      metric: `rss_per_stream_own_connection@${OWN_CONNECTIONS}`,
      value: perKb(heap.rssBytes - base.rssBytes),
      unit: 'KB',
      target: '',
    },
  ];
}

/**
 * Step latency with the real proxyless client: from asking the control plane for 0/100 (or 100/0) until
 * the next call lands on the newly weighted backend. Calls run back to back, so a sample includes at
 * most one call already in flight; the timer starts before the IPC message to the control plane.
 */
async function stepLatency(
  server: ServerProcess,
  port: number,
  demo: ServiceDefinition,
): Promise<BenchMetric[]> {
  const bootstrap = {
    xds_servers: [
      { server_uri: `127.0.0.1:${port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] },
    ],
    node: { id: 'bench-grpc-js-xds', locality: {}, metadata: { kind: 'proxyless', namespace: 'bench' } },
  };
  const client = new DemoClient(
    `xds:///${ECHO_LISTENER}`,
    { 'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap) },
    demo,
  );
  let callErrors = 0;
  try {
    const warm = await client.echo({ message: 'warm-up' }, { timeoutMs: 10_000 });
    if (!warm.ok) throw new Error(`grpc-js-xds warm-up call failed: ${warm.codeName} ${warm.details}`);
    const synced = await server.call('synced', { streams: 1, timeoutMs: 10_000 }, 15_000);
    if (!synced.ok) throw new Error('the grpc-js-xds client did not sync');
    const step = async (to: 'v1' | 'v2'): Promise<{ seenMs: number; ackMs: number; snapshotMs: number }> => {
      const t0 = performance.now();
      const acked = server.call(
        'change',
        {
          v1Percent: to === 'v1' ? 100 : 0,
          v2Percent: to === 'v2' ? 100 : 0,
          streams: 1,
          timeoutMs: STEP_TIMEOUT_MS,
        },
        STEP_TIMEOUT_MS + 5000,
      );
      let seenMs = NaN;
      while (performance.now() - t0 < STEP_TIMEOUT_MS) {
        const r = await client.echo({ message: 'step' }, { timeoutMs: 1000 });
        if (r.ok && r.value.version === to) {
          seenMs = performance.now() - t0;
          break;
        }
        if (!r.ok) callErrors++;
      }
      const ack = await acked;
      return { seenMs, ackMs: ack.ackMs, snapshotMs: ack.snapshotMs };
    };
    await step('v1');
    callErrors = 0;
    const seen: number[] = [];
    const acks: number[] = [];
    const snapshots: number[] = [];
    for (let i = 0; i < STEP_CHANGES; i++) {
      const r = await step(i % 2 === 0 ? 'v2' : 'v1');
      seen.push(r.seenMs);
      acks.push(r.ackMs);
      snapshots.push(r.snapshotMs);
    }
    return [
      { metric: 'step_changes', value: seen.length, unit: 'count', target: `${STEP_CHANGES}` },
      {
        metric: 'step_not_seen_in_5s',
        value: seen.filter((x) => !Number.isFinite(x)).length,
        unit: 'count',
        target: '0',
      },
      { metric: 'step_write_to_new_split_p50', value: round2(quantile(seen, 50)), unit: 'ms', target: '' },
      { metric: 'step_write_to_new_split_p95', value: round2(quantile(seen, 95)), unit: 'ms', target: '' },
      {
        metric: 'step_write_to_new_split_p99',
        value: round2(quantile(seen, 99)),
        unit: 'ms',
        target: '<= 50',
      },
      {
        metric: 'step_change_to_snapshot_p99',
        value: round2(quantile(snapshots, 99)),
        unit: 'ms',
        target: '',
      },
      { metric: 'step_grpc_xds_ack_p50', value: round2(quantile(acks, 50)), unit: 'ms', target: '' },
      { metric: 'step_grpc_xds_ack_p99', value: round2(quantile(acks, 99)), unit: 'ms', target: '' },
      { metric: 'step_failed_calls', value: callErrors, unit: 'count', target: '' },
    ];
  } finally {
    client.close();
  }
}

async function drain(server: ServerProcess): Promise<void> {
  const r = await server.call('synced', { streams: 0, timeoutMs: 30_000 }, 35_000);
  if (!r.ok) throw new Error(`${r.proxies} benchmark streams still connected`);
}

export async function benchXds(): Promise<BenchMetric[]> {
  const demo = loadDemoService();
  const backends: Backend[] = [];
  let server: ServerProcess | undefined;
  let fleet: AdsFleet | undefined;
  let single: AdsFleet | undefined;
  try {
    backends.push(await startBackend(demo, 'v1'), await startBackend(demo, 'v2'));
    const [v1, v2] = backends as [Backend, Backend];
    server = await startServerProcess({ v1Port: v1.port, v2Port: v2.port, background: BACKGROUND_SERVICES });
    const port = server.ready.port;
    const ads = loadAdsService();
    const names = server.ready.names;
    fleet = new AdsFleet({ port, service: ads, names, streamsPerChannel: STREAMS_PER_CHANNEL });
    const metrics = await fanOut(server, fleet);
    fleet.close();
    await drain(server);
    single = new AdsFleet({ port, service: ads, names, streamsPerChannel: 1 });
    metrics.push(...(await ownConnections(server, single)));
    single.close();
    await drain(server);
    const failures = fleet.failures + single.failures;
    metrics.push({ metric: 'client_stream_failures', value: failures, unit: 'count', target: '0' });
    grpcXds.register();
    metrics.push(...(await stepLatency(server, port, demo)));
    return metrics;
  } finally {
    fleet?.close();
    single?.close();
    await server?.stop();
    for (const b of backends) b.close();
  }
}
