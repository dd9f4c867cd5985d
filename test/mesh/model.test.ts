// buildModel: Kubernetes objects → the mesh model, and every problem (by field path) that keeps a
// networking object out of it — the rest keeps serving, the last good version stands in, nothing is half-applied.
import { describe, expect, it } from 'vitest';
import type { KubeNetworkingObject } from '../../mesh/kube.js';
import type { BuildResult, LastGood, MeshInputs, ObjectProblems } from '../../mesh/model.js';
import { buildModel, endpointsOf, SpecChecks } from '../../mesh/model.js';
import { translate } from '../../mesh/translate/index.js';
import { inputsFromYaml } from './inputs.js';

const BASE = `
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec: { clusterIP: 10.96.0.10, ports: [{ name: http, port: 9080 }] }
---
apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: shop }
spec: { clusterIP: 10.96.0.11, ports: [{ name: http, port: 8080 }, { name: grpc, port: 9090 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: reviews-1, namespace: shop, labels: { kubernetes.io/service-name: reviews } }
ports: [{ name: http, port: 9080 }]
endpoints:
  - { addresses: [10.0.0.1], targetRef: { kind: Pod, name: reviews-v1 } }
  - { addresses: [10.0.0.2], targetRef: { kind: Pod, name: reviews-v2 } }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v1, namespace: shop, labels: { version: v1 } }
---
apiVersion: v1
kind: Pod
metadata: { name: reviews-v2, namespace: shop, labels: { version: v2 } }
`;

const DR_REVIEWS = {
  host: 'reviews',
  subsets: [
    { name: 'v1', labels: { version: 'v1' } },
    { name: 'v2', labels: { version: 'v2' } },
  ],
};

const CANARY_VS = {
  hosts: ['reviews'],
  http: [
    {
      route: [
        { destination: { host: 'reviews', subset: 'v1' }, weight: 90 },
        { destination: { host: 'reviews', subset: 'v2' }, weight: 10 },
      ],
    },
  ],
};

function object(
  kind: 'VirtualService' | 'DestinationRule',
  name: string,
  spec: unknown,
  meta: { generation?: number; creationTimestamp?: string; namespace?: string } = {},
): KubeNetworkingObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind,
    metadata: {
      name,
      namespace: meta.namespace ?? 'shop',
      generation: meta.generation ?? 1,
      creationTimestamp: meta.creationTimestamp ?? '2024-05-01T10:00:00Z',
    },
    spec,
  };
}
const vs = (name: string, spec: unknown, meta?: Parameters<typeof object>[3]): KubeNetworkingObject =>
  object('VirtualService', name, spec, meta);
const dr = (name: string, spec: unknown, meta?: Parameters<typeof object>[3]): KubeNetworkingObject =>
  object('DestinationRule', name, spec, meta);

function inputs(networking: { vs?: KubeNetworkingObject[]; dr?: KubeNetworkingObject[] }): MeshInputs {
  const base = inputsFromYaml(BASE);
  return { ...base, virtualServices: networking.vs ?? [], destinationRules: networking.dr ?? [] };
}

/** The problems of one object, as `path: reason` lines (messages are checked where they matter). */
function problemsOf(result: BuildResult, name: string): string[] {
  const p = result.problems.find((x) => x.name === name);
  return (p?.problems ?? []).map((x) => `${x.path}: ${x.reason}`);
}

/** Builds with one VirtualService (and the reviews DestinationRule) and returns its problems. */
function vsProblems(spec: unknown): string[] {
  return problemsOf(buildModel(inputs({ vs: [vs('bad', spec)], dr: [dr('reviews', DR_REVIEWS)] })), 'bad');
}

function drProblems(spec: unknown): string[] {
  return problemsOf(buildModel(inputs({ dr: [dr('bad', spec)] })), 'bad');
}

