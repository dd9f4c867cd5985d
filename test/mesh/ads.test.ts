// Tests of the SotW ADS server (mesh/xds/ads.ts) over real gRPC: a raw ADS client for the protocol rules
// (ACK, NACK, stale nonce, push order, …) and the real proxyless @grpc/grpc-js-xds client for a 90/10 split.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpcXds from '@grpc/grpc-js-xds';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SnapshotCache } from '../../mesh/cache.js';
import { buildModel } from '../../mesh/model.js';
import type { Snapshot, TypeSnapshot } from '../../mesh/snapshot.js';
import { checkConsistency, makeSnapshot, PUSH_ORDER } from '../../mesh/snapshot.js';
import type { ClientKind } from '../../mesh/translate/index.js';
import { translate, TYPE_URLS } from '../../mesh/translate/index.js';
import type { AdsLogger } from '../../mesh/xds/ads.js';
import { AdsServer, loadAdsService } from '../../mesh/xds/ads.js';
import type { DemoApp } from '../../sandbox/demo-app/app.js';
import { startDemoApp } from '../../sandbox/demo-app/app.js';
import { DemoClient } from '../../sandbox/demo-app/proto.js';
import { waitFor } from '../helpers/wait-for.js';
import type { RawResponse } from './ads-client.js';
import { RawAdsClient, struct } from './ads-client.js';
import { inputsFromYaml } from './inputs.js';

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'translate', 'testdata');
const WEIGHTS_YAML = readFileSync(path.join(testdata, 'weights-90-10.input.yaml'), 'utf8');

function snapshotOf(yaml: string, kind: ClientKind, drop: string[] = []): Snapshot {
  const inputs = inputsFromYaml(yaml);
  inputs.services = inputs.services.filter((s) => !drop.includes(s.metadata?.name ?? ''));
  return makeSnapshot(translate(buildModel(inputs).model, kind));
}

/** weights-90-10 (sidecar): all four types. */
const base = (): Snapshot => snapshotOf(WEIGHTS_YAML, 'sidecar');
/** The same with 80/20 and without ratings: every type differs from base(). */
const changed = (): Snapshot =>
  snapshotOf(
    WEIGHTS_YAML.replace('weight: 90', 'weight: 80').replace('weight: 10', 'weight: 20'),
    'sidecar',
    ['ratings'],
  );

const names = (s: Snapshot, t: string): string[] => [
  ...(s.types.get(t as (typeof PUSH_ORDER)[number])?.resources.keys() ?? []),
];

interface Logged {
  level: string;
  msg: string;
  obj: object;
}

let service: ServiceDefinition;
beforeAll(() => {
  service = loadAdsService();
});

describe('snapshot', () => {
  it('versions are content hashes and consistent snapshots pass', () => {
    const a = base();
    const b = base();
    expect(a.version).toBe(b.version);
    for (const t of PUSH_ORDER) expect(a.types.get(t)?.version).toBe(b.types.get(t)?.version);
    expect(changed().version).not.toBe(a.version);
    expect(checkConsistency(a)).toEqual([]);
  });

  it('gives an EDS cluster without endpoints an empty ClusterLoadAssignment', () => {
    const t = translate(buildModel(inputsFromYaml(WEIGHTS_YAML)).model, 'proxyless');
    const s = makeSnapshot({ ...t, endpoints: new Map() });
    expect(names(s, TYPE_URLS.endpoint)).toEqual([...t.clusters.keys()]);
    expect(checkConsistency(s)).toEqual([]);
  });

  it('refuses an inconsistent snapshot with a message', () => {
    const t = translate(buildModel(inputsFromYaml(WEIGHTS_YAML)).model, 'sidecar');
    const noRoutes = makeSnapshot({ ...t, routes: new Map() });
    const problems = checkConsistency(noRoutes);
    expect(problems.join('\n')).toMatch(/listener 0\.0\.0\.0_9080: route configuration 9080 does not exist/);
    const noClusters = makeSnapshot({ ...t, clusters: new Map([...t.clusters].slice(1)) });
    expect(checkConsistency(noClusters).join('\n')).toMatch(
      /cluster outbound\|50051\|\|ratings.* does not exist/,
    );
    // A type snapshot found consistent before is checked again against the other types it now sits with:
    // the very same listeners, with the route configurations gone.
    const whole = makeSnapshot(t);
    expect(checkConsistency(whole)).toEqual([]);
    const keptListeners = new Map(noRoutes.types);
    keptListeners.set(TYPE_URLS.listener, whole.types.get(TYPE_URLS.listener) as TypeSnapshot);
    expect(checkConsistency({ ...noRoutes, types: keptListeners }).join('\n')).toMatch(
      /listener 0\.0\.0\.0_9080: route configuration 9080 does not exist/,
    );
    const cache = new SnapshotCache();
    const r = cache.publish({ sidecar: noRoutes });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toMatch(/^inconsistent snapshot refused: sidecar: /);
    expect(cache.synced).toBe(false);
  });
});

