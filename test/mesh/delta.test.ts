// Tests of Delta ADS (mesh/xds/delta.ts, served by AdsServer) over real gRPC with a raw delta client:
// subscriptions, per-resource versions, removals, reconnect, NACK, stale nonce, push order, convergence.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition } from '@grpc/proto-loader';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NodeGroup } from '../../mesh/cache.js';
import { SnapshotCache } from '../../mesh/cache.js';
import type { ConvergenceSink } from '../../mesh/convergence.js';
import { buildModel } from '../../mesh/model.js';
import type { Snapshot, TypeUrl } from '../../mesh/snapshot.js';
import { makeSnapshot, PUSH_ORDER } from '../../mesh/snapshot.js';
import type { EnvoyResources } from '../../mesh/translate/index.js';
import { translate, TYPE_URLS } from '../../mesh/translate/index.js';
import type { AdsLogger, AdsMetrics } from '../../mesh/xds/ads.js';
import { AdsServer, loadAdsService } from '../../mesh/xds/ads.js';
import { waitFor } from '../helpers/wait-for.js';
import type { RawDeltaResponse } from './ads-client.js';
import { RawDeltaClient, struct } from './ads-client.js';
import { inputsFromYaml } from './inputs.js';

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'translate', 'testdata');
const WEIGHTS_YAML = readFileSync(path.join(testdata, 'weights-90-10.input.yaml'), 'utf8');

const { cluster: CDS, endpoint: EDS, listener: LDS, route: RDS } = TYPE_URLS;
const RATINGS = 'outbound|50051||ratings.shop.svc.cluster.local';
const REVIEWS_V1 = 'outbound|9080|v1|reviews.shop.svc.cluster.local';
const DETAILS = 'outbound|50052||details.shop.svc.cluster.local';

const translated = (yaml: string, drop: string[] = []): EnvoyResources => {
  const inputs = inputsFromYaml(yaml);
  inputs.services = inputs.services.filter((s) => !drop.includes(s.metadata?.name ?? ''));
  return translate(buildModel(inputs).model, 'sidecar');
};
const snapshotOf = (yaml: string, drop: string[] = []): Snapshot => makeSnapshot(translated(yaml, drop));
const weights = (yaml: string, v1: number, v2: number): string =>
  yaml.replace('weight: 90', `weight: ${v1}`).replace('weight: 10', `weight: ${v2}`);

/** weights-90-10 (sidecar): 4 clusters and endpoints, 2 listeners and route configs. */
const base = (): Snapshot => snapshotOf(WEIGHTS_YAML);
/** base with another address for the ratings endpoint (only that ClusterLoadAssignment differs). */
const ratingsMoved = (ip = '10.0.1.9'): string => WEIGHTS_YAML.replace('10.0.1.1', ip);
/** base with one cluster's connect_timeout changed (only that Cluster differs). */
const clusterBumped = (name: string, seconds: number): Snapshot => {
  const t = translated(WEIGHTS_YAML);
  const c = t.clusters.get(name);
  if (!c) throw new Error(`no cluster ${name}`);
  return makeSnapshot({
    ...t,
    clusters: new Map([...t.clusters, [name, { ...c, connect_timeout: { seconds } }]]),
  });
};

const names = (s: Snapshot, t: TypeUrl): string[] => [...(s.types.get(t)?.resources.keys() ?? [])];
const version = (s: Snapshot, t: TypeUrl, name: string): string | undefined =>
  s.types.get(t)?.resources.get(name)?.version;
const versionsOf = (s: Snapshot, t: TypeUrl): Record<string, string> =>
  Object.fromEntries([...(s.types.get(t)?.resources.values() ?? [])].map((r) => [r.name, r.version]));
/** The response as [type, names sent, names removed], for compact comparisons. */
const shape = (r: RawDeltaResponse): [string, string[], string[]] => [r.type_url, r.names, r.removed];

