// operator/router.ts and routers/: the VirtualService/DestinationRule builders as tables, then both providers'
// routers against the sandbox API server (create 100/0, idempotence, weights round trip, spec changes keep them).
import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../crds/schema/flagger.js';
import { parseCanary } from '../../operator/validate.js';
import { createRouter } from '../../operator/router.js';
import { ISTIO_FLAVOR } from '../../operator/routers/istio.js';
import { MESH_FLAVOR } from '../../operator/routers/mesh.js';
import type { VirtualService } from '../../operator/routers/routes.js';
import {
  buildDestinationRules,
  buildVirtualService,
  readRoutes,
  readWeights,
  reconciledRoutes,
  updatedRouteObject,
} from '../../operator/routers/routes.js';
import type { RouteState } from '../../operator/scheduler/index.js';
import { PODINFO_CANARY_YAML } from '../fixtures/podinfo-canary.js';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';

type Manifest = { metadata: Record<string, unknown>; spec: Record<string, unknown> };
type ServicePatch = Record<string, unknown>;

const manifest = (name: string, service: ServicePatch = {}): Manifest => {
  const m = YAML.parse(PODINFO_CANARY_YAML) as Manifest;
  m.metadata.name = name;
  m.spec.service = { ...(m.spec.service as object), ...service };
  return m;
};