describe('buildModel: services and endpoints', () => {
  it('builds services with FQDNs, ports and endpoints carrying their pod labels', () => {
    const { model, problems } = buildModel(inputs({}));
    expect(problems).toEqual([]);
    expect(model.services.map((s) => s.hostname)).toEqual([
      'ratings.shop.svc.cluster.local',
      'reviews.shop.svc.cluster.local',
    ]);
    const reviews = model.services[1];
    expect(reviews?.clusterIP).toBe('10.96.0.10');
    const port = reviews?.ports[0];
    expect(port && endpointsOf(model.endpoints, reviews.hostname, port)).toEqual([
      {
        address: '10.0.0.1',
        port: 9080,
        ready: true,
        serving: true,
        terminating: false,
        labels: { version: 'v1' },
        podName: 'reviews-v1',
        locality: { region: '', zone: '', subZone: '' },
      },
      expect.objectContaining({ address: '10.0.0.2', labels: { version: 'v2' } }),
    ]);
  });

  it("gives a port the previous build's endpoint array while its endpoints are equal, a new one once they differ", () => {
    // reviews as in BASE, and ratings with one endpoint on its http port.
    const withRatings = (): MeshInputs => {
      const i = inputs({});
      return {
        ...i,
        endpointSlices: [
          ...i.endpointSlices,
          {
            metadata: {
              name: 'ratings-1',
              namespace: 'shop',
              labels: { 'kubernetes.io/service-name': 'ratings' },
            },
            ports: [{ name: 'http', port: 8080 }],
            endpoints: [{ addresses: ['10.0.1.1'] }],
          },
        ],
      };
    };
    const first = buildModel(withRatings());
    const list = (r: BuildResult, service: string): unknown => {
      const svc = r.model.services.find((s) => s.name === service);
      const port = svc?.ports[0];
      return svc && port ? endpointsOf(r.model.endpoints, svc.hostname, port) : undefined;
    };
    // Equal inputs as new objects (an informer's relist): the same arrays.
    const again = buildModel(structuredClone(withRatings()), { endpoints: first.model.endpoints });
    expect(list(first, 'ratings')).toEqual([expect.objectContaining({ address: '10.0.1.1', port: 8080 })]);
    expect(list(again, 'reviews')).toBe(list(first, 'reviews'));
    expect(list(again, 'ratings')).toBe(list(first, 'ratings'));
    // reviews' v2 pod is relabelled: reviews gets a new list, ratings keeps its array.
    const changed = withRatings();
    changed.pods = changed.pods.map((p) =>
      p.metadata?.labels?.['version'] === 'v2'
        ? { ...p, metadata: { ...p.metadata, labels: { version: 'v3' } } }
        : p,
    );
    const third = buildModel(changed, { endpoints: again.model.endpoints });
    expect(list(third, 'reviews')).not.toBe(list(first, 'reviews'));
    expect(list(third, 'reviews')).toEqual([
      expect.objectContaining({ address: '10.0.0.1', labels: { version: 'v1' } }),
      expect.objectContaining({ address: '10.0.0.2', labels: { version: 'v3' } }),
    ]);
    expect(list(third, 'ratings')).toBe(list(first, 'ratings'));
    // Without a previous index (or with endpointsCurrent but no base to keep) every list is made anew.
    expect(list(buildModel(withRatings()), 'ratings')).not.toBe(list(first, 'ratings'));
    const current = buildModel(changed, { endpoints: first.model.endpoints, endpointsCurrent: true });
    expect(list(current, 'reviews')).toEqual(list(third, 'reviews'));
  });

  it('uses a custom cluster domain', () => {
    const { model } = buildModel(inputs({}), { clusterDomain: 'corp.internal' });
    expect(model.services[0]?.hostname).toBe('ratings.shop.svc.corp.internal');
  });
});

describe('buildModel: accepted networking objects', () => {
  it('accepts a valid canary VirtualService and DestinationRule, resolving short hosts', () => {
    const { model, problems } = buildModel(
      inputs({ vs: [vs('reviews', CANARY_VS)], dr: [dr('reviews', DR_REVIEWS)] }),
    );
    expect(problems).toEqual([]);
    expect(model.destinationRules.map((d) => d.host)).toEqual(['reviews.shop.svc.cluster.local']);
    expect(model.virtualServices.map((v) => [v.name, v.hosts, v.meshBound])).toEqual([
      ['reviews', ['reviews.shop.svc.cluster.local'], true],
    ]);
  });

  it('keeps gateway-only VirtualServices (external hosts allowed) but marks them not mesh-bound', () => {
    const spec = {
      hosts: ['shop.example.com'],
      gateways: ['edge/public'],
      http: [{ route: [{ destination: { host: 'reviews' } }] }],
    };
    const { model, problems } = buildModel(inputs({ vs: [vs('edge', spec)] }));
    expect(problems).toEqual([]);
    expect(model.virtualServices[0]).toMatchObject({ meshBound: false, hosts: [] });
  });
});

