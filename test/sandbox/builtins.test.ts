// Built-in defaulting, validation, Event conversion and decode errors: tables, and request bodies replayed from
// the recorded kube-apiserver v1.26 fixtures compared with the objects and causes the real server answered.
import { describe, expect, it } from 'vitest';
import type { DefaultsContext } from '../../sandbox/apiserver/builtins/defaults.js';
import { applyBuiltinDefaults, imageTag, podQosClass } from '../../sandbox/apiserver/builtins/defaults.js';
import {
  base64DecodeError,
  canonicalTime,
  eventFromEventsV1,
  eventToEventsV1,
  microTimeDecodeError,
  parseGoTime,
} from '../../sandbox/apiserver/builtins/events.js';
import {
  canonicalQuantity,
  parseQuantity,
  validateBuiltin,
} from '../../sandbox/apiserver/builtins/validate.js';
import type { Json, JsonObject, StatusCause } from '../../sandbox/apiserver/types.js';
import { isObject } from '../../sandbox/apiserver/types.js';
import { formatInvalidMessage } from '../../sandbox/apiserver/validation/meta.js';
import { asObject, asString, fixtureExchange, fixtureExchanges } from '../helpers/fixtures.js';

const copy = (v: Json | undefined): JsonObject => structuredClone(asObject(v));
const requestBody = (file: string, i: number): JsonObject => copy(fixtureExchange(file, i).request.body);
const responseBody = (file: string, i: number): JsonObject => copy(fixtureExchange(file, i).response.body);

/** What the API layer does before admission: namespace from the URL. */
function inNamespace(obj: JsonObject, namespace = 'fixtures'): JsonObject {
  const meta = isObject(obj['metadata']) ? obj['metadata'] : {};
  meta['namespace'] = namespace;
  obj['metadata'] = meta;
  return obj;
}

/** The parts of an object the server computes besides metadata: compared with key order. */
function body(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj))
    if (k !== 'metadata' && k !== 'kind' && k !== 'apiVersion') out[k] = v;
  return out;
}

function fakeCtx(
  opts: { clusterIP?: string; nodePorts?: number[]; inUse?: string[]; suffix?: string } = {},
): DefaultsContext {
  const ports = [...(opts.nodePorts ?? [30001, 30002, 30003])];
  return {
    serviceCidr: '10.0.0.0/24',
    inServiceRange: (ip) =>
      /^10\.0\.0\.(\d+)$/.test(ip) && Number(ip.split('.')[3]) >= 1 && Number(ip.split('.')[3]) <= 254,
    kubernetesServiceIP: '10.0.0.1',
    isClusterIPInUse: (ip) => (opts.inUse ?? []).includes(ip),
    allocateClusterIP: () => opts.clusterIP ?? '10.0.0.42',
    allocateNodePort: () => ports.shift() ?? 30999,
    isNodePortInUse: (port) => port === 30500,
    randomSuffix: () => opts.suffix ?? 'abcde',
  };
}

function defaulted(avk: string, obj: JsonObject, ctx = fakeCtx(), old?: JsonObject): JsonObject {
  const r = applyBuiltinDefaults(avk, obj, ctx, old);
  if (r && !r.ok) throw new Error(`defaulting failed: ${JSON.stringify(r.error)}`);
  return obj;
}

const statusCauses = (v: Json): StatusCause[] => {
  const details = asObject(asObject(v)['details']);
  return (details['causes'] ?? []) as StatusCause[];
};

/** The service account volume suffix of a recorded pod. */
function tokenSuffix(pod: JsonObject): string {
  const volumes = asObject(pod['spec'])['volumes'] as JsonObject[];
  const name = asString(volumes.find((v) => asString(v['name']).startsWith('kube-api-access-'))?.['name']);
  return name.slice('kube-api-access-'.length);
}

function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k] ?? null, v);
  }
  return out;
}