function canaryOf(obj: unknown): Canary {
  const parsed = parseCanary(obj);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

/** The podinfo Canary (test/fixtures) with spec.service fields overridden, as the builders get it. */
const podinfo = (service: ServicePatch = {}): Canary => {
  const m = manifest('podinfo', service);
  m.metadata.uid = 'uid-1';
  return canaryOf(m);
};

const vsOrThrow = (c: Canary, primary: number, canary: number): VirtualService => {
  const r = buildVirtualService(c, { primary, canary }, MESH_FLAVOR);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe('route builders', () => {
  it("builds Flagger's VirtualService for the podinfo Canary", () => {
    const vs = vsOrThrow(
      podinfo({ timeout: '30s', rewrite: { uri: '/', type: 'ReplacePrefixMatch' } }),
      90,
      10,
    );
    expect(vs.apiVersion).toBe('networking.istio.io/v1');
    expect(vs.metadata).toMatchObject({
      name: 'podinfo',
      namespace: 'test',
      labels: { 'app.kubernetes.io/managed-by': 'fledge' },
      ownerReferences: [{ kind: 'Canary', name: 'podinfo', uid: 'uid-1', controller: true }],
    });
    expect(vs.spec).toEqual({
      hosts: ['podinfo', 'app.example.com'],
      gateways: ['istio-ingressgateway.istio-system.svc.cluster.local'],
      http: [
        {
          retries: {
            attempts: 3,
            perTryTimeout: '1s',
            retryOn: 'gateway-error,connect-failure,refused-stream',
          },
          timeout: '30s',
          rewrite: { uri: '/' },
          route: [
            { destination: { host: 'podinfo-primary', port: { number: 9898 } }, weight: 90 },
            { destination: { host: 'podinfo-canary', port: { number: 9898 } }, weight: 10 },
          ],
        },
      ],
    });
  });

  it('copies match, headers and corsPolicy; defaults gateways to mesh; dedupes hosts', () => {
    const match = [{ uri: { prefix: '/api' } }];
    const headers = { request: { set: { 'x-canary': 'no' } } };
    const corsPolicy = { allowOrigins: [{ exact: 'https://a.example' }], maxAge: '24h' };
    const c = podinfo({
      match,
      headers,
      corsPolicy,
      hosts: ['podinfo'],
      gateways: undefined,
      retries: undefined,
    });
    const vs = vsOrThrow(c, 100, 0);
    expect(vs.spec.hosts).toEqual(['podinfo']);
    expect(vs.spec.gateways).toEqual(['mesh']);
    expect(vs.spec.http?.[0]).toMatchObject({ match, headers, corsPolicy });
    expect(Object.keys(vs.spec.http?.[0] ?? {}).sort()).toEqual(['corsPolicy', 'headers', 'match', 'route']);
  });

  it.each([
    [{ timeout: '30' }, 'spec.service.timeout'],
    [{ retries: { perTryTimeout: '1s' } }, 'spec.service.retries.attempts'],
    [{ retries: { attempts: 2, perTryTimeout: 'soon' } }, 'spec.service.retries.perTryTimeout'],
  ])('a spec the VirtualService schema refuses (%j) is a problem on %s', (service, field) => {
    expect(buildVirtualService(podinfo(service), { primary: 100, canary: 0 }, MESH_FLAVOR)).toMatchObject({
      ok: false,
      field,
    });
  });

  it.each([
    [101, -1],
    [50, 40],
    [99.5, 0.5],
  ])('weights %d/%d are a bug', (primary, canary) => {
    expect(() => buildVirtualService(podinfo(), { primary, canary }, MESH_FLAVOR)).toThrow(/sum/);
  });

  it('builds the DestinationRules with the trafficPolicy, as the flavor’s apiVersion', () => {
    const r = buildDestinationRules(podinfo(), ISTIO_FLAVOR);
    if (!r.ok) throw new Error(r.message);
    expect(r.value.map((d) => ({ apiVersion: d.apiVersion, name: d.metadata.name, spec: d.spec }))).toEqual([
      {
        apiVersion: 'networking.istio.io/v1beta1',
        name: 'podinfo-primary',
        spec: { host: 'podinfo-primary', trafficPolicy: { tls: { mode: 'DISABLE' } } },
      },
      {
        apiVersion: 'networking.istio.io/v1beta1',
        name: 'podinfo-canary',
        spec: { host: 'podinfo-canary', trafficPolicy: { tls: { mode: 'DISABLE' } } },
      },
    ]);
    const plain = buildDestinationRules(podinfo({ trafficPolicy: undefined }), MESH_FLAVOR);
    expect(plain.ok && plain.value[0]?.spec).toEqual({ host: 'podinfo-primary' });
  });

  const route = (...r: [string, number | undefined][]) => ({
    spec: {
      http: [
        {
          route: r.map(([host, weight]) => ({
            destination: { host },
            ...(weight === undefined ? {} : { weight }),
          })),
        },
      ],
    },
  });
  it.each([
    ['both weighted', route(['podinfo-primary', 70], ['podinfo-canary', 30]), { primary: 70, canary: 30 }],
    [
      'FQDN hosts',
      route(['podinfo-primary.test.svc.cluster.local', 40], ['podinfo-canary.test', 60]),
      { primary: 40, canary: 60 },
    ],
    ['a lone unweighted primary', route(['podinfo-primary', undefined]), { primary: 100, canary: 0 }],
    ['a lone canary', route(['podinfo-canary', 100]), { primary: 0, canary: 100 }],
  ])('reads the weights of %s', (_what, vs, weights) => {
    expect(readWeights(podinfo(), vs)).toEqual({ ok: true, value: weights });
  });

  it('a VirtualService without a route to the Canary’s Services is a problem', () => {
    expect(readWeights(podinfo(), route(['other', 100]))).toMatchObject({
      ok: false,
      field: 'spec.service.name',
    });
  });

  it('an update keeps the served weights and leaves a matching object alone', () => {
    const built = vsOrThrow(podinfo(), 70, 30);
    const existing: VirtualService = { ...built, metadata: { ...built.metadata, resourceVersion: '5' } };
    const served = readWeights(podinfo(), existing);
    if (!served.ok) throw new Error(served.message);
    const changed = podinfo({ timeout: '5s' });
    const updated = updatedRouteObject(
      existing,
      vsOrThrow(changed, served.value.primary, served.value.canary),
    );
    expect(updated?.metadata.resourceVersion).toBe('5');
    expect(updated?.spec.http?.[0]?.timeout).toBe('5s');
    expect(updated && readWeights(changed, updated)).toEqual({
      ok: true,
      value: { primary: 70, canary: 30 },
    });
    if (updated) expect(updatedRouteObject(updated, vsOrThrow(changed, 70, 30))).toBeNull();
  });

  const build = (c: Canary, r: RouteState): VirtualService => {
    const built = buildVirtualService(c, r, MESH_FLAVOR);
    if (!built.ok) throw new Error(built.message);
    return built.value;
  };
  const dest = (host: string, weight: number) => ({ destination: { host, port: { number: 9898 } }, weight });
  const plain = podinfo({ retries: undefined });
  const insiders = [{ headers: { 'x-canary': { exact: 'insider' } } }];

  it('A/B: a first route for the conditions with the weights, then everything else 100% primary', () => {
    expect(build(plain, { primary: 0, canary: 100, match: insiders }).spec.http).toEqual([
      { match: insiders, route: [dest('podinfo-primary', 0), dest('podinfo-canary', 100)] },
      { route: [dest('podinfo-primary', 100)] },
    ]);
  });

  it("A/B merges the conditions with every service match (Flagger's product); suffix becomes a regex", () => {
    const c = podinfo({
      retries: undefined,
      match: [{ uri: { prefix: '/api' } }, { uri: { prefix: '/v2' }, headers: { 'x-a': { exact: '1' } } }],
    });
    const http = build(c, {
      primary: 0,
      canary: 100,
      match: [
        { headers: { 'user-agent': { suffix: 'Firefox.1' } } },
        { headers: { 'x-b': { prefix: 'b' } } },
      ],
    }).spec.http;
    expect(http?.[0]?.match).toEqual([
      { uri: { prefix: '/api' }, headers: { 'user-agent': { regex: '.*Firefox\\.1' } } },
      {
        uri: { prefix: '/v2' },
        headers: { 'x-a': { exact: '1' }, 'user-agent': { regex: '.*Firefox\\.1' } },
      },
      { uri: { prefix: '/api' }, headers: { 'x-b': { prefix: 'b' } } },
      { uri: { prefix: '/v2' }, headers: { 'x-a': { exact: '1' }, 'x-b': { prefix: 'b' } } },
    ]);
    expect(http?.[1]?.match).toEqual(c.spec.service.match);
  });

  it('mirroring: the weighted route mirrors mirrorWeight% to the canary Service', () => {
    expect(build(plain, { primary: 100, canary: 0, mirror: { weightPercent: 40 } }).spec.http).toEqual([
      {
        route: [dest('podinfo-primary', 100), dest('podinfo-canary', 0)],
        mirror: { host: 'podinfo-canary', port: { number: 9898 } },
        mirrorPercentage: { value: 40 },
      },
    ]);
  });

  const affinity = { cookieName: 'canary', cookieValue: 'abc123', maxAgeSeconds: 3600 };
  it('session affinity above weight 0: requests with the cookie go to the canary, whose responses set it', () => {
    expect(build(plain, { primary: 90, canary: 10, sessionAffinity: affinity }).spec.http).toEqual([
      {
        match: [{ headers: { cookie: { regex: '.*canary=abc123.*' } } }],
        route: [dest('podinfo-primary', 0), dest('podinfo-canary', 100)],
      },
      {
        route: [
          dest('podinfo-primary', 90),
          {
            ...dest('podinfo-canary', 10),
            headers: { response: { add: { 'Set-Cookie': 'canary=abc123; Max-Age=3600' } } },
          },
        ],
      },
    ]);
  });

  it('session affinity at weight 0: requests with the cookie get it expired and go to the primary', () => {
    const c = podinfo({ retries: undefined, headers: { response: { add: { 'x-served-by': 'fledge' } } } });
    expect(build(c, { primary: 100, canary: 0, sessionAffinity: affinity }).spec.http).toEqual([
      {
        match: [{ headers: { cookie: { regex: '.*canary=abc123.*' } } }],
        headers: {
          response: { add: { 'x-served-by': 'fledge', 'Set-Cookie': 'canary=abc123; Max-Age=-1' } },
        },
        route: [dest('podinfo-primary', 100), dest('podinfo-canary', 0)],
      },
      {
        headers: { response: { add: { 'x-served-by': 'fledge' } } },
        route: [dest('podinfo-primary', 100), dest('podinfo-canary', 0)],
      },
    ]);
  });

  it.each<[string, RouteState]>([
    ['plain', { primary: 70, canary: 30 }],
    ['A/B', { primary: 0, canary: 100, match: insiders }],
    ['mirroring', { primary: 100, canary: 0, mirror: { weightPercent: 100 } }],
    ['session affinity', { primary: 80, canary: 20, sessionAffinity: affinity }],
    [
      'expiring session cookie',
      { primary: 100, canary: 0, sessionAffinity: { ...affinity, maxAgeSeconds: -1 } },
    ],
  ])('readRoutes reads back the %s layout; readWeights the weights route', (_what, routes) => {
    const vs = build(plain, routes);
    expect(readRoutes(plain, vs)).toEqual({ ok: true, value: routes });
    expect(readWeights(plain, vs)).toEqual({
      ok: true,
      value: { primary: routes.primary, canary: routes.canary },
    });
  });

  it('reconcile keeps a served A/B route with the conditions of the current spec, and drops it when none are left', () => {
    const withMatch = (match: unknown[]): Canary => ({
      ...plain,
      spec: {
        ...plain.spec,
        analysis: { ...plain.spec.analysis, match: match as Canary['spec']['analysis']['match'] },
      },
    });
    const served: RouteState = { primary: 0, canary: 100, match: insiders };
    const other = [{ headers: { 'x-other': { exact: 'yes' } } }];
    expect(reconciledRoutes(withMatch(other), served)).toEqual({ primary: 0, canary: 100, match: other });
    expect(reconciledRoutes(withMatch([]), served)).toEqual({ primary: 0, canary: 100 });
    expect(reconciledRoutes(withMatch(other), { primary: 100, canary: 0 })).toEqual({
      primary: 100,
      canary: 0,
    });
  });

  it('every provider has a router (kubernetes: test/operator/kubernetes-router.test.ts)', () => {
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'c', server: 'http://127.0.0.1:1', skipTLSVerify: false },
      { name: 'u' },
    );
    for (const provider of ['fledge', 'istio', 'kubernetes'] as const)
      expect(createRouter(provider, kc)).toMatchObject({ ok: true });
  });
});