describe('ADS state of the world (raw client)', () => {
  let cache: SnapshotCache;
  let server: AdsServer;
  let port: number;
  let logged: Logged[];
  const clients: RawAdsClient[] = [];

  const connect = (
    metadata: object = struct({ kind: 'sidecar', namespace: 'shop' }),
    id = 'node-1',
  ): RawAdsClient => {
    const c = new RawAdsClient(port, service, { id, metadata });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    logged = [];
    const log = (level: string) => (obj: object, msg: string) => logged.push({ level, msg, obj });
    const logger: AdsLogger = { info: log('info'), warn: log('warn'), error: log('error') };
    cache = new SnapshotCache();
    server = new AdsServer({ cache, log: logger });
    port = await server.listen('127.0.0.1', 0);
  });

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves nothing before the first publish', async () => {
    const c = connect();
    c.send({ type_url: TYPE_URLS.cluster });
    expect(await c.drain(200)).toEqual([]);
    expect(cache.publish({ sidecar: base() })).toMatchObject({ ok: true });
    const r = await c.next();
    expect(r.type_url).toBe(TYPE_URLS.cluster);
    expect(r.names).toEqual(names(base(), TYPE_URLS.cluster));
  });

  it('records an ACK and sends nothing more while nothing changes', async () => {
    cache.publish({ sidecar: base() });
    const c = connect();
    c.send({ type_url: TYPE_URLS.listener });
    const r = await c.next();
    expect(r.version_info).toBe(base().types.get(TYPE_URLS.listener)?.version);
    c.ack(r);
    await waitFor(() => server.syncz().find((p) => p.acked[TYPE_URLS.listener] === r.version_info));
    expect(await c.drain()).toEqual([]);
    const p = server.syncz().find((x) => x.acked[TYPE_URLS.listener]);
    expect(p).toMatchObject({ id: 'node-1', kind: 'sidecar', namespace: 'shop' });
    expect(p?.lastNack).toBeUndefined();
  });

  it('records a NACK, does not resend the same config, sends the next snapshot', async () => {
    cache.publish({ sidecar: base() });
    const c = connect(undefined, 'nacker');
    c.send({ type_url: TYPE_URLS.cluster });
    const r1 = await c.next();
    c.send({
      type_url: TYPE_URLS.cluster,
      version_info: '',
      response_nonce: r1.nonce,
      error_detail: { code: 3, message: 'cluster outbound|9080||x: bad lb_policy' },
    });
    await waitFor(() => server.syncz().find((p) => p.id === 'nacker')?.lastNack);
    expect(server.syncz().find((p) => p.id === 'nacker')).toMatchObject({
      acked: {},
      lastNack: { typeUrl: TYPE_URLS.cluster, version: r1.version_info, message: /bad lb_policy/ },
    });
    expect(await c.drain(200)).toEqual([]);
    cache.publish({ sidecar: base() }); // same content: still nothing
    expect(await c.drain(150)).toEqual([]);
    cache.publish({ sidecar: changed() });
    const r2 = await c.next();
    expect(r2.type_url).toBe(TYPE_URLS.cluster);
    expect(r2.version_info).toBe(changed().types.get(TYPE_URLS.cluster)?.version);
    expect(r2.version_info).not.toBe(r1.version_info);
    c.ack(r2);
    await waitFor(
      () => server.syncz().find((p) => p.id === 'nacker')?.acked[TYPE_URLS.cluster] === r2.version_info,
    );
  });

  it('ignores a request with a stale nonce', async () => {
    cache.publish({ sidecar: base() });
    const c = connect(undefined, 'stale');
    c.send({ type_url: TYPE_URLS.cluster });
    const r1 = await c.next();
    c.send({ type_url: TYPE_URLS.cluster, response_nonce: 'not-the-last-one', resource_names: ['x'] });
    expect(await c.drain(150)).toEqual([]);
    expect(server.syncz().find((p) => p.id === 'stale')?.acked).toEqual({});
    expect(logged.some((l) => l.msg === 'stale xDS nonce ignored')).toBe(true);
    c.ack(r1);
    await waitFor(() => server.syncz().find((p) => p.id === 'stale')?.acked[TYPE_URLS.cluster]);
    expect(await c.drain(100)).toEqual([]);
  });

  it('keeps one unacknowledged response per type', async () => {
    cache.publish({ sidecar: base() });
    const c = connect(undefined, 'slow');
    c.send({ type_url: TYPE_URLS.cluster });
    const r1 = await c.next();
    cache.publish({ sidecar: changed() });
    expect(await c.drain(150)).toEqual([]);
    cache.publish({ sidecar: base() });
    cache.publish({ sidecar: changed() });
    expect(await c.drain(100)).toEqual([]);
    c.ack(r1);
    const r2 = await c.next();
    expect(r2.version_info).toBe(changed().types.get(TYPE_URLS.cluster)?.version);
    expect(await c.drain(100)).toEqual([]);
  });

  it('pushes clusters, endpoints, listeners, routes in order; a changed cluster re-sends endpoints', async () => {
    const b = base();
    cache.publish({ sidecar: b });
    const c = connect(undefined, 'order');
    // Subscribe in the reverse order, acknowledging each response.
    const subs: Array<[string, string[]]> = [
      [TYPE_URLS.route, names(b, TYPE_URLS.route)],
      [TYPE_URLS.listener, []],
      [TYPE_URLS.endpoint, names(b, TYPE_URLS.endpoint)],
      [TYPE_URLS.cluster, []],
    ];
    for (const [t, n] of subs) {
      c.send({ type_url: t, resource_names: n });
      const r = await c.next();
      expect(r.type_url).toBe(t);
      c.ack(r, n);
    }
    expect(await c.drain(100)).toEqual([]);
    const ch = changed();
    for (const t of PUSH_ORDER) expect(ch.types.get(t)?.version).not.toBe(b.types.get(t)?.version);
    cache.publish({ sidecar: ch });
    const got: RawResponse[] = [];
    for (let i = 0; i < 4; i++) got.push(await c.next());
    expect(got.map((r) => r.type_url)).toEqual(PUSH_ORDER);
    for (const r of got) c.ack(r, subs.find(([t]) => t === r.type_url)?.[1] ?? []);
    expect(await c.drain(100)).toEqual([]);

    // Only the cluster set changes (endpoints identical): the endpoints are still re-sent after it.
    const t = translate(buildModel(inputsFromYaml(WEIGHTS_YAML)).model, 'sidecar');
    const bumped = new Map(t.clusters);
    const first = [...bumped.entries()][0];
    if (!first) throw new Error('no cluster');
    bumped.set(first[0], { ...first[1], connect_timeout: { seconds: 3 } });
    const onlyClusters = makeSnapshot({ ...t, clusters: bumped });
    const plain = makeSnapshot(t);
    cache.publish({ sidecar: plain });
    for (let i = 0; i < 4; i++) {
      const r = await c.next();
      c.ack(r, subs.find(([x]) => x === r.type_url)?.[1] ?? []);
    }
    expect(await c.drain(100)).toEqual([]);
    expect(onlyClusters.types.get(TYPE_URLS.endpoint)?.version).toBe(
      plain.types.get(TYPE_URLS.endpoint)?.version,
    );
    cache.publish({ sidecar: onlyClusters });
    const cds = await c.next();
    const eds = await c.next();
    expect([cds.type_url, eds.type_url]).toEqual([TYPE_URLS.cluster, TYPE_URLS.endpoint]);
    expect(await c.drain(100)).toEqual([]);
  });

  it('gives a reconnecting node the full current config', async () => {
    const b = base();
    cache.publish({ sidecar: b });
    const get = async (c: RawAdsClient): Promise<RawResponse[]> => {
      const out: RawResponse[] = [];
      for (const [t, n] of [
        [TYPE_URLS.cluster, []],
        [TYPE_URLS.endpoint, names(b, TYPE_URLS.endpoint)],
        [TYPE_URLS.listener, []],
        [TYPE_URLS.route, names(b, TYPE_URLS.route)],
      ] as Array<[string, string[]]>) {
        c.send({ type_url: t, resource_names: n });
        const r = await c.next();
        c.ack(r, n);
        out.push(r);
      }
      return out;
    };
    const c1 = connect(undefined, 'again');
    const first = await get(c1);
    c1.close();
    await waitFor(() => !server.syncz().some((p) => p.id === 'again'));
    const c2 = connect(undefined, 'again');
    const second = await get(c2);
    expect(second.map((r) => [r.type_url, r.version_info, r.names, [...r.values.values()]])).toEqual(
      first.map((r) => [r.type_url, r.version_info, r.names, [...r.values.values()]]),
    );
    for (const r of second) expect(r.names).toEqual(names(b, r.type_url));
  });

  it('rejects malformed node metadata with INVALID_ARGUMENT naming the field', async () => {
    cache.publish({ sidecar: base() });
    const c = connect(struct({ kind: 'toaster' }));
    c.send({ type_url: TYPE_URLS.cluster });
    const s = await c.ended();
    expect(s.code).toBe(3);
    expect(s.details).toMatch(/node\.metadata\.kind/);
    const d = connect(struct({ kind: 'sidecar', labels: { app: 'x' } }));
    d.send({ type_url: TYPE_URLS.cluster });
    await d.next();
    const e = connect({ fields: { labels: { structValue: { fields: { app: { numberValue: 1 } } } } } });
    e.send({ type_url: TYPE_URLS.cluster });
    expect((await e.ended()).details).toMatch(/node\.metadata\.labels\.app/);
  });

  it('logs an unknown type URL as an error and does not answer it', async () => {
    cache.publish({ sidecar: base() });
    const c = connect(undefined, 'unknown');
    c.send({ type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' });
    expect(await c.drain(150)).toEqual([]);
    expect(logged.some((l) => l.level === 'error' && /unknown type URL.*Secret/.test(l.msg))).toBe(true);
    c.send({ type_url: TYPE_URLS.cluster });
    expect((await c.next()).type_url).toBe(TYPE_URLS.cluster);
  });
});