describe('defaults from recorded creates', () => {
  it('fills every Deployment default (07: two containers, one untagged image)', () => {
    const obj = defaulted('apps/v1/Deployment', inNamespace(requestBody('07-deployment-defaults.json', 0)));
    const want = responseBody('07-deployment-defaults.json', 0);
    expect(JSON.stringify(body(obj))).toBe(JSON.stringify(body(want)));
  });

  it('fills the Deployment defaults of the scale fixture (06 exchange 13)', () => {
    const obj = defaulted('apps/v1/Deployment', inNamespace(requestBody('06-scale-subresource.json', 13)));
    expect(body(obj)).toEqual(body(responseBody('06-scale-subresource.json', 13)));
  });

  it('re-applies container defaults after a merge patch replaced the list (09 exchange 11)', () => {
    const old = responseBody('09-patches.json', 9);
    const next = asObject(mergePatch(old, fixtureExchange('09-patches.json', 11).request.body));
    defaulted('apps/v1/Deployment', next, fakeCtx(), old);
    const want = responseBody('09-patches.json', 11);
    expect(asObject(next['spec'])['template']).toEqual(asObject(want['spec'])['template']);
  });

  it('makes the Pod the ReplicaSet controller created from the template (07 exchange 4)', () => {
    const deployment = defaulted(
      'apps/v1/Deployment',
      inNamespace(requestBody('07-deployment-defaults.json', 0)),
    );
    const recorded = asObject((responseBody('07-deployment-defaults.json', 4)['items'] as Json[])[0]);
    const template = asObject(asObject(deployment['spec'])['template']);
    const pod: JsonObject = {
      metadata: { namespace: 'fixtures', labels: asObject(recorded['metadata'])['labels'] ?? null },
      spec: structuredClone(asObject(template['spec'])),
    };
    defaulted('v1/Pod', pod, fakeCtx({ suffix: tokenSuffix(recorded) }));
    expect(JSON.stringify(body(pod))).toBe(JSON.stringify(body(recorded)));
  });

  it.each([4, 5])('fills the Pod defaults of a pod bound to a node (08 exchange %i)', (i) => {
    const want = responseBody('08-service-defaults.json', i);
    const pod = defaulted(
      'v1/Pod',
      inNamespace(requestBody('08-service-defaults.json', i)),
      fakeCtx({ suffix: tokenSuffix(want) }),
    );
    expect(JSON.stringify(body(pod))).toBe(JSON.stringify(body(want)));
  });

  it.each([6, 7])('normalizes a Pod status written by a kubelet (08 exchange %i)', (i) => {
    const old = responseBody('08-service-defaults.json', i - 2);
    const next = structuredClone(old);
    next['status'] = mergePatch(
      old['status'] ?? null,
      asObject(fixtureExchange('08-service-defaults.json', i).request.body)['status'] ?? null,
    );
    defaulted('v1/Pod', next, fakeCtx(), old);
    const want = responseBody('08-service-defaults.json', i);
    expect(JSON.stringify(next['status'])).toBe(JSON.stringify(want['status']));
    expect(next['spec']).toEqual(want['spec']);
  });

  it.each([0, 10, 11, 12])('fills the Service defaults and allocations (08 exchange %i)', (i) => {
    const want = responseBody('08-service-defaults.json', i);
    const wantSpec = asObject(want['spec']);
    const ports = (wantSpec['ports'] as JsonObject[])
      .map((p) => Number(p['nodePort'] ?? 0))
      .filter((p) => p > 0);
    const ctx = fakeCtx({ clusterIP: asString(wantSpec['clusterIP']), nodePorts: ports });
    const svc = defaulted('v1/Service', inNamespace(requestBody('08-service-defaults.json', i)), ctx);
    expect(JSON.stringify(body(svc))).toBe(JSON.stringify(body(want)));
    expect(validateBuiltin('v1/Service', svc)).toEqual([]);
  });

  it.each([
    [13, ['10.0.0.200']],
    [14, []],
  ])('refuses a clusterIP in use or outside the range with kube causes (08 exchange %i)', (i, inUse) => {
    const obj = inNamespace(requestBody('08-service-defaults.json', i));
    const r = applyBuiltinDefaults('v1/Service', obj, fakeCtx({ inUse }));
    const recorded = fixtureExchange('08-service-defaults.json', i).response.body;
    expect(r).toEqual({ ok: false, error: { causes: statusCauses(recorded) } });
    const name = asString(asObject(obj['metadata'])['name']);
    const causes = r && !r.ok ? (r.error.causes ?? []) : [];
    expect(formatInvalidMessage('Service', name, causes)).toBe(asObject(recorded)['message']);
  });

  it('fills the fake Node (08 exchange 3)', () => {
    const node = defaulted('v1/Node', requestBody('08-service-defaults.json', 3));
    expect(body(node)).toEqual(body(responseBody('08-service-defaults.json', 3)));
  });

  it('fills the Namespace finalizer, phase and name label (01)', () => {
    const ex = fixtureExchanges('01-discovery.json').find(
      (e) => e.request.method === 'POST' && e.request.path === '/api/v1/namespaces',
    );
    const ns = defaulted('v1/Namespace', copy(ex?.request.body));
    const want = copy(ex?.response.body);
    expect(body(ns)).toEqual(body(want));
    expect(asObject(ns['metadata'])['labels']).toEqual(asObject(want['metadata'])['labels']);
  });

  it('fills a Lease as sent (14 exchange 9)', () => {
    const lease = defaulted(
      'coordination.k8s.io/v1/Lease',
      inNamespace(requestBody('14-events-leases.json', 9)),
    );
    expect(body(lease)).toEqual(body(responseBody('14-events-leases.json', 9)));
  });
});

