// MeshPublisher's rebuilds: a VirtualService-only change keeps the encoded clusters of the previous build,
// and every publish, kept or rebuilt, serves exactly what a full build from the same inputs gives.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeGroup } from '../../mesh/cache.js';
import { SnapshotCache } from '../../mesh/cache.js';
import { ConvergenceTracker } from '../../mesh/convergence.js';
import type { KubeEndpointSlice, KubeNetworkingObject, KubePod } from '../../mesh/kube.js';
import { buildModel } from '../../mesh/model.js';
import { MeshPublisher } from '../../mesh/publisher.js';
import type { Snapshot, TypeSnapshot } from '../../mesh/snapshot.js';
import { EncodeMemo, makeSnapshot } from '../../mesh/snapshot.js';
import { translate, TYPE_URLS } from '../../mesh/translate/index.js';
import type { MeshInputs } from '../../mesh/model.js';
import type { MutableInputs } from './inputs.js';
import { inputsFromFile } from './inputs.js';
import { readdirSync } from 'node:fs';

const TESTDATA = new URL('./translate/testdata/', import.meta.url).pathname;
const WEIGHTS = `${TESTDATA}weights-90-10.input.yaml`;

const quiet = { info: (): void => {}, warn: (): void => {}, error: (): void => {} };

function setup(): { inputs: MutableInputs & MeshInputs; cache: SnapshotCache; publisher: MeshPublisher } {
  const inputs = inputsFromFile(WEIGHTS);
  const cache = new SnapshotCache();
  const publisher = new MeshPublisher({
    cache,
    tracker: new ConvergenceTracker(),
    inputs: () => inputs,
    log: quiet,
  });
  publisher.start();
  return { inputs, cache, publisher };
}

/** Every type's resources as name → version, and the notes. */
function contents(s: Snapshot | undefined): unknown {
  if (!s) return undefined;
  return {
    version: s.version,
    notes: s.notes,
    types: [...s.types].map(([t, ts]) => [t, ts.version, [...ts.resources.values()].map((r) => r.version)]),
  };
}

function expectFullBuild(cache: SnapshotCache, inputs: MeshInputs): void {
  const model = buildModel(inputs).model;
  const want: Record<Exclude<NodeGroup, 'gateway'>, Snapshot> = {
    sidecar: makeSnapshot(translate(model, 'sidecar')),
    proxyless: makeSnapshot(translate(model, 'proxyless')),
  };
  expect(contents(cache.get('sidecar'))).toEqual(contents(want.sidecar));
  expect(contents(cache.get('proxyless'))).toEqual(contents(want.proxyless));
}

/** A copy of the reviews VirtualService (a new object, as an informer gives) at these weights. */
function reviewsAt(inputs: MutableInputs, v1: number, v2: number): void {
  const i = inputs.virtualServices.findIndex((v) => v.metadata?.name === 'reviews');
  const old = inputs.virtualServices[i] as KubeNetworkingObject;
  const spec = structuredClone(old.spec) as { http: Array<{ route: Array<{ weight?: number }> }> };
  const route = spec.http[0]?.route ?? [];
  if (route[0]) route[0].weight = v1;
  if (route[1]) route[1].weight = v2;
  inputs.virtualServices[i] = {
    ...old,
    metadata: { ...old.metadata, generation: (old.metadata?.generation ?? 0) + 1 },
    spec,
  };
}