describe('ADS delta (raw client)', () => {
  let service: ServiceDefinition;
  let cache: SnapshotCache;
  let server: AdsServer;
  let port: number;
  let logged: Array<{ level: string; msg: string }>;
  let progress: Array<{ key: string; nodeId: string; group: NodeGroup; seq: number }>;
  let closed: string[];
  let pushed: Array<[string, NodeGroup]>;
  let nacked: Array<[string, NodeGroup]>;
  let connected: number;
  let clients: RawDeltaClient[];

  const connect = (
    id: string,
    metadata: object = struct({ kind: 'sidecar', namespace: 'shop' }),
  ): RawDeltaClient => {
    const c = new RawDeltaClient(port, service, { id, metadata });
    clients.push(c);
    return c;
  };
  const proxy = (id: string) => server.syncz().find((p) => p.id === id);

  /** Subscribes CDS and LDS (wildcard) and EDS and RDS (every name of `s`), ACKing each response. */
  const subscribeAll = async (
    c: RawDeltaClient,
    s: Snapshot,
    extra: Partial<Record<TypeUrl, string[]>> = {},
  ) => {
    const subs: Array<[TypeUrl, string[]]> = [
      [CDS, []],
      [EDS, [...names(s, EDS), ...(extra[EDS] ?? [])]],
      [LDS, []],
      [RDS, [...names(s, RDS), ...(extra[RDS] ?? [])]],
    ];
    for (const [t, n] of subs) {
      c.send({ type_url: t, resource_names_subscribe: n });
      const r = await c.next();
      expect(shape(r)).toEqual([t, names(s, t), []]);
      c.ack(r);
    }
  };

  beforeAll(() => {
    service = loadAdsService();
  });

  beforeEach(async () => {
    logged = [];
    progress = [];
    closed = [];
    pushed = [];
    nacked = [];
    connected = 0;
    clients = [];
    const log = (level: string) => (_obj: object, msg: string) => logged.push({ level, msg });
    const logger: AdsLogger = { info: log('info'), warn: log('warn'), error: log('error') };
    const convergence: ConvergenceSink = {
      progress: (key, nodeId, group, seq) => progress.push({ key, nodeId, group, seq }),
      closed: (key) => closed.push(key),
    };
    const metrics: AdsMetrics = {
      pushed: (t, g) => pushed.push([t, g]),
      nacked: (t, g) => nacked.push([t, g]),
      connected: (d) => {
        connected += d;
      },
    };
    cache = new SnapshotCache();
    server = new AdsServer({ cache, log: logger, convergence, metrics });
    port = await server.listen('127.0.0.1', 0);
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  it('serves nothing before the first publish, then the whole subscription', async () => {
    const c = connect('early');
    c.send({ type_url: CDS });
    // The request was handled (the node is known) and, the cache not being synced, nothing was written.
    await waitFor(() => proxy('early'));
    expect(pushed).toEqual([]);
    expect(cache.publish({ sidecar: base() })).toMatchObject({ ok: true });
    // Had anything (e.g. an empty config) been written before, it would be the first response.
    const r = await c.next();
    expect(shape(r)).toEqual([CDS, names(base(), CDS), []]);
    expect(Object.fromEntries(r.versions)).toEqual(versionsOf(base(), CDS));
    expect(r.system_version_info).toBe(base().types.get(CDS)?.version);
  });

  it('sends the subscribed resources, records the ACK, reports convergence and closes', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('sub');
    c.send({ type_url: CDS });
    const cds = await c.next();
    expect(shape(cds)).toEqual([CDS, names(base(), CDS), []]);
    c.ack(cds);
    await waitFor(() => proxy('sub')?.acked[CDS] === cds.system_version_info);
    expect(proxy('sub')).toMatchObject({ protocol: 'delta', kind: 'sidecar', namespace: 'shop' });
    expect(server.connected).toBe(1);
    expect(connected).toBe(1);
    // The clusters' endpoints are not held yet: not converged.
    expect(progress).toEqual([]);

    // EDS names are explicit: only the two asked for are sent.
    c.send({ type_url: EDS, resource_names_subscribe: [RATINGS, REVIEWS_V1] });
    const eds = await c.next();
    expect(shape(eds)).toEqual([EDS, [RATINGS, REVIEWS_V1], []]);
    c.send({ type_url: EDS, response_nonce: eds.nonce, resource_names_subscribe: names(base(), EDS) });
    const rest = await c.next();
    expect(rest.names).toEqual(names(base(), EDS).filter((n) => n !== RATINGS && n !== REVIEWS_V1));
    c.ack(rest);
    const streamKey = await waitFor(() => progress.find((p) => p.nodeId === 'sub')?.key);
    expect(streamKey).toMatch(/^delta\/\d+$/);
    expect(progress.at(-1)).toMatchObject({ group: 'sidecar', seq: cache.seq });
    expect(pushed).toEqual([
      [CDS, 'sidecar'],
      [EDS, 'sidecar'],
      [EDS, 'sidecar'],
    ]);
    const dump = server.sentTo('sub');
    expect(dump.map((s) => s.types.map((t) => [t.typeUrl, t.resources.map((r) => r.name)]))).toEqual([
      [
        [CDS, names(base(), CDS)],
        [EDS, names(base(), EDS)],
      ],
    ]);
    // The bytes sent are the snapshot's (encode once): the same buffers, not copies.
    const published = cache.get('sidecar')?.types.get(CDS)?.resources;
    for (const r of dump[0]?.types[0]?.resources ?? []) expect(r.any).toBe(published?.get(r.name)?.any);

    c.close();
    await waitFor(() => closed.includes(streamKey));
    expect(server.connected).toBe(0);
    expect(connected).toBe(0);
  });

  it('sends only the resources whose version changed', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('changes');
    await subscribeAll(c, base());
    // 80/20: only route configuration 9080 differs.
    const eighty = snapshotOf(weights(WEIGHTS_YAML, 80, 20));
    cache.publish({ sidecar: eighty });
    const rds = await c.next();
    expect(shape(rds)).toEqual([RDS, ['9080'], []]);
    expect(rds.versions.get('9080')).toBe(version(eighty, RDS, '9080'));
    expect(rds.system_version_info).toBe(eighty.types.get(RDS)?.version);
    c.ack(rds);
    // Then only the ratings endpoints: the next response is exactly that (nothing else came in between).
    const moved = snapshotOf(weights(ratingsMoved(), 80, 20));
    cache.publish({ sidecar: moved });
    const eds = await c.next();
    expect(shape(eds)).toEqual([EDS, [RATINGS], []]);
    expect(eds.versions.get(RATINGS)).toBe(version(moved, EDS, RATINGS));
    c.ack(eds);
    await waitFor(() => proxy('changes')?.acked[EDS] === eds.system_version_info);
    expect(proxy('changes')?.acked).toEqual(
      Object.fromEntries(PUSH_ORDER.map((t) => [t, moved.types.get(t)?.version])),
    );
  });

  it('sends a removed cluster in removed_resources, after the additions', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('removal');
    c.send({ type_url: CDS });
    c.ack(await c.next());
    c.send({ type_url: EDS, resource_names_subscribe: names(base(), EDS) });
    c.ack(await c.next());
    const noRatings = snapshotOf(WEIGHTS_YAML, ['ratings']);
    cache.publish({ sidecar: noRatings });
    const cds = await c.next();
    const eds = await c.next();
    expect([shape(cds), shape(eds)]).toEqual([
      [CDS, [], [RATINGS]],
      [EDS, [], [RATINGS]],
    ]);
    c.ack(cds);
    c.ack(eds);
    await waitFor(() => proxy('removal')?.acked[EDS] === noRatings.types.get(EDS)?.version);
    const held = server.sentTo('removal')[0]?.types.map((t) => t.resources.map((r) => r.name));
    expect(held).toEqual([names(noRatings, CDS), names(noRatings, EDS)]);
    // ratings comes back: sent again as an addition.
    cache.publish({ sidecar: base() });
    expect(shape(await c.next())).toEqual([CDS, [RATINGS], []]);
  });

  it('stops sending a name once it is unsubscribed, without a removal notice', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('unsub');
    c.send({ type_url: EDS, resource_names_subscribe: [RATINGS, REVIEWS_V1] });
    const r = await c.next();
    expect(r.names).toEqual([RATINGS, REVIEWS_V1]);
    // Unsubscribed while the response is unacknowledged: the ACK must not make ratings "held" again.
    c.send({ type_url: EDS, resource_names_unsubscribe: [RATINGS] });
    c.ack(r);
    await waitFor(() => proxy('unsub')?.acked[EDS]);
    cache.publish({ sidecar: snapshotOf(ratingsMoved()) });
    cache.publish({ sidecar: snapshotOf(ratingsMoved(), ['ratings']) });
    // Only a change of reviews v1 gets through; a ratings update or removal would have come first.
    const v1Moved = snapshotOf(ratingsMoved().replace('10.0.0.1', '10.0.0.7'), ['ratings']);
    cache.publish({ sidecar: v1Moved });
    const next = await c.next();
    expect(shape(next)).toEqual([EDS, [REVIEWS_V1], []]);
    expect(next.versions.get(REVIEWS_V1)).toBe(version(v1Moved, EDS, REVIEWS_V1));
    expect(server.sentTo('unsub')[0]?.types[0]?.resources.map((x) => x.name)).toEqual([REVIEWS_V1]);
  });

  it('sends a reconnecting client only what differs from its initial_resource_versions', async () => {
    const b = base();
    cache.publish({ sidecar: b });
    const c1 = connect('again');
    c1.send({ type_url: CDS });
    c1.ack(await c1.next());
    c1.send({ type_url: EDS, resource_names_subscribe: names(b, EDS) });
    c1.ack(await c1.next());
    c1.close();
    await waitFor(() => !proxy('again'));

    const moved = snapshotOf(ratingsMoved());
    cache.publish({ sidecar: moved });
    const c2 = connect('again');
    c2.send({
      type_url: CDS,
      initial_resource_versions: { ...versionsOf(b, CDS), 'outbound|1||gone': 'v0' },
    });
    c2.send({
      type_url: EDS,
      resource_names_subscribe: names(b, EDS),
      initial_resource_versions: versionsOf(b, EDS),
    });
    // Clusters are unchanged (the first wildcard response is sent anyway, empty); only ratings' endpoints.
    const cds = await c2.next();
    const eds = await c2.next();
    expect([shape(cds), shape(eds)]).toEqual([
      [CDS, [], []],
      [EDS, [RATINGS], []],
    ]);
    expect(eds.versions.get(RATINGS)).toBe(version(moved, EDS, RATINGS));
    c2.ack(cds);
    c2.ack(eds);
    // What it held that no longer exists is removed once the additions are ACKed.
    const removal = await c2.next();
    expect(shape(removal)).toEqual([CDS, [], ['outbound|1||gone']]);
    c2.ack(removal);
    await waitFor(() => progress.some((p) => p.nodeId === 'again' && p.seq === cache.seq));
    const held = server.sentTo('again')[0]?.types.map((t) => t.resources.map((r) => r.version));
    expect(held).toEqual([Object.values(versionsOf(moved, CDS)), Object.values(versionsOf(moved, EDS))]);
  });

  it('records a NACK, does not send the rejected version again, sends a newer one', async () => {
    const b = base();
    cache.publish({ sidecar: b });
    const c = connect('nacker');
    c.send({ type_url: CDS });
    const r1 = await c.next();
    c.ack(r1);
    const bad = clusterBumped(REVIEWS_V1, 3);
    cache.publish({ sidecar: bad });
    const r2 = await c.next();
    expect(shape(r2)).toEqual([CDS, [REVIEWS_V1], []]);
    c.nack(r2, 'cluster outbound|9080|v1|reviews: bad connect_timeout');
    await waitFor(() => proxy('nacker')?.lastNack);
    expect(proxy('nacker')).toMatchObject({
      acked: { [CDS]: r1.system_version_info },
      lastNack: {
        typeUrl: CDS,
        version: bad.types.get(CDS)?.version,
        nonce: r2.nonce,
        message: /bad connect/,
      },
    });
    expect(nacked).toEqual([[CDS, 'sidecar']]);
    expect(progress.filter((p) => p.nodeId === 'nacker' && p.seq === cache.seq)).toEqual([]);
    // The node keeps its last good cluster.
    const held = server.sentTo('nacker')[0]?.types[0]?.resources.find((r) => r.name === REVIEWS_V1);
    expect(held?.version).toBe(version(b, CDS, REVIEWS_V1));

    // Any pump (here: a new EDS subscription) must not resend the rejected cluster: CDS would come first.
    c.send({ type_url: EDS, resource_names_subscribe: [RATINGS] });
    expect(shape(await c.next())).toEqual([EDS, [RATINGS], []]);
    // A newer version of the cluster is sent.
    const fixed = clusterBumped(REVIEWS_V1, 4);
    cache.publish({ sidecar: fixed });
    const r3 = await c.next();
    expect(shape(r3)).toEqual([CDS, [REVIEWS_V1], []]);
    expect(r3.versions.get(REVIEWS_V1)).toBe(version(fixed, CDS, REVIEWS_V1));
    c.ack(r3);
    await waitFor(() => proxy('nacker')?.acked[CDS] === fixed.types.get(CDS)?.version);
  });

  it('ignores a stale nonce as ACK or NACK but applies its subscriptions', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('stale');
    c.send({ type_url: CDS });
    const r1 = await c.next();
    c.send({ type_url: CDS, response_nonce: 'not-the-last-one', error_detail: { code: 3, message: 'old' } });
    await waitFor(() => logged.some((l) => l.msg === 'stale xDS nonce ignored'));
    expect(proxy('stale')).toMatchObject({ acked: {} });
    expect(proxy('stale')?.lastNack).toBeUndefined();
    c.ack(r1);
    await waitFor(() => proxy('stale')?.acked[CDS] === r1.system_version_info);
    expect(proxy('stale')?.lastNack).toBeUndefined();

    c.send({ type_url: EDS, resource_names_subscribe: [RATINGS] });
    const eds = await c.next();
    c.send({ type_url: EDS, response_nonce: r1.nonce, resource_names_subscribe: [REVIEWS_V1] });
    // Still pending (the stale request was not an ACK): REVIEWS_V1 waits for the ACK of `eds`.
    await waitFor(() => logged.filter((l) => l.msg === 'stale xDS nonce ignored').length === 2);
    expect(pushed.length).toBe(2);
    c.ack(eds);
    expect(shape(await c.next())).toEqual([EDS, [REVIEWS_V1], []]);
  });

  it('does not answer an unknown type URL and keeps serving the others', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('unknown');
    c.send({ type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret' });
    c.send({ type_url: CDS });
    // Requests are handled in order: an answer to the unknown type would come first.
    expect(shape(await c.next())).toEqual([CDS, names(base(), CDS), []]);
    expect(logged.some((l) => l.level === 'error' && /unknown type URL.*Secret/.test(l.msg))).toBe(true);
  });

  it('rejects malformed node metadata with INVALID_ARGUMENT naming the field', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('bad', struct({ kind: 'toaster' }));
    c.send({ type_url: CDS });
    const s = await c.ended();
    expect(s.code).toBe(3);
    expect(s.details).toMatch(/node\.metadata\.kind/);
    expect(server.connected).toBe(0);
  });

  it('pushes additions CDS → EDS → LDS → RDS, then removals; a changed cluster re-sends its endpoints', async () => {
    cache.publish({ sidecar: base() });
    const c = connect('order');
    await subscribeAll(c, base(), { [EDS]: [DETAILS], [RDS]: ['50052'] });
    // ratings becomes details (new cluster, endpoints, listener, route) and the split 80/20.
    const renamed = snapshotOf(
      weights(WEIGHTS_YAML.replaceAll('ratings', 'details').replaceAll('50051', '50052'), 80, 20),
    );
    const before = pushed.length;
    cache.publish({ sidecar: renamed });
    const adds: RawDeltaResponse[] = [];
    for (let i = 0; i < 4; i++) adds.push(await c.next());
    expect(adds.map(shape)).toEqual([
      [CDS, [DETAILS], []],
      [EDS, [DETAILS], []],
      [LDS, ['0.0.0.0_50052'], []],
      [RDS, ['50052', '9080'], []],
    ]);
    // No removal while an addition is unacknowledged.
    for (const r of adds.slice(0, 3)) c.ack(r);
    await waitFor(() => proxy('order')?.acked[LDS] === renamed.types.get(LDS)?.version);
    expect(pushed.length).toBe(before + 4);
    const last = adds[3];
    if (!last) throw new Error('no RDS response');
    c.ack(last);
    const removals: RawDeltaResponse[] = [];
    for (let i = 0; i < 4; i++) removals.push(await c.next());
    expect(removals.map(shape)).toEqual([
      [CDS, [], [RATINGS]],
      [EDS, [], [RATINGS]],
      [LDS, [], ['0.0.0.0_50051']],
      [RDS, [], ['50051']],
    ]);
    for (const r of removals) c.ack(r);
    await waitFor(() => progress.some((p) => p.nodeId === 'order' && p.seq === cache.seq));

    // Only a cluster changes: its endpoints (same version) follow it.
    const t = translated(WEIGHTS_YAML);
    cache.publish({ sidecar: makeSnapshot(t) });
    for (let i = 0; i < 8; i++) c.ack(await c.next());
    await waitFor(() => progress.some((p) => p.nodeId === 'order' && p.seq === cache.seq));
    const bumped = clusterBumped(REVIEWS_V1, 3);
    expect(version(bumped, EDS, REVIEWS_V1)).toBe(version(makeSnapshot(t), EDS, REVIEWS_V1));
    cache.publish({ sidecar: bumped });
    const cds = await c.next();
    const eds = await c.next();
    expect([shape(cds), shape(eds)]).toEqual([
      [CDS, [REVIEWS_V1], []],
      [EDS, [REVIEWS_V1], []],
    ]);
  });
});