describe('Events through both APIs (14-events-leases.json)', () => {
  it('stores a core/v1 Event with Go zero values (exchange 0)', () => {
    const ev = defaulted('v1/Event', inNamespace(requestBody('14-events-leases.json', 0)));
    expect(JSON.stringify(body(ev))).toBe(JSON.stringify(body(responseBody('14-events-leases.json', 0))));
  });

  it('stores an events.k8s.io Event as core and serves it both ways (exchanges 2 and 3)', () => {
    const stored = eventFromEventsV1(inNamespace(requestBody('14-events-leases.json', 2)));
    defaulted('events.k8s.io/v1/Event', stored);
    expect(validateBuiltin('events.k8s.io/v1/Event', stored)).toEqual([]);
    const v1 = eventToEventsV1(stored);
    expect(JSON.stringify(body(v1))).toBe(JSON.stringify(body(responseBody('14-events-leases.json', 2))));
    expect(body(stored)).toEqual(body(responseBody('14-events-leases.json', 3)));
  });

  it('serves a core Event through events.k8s.io with deprecated* fields (exchange 4)', () => {
    const served = eventToEventsV1(responseBody('14-events-leases.json', 1));
    expect(JSON.stringify(body(served))).toBe(JSON.stringify(body(responseBody('14-events-leases.json', 4))));
  });

  it.each([
    [7, 'events.k8s.io/v1/Event'],
    [8, 'v1/Event'],
  ])('reports only what kube reports for an invalid Event (exchange %i)', (i, avk) => {
    const sent = inNamespace(requestBody('14-events-leases.json', i));
    const stored = avk === 'v1/Event' ? sent : eventFromEventsV1(sent);
    defaulted(avk, stored);
    const causes = validateBuiltin(avk, stored);
    const recorded = asObject(fixtureExchange('14-events-leases.json', i).response.body);
    expect(causes).toEqual(statusCauses(recorded));
    expect(formatInvalidMessage('Event', asString(asObject(sent['metadata'])['name']), causes)).toBe(
      recorded['message'],
    );
  });

  it('checks events.k8s.io series and deprecated fields on create', () => {
    const ev = eventFromEventsV1({
      metadata: { name: 'e', namespace: 'fixtures' },
      eventTime: '2026-11-21T13:44:06.988154Z',
      reportingController: 'example.com/c',
      reportingInstance: 'c-1',
      action: 'Do',
      reason: 'R',
      type: 'Odd',
      regarding: { kind: 'Widget', namespace: 'fixtures', name: 'alpha' },
      series: { count: 1, lastObservedTime: '2026-11-21T13:44:06.988154Z' },
      deprecatedCount: 3,
    });
    expect(validateBuiltin('events.k8s.io/v1/Event', ev)).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "": should be at least 2',
        field: 'series.count',
      },
      { reason: 'FieldValueInvalid', message: 'Invalid value: "": has invalid value: Odd', field: 'type' },
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "": needs to be unset',
        field: 'deprecatedCount',
      },
    ]);
  });

  it('requires the reporting fields of a core Event that has an eventTime', () => {
    const ev: JsonObject = {
      metadata: { name: 'e', namespace: 'fixtures' },
      involvedObject: { kind: 'Widget', namespace: 'fixtures', name: 'alpha' },
      eventTime: '2026-11-21T13:44:06.988154Z',
      reason: 'R',
    };
    const fields = validateBuiltin('v1/Event', defaulted('v1/Event', ev)).map((c) => c.field);
    expect(fields).toEqual([
      'reportingComponent',
      'reportingComponent',
      'reportingComponent',
      'reportingInstance',
      'action',
    ]);
  });
});