describe('MeshPublisher rebuilds', () => {
  it('keeps the encoded clusters when only a VirtualService changed, and serves what a full build gives', () => {
    const { inputs, cache, publisher } = setup();
    expectFullBuild(cache, inputs);
    const clustersBefore = cache.get('sidecar')?.types.get(TYPE_URLS.cluster);
    reviewsAt(inputs, 50, 50);
    publisher.flush();
    expect(publisher.clusterReuses).toBe(1);
    // ratings' routes (no VirtualService, unchanged) are taken from the previous build: sidecar virtual
    // host and proxyless listeners.
    expect(publisher.routeReuses).toBe(2);
    // The very same encoded cluster set is served, and the new split is.
    expect(cache.get('sidecar')?.types.get(TYPE_URLS.cluster)).toBe(clustersBefore);
    expectFullBuild(cache, inputs);
    expect(cache.seq).toBe(2);
    publisher.stop();
  });

  it('keeps clusters and routes when only endpoints changed, and re-translates only the changed load assignments', () => {
    const { inputs, cache, publisher } = setup();
    const types = (kind: 'sidecar' | 'proxyless', t: string): TypeSnapshot | undefined =>
      cache.get(kind)?.types.get(t as never);
    const versions = (ts: TypeSnapshot | undefined): Record<string, string> =>
      Object.fromEntries([...(ts?.resources ?? [])].map(([n, r]) => [n, r.version]));
    const before = {
      clusters: types('sidecar', TYPE_URLS.cluster),
      proxylessClusters: types('proxyless', TYPE_URLS.cluster),
      endpoints: versions(types('sidecar', TYPE_URLS.endpoint)),
      listeners: types('proxyless', TYPE_URLS.listener),
      routes: types('sidecar', TYPE_URLS.route),
    };
    // A pod leaves the reviews slice: a new EndpointSlice object.
    const i = inputs.endpointSlices.findIndex((s) => s.metadata?.name === 'reviews-abcde');
    const slice = inputs.endpointSlices[i] as KubeEndpointSlice;
    inputs.endpointSlices[i] = { ...slice, endpoints: (slice.endpoints ?? []).slice(0, 2) };
    publisher.flush();
    expect(publisher.clusterReuses).toBe(1);
    expect(publisher.endpointReuses).toBe(0);
    expectFullBuild(cache, inputs);
    // The very same encoded clusters, listeners and routes.
    expect(types('sidecar', TYPE_URLS.cluster)).toBe(before.clusters);
    expect(types('proxyless', TYPE_URLS.cluster)).toBe(before.proxylessClusters);
    expect(publisher.listenerReuses).toBe(1);
    expect(types('proxyless', TYPE_URLS.listener)).toBe(before.listeners);
    expect(types('sidecar', TYPE_URLS.route)).toBe(before.routes);
    // Only reviews' load assignments changed, and only those were made again: ratings' were kept.
    const after = versions(types('sidecar', TYPE_URLS.endpoint));
    const changed = Object.keys(after).filter((n) => after[n] !== before.endpoints[n]);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every((n) => n.endsWith('|reviews.shop.svc.cluster.local'))).toBe(true);
    expect(Object.keys(after).some((n) => n.endsWith('|ratings.shop.svc.cluster.local'))).toBe(true);
    const kept = publisher.loadAssignmentReuses;
    expect(kept).toBeGreaterThan(0);

    // A pod's labels move it to the other subset: subset load assignments follow, clusters stay.
    const subsets = versions(types('sidecar', TYPE_URLS.endpoint));
    const p = inputs.pods.findIndex((x) => x.metadata?.name === 'reviews-v1-b');
    const pod = inputs.pods[p];
    inputs.pods[p] = { ...pod, metadata: { ...pod?.metadata, labels: { app: 'reviews', version: 'v2' } } };
    publisher.flush();
    expect(publisher.clusterReuses).toBe(2);
    expect(publisher.endpointReuses).toBe(0);
    const relabelled = versions(types('sidecar', TYPE_URLS.endpoint));
    expect(Object.keys(relabelled).filter((n) => relabelled[n] !== subsets[n])).toEqual([
      'outbound|9080|v1|reviews.shop.svc.cluster.local',
      'outbound|9080|v2|reviews.shop.svc.cluster.local',
    ]);
    expect(types('sidecar', TYPE_URLS.cluster)).toBe(before.clusters);
    expectFullBuild(cache, inputs);

    // A Pod changed without a change to what endpoints read (its status, say): load assignments kept whole.
    const endpointsNow = types('sidecar', TYPE_URLS.endpoint);
    const other = inputs.pods.findIndex((x) => x.metadata?.name === 'reviews-v1-a');
    inputs.pods[other] = structuredClone(inputs.pods[other] as KubePod);
    publisher.flush();
    expect(publisher.endpointReuses).toBe(1);
    expect(types('sidecar', TYPE_URLS.endpoint)).toBe(endpointsNow);
    expect(publisher.listenerReuses).toBe(3);
    expectFullBuild(cache, inputs);

    // A VirtualService change alone: load assignments kept whole again, routes made anew.
    reviewsAt(inputs, 50, 50);
    publisher.flush();
    expect(publisher.endpointReuses).toBe(2);
    expect(publisher.listenerReuses).toBe(3);
    expect(types('sidecar', TYPE_URLS.endpoint)).toBe(endpointsNow);
    expect(types('sidecar', TYPE_URLS.route)).not.toBe(before.routes);
    expectFullBuild(cache, inputs);
    publisher.stop();
  });

  it('rebuilds the clusters when a DestinationRule or a Service changed', () => {
    const { inputs, cache, publisher } = setup();
    // A subset is removed from the DestinationRule (the VirtualService still names it: refused, last
    // good kept), then the weights move, then a Service is added: each publish equals a full build.
    const d = inputs.destinationRules.findIndex((r) => r.metadata?.name === 'reviews');
    const dr = inputs.destinationRules[d] as KubeNetworkingObject;
    inputs.destinationRules[d] = {
      ...dr,
      metadata: { ...dr.metadata, generation: 2 },
      spec: { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] },
    };
    publisher.flush();
    expect(publisher.clusterReuses).toBe(0);
    reviewsAt(inputs, 10, 90);
    publisher.flush();
    expect(publisher.clusterReuses).toBe(1);
    inputs.services.push({
      metadata: { name: 'details', namespace: 'shop' },
      spec: { clusterIP: '10.96.0.12', ports: [{ name: 'http', port: 9080, protocol: 'TCP' }] },
    });
    publisher.flush();
    expect(publisher.clusterReuses).toBe(1);
    const clusterNames = [...(cache.get('sidecar')?.types.get(TYPE_URLS.cluster)?.resources.keys() ?? [])];
    expect(clusterNames).toContain('outbound|9080||details.shop.svc.cluster.local');
    publisher.stop();
  });

  it('equals a full build after every one of a random sequence of changes', () => {
    const { inputs, cache, publisher } = setup();
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let reused = 0;
    for (let step = 0; step < 40; step++) {
      const r = random();
      if (r < 0.6) {
        const v1 = Math.floor(random() * 11) * 10;
        reviewsAt(inputs, v1, 100 - v1);
        reused++;
      } else if (r < 0.7) {
        // ratings gets a VirtualService with a retry policy, or loses it again.
        const i = inputs.virtualServices.findIndex((v) => v.metadata?.name === 'ratings');
        if (i >= 0) inputs.virtualServices.splice(i, 1);
        else
          inputs.virtualServices.push({
            apiVersion: 'networking.istio.io/v1',
            kind: 'VirtualService',
            metadata: { name: 'ratings', namespace: 'shop', generation: step + 1 },
            spec: {
              hosts: ['ratings'],
              http: [{ retries: { attempts: step % 5 }, route: [{ destination: { host: 'ratings' } }] }],
            },
          });
        reused++;
      } else if (r < 0.8) {
        const i = inputs.pods.findIndex((p) => p.metadata?.name === 'reviews-v2-a');
        const pod = inputs.pods[i];
        if (pod) {
          const version = pod.metadata?.labels?.['version'] === 'v2' ? 'v1' : 'v2';
          inputs.pods[i] = { ...pod, metadata: { ...pod.metadata, labels: { app: 'reviews', version } } };
        }
        reused++;
      } else {
        const i = inputs.services.findIndex((s) => s.metadata?.name === 'ratings');
        const svc = inputs.services[i];
        if (svc) inputs.services[i] = { ...svc, spec: { ...svc.spec, clusterIP: `10.96.1.${step}` } };
      }
      publisher.flush();
      expectFullBuild(cache, inputs);
    }
    expect(publisher.clusterReuses).toBe(reused);
    expect(publisher.routeReuses).toBeGreaterThan(0);
    publisher.stop();
  });

  it('encodes through the memo (route configurations joined from their virtual hosts) exactly as directly', () => {
    const cases = readdirSync(TESTDATA).filter((f) => f.endsWith('.input.yaml'));
    expect(cases.length).toBeGreaterThan(10);
    for (const file of cases) {
      const model = buildModel(inputsFromFile(`${TESTDATA}${file}`)).model;
      for (const kind of ['sidecar', 'proxyless'] as const) {
        const translated = translate(model, kind);
        const memo = new EncodeMemo();
        makeSnapshot(translated, undefined, memo);
        memo.rotate();
        // Twice through the memo: the second build takes every encoding from the first.
        const viaMemo = makeSnapshot(translated, undefined, memo);
        const direct = makeSnapshot(translated);
        expect(contents(viaMemo), `${file} (${kind})`).toEqual(contents(direct));
        for (const [t, ts] of direct.types)
          for (const [name, r] of ts.resources) {
            const m = viaMemo.types.get(t)?.resources.get(name);
            expect(m && Buffer.from(m.any).equals(Buffer.from(r.any)), `${file} ${name}`).toBe(true);
            expect(m?.refs).toEqual(r.refs);
            // Each kept encoding owns its storage: a slice of Node's 8 KB buffer pool would keep the slab.
            for (const bytes of [r.any, m?.any])
              expect(bytes?.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength, name).toBe(
                true,
              );
          }
      }
    }
  });

  describe('pacing of immediate builds', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('builds a weight change at once when idle, and no sooner than two build times after a build', () => {
      vi.useFakeTimers();
      const inputs = inputsFromFile(WEIGHTS);
      const clock = { ms: 0 };
      const cache = new SnapshotCache();
      const publisher = new MeshPublisher({
        cache,
        tracker: new ConvergenceTracker(),
        // Every build reads the inputs once and, on this clock, takes 50 ms.
        inputs: () => {
          clock.ms += 50;
          return inputs;
        },
        log: quiet,
        now: () => clock.ms,
      });
      publisher.start();
      expect(cache.seq).toBe(1);

      // Right after a build (it ended at 50 and took 50): the next starts at 150.
      reviewsAt(inputs, 50, 50);
      publisher.changed(true);
      vi.advanceTimersByTime(99);
      expect(cache.seq).toBe(1);
      vi.advanceTimersByTime(1);
      expect(cache.seq).toBe(2);

      // Idle (long after the last build): on the next turn of the loop.
      clock.ms = 10_000;
      reviewsAt(inputs, 10, 90);
      publisher.changed(true);
      expect(cache.seq).toBe(2);
      vi.advanceTimersByTime(0);
      expect(cache.seq).toBe(3);
      expectFullBuild(cache, inputs);
      publisher.stop();
    });
  });
});