describe('buildModel: problems keep an object out of the model', () => {
  it('reports zod validation errors with field paths', () => {
    expect(
      vsProblems({
        hosts: ['reviews'],
        http: [{ timeout: 'soon', route: [{ destination: { host: 'reviews' }, weight: -1 }] }],
      }),
    ).toEqual(['spec.http[0].route[0].weight: Invalid', 'spec.http[0].timeout: Invalid']);
    expect(drProblems({ subsets: [] })).toEqual(['spec.host: Invalid']);
  });

  it('names every field outside the supported subset', () => {
    const result = buildModel(
      inputs({
        vs: [
          vs('bad', {
            hosts: ['reviews'],
            http: [
              {
                directResponse: { status: 503 },
                match: [{ sourceLabels: { app: 'x' }, headers: { 'x-a': { exact: 'a', suffix: 'b' } } }],
                route: [{ destination: { host: 'reviews' } }],
                retries: { attempts: 1, retryRemoteLocalities: true },
              },
            ],
            tcp: [
              {
                match: [{ destinationSubnets: ['10.0.0.0/8'] }],
                route: [{ destination: { host: 'reviews' } }],
              },
            ],
            exportTo: ['.'],
          }),
        ],
      }),
    );
    const messages = result.problems[0]?.problems.map((p) => p.message);
    expect(messages).toEqual([
      'spec.http[0].directResponse is not supported',
      'spec.http[0].match[0].headers[x-a].suffix is not supported',
      'spec.exportTo is not supported (only "*", visible to every namespace)',
      'spec.http[0].match[0].sourceLabels is not supported',
      'spec.http[0].retries.retryRemoteLocalities is not supported',
      'spec.tcp[0].match[0].destinationSubnets is not supported',
    ]);
    expect(result.model.virtualServices).toEqual([]);

    expect(
      drProblems({
        host: 'reviews',
        trafficPolicy: {
          tls: { mode: 'SIMPLE', sni: 'x' },
          loadBalancer: { localityLbSetting: { enabled: true } },
        },
      }),
    ).toEqual([
      'spec.trafficPolicy.loadBalancer.localityLbSetting: UnsupportedField',
      'spec.trafficPolicy.tls.mode: UnsupportedField',
      'spec.trafficPolicy.tls.sni: UnsupportedField',
    ]);
  });

  it('reports unknown hosts: VirtualService hosts and destinations, DestinationRule hosts, wildcards', () => {
    expect(
      vsProblems({
        hosts: ['reviews', 'details', '*.shop.svc.cluster.local'],
        http: [
          { route: [{ destination: { host: 'reviews-canary' } }] },
          { route: [{ destination: { host: 'reviews' } }], mirror: { host: 'reviews.other' } },
        ],
      }),
    ).toEqual([
      'spec.hosts[1]: UnknownHost',
      'spec.hosts[2]: UnsupportedField',
      'spec.http[0].route[0].destination.host: UnknownHost',
      'spec.http[1].mirror.host: UnknownHost',
    ]);
    const r = buildModel(inputs({ dr: [dr('bad', { host: 'details' })] }));
    expect(r.problems[0]?.problems[0]?.message).toBe(
      'spec.host names details: no Service details.shop.svc.cluster.local',
    );
  });

  it('reports unknown subsets, with or without a DestinationRule for the host', () => {
    expect(
      vsProblems({
        hosts: ['reviews'],
        http: [
          {
            route: [
              { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
              { destination: { host: 'reviews', subset: 'v3' }, weight: 50 },
            ],
            mirrors: [{ destination: { host: 'ratings', subset: 'v1', port: { number: 8080 } } }],
          },
        ],
      }),
    ).toEqual([
      'spec.http[0].route[1].destination.subset: UnknownSubset',
      'spec.http[0].mirrors[0].destination.subset: UnknownSubset',
    ]);
  });

  it('reports unknown or ambiguous destination ports', () => {
    expect(
      vsProblems({
        hosts: ['reviews'],
        http: [
          {
            match: [{ uri: { prefix: '/a' } }],
            route: [{ destination: { host: 'reviews', port: { number: 1234 } } }],
          },
          { route: [{ destination: { host: 'ratings' } }] },
        ],
      }),
    ).toEqual([
      'spec.http[0].route[0].destination.port.number: UnknownPort',
      'spec.http[1].route[0].destination.port: UnknownPort',
    ]);
  });

  it('reports weights that do not sum to 100', () => {
    const route = (w1: number | undefined, w2: number | undefined): unknown => ({
      hosts: ['reviews'],
      http: [
        {
          route: [
            { destination: { host: 'reviews', subset: 'v1' }, ...(w1 === undefined ? {} : { weight: w1 }) },
            { destination: { host: 'reviews', subset: 'v2' }, ...(w2 === undefined ? {} : { weight: w2 }) },
          ],
        },
      ],
    });
    expect(vsProblems(route(90, 20))).toEqual(['spec.http[0].route: InvalidWeights']);
    expect(vsProblems(route(undefined, undefined))).toEqual(['spec.http[0].route: InvalidWeights']);
    expect(vsProblems(route(100, 0))).toEqual([]);
    expect(
      vsProblems({
        hosts: ['reviews'],
        http: [{ route: [{ destination: { host: 'reviews' }, weight: 50 }] }],
      }),
    ).toEqual(['spec.http[0].route: InvalidWeights']);
    const r = buildModel(inputs({ vs: [vs('bad', route(90, 20))], dr: [dr('reviews', DR_REVIEWS)] }));
    expect(r.problems[0]?.problems[0]?.message).toBe(
      'spec.http[0].route weights sum to 110: they must sum to 100',
    );
  });

  it('reports regexes RE2 cannot compile (lookarounds, backreferences)', () => {
    const r = buildModel(
      inputs({
        vs: [
          vs('bad', {
            hosts: ['reviews'],
            http: [
              {
                match: [
                  { uri: { regex: '^/(?!admin).*' } },
                  { headers: { cookie: { regex: '(a)\\1' } } },
                  { withoutHeaders: { 'x-b': { regex: '(?<=x)y' } } },
                  { queryParams: { q: { regex: '[a-z' } } },
                ],
                corsPolicy: { allowOrigins: [{ regex: 'https://(?=x).*' }] },
                route: [{ destination: { host: 'reviews' } }],
              },
            ],
          }),
        ],
      }),
    );
    expect(r.problems[0]?.problems.map((p) => `${p.path}: ${p.reason}`)).toEqual([
      'spec.http[0].match[0].uri.regex: InvalidRegex',
      'spec.http[0].match[1].headers[cookie].regex: InvalidRegex',
      'spec.http[0].match[2].withoutHeaders[x-b].regex: InvalidRegex',
      'spec.http[0].match[3].queryParams[q].regex: InvalidRegex',
      'spec.http[0].corsPolicy.allowOrigins[0].regex: InvalidRegex',
    ]);
    expect(r.problems[0]?.problems[0]?.message).toContain('lookahead');
    expect(r.problems[0]?.problems[1]?.message).toContain('backreference');
  });

  it('reports conflicting load-balancer settings at every level', () => {
    const both = { simple: 'LEAST_REQUEST', consistentHash: { httpHeaderName: 'x-user' } };
    expect(
      drProblems({
        host: 'reviews',
        trafficPolicy: {
          loadBalancer: both,
          portLevelSettings: [{ port: { number: 9080 }, loadBalancer: both }],
        },
        subsets: [{ name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: both } }],
      }),
    ).toEqual([
      'spec.trafficPolicy.loadBalancer: ConflictingLoadBalancer',
      'spec.trafficPolicy.portLevelSettings[0].loadBalancer: ConflictingLoadBalancer',
      'spec.subsets[0].trafficPolicy.loadBalancer: ConflictingLoadBalancer',
    ]);
    expect(
      drProblems({
        host: 'reviews',
        trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'a', useSourceIp: true } } },
      }),
    ).toEqual(['spec.trafficPolicy.loadBalancer.consistentHash: Invalid']);
  });

  it('reports self-contradictory routes, faults, retries, mirrors and headers', () => {
    expect(
      vsProblems({
        hosts: ['reviews'],
        http: [
          { route: [{ destination: { host: 'reviews' } }], redirect: { uri: '/x' } },
          { match: [{ uri: { exact: '/a', prefix: '/a' } }], redirect: { uri: '/b', redirectCode: 305 } },
          {
            route: [{ destination: { host: 'reviews' } }],
            fault: { abort: { httpStatus: 503, grpcStatus: 'UNAVAILABLE' } },
            retries: { attempts: 2, retryOn: '5xx,sometimes' },
            mirror: { host: 'reviews' },
            mirrors: [{ destination: { host: 'reviews' } }],
            headers: { request: { set: { ':authority': 'x', Host: 'y' } } },
          },
          {
            route: [{ destination: { host: 'reviews' } }],
            fault: { abort: { grpcStatus: 'MAYBE' } },
            mirrorPercentage: { value: 5 },
          },
          {},
        ],
      }),
    ).toEqual([
      'spec.http[0]: Invalid',
      'spec.http[1].redirect.redirectCode: Invalid',
      'spec.http[1].match[0].uri: Invalid',
      'spec.http[2].headers.request.set[:authority]: Invalid',
      'spec.http[2].headers.request.set[Host]: Invalid',
      'spec.http[2]: Invalid',
      'spec.http[2].fault.abort: Invalid',
      'spec.http[2].retries.retryOn: Invalid',
      'spec.http[3].mirrorPercentage: Invalid',
      'spec.http[3].fault.abort.grpcStatus: Invalid',
      'spec.http[4]: Invalid',
    ]);
  });

  it('reports subsets and port-level settings that are repeated or name unknown ports', () => {
    expect(
      drProblems({
        host: 'reviews',
        trafficPolicy: {
          portLevelSettings: [
            { port: { number: 9080 } },
            { port: { number: 9080 } },
            { port: { number: 1 } },
          ],
        },
        subsets: [{ name: 'v1' }, { name: 'v1' }, { name: 'a|b' }],
      }),
    ).toEqual([
      'spec.trafficPolicy.portLevelSettings[1].port: Invalid',
      'spec.subsets[1].name: Invalid',
      'spec.subsets[2].name: Invalid',
    ]);
    expect(
      drProblems({ host: 'reviews', trafficPolicy: { portLevelSettings: [{ port: { number: 1 } }] } }),
    ).toEqual(['spec.trafficPolicy.portLevelSettings[0].port.number: UnknownPort']);
  });

  it('gives a contested host to the oldest object and reports the others as conflicts', () => {
    const r = buildModel(
      inputs({
        vs: [
          vs('newer', CANARY_VS, { creationTimestamp: '2024-06-01T00:00:00Z' }),
          vs('older', {
            hosts: ['reviews.shop.svc.cluster.local'],
            http: [{ route: [{ destination: { host: 'reviews' } }] }],
          }),
        ],
        dr: [
          dr('reviews', DR_REVIEWS),
          dr('reviews-2', { host: 'reviews' }, { creationTimestamp: '2024-06-01T00:00:00Z' }),
        ],
      }),
    );
    expect(r.model.virtualServices.map((v) => v.name)).toEqual(['older']);
    expect(r.model.destinationRules.map((d) => d.name)).toEqual(['reviews']);
    expect(r.problems.map((p) => [p.kind, p.name, p.problems.map((x) => x.message)])).toEqual([
      [
        'DestinationRule',
        'reviews-2',
        ['spec.host reviews.shop.svc.cluster.local is already configured by DestinationRule shop/reviews'],
      ],
      [
        'VirtualService',
        'newer',
        ['spec.hosts[0] reviews.shop.svc.cluster.local is already configured by VirtualService shop/older'],
      ],
    ]);
  });

  it('with checks kept across builds, takes an accepted VirtualService again only while its hosts are free', () => {
    const checks = new SpecChecks();
    const newer = vs('newer', CANARY_VS, { creationTimestamp: '2024-06-01T00:00:00Z' });
    const older = vs('older', {
      hosts: ['reviews.shop.svc.cluster.local'],
      http: [{ route: [{ destination: { host: 'reviews' } }] }],
    });
    const build = (list: KubeNetworkingObject[], base?: BuildResult['base']): BuildResult =>
      buildModel(inputs({ vs: list, dr: [dr('reviews', DR_REVIEWS)] }), {
        checks,
        ...(base ? { base } : {}),
      });

    const alone = build([newer]);
    expect(alone.model.virtualServices.map((v) => v.name)).toEqual(['newer']);
    // The same objects against the same Services: the model object itself is taken again.
    const again = build([newer], alone.base);
    expect(again.model.virtualServices[0]).toBe(alone.model.virtualServices[0]);
    // An older VirtualService for the same host appears: the kept one loses the host, as a fresh build says.
    const contested = build([newer, older], alone.base);
    expect(contested.model.virtualServices.map((v) => v.name)).toEqual(['older']);
    expect(problemsOf(contested, 'newer')).toEqual(['spec.hosts[0]: Conflict']);
    expect(contested.model).toEqual(
      buildModel(inputs({ vs: [newer, older], dr: [dr('reviews', DR_REVIEWS)] })).model,
    );
    // And gets it back once the older one is gone.
    const freed = build([newer], contested.base);
    expect(freed.model.virtualServices.map((v) => v.name)).toEqual(['newer']);
    expect(freed.problems).toEqual([]);
  });

  it('leaves the broken object out and keeps serving the rest', () => {
    const broken = vs('broken', {
      hosts: ['ratings'],
      http: [{ route: [{ destination: { host: 'ratings', port: { number: 8080 } } }], directResponse: {} }],
    });
    const r = buildModel(inputs({ vs: [vs('reviews', CANARY_VS), broken], dr: [dr('reviews', DR_REVIEWS)] }));
    expect(r.model.virtualServices.map((v) => v.name)).toEqual(['reviews']);
    const resources = translate(r.model, 'sidecar');
    const vhosts = (resources.routes.get('8080')?.virtual_hosts ?? []) as Array<{
      routes: Array<{ name: string }>;
    }>;
    expect(vhosts[0]?.routes.map((x) => x.name)).toEqual(['default']);
  });
});