describe('decode errors (14-events-leases.json exchanges 12-17)', () => {
  it.each([12, 13])('rejects a Lease MicroTime on PUT/POST with Go parse error text (exchange %i)', (i) => {
    const message = asString(asObject(fixtureExchange('14-events-leases.json', i).response.body)['message']);
    const prefix = 'Lease in version "v1" cannot be handled as a Lease: ';
    expect(
      microTimeDecodeError('coordination.k8s.io/v1/Lease', requestBody('14-events-leases.json', i)),
    ).toBe(message.slice(prefix.length));
  });

  it.each([14, 15, 16, 17])('rejects the patched Lease with the same text (exchange %i)', (i) => {
    const stored = responseBody('14-events-leases.json', 10);
    const patched = asObject(mergePatch(stored, fixtureExchange('14-events-leases.json', i).request.body));
    const message = statusCauses(fixtureExchange('14-events-leases.json', i).response.body)[0]?.message ?? '';
    expect(microTimeDecodeError('coordination.k8s.io/v1/Lease', patched)).toBe(
      message.slice(message.indexOf('": parsing time') + 3),
    );
  });

  it('accepts the Lease times kube accepted (exchanges 9, 10, 19)', () => {
    for (const i of [9, 10])
      expect(
        microTimeDecodeError('coordination.k8s.io/v1/Lease', requestBody('14-events-leases.json', i)),
      ).toBeUndefined();
    const patched = asObject(
      mergePatch(
        responseBody('14-events-leases.json', 10),
        fixtureExchange('14-events-leases.json', 19).request.body,
      ),
    );
    expect(microTimeDecodeError('coordination.k8s.io/v1/Lease', patched)).toBeUndefined();
  });

  it.each([
    ['2026-11-21T13:44:08.123456Z', true, undefined],
    ['2026-13-21T13:44:08.123456Z', true, 'parsing time "2026-13-21T13:44:08.123456Z": month out of range'],
    ['2026-02-30T13:44:08.123456Z', true, 'parsing time "2026-02-30T13:44:08.123456Z": day out of range'],
    ['2026-11-21T24:44:08.123456Z', true, 'parsing time "2026-11-21T24:44:08.123456Z": hour out of range'],
    [
      '2026-11-21T13:44:08.123456Zjunk',
      true,
      'parsing time "2026-11-21T13:44:08.123456Zjunk": extra text: "junk"',
    ],
    [
      '2026/11/21T13:44:08.123456Z',
      true,
      'parsing time "2026/11/21T13:44:08.123456Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "/11/21T13:44:08.123456Z" as "-"',
    ],
    ['', true, 'parsing time "" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "" as "2006"'],
    ['2026-11-21T13:44:08.5Z', false, undefined],
    ['2026-11-21T13:44:08+02:00', false, undefined],
    [
      '2026-11-21 13:44:08Z',
      false,
      'parsing time "2026-11-21 13:44:08Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 13:44:08Z" as "T"',
    ],
  ])('parses %j like time.Parse (micro=%s)', (value, micro, message) => {
    const r = parseGoTime(value, micro);
    if (message === undefined) expect(r.ok).toBe(true);
    else expect(r).toEqual({ ok: false, message });
  });

  it('writes times back in UTC with the layout precision', () => {
    expect(canonicalTime('2026-01-02T03:04:05.123456+02:00', true)).toBe('2026-01-02T01:04:05.123456Z');
    expect(canonicalTime('2026-01-02T03:04:05.987Z', false)).toBe('2026-01-02T03:04:05Z');
    const lease = defaulted('coordination.k8s.io/v1/Lease', {
      spec: { renewTime: '2026-01-02T03:04:05.000001-01:30' },
    });
    expect(asObject(lease['spec'])['renewTime']).toBe('2026-01-02T04:34:05.000001Z');
  });

  it('names the Go struct field when a time is not a string', () => {
    expect(microTimeDecodeError('coordination.k8s.io/v1/Lease', { spec: { renewTime: 5 } })).toBe(
      'json: cannot unmarshal number into Go struct field LeaseSpec.spec.renewTime of type string',
    );
    expect(microTimeDecodeError('v1/ConfigMap', { metadata: { creationTimestamp: 'soon' } })).toBe(
      'parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006"',
    );
    expect(microTimeDecodeError('events.k8s.io/v1/Event', { eventTime: '2026-11-21T13:44:06Z' })).toContain(
      'cannot parse "Z" as ".000000"',
    );
  });

  it.each([
    ['aGVsbG8=', undefined],
    ['aGVs\nbG8=', undefined],
    ['abc', 'illegal base64 data at input byte 0'],
    ['a!==', 'illegal base64 data at input byte 1'],
    ['aGVsbG8', 'illegal base64 data at input byte 4'],
    ['aGVsbG8=x', 'illegal base64 data at input byte 8'],
  ])('decodes Secret data %j like base64.StdEncoding', (data, message) => {
    expect(base64DecodeError(data)).toBe(message);
    expect(microTimeDecodeError('v1/Secret', { data: { k: data } })).toBe(message);
  });

  it('rejects a container quantity that does not parse', () => {
    const deployment: JsonObject = {
      spec: { template: { spec: { containers: [{ name: 'a', resources: { limits: { cpu: 'lots' } } }] } } },
    };
    expect(microTimeDecodeError('apps/v1/Deployment', deployment)).toBe(
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
});

describe('quantities', () => {
  it.each<[Json, string]>([
    ['0.5', '500m'],
    ['1000m', '1'],
    ['100m', '100m'],
    ['1024Mi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['12000', '12k'],
    ['1e3', '1e3'],
    ['1.5e3', '1500'],
    ['0.0000000001', '1n'],
    [2, '2'],
    [0.25, '250m'],
    ['0', '0'],
    ['-1', '-1'],
  ])('writes %j back as %j', (input, want) => {
    expect(canonicalQuantity(input)).toBe(want);
  });

  it.each([
    ['lots', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1ki', "unable to parse quantity's suffix"],
    ['', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ])('refuses %j', (input, message) => {
    expect(parseQuantity(input)).toEqual({ ok: false, message });
  });
});

describe('pod defaults', () => {
  it.each([
    ['busybox', 'latest'],
    ['nginx:latest', 'latest'],
    ['nginx:1.25', '1.25'],
    ['localhost:5000/team/app', 'latest'],
    [`nginx@sha256:${'a'.repeat(64)}`, ''],
    ['Nginx', ''],
    ['', ''],
  ])('parses the tag of image %j as %j', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });

  it('defaults probes, env field refs, volumes and hostNetwork ports', () => {
    const pod = defaulted('v1/Pod', {
      metadata: { name: 'p', namespace: 'fixtures' },
      spec: {
        hostNetwork: true,
        volumes: [
          { name: 'scratch' },
          { name: 'cfg', configMap: { name: 'c' } },
          { name: 'h', hostPath: { path: '/x' } },
        ],
        containers: [
          {
            name: 'c',
            image: 'app:v1',
            ports: [{ containerPort: 8080 }],
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
            livenessProbe: { httpGet: { port: 8080 } },
            readinessProbe: { grpc: { port: 9000 }, periodSeconds: 5 },
          },
        ],
      },
    });
    const spec = asObject(pod['spec']);
    const c = asObject((spec['containers'] as Json[])[0]);
    expect(c['ports']).toEqual([{ hostPort: 8080, containerPort: 8080, protocol: 'TCP' }]);
    expect(asObject(asObject((c['env'] as Json[])[0])['valueFrom'])['fieldRef']).toEqual({
      apiVersion: 'v1',
      fieldPath: 'spec.nodeName',
    });
    expect(c['livenessProbe']).toEqual({
      httpGet: { path: '/', port: 8080, scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(asObject(c['readinessProbe'])['grpc']).toEqual({ port: 9000, service: '' });
    expect(asObject(c['readinessProbe'])['periodSeconds']).toBe(5);
    expect((spec['volumes'] as Json[]).slice(0, 3)).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'c', defaultMode: 420 } },
      { name: 'h', hostPath: { path: '/x', type: '' } },
    ]);
    expect(validateBuiltin('v1/Pod', pod)).toEqual([]);
  });

  it('computes the QoS class with requests defaulted from limits', () => {
    const withResources = (resources: JsonObject): JsonObject => {
      const pod = defaulted('v1/Pod', { spec: { containers: [{ name: 'c', image: 'a:1', resources }] } });
      return asObject(pod['status']);
    };
    expect(withResources({ limits: { cpu: '1', memory: '1Gi' } })).toEqual({
      phase: 'Pending',
      qosClass: 'Guaranteed',
    });
    expect(withResources({ requests: { cpu: '100m' } })['qosClass']).toBe('Burstable');
    expect(withResources({ limits: { cpu: '1' } })['qosClass']).toBe('Burstable');
    expect(withResources({ limits: { 'example.com/gpu': '1' } })['qosClass']).toBe('BestEffort');
    expect(
      podQosClass({
        containers: [
          { resources: { requests: { cpu: '1', memory: '1' }, limits: { cpu: '1', memory: '2' } } },
        ],
      }),
    ).toBe('Burstable');
  });

  it('canonicalizes resource quantities and copies limits into missing requests', () => {
    const pod = defaulted('v1/Pod', {
      spec: {
        containers: [{ name: 'c', image: 'a:1', resources: { limits: { cpu: '0.5', memory: '1024Mi' } } }],
      },
    });
    const c = asObject((asObject(pod['spec'])['containers'] as Json[])[0]);
    expect(c['resources']).toEqual({
      limits: { cpu: '500m', memory: '1Gi' },
      requests: { cpu: '500m', memory: '1Gi' },
    });
  });

  it('keeps explicit tolerations that already cover the defaults, and skips the token without automount', () => {
    const pod = defaulted('v1/Pod', {
      spec: {
        automountServiceAccountToken: false,
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'c', image: 'a:1' }],
      },
    });
    const spec = asObject(pod['spec']);
    expect(spec['tolerations']).toEqual([{ operator: 'Exists' }]);
    expect(spec['volumes']).toBeUndefined();
    expect(spec['serviceAccountName']).toBe('default');
  });

  it('does not add the token volume again on update', () => {
    const created = defaulted('v1/Pod', { spec: { containers: [{ name: 'c', image: 'a:1' }] } });
    const next = structuredClone(created);
    defaulted('v1/Pod', next, fakeCtx({ suffix: 'zzzzz' }), created);
    expect(next).toEqual(created);
  });
});

describe('other defaults', () => {
  it('defaults a DaemonSet and its Go zero status', () => {
    const ds = defaulted('apps/v1/DaemonSet', {
      spec: {
        selector: { matchLabels: { app: 'd' } },
        template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'a:1' }] } },
      },
    });
    const spec = asObject(ds['spec']);
    expect(spec['updateStrategy']).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    expect(spec['revisionHistoryLimit']).toBe(10);
    expect(ds['status']).toEqual({
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
    });
    expect(validateBuiltin('apps/v1/DaemonSet', ds)).toEqual([]);
  });

  it('defaults a ReplicaSet with status.replicas 0', () => {
    const rs = defaulted('apps/v1/ReplicaSet', {
      spec: { selector: { matchLabels: { a: 'b' } }, template: {} },
    });
    expect(asObject(rs['spec'])['replicas']).toBe(1);
    expect(rs['status']).toEqual({ replicas: 0 });
  });

  it('defaults an HPA: cpu 80% metric, minReplicas, and the behavior rules', () => {
    const hpa = defaulted('autoscaling/v2/HorizontalPodAutoscaler', {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
      },
    });
    expect(hpa['spec']).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Pods', value: 4, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 60,
          selectPolicy: 'Max',
          policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
        },
      },
    });
    expect(hpa['status']).toEqual({ desiredReplicas: 0 });
    expect(validateBuiltin('autoscaling/v2/HorizontalPodAutoscaler', hpa)).toEqual([]);
  });

  it('defaults Secret type and folds stringData into data', () => {
    const secret = defaulted('v1/Secret', { stringData: { user: 'admin' }, data: { a: 'YQ==' } });
    expect(secret).toEqual({ type: 'Opaque', data: { a: 'YQ==', user: 'YWRtaW4=' } });
  });

  it('defaults Endpoints and EndpointSlice ports and endpoint conditions', () => {
    const ep = defaulted('v1/Endpoints', {
      subsets: [{ addresses: [{ ip: '10.1.0.1' }], ports: [{ port: 80 }] }],
    });
    expect(ep['subsets']).toEqual([
      { addresses: [{ ip: '10.1.0.1' }], ports: [{ port: 80, protocol: 'TCP' }] },
    ]);
    const slice = defaulted('discovery.k8s.io/v1/EndpointSlice', {
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'] }],
      ports: [{ port: 80 }],
    });
    expect(slice['endpoints']).toEqual([{ addresses: ['10.1.0.1'], conditions: {} }]);
    expect(slice['ports']).toEqual([{ name: '', protocol: 'TCP', port: 80 }]);
  });

  it('leaves ConfigMaps and ServiceAccounts alone', () => {
    expect(applyBuiltinDefaults('v1/ConfigMap', { data: { a: 'b' } }, fakeCtx())).toBeUndefined();
    expect(applyBuiltinDefaults('v1/ServiceAccount', {}, fakeCtx())).toBeUndefined();
  });

  it('keeps the Namespace finalizers of the stored object on update', () => {
    const old = defaulted('v1/Namespace', { metadata: { name: 'n' } });
    const next: JsonObject = { metadata: { name: 'n' }, spec: { finalizers: [] } };
    defaulted('v1/Namespace', next, fakeCtx(), old);
    expect(asObject(next['spec'])['finalizers']).toEqual(['kubernetes']);
  });
});