// ---------------------------------------------------------------------------------------- real client

const E2E_YAML = (p1: number, p2: number, w1: number, w2: number): string => `
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: demo }
spec:
  clusterIP: 10.96.0.20
  ports: [{ name: grpc, port: 50051, targetPort: grpc, protocol: TCP }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: echo-v1, namespace: demo, labels: { kubernetes.io/service-name: echo } }
addressType: IPv4
ports: [{ name: grpc, port: ${p1}, protocol: TCP }]
endpoints:
  - addresses: [127.0.0.1]
    conditions: { ready: true }
    targetRef: { kind: Pod, name: echo-v1-a, namespace: demo }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: echo-v2, namespace: demo, labels: { kubernetes.io/service-name: echo } }
addressType: IPv4
ports: [{ name: grpc, port: ${p2}, protocol: TCP }]
endpoints:
  - addresses: [127.0.0.1]
    conditions: { ready: true }
    targetRef: { kind: Pod, name: echo-v2-a, namespace: demo }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-v1-a, namespace: demo, labels: { app: echo, version: v1 } }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-v2-a, namespace: demo, labels: { app: echo, version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo, namespace: demo, generation: 1, creationTimestamp: '2024-05-01T10:00:00Z' }
spec:
  host: echo
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo, namespace: demo, generation: 1, creationTimestamp: '2024-05-01T10:00:00Z' }
spec:
  hosts: [echo]
  http:
    - route:
        - destination: { host: echo, subset: v1 }
          weight: ${w1}
        - destination: { host: echo, subset: v2 }
          weight: ${w2}
`;