describe.each([
  ['fledge', 'v1'],
  ['istio', 'v1beta1'],
] as const)('the %s router on the sandbox API server', (provider, version) => {
  let cluster: TestCluster;
  let custom: CustomObjectsApi;
  let canary: Canary;

  const readVs = async (): Promise<VirtualService> =>
    (await custom.getNamespacedCustomObject({
      group: 'networking.istio.io',
      version,
      namespace: 'test',
      plural: 'virtualservices',
      name: 'podinfo',
    })) as VirtualService;
  const versions = async (): Promise<string[]> => {
    const list = async (plural: string): Promise<string[]> => {
      const l = (await custom.listNamespacedCustomObject({
        group: 'networking.istio.io',
        version,
        namespace: 'test',
        plural,
      })) as {
        items: { metadata: { name: string; resourceVersion: string } }[];
      };
      return l.items.map((i) => `${plural}/${i.metadata.name}@${i.metadata.resourceVersion}`).sort();
    };
    return [...(await list('virtualservices')), ...(await list('destinationrules'))];
  };
  const router = () => {
    const r = createRouter(provider, cluster.kc, { timeoutMs: 5_000 });
    if (!r.ok) throw new Error(r.message);
    return r.value;
  };

  beforeAll(async () => {
    cluster = await startTestCluster();
    custom = cluster.kc.makeApiClient(CustomObjectsApi);
    await cluster.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'test' } } });
    await installCrds(cluster.kc);
    const m = manifest('podinfo');
    m.spec.provider = provider;
    canary = canaryOf(
      await custom.createNamespacedCustomObject({
        group: 'flagger.app',
        version: 'v1beta1',
        namespace: 'test',
        plural: 'canaries',
        body: m,
      }),
    );
  });

  afterAll(async () => {
    await cluster?.close();
  });

  it('reads no weights and refuses to set them before the routes exist', async () => {
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: null });
    expect(await router().setRoutes(canary, { primary: 50, canary: 50 })).toMatchObject({
      ok: false,
      field: 'spec.service.name',
    });
  });

  it('reconcile creates the DestinationRules and a VirtualService routing 100/0, owned by the Canary', async () => {
    expect(await router().reconcile(canary)).toEqual({ ok: true, value: undefined });
    const vs = await readVs();
    expect(vs.apiVersion).toBe(`networking.istio.io/${version}`);
    expect(vs.metadata.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Canary',
        name: 'podinfo',
        uid: canary.metadata.uid,
        controller: true,
      }),
    ]);
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: { primary: 100, canary: 0 } });
    for (const name of ['podinfo-primary', 'podinfo-canary']) {
      const dr = (await custom.getNamespacedCustomObject({
        group: 'networking.istio.io',
        version,
        namespace: 'test',
        plural: 'destinationrules',
        name,
      })) as { spec: unknown; metadata: { ownerReferences?: { uid: string }[] } };
      expect(dr.spec).toEqual({ host: name, trafficPolicy: { tls: { mode: 'DISABLE' } } });
      expect(dr.metadata.ownerReferences?.[0]?.uid).toBe(canary.metadata.uid);
    }
  });

  it('reconcile run twice changes nothing', async () => {
    const before = await versions();
    expect(before).toHaveLength(3);
    expect(await router().reconcile(canary)).toMatchObject({ ok: true });
    expect(await versions()).toEqual(before);
  });

  it('setRoutes round-trips through getWeights and bumps the generation', async () => {
    const before = (await readVs()).metadata.generation ?? 0;
    const set = await router().setRoutes(canary, { primary: 70, canary: 30 });
    expect(set.ok && set.value.generation).toBeGreaterThan(before);
    expect(await router().getWeights(canary)).toEqual({ ok: true, value: { primary: 70, canary: 30 } });
    // The same weights again write nothing.
    const again = await router().setRoutes(canary, { primary: 70, canary: 30 });
    expect(again).toEqual(set);
  });

  it('reconcile with a changed service.timeout keeps the weights at 70/30', async () => {
    const changed = {
      ...canary,
      spec: { ...canary.spec, service: { ...canary.spec.service, timeout: '15s' } },
    };
    expect(await router().reconcile(changed)).toMatchObject({ ok: true });
    const vs = await readVs();
    expect(vs.spec.http?.[0]?.timeout).toBe('15s');
    expect(await router().getWeights(changed)).toEqual({ ok: true, value: { primary: 70, canary: 30 } });
  });

  it('an A/B route survives a reconcile: the match route keeps the weights, everything else stays on the primary', async () => {
    const match = [{ headers: { 'x-canary': { exact: 'insider' } } }];
    const ab: Canary = { ...canary, spec: { ...canary.spec, analysis: { ...canary.spec.analysis, match } } };
    expect(await router().setRoutes(ab, { primary: 0, canary: 100, match })).toMatchObject({ ok: true });
    expect(await router().reconcile(ab)).toMatchObject({ ok: true });
    expect(readRoutes(ab, await readVs())).toEqual({ ok: true, value: { primary: 0, canary: 100, match } });
    expect(await router().getWeights(ab)).toEqual({ ok: true, value: { primary: 0, canary: 100 } });
    expect(await router().setRoutes(ab, { primary: 70, canary: 30 })).toMatchObject({ ok: true });
  });

  it('a bad service field is a problem before anything is written', async () => {
    const before = await versions();
    const bad = {
      ...canary,
      spec: { ...canary.spec, service: { ...canary.spec.service, timeout: 'never' } },
    };
    expect(await router().reconcile(bad)).toMatchObject({ ok: false, field: 'spec.service.timeout' });
    expect(await versions()).toEqual(before);
  });
});