describe('services', () => {
  const nodePortService = (): JsonObject => ({
    metadata: { name: 'np', namespace: 'fixtures' },
    spec: { type: 'NodePort', selector: { app: 'a' }, ports: [{ name: 'http', port: 80 }] },
  });

  it('carries clusterIP and nodePorts over on an update that omits them', () => {
    const old = defaulted(
      'v1/Service',
      nodePortService(),
      fakeCtx({ clusterIP: '10.0.0.9', nodePorts: [31000] }),
    );
    const next = nodePortService();
    defaulted('v1/Service', next, fakeCtx({ clusterIP: '10.0.0.77', nodePorts: [32000] }), old);
    expect(next['spec']).toEqual(old['spec']);
    expect(validateBuiltin('v1/Service', next, old)).toEqual([]);
  });

  it('drops nodePorts and externalTrafficPolicy when the type changes to ClusterIP', () => {
    const old = defaulted('v1/Service', nodePortService(), fakeCtx({ nodePorts: [31000] }));
    const next = structuredClone(old);
    asObject(next['spec'])['type'] = 'ClusterIP';
    defaulted('v1/Service', next, fakeCtx(), old);
    const spec = asObject(next['spec']);
    expect(spec['ports']).toEqual([{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }]);
    expect(spec['externalTrafficPolicy']).toBeUndefined();
    expect(validateBuiltin('v1/Service', next, old)).toEqual([]);
  });

  it('refuses a changed clusterIP on update', () => {
    const old = defaulted('v1/Service', nodePortService(), fakeCtx({ clusterIP: '10.0.0.9' }));
    const next = structuredClone(old);
    Object.assign(asObject(next['spec']), { clusterIP: '10.0.0.10', clusterIPs: ['10.0.0.10'] });
    defaulted('v1/Service', next, fakeCtx({ inUse: [] }), old);
    expect(validateBuiltin('v1/Service', next, old)).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: []string{"10.0.0.10"}: may not change once set',
        field: 'spec.clusterIPs[0]',
      },
    ]);
  });

  it('refuses requested nodePorts out of range or taken', () => {
    const svc: JsonObject = {
      spec: {
        type: 'NodePort',
        ports: [
          { name: 'a', port: 80, nodePort: 80 },
          { name: 'b', port: 81, nodePort: 30500 },
        ],
      },
    };
    expect(applyBuiltinDefaults('v1/Service', svc, fakeCtx())).toEqual({
      ok: false,
      error: {
        causes: [
          {
            reason: 'FieldValueInvalid',
            message:
              'Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
            field: 'spec.ports[0].nodePort',
          },
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: 30500: provided port is already allocated',
            field: 'spec.ports[1].nodePort',
          },
        ],
      },
    });
  });

  it('makes a headless selectorless Service RequireDualStack and a LoadBalancer allocate node ports', () => {
    const headless = defaulted('v1/Service', { spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
    expect(asObject(headless['spec'])['ipFamilyPolicy']).toBe('RequireDualStack');
    expect(asObject(headless['spec'])['clusterIPs']).toEqual(['None']);
    const lb = defaulted('v1/Service', {
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
    });
    const spec = asObject(lb['spec']);
    expect(spec['allocateLoadBalancerNodePorts']).toBe(true);
    expect((spec['ports'] as JsonObject[])[0]?.['nodePort']).toBe(30001);
    expect(spec['healthCheckNodePort']).toBe(30002);
    expect(validateBuiltin('v1/Service', lb)).toEqual([]);
  });

  it('refuses an invalid clusterIP before allocating', () => {
    const r = applyBuiltinDefaults(
      'v1/Service',
      { spec: { clusterIP: 'nope', ports: [{ port: 80 }] } },
      fakeCtx(),
    );
    expect(r).toEqual({
      ok: false,
      error: {
        causes: [
          {
            reason: 'FieldValueInvalid',
            message: 'Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
            field: 'spec.clusterIPs[0]',
          },
        ],
      },
    });
  });
});