describe('ADS with the real proxyless client', () => {
  let cache: SnapshotCache;
  let server: AdsServer;
  let apps: DemoApp[] = [];
  let client: DemoClient | undefined;
  let port = 0;

  beforeAll(async () => {
    grpcXds.register();
    cache = new SnapshotCache();
    server = new AdsServer({
      cache,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    port = await server.listen('127.0.0.1', 0);
    apps = [
      await startDemoApp({
        host: '127.0.0.1',
        httpPort: 0,
        grpcPort: 0,
        version: 'v1',
        podName: 'echo-v1-a',
      }),
      await startDemoApp({
        host: '127.0.0.1',
        httpPort: 0,
        grpcPort: 0,
        version: 'v2',
        podName: 'echo-v2-a',
      }),
    ];
  });

  afterAll(async () => {
    client?.close();
    await server.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  const publish = (w1: number, w2: number): void => {
    const [a1, a2] = apps;
    if (!a1 || !a2) throw new Error('apps not started');
    const yaml = E2E_YAML(a1.grpcPort, a2.grpcPort, w1, w2);
    const r = cache.publish({
      proxyless: makeSnapshot(translate(buildModel(inputsFromYaml(yaml)).model, 'proxyless')),
    });
    expect(r).toMatchObject({ ok: true });
  };

  const count = async (n: number): Promise<Record<string, number>> => {
    const c = client;
    if (!c) throw new Error('no client');
    const out: Record<string, number> = {};
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, () => c.echo({ message: 'hi' })),
      );
      for (const r of batch) {
        const key = r.ok ? r.value.version : `error:${r.codeName}`;
        out[key] = (out[key] ?? 0) + 1;
      }
    }
    return out;
  };

  it('splits calls 90/10, then sends all to v2 after 0/100 is published', async () => {
    publish(90, 10);
    const bootstrap = {
      xds_servers: [
        {
          server_uri: `127.0.0.1:${port}`,
          channel_creds: [{ type: 'insecure' }],
          server_features: ['xds_v3'],
        },
      ],
      node: { id: 'e2e-proxyless', locality: {}, metadata: { kind: 'proxyless', namespace: 'demo' } },
    };
    client = new DemoClient('xds:///echo.demo.svc.cluster.local:50051', {
      'grpc.TEST_ONLY_DO_NOT_USE_IN_PROD.xds_bootstrap_config': JSON.stringify(bootstrap),
    });
    const warm = await client.echo({ message: 'warm-up' }, { timeoutMs: 10_000 });
    expect(warm).toMatchObject({ ok: true });
    const split = await count(2000);
    expect(Object.keys(split).sort()).toEqual(['v1', 'v2']);
    // 2000 calls at p=0.1: sd ≈ 13.4 calls; 5 sd either side.
    expect(split['v2']).toBeGreaterThan(200 - 70);
    expect(split['v2']).toBeLessThan(200 + 70);
    const proxy = server.syncz().find((p) => p.id === 'e2e-proxyless');
    expect(proxy).toMatchObject({ kind: 'proxyless', namespace: 'demo' });
    expect(proxy?.lastNack).toBeUndefined();
    expect(Object.keys(proxy?.acked ?? {}).sort()).toEqual(
      [TYPE_URLS.cluster, TYPE_URLS.endpoint, TYPE_URLS.listener].sort(),
    );

    const before = proxy?.acked[TYPE_URLS.listener];
    publish(0, 100);
    await waitFor(() => {
      const v = server.syncz().find((p) => p.id === 'e2e-proxyless')?.acked[TYPE_URLS.listener];
      return v !== undefined && v !== before;
    });
    const all = await count(500);
    expect(all).toEqual({ v2: 500 });
    expect(server.syncz().find((p) => p.id === 'e2e-proxyless')?.lastNack).toBeUndefined();
  }, 30_000);
});