describe('buildModel: last good versions', () => {
  const good = vs('reviews', CANARY_VS, { generation: 1 });
  const brokenSpec = {
    ...CANARY_VS,
    http: [
      {
        route: [
          { destination: { host: 'reviews', subset: 'v1' }, weight: 50 },
          { destination: { host: 'reviews', subset: 'v2' }, weight: 10 },
        ],
      },
    ],
  };
  const broken = vs('reviews', brokenSpec, { generation: 2 });

  it('serves the last good version of an object whose new version has problems', () => {
    const first = buildModel(inputs({ vs: [good], dr: [dr('reviews', DR_REVIEWS)] }));
    const second = buildModel(inputs({ vs: [broken], dr: [dr('reviews', DR_REVIEWS)] }), {
      lastGood: first.lastGood,
    });
    expect(second.problems).toEqual<ObjectProblems[]>([
      {
        kind: 'VirtualService',
        namespace: 'shop',
        name: 'reviews',
        generation: 2,
        servedGeneration: 1,
        problems: [
          {
            reason: 'InvalidWeights',
            path: 'spec.http[0].route',
            message: 'spec.http[0].route weights sum to 60: they must sum to 100',
          },
        ],
      },
    ]);
    expect(second.model.virtualServices.map((v) => [v.generation, v.spec])).toEqual([[1, CANARY_VS]]);
    expect(second.lastGood.get('VirtualService/shop/reviews')).toBe(good);

    // Fixed: the new version replaces the last good one.
    const fixed = vs('reviews', CANARY_VS, { generation: 3 });
    const third = buildModel(inputs({ vs: [fixed], dr: [dr('reviews', DR_REVIEWS)] }), {
      lastGood: second.lastGood,
    });
    expect(third.problems).toEqual([]);
    expect(third.lastGood.get('VirtualService/shop/reviews')).toBe(fixed);
  });

  it('serves nothing for an object that never had a good version', () => {
    const r = buildModel(inputs({ vs: [broken], dr: [dr('reviews', DR_REVIEWS)] }));
    expect(r.model.virtualServices).toEqual([]);
    expect(r.problems[0]?.servedGeneration).toBeUndefined();
    expect(r.lastGood.size).toBe(1); // the DestinationRule
  });

  it('re-checks the last good version against the current objects', () => {
    const first = buildModel(inputs({ vs: [good], dr: [dr('reviews', DR_REVIEWS)] }));
    // The DestinationRule loses subset v2: the last good VirtualService now names an unknown subset.
    const drV1Only = dr('reviews', { host: 'reviews', subsets: [{ name: 'v1', labels: { version: 'v1' } }] });
    const second = buildModel(inputs({ vs: [broken], dr: [drV1Only] }), { lastGood: first.lastGood });
    expect(second.model.virtualServices).toEqual([]);
    expect(second.problems[0]?.servedGeneration).toBeUndefined();
    expect(second.lastGood.get('VirtualService/shop/reviews')).toBe(good);
  });

  it('forgets deleted objects', () => {
    const first = buildModel(inputs({ vs: [good], dr: [dr('reviews', DR_REVIEWS)] }));
    const second = buildModel(inputs({ dr: [dr('reviews', DR_REVIEWS)] }), {
      lastGood: first.lastGood satisfies LastGood,
    });
    expect([...second.lastGood.keys()]).toEqual(['DestinationRule/shop/reviews']);
  });
});