describe('validation', () => {
  const deployment = (spec: JsonObject): JsonObject =>
    defaulted('apps/v1/Deployment', {
      metadata: { name: 'd', namespace: 'fixtures' },
      spec: {
        selector: { matchLabels: { app: 'd' } },
        template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'a:1' }] } },
        ...spec,
      },
    });
  const messages = (causes: StatusCause[]): string[] =>
    causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);

  it('reports ConfigMap keys as 04 exchange 41 recorded', () => {
    const req = requestBody('04-errors.json', 41);
    const recorded = statusCauses(fixtureExchange('04-errors.json', 41).response.body).filter(
      (c) => !(c.field ?? '').startsWith('metadata.'),
    );
    expect(recorded).toHaveLength(1);
    expect(validateBuiltin('v1/ConfigMap', req)).toEqual(recorded);
  });

  it('reports the Lease duration as 14 exchange 18 recorded', () => {
    const lease = asObject(
      mergePatch(
        responseBody('14-events-leases.json', 10),
        fixtureExchange('14-events-leases.json', 18).request.body,
      ),
    );
    const causes = validateBuiltin('coordination.k8s.io/v1/Lease', lease);
    const recorded = asObject(fixtureExchange('14-events-leases.json', 18).response.body);
    expect(causes).toEqual(statusCauses(recorded));
    expect(formatInvalidMessage('Lease.coordination.k8s.io', 'fixtures-leader', causes)).toBe(
      recorded['message'],
    );
  });

  it.each<[string, JsonObject, string[]]>([
    [
      'missing selector',
      { selector: null },
      [
        'spec.selector: Required value',
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"d"}: `selector` does not match template `labels`',
      ],
    ],
    [
      'selector not matching',
      { selector: { matchLabels: { app: 'x' } } },
      [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"d"}: `selector` does not match template `labels`',
      ],
    ],
    [
      'empty selector',
      { selector: {} },
      [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
      ],
    ],
    [
      'negative replicas',
      { replicas: -1 },
      ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'containers without name and image',
      { template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{}] } } },
      [
        'spec.template.spec.containers[0].name: Required value',
        'spec.template.spec.containers[0].image: Required value',
      ],
    ],
    [
      'no containers',
      { template: { metadata: { labels: { app: 'd' } }, spec: { containers: [] } } },
      ['spec.template.spec.containers: Required value'],
    ],
    [
      'restartPolicy Never',
      {
        template: {
          metadata: { labels: { app: 'd' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'a' }] },
        },
      },
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
    [
      'Recreate with rollingUpdate',
      { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } },
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ],
    [
      'zero surge and unavailability',
      { strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
      [
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
      ],
    ],
    [
      'unknown strategy',
      { strategy: { type: 'Blue' } },
      [
        'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"Blue", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"',
      ],
    ],
  ])('Deployment: %s', (_name, spec, want) => {
    expect(messages(validateBuiltin('apps/v1/Deployment', deployment(spec)))).toEqual(want);
  });

  it('keeps a Deployment selector immutable', () => {
    const old = deployment({});
    const next = deployment({
      selector: { matchLabels: { app: 'd', tier: 'x' } },
      template: {
        metadata: { labels: { app: 'd', tier: 'x' } },
        spec: { containers: [{ name: 'c', image: 'a:1' }] },
      },
    });
    expect(messages(validateBuiltin('apps/v1/Deployment', next, old))).toEqual([
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"d", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  it('checks Pod containers and restartPolicy', () => {
    const pod = defaulted('v1/Pod', {
      spec: {
        restartPolicy: 'Sometimes',
        containers: [
          {
            name: 'Web',
            image: 'a',
            ports: [{ containerPort: 70000, protocol: 'XTP' }],
            volumeMounts: [{ name: 'x', mountPath: '/x' }],
          },
          { name: 'Web', image: 'b' },
        ],
      },
    });
    const label =
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    expect(messages(validatePodCauses(pod))).toEqual([
      `spec.containers[0].name: Invalid value: "Web": ${label}`,
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[0].protocol: Unsupported value: "XTP": supported values: "SCTP", "TCP", "UDP"',
      'spec.containers[0].volumeMounts[0].name: Not found: "x"',
      `spec.containers[1].name: Invalid value: "Web": ${label}`,
      'spec.containers[1].name: Duplicate value: "Web"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });

  it('forbids Pod spec changes beyond images on update', () => {
    const old = defaulted('v1/Pod', { spec: { containers: [{ name: 'c', image: 'a:1' }] } });
    const imageOnly = structuredClone(old);
    asObject((asObject(imageOnly['spec'])['containers'] as Json[])[0])['image'] = 'a:2';
    expect(validateBuiltin('v1/Pod', imageOnly, old)).toEqual([]);
    const other = structuredClone(old);
    asObject(other['spec'])['dnsPolicy'] = 'Default';
    expect(validateBuiltin('v1/Pod', other, old).map((c) => c.field)).toEqual(['spec']);
  });

  it.each<[string, JsonObject, string[]]>([
    ['no ports', { ports: [] }, ['spec.ports: Required value']],
    [
      'port out of range',
      { ports: [{ port: 0 }] },
      [
        'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
        'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
      ],
    ],
    [
      'bad protocol',
      { ports: [{ port: 80, protocol: 'HTTP' }] },
      ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    ],
    [
      'bad type',
      { type: 'Mesh', ports: [{ port: 80 }] },
      [
        'spec.type: Unsupported value: "Mesh": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      ],
    ],
    [
      'unnamed ports',
      { ports: [{ port: 80 }, { port: 80 }] },
      [
        'spec.ports[0].name: Required value',
        'spec.ports[1].name: Required value',
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
      ],
    ],
    [
      'bad selector label',
      { selector: { 'bad key': 'x' }, ports: [{ port: 80 }] },
      [
        `spec.selector: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
      ],
    ],
  ])('Service: %s', (_name, spec, want) => {
    const svc = defaulted('v1/Service', { spec });
    expect(messages(validateBuiltin('v1/Service', svc))).toEqual(want);
  });

  it('keeps immutable ConfigMaps and Secret types', () => {
    const old: JsonObject = { immutable: true, data: { a: 'b' } };
    expect(messages(validateBuiltin('v1/ConfigMap', { immutable: false, data: { a: 'c' } }, old))).toEqual([
      'immutable: Forbidden: field is immutable when `immutable` is set',
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
    expect(
      messages(validateBuiltin('v1/Secret', { type: 'kubernetes.io/tls', data: {} }, { type: 'Opaque' })),
    ).toEqual([
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
      'data[tls.crt]: Required value',
      'data[tls.key]: Required value',
    ]);
  });

  it('checks EndpointSlice addressType and HPA references and replicas', () => {
    expect(messages(validateBuiltin('discovery.k8s.io/v1/EndpointSlice', { addressType: 'IPv5' }))).toEqual([
      'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
    const hpa = defaulted('autoscaling/v2/HorizontalPodAutoscaler', {
      spec: { minReplicas: 3, maxReplicas: 2, scaleTargetRef: {} },
    });
    expect(messages(validateBuiltin('autoscaling/v2/HorizontalPodAutoscaler', hpa))).toEqual([
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
      'spec.scaleTargetRef.kind: Required value',
      'spec.scaleTargetRef.name: Required value',
    ]);
  });
});

function validatePodCauses(pod: JsonObject): StatusCause[] {
  return validateBuiltin('v1/Pod', pod);
}
