// Server-side printing (Tables, PartialObjectMetadata) against the recorded kube-apiserver v1.26
// answers of 12-table.json, the kubectl output recorded against it, and tables of printer rules.

import { describe, expect, it } from 'vitest';
import type { Api } from '../../sandbox/apiserver/api.js';
import {
  buildTable,
  printerFor,
  type PrintingContext,
  renderPartialList,
  renderPartialObject,
  renderTable,
  renderTableEvent,
  tableOptionsError,
} from '../../sandbox/apiserver/printing.js';
import { humanDuration } from '../../sandbox/apiserver/printing/duration.js';
import { evaluateJsonPath, goText, parseJsonPath } from '../../sandbox/apiserver/printing/jsonpath.js';
import { Registry } from '../../sandbox/apiserver/registry.js';
import { isObject, type Json, type JsonObject, type ResourceType } from '../../sandbox/apiserver/types.js';
import { asArray, asObject, asString, fixtureExchanges, readFixture } from '../helpers/fixtures.js';

/** The recorded exchanges of a fixture file, flattened to what the printing tests compare. */
const loadExchanges = (file: string) =>
  fixtureExchanges(file).map(({ request, response }) => ({
    method: request.method,
    path: request.path,
    requestBody: request.body,
    responseBody: response.body,
  }));

const table = loadExchanges('12-table.json');
const recorded = (i: number): JsonObject => asObject(table[i]?.responseBody);
const rowObjects = (body: JsonObject): JsonObject[] =>
  asArray(body.rows).map((r) => asObject(asObject(r).object));
const rowsOf = (body: JsonObject): JsonObject[] => asArray(body.rows).map(asObject);

/** Every recorded Age is "now" seen from 2026-11-21T13:44:03Z (28 s after the Widgets were made). */
const NOW_MS = Date.parse('2026-11-21T13:44:03.400Z');

// server.ts passes its Api; printing only needs this much of it (checked by the compiler).
const _apiIsAPrintingContext = (a: Api): PrintingContext => a;

function makeApi(): {
  api: PrintingContext;
  widgets: ResourceType;
  type: (g: string, v: string, r: string) => ResourceType;
} {
  const registry = new Registry();
  const crd = loadExchanges('01-discovery.json')
    .map((e) => e.requestBody)
    .find((b) => isObject(b) && b.kind === 'CustomResourceDefinition');
  registry.registerCrd(asObject(crd));
  const api: PrintingContext = { now: () => NOW_MS, registry };
  const type = (g: string, v: string, r: string): ResourceType => {
    const t = registry.lookup(g, v, r);
    if (!t) throw new Error(`no type ${g}/${v}/${r}`);
    return t;
  };
  return { api, widgets: type('example.com', 'v1', 'widgets'), type };
}

const { api, widgets, type } = makeApi();
const deployments = type('apps', 'v1', 'deployments');
// Full objects, as they were when the Tables were recorded (includeObject=Object answers).
const widgetObjects = rowObjects(recorded(2));
const deploymentObjects = rowObjects(recorded(12));
const gamma = widgetObjects.find((w) => asObject(w.metadata).name === 'gamma') ?? {};

describe('Tables of custom resources (additionalPrinterColumns)', () => {
  it.each([
    [0, 'Metadata', 'v1'],
    [1, 'Metadata', 'v1'],
    [2, 'Object', 'v1'],
    [3, 'None', 'v1'],
    [7, 'Metadata', 'v1beta1'],
    [10, 'Metadata', 'v1'],
  ] as const)(
    'list exchange %i (includeObject=%s, %s) matches the recorded Table',
    (i, includeObject, version) => {
      const got = renderTable(api, widgets, widgetObjects, {
        version,
        includeObject,
        resourceVersion: '1431',
        single: false,
      });
      expect(got).toEqual(recorded(i));
    },
  );

  it.each([
    [4, 'Metadata'],
    [5, 'Object'],
  ] as const)('single-object exchange %i (includeObject=%s) matches', (i, includeObject) => {
    const got = renderTable(api, widgets, [gamma], {
      version: 'v1',
      includeObject,
      resourceVersion: '1284',
      single: true,
    });
    expect(got).toEqual(recorded(i));
  });

  it('an empty list keeps its columns and sends rows: []', () => {
    const got = renderTable(api, widgets, [], {
      version: 'v1',
      includeObject: 'Metadata',
      resourceVersion: '1431',
      single: false,
    });
    expect(got).toEqual(recorded(9));
    expect(got.rows).toEqual([]);
  });

  it('a watch event carries a one-row Table with the object resourceVersion (exchange 19)', () => {
    const patched = asObject(table[20]?.responseBody);
    const event = asObject(asArray(table[19]?.responseBody)[0]);
    expect(renderTableEvent(api, widgets, patched, 'v1', 'Metadata')).toEqual(event.object);
  });

  it('later watch events leave columnDefinitions null, as kube sends headers once per stream', () => {
    const got = renderTableEvent(api, widgets, gamma, 'v1', 'Metadata', false);
    expect(got.columnDefinitions).toBeNull();
    expect(rowsOf(got)[0]?.cells).toEqual(['gamma', 'Running', 5, 'small', '28s']);
  });

  it('pagination fields go to the Table metadata of a list only', () => {
    const list = renderTable(api, widgets, [gamma], {
      version: 'v1',
      includeObject: 'None',
      resourceVersion: '7',
      continueToken: 'abc',
      remainingItemCount: 3,
      single: false,
    });
    expect(list.metadata).toEqual({ resourceVersion: '7', continue: 'abc', remainingItemCount: 3 });
  });

  it('a CRD version without printer columns gets Name and a date Age column', () => {
    const printer = printerFor({ ...widgets }, undefined);
    expect(printer.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Age', 'date', 0],
    ]);
    expect(printer.columns[1]?.description).toMatch(/^CreationTimestamp is a timestamp/);
    expect(printer.print(gamma, NOW_MS).cells).toEqual(['gamma', '28s']);
  });

  it('evaluates typed columns, descriptions, formats and priorities from the CRD', () => {
    const printer = printerFor(widgets, [
      { name: 'Image', type: 'string', jsonPath: '.spec.containers[0].image' },
      { name: 'App', type: 'string', jsonPath: '.metadata.labels.app', description: 'the app', priority: 2 },
      { name: 'Items', type: 'string', jsonPath: '.spec.items[*].name' },
      { name: 'Ratio', type: 'number', jsonPath: '.status.ratio', format: 'float' },
      { name: 'Count', type: 'integer', jsonPath: '.status.count' },
      { name: 'Ok', type: 'boolean', jsonPath: '.status.ok' },
      { name: 'Since', type: 'date', jsonPath: '.status.since' },
      { name: 'Spec', type: 'string', jsonPath: '.spec.nested' },
      { name: 'Missing', type: 'integer', jsonPath: '.status.nothing' },
      { name: 'WrongType', type: 'integer', jsonPath: '.status.ok' },
      { name: 'Host', type: 'string', jsonPath: '.metadata.annotations.example\\.com/host' },
    ]);
    expect(printer.columns[2]).toEqual({
      name: 'App',
      type: 'string',
      format: '',
      description: 'the app',
      priority: 2,
    });
    expect(printer.columns[4]).toMatchObject({ format: 'float', priority: 0 });
    const cells = printer.print(
      {
        metadata: { name: 'w', labels: { app: 'shop' }, annotations: { 'example.com/host': 'h1' } },
        spec: {
          containers: [{ image: 'nginx:1' }, { image: 'envoy' }],
          items: [{ name: 'a' }, { name: 'b' }],
          nested: { z: 1, a: '<' },
        },
        status: { ratio: 0.5, count: 7.9, ok: true, since: '2026-11-21T13:40:03Z' },
      },
      NOW_MS,
    ).cells;
    expect(cells).toEqual([
      'w',
      'nginx:1',
      'shop',
      'a',
      0.5,
      7,
      true,
      '4m',
      '{"a":"\\u003c","z":1}',
      null,
      null,
      'h1',
    ]);
  });
});

describe('Tables of built-in resources', () => {
  it.each([
    [11, 'Metadata', '1431', false],
    [12, 'Object', '1431', false],
    [13, 'Metadata', '1421', true],
  ] as const)(
    'deployments exchange %i matches the recorded Table',
    (i, includeObject, resourceVersion, single) => {
      const got = renderTable(api, deployments, deploymentObjects, {
        version: 'v1',
        includeObject,
        resourceVersion,
        single,
      });
      expect(got).toEqual(recorded(i));
    },
  );

  it('services print TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) and SELECTOR as recorded (exchange 14)', () => {
    const services = loadExchanges('08-service-defaults.json')
      .filter((e) => e.method === 'POST' && e.path === '/api/v1/namespaces/fixtures/services')
      .map((e) => asObject(e.responseBody))
      .filter((s) => isObject(s.metadata) && typeof s.metadata.name === 'string')
      .sort((a, b) => asString(asObject(a.metadata).name).localeCompare(asString(asObject(b.metadata).name)));
    const got = renderTable(api, type('', 'v1', 'services'), services, {
      version: 'v1',
      includeObject: 'Metadata',
      resourceVersion: '1431',
      single: false,
    });
    const want = recorded(14);
    expect(got.columnDefinitions).toEqual(want.columnDefinitions);
    expect(rowsOf(got).map((r) => r.cells)).toEqual(rowsOf(want).map((r) => r.cells));
    expect(rowObjects(got).map((o) => [o.kind, o.apiVersion, asObject(o.metadata).name])).toEqual(
      rowObjects(want).map((o) => [o.kind, o.apiVersion, asObject(o.metadata).name]),
    );
  });

  it('configmaps count data keys (exchange 15)', () => {
    const configMaps = loadExchanges('10-list-selectors.json')
      .filter((e) => e.method === 'POST')
      .map((e) => asObject(e.responseBody))
      .filter((c) => isObject(c.metadata) && isObject(c.metadata.labels) && 'app' in c.metadata.labels);
    const got = renderTable(api, type('', 'v1', 'configmaps'), configMaps, {
      version: 'v1',
      includeObject: 'Metadata',
      resourceVersion: '1431',
      single: false,
    });
    const want = recorded(15);
    expect(got.columnDefinitions).toEqual(want.columnDefinitions);
    expect(rowsOf(got).map((r) => r.cells)).toEqual(rowsOf(want).map((r) => r.cells));
  });

  it('pods print READY, STATUS and RESTARTS as kubectl shows them', () => {
    const fixtures = loadExchanges('08-service-defaults.json');
    const notReady = asObject(
      fixtures.find((e) => e.method === 'PATCH' && e.path.endsWith('/web-notready/status'))?.responseBody,
    );
    const pending = asObject(
      asArray(asObject(loadExchanges('07-deployment-defaults.json')[4]?.responseBody).items)[0],
    );
    const printer = printerFor(type('', 'v1', 'pods'), undefined);
    expect(printer.print(notReady, NOW_MS).cells).toEqual([
      'web-notready',
      '0/1',
      'Running',
      '0',
      '23s',
      '10.244.0.11',
      'fixtures-node',
      '<none>',
      '<none>',
    ]);
    expect(printer.print(pending, NOW_MS).cells.slice(1, 4)).toEqual(['0/2', 'Pending', '0']);
  });

  it('pods: waiting reasons, restarts with the last restart age, init containers, completion conditions', () => {
    const printer = printerFor(type('', 'v1', 'pods'), undefined);
    const crashing: JsonObject = {
      metadata: { name: 'p', creationTimestamp: '2026-11-21T13:00:00Z' },
      spec: {
        containers: [{ name: 'a' }, { name: 'b' }],
        readinessGates: [{ conditionType: 'x' }, { conditionType: 'y' }],
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'x', status: 'True' }],
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 1, state: { running: {} } },
          {
            name: 'b',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 1, finishedAt: '2026-11-21T13:43:00Z' } },
          },
        ],
      },
    };
    expect(printer.print(crashing, NOW_MS).cells.slice(1, 5)).toEqual([
      '1/2',
      'CrashLoopBackOff',
      '5 (63s ago)',
      '44m',
    ]);
    expect(printer.print(crashing, NOW_MS).cells[8]).toBe('1/2');
    const init: JsonObject = {
      metadata: { name: 'i' },
      spec: { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'c' }] },
      status: {
        phase: 'Pending',
        initContainerStatuses: [{ state: { terminated: { exitCode: 0 } } }, { state: { running: {} } }],
      },
    };
    expect(printer.print(init, NOW_MS).cells.slice(2, 5)).toEqual(['Init:1/2', '0', '<unknown>']);
    const succeeded: JsonObject = { metadata: { name: 'd' }, spec: {}, status: { phase: 'Succeeded' } };
    const done = printer.print(succeeded, NOW_MS);
    expect(done.conditions).toEqual([
      {
        type: 'Completed',
        status: 'True',
        reason: 'Succeeded',
        message: 'The pod has completed successfully.',
      },
    ]);
    const deleting = printer.print(
      {
        metadata: { name: 'x', deletionTimestamp: '2026-11-21T13:44:00Z' },
        spec: {},
        status: { phase: 'Running' },
      },
      NOW_MS,
    );
    expect(deleting.cells[2]).toBe('Terminating');
    const table = buildTable(printer, [crashing, succeeded], NOW_MS, {
      version: 'v1',
      includeObject: 'None',
      resourceVersion: '1',
      single: false,
    });
    expect(rowsOf(table).map((r) => r.conditions)).toEqual([undefined, done.conditions]);
  });

  it('replicasets print DESIRED, CURRENT, READY and the selector', () => {
    const rs = asObject(
      asArray(asObject(loadExchanges('07-deployment-defaults.json')[3]?.responseBody).items)[0],
    );
    const cells = printerFor(type('apps', 'v1', 'replicasets'), undefined).print(rs, NOW_MS).cells;
    expect([cells[0], cells[1], cells[2], cells[3], cells[5], cells[7]]).toEqual([
      'web-56d9d4bcc6',
      1,
      1,
      0,
      'web,sidecar',
      'app=web,pod-template-hash=56d9d4bcc6',
    ]);
  });

  it('endpoint slices and endpoints list addresses, Endpoints only the ready ones', () => {
    const fixtures = loadExchanges('08-service-defaults.json');
    const slice = asObject(asArray(asObject(fixtures[8]?.responseBody).items)[0]);
    const endpoints = asObject(fixtures[9]?.responseBody);
    const sliceCells = printerFor(type('discovery.k8s.io', 'v1', 'endpointslices'), undefined).print(
      slice,
      NOW_MS,
    ).cells;
    expect(sliceCells.slice(0, 4)).toEqual(['web-tzdx2', 'IPv4', '8080', '10.244.0.10,10.244.0.11']);
    const epCells = printerFor(type('', 'v1', 'endpoints'), undefined).print(endpoints, NOW_MS).cells;
    expect(epCells.slice(0, 2)).toEqual(['web', '10.244.0.10:8080']);
    const many = {
      metadata: { name: 'm' },
      subsets: [
        { addresses: ['1', '2', '3', '4'].map((n) => ({ ip: `10.0.0.${n}` })), ports: [{ port: 80 }] },
      ],
    };
    expect(printerFor(type('', 'v1', 'endpoints'), undefined).print(many, NOW_MS).cells[1]).toBe(
      '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...',
    );
  });

  it('an Event prints the same through core/v1 and events.k8s.io/v1', () => {
    const fixtures = loadExchanges('14-events-leases.json');
    const viaEvents = asObject(fixtures[2]?.responseBody);
    const viaCore = asObject(fixtures[3]?.responseBody);
    const core = printerFor(type('', 'v1', 'events'), undefined).print(viaCore, NOW_MS).cells;
    const events = printerFor(type('events.k8s.io', 'v1', 'events'), undefined).print(
      viaEvents,
      NOW_MS,
    ).cells;
    expect(events).toEqual(core);
    expect(core[3]).toBe('widget/alpha');
    expect(core[9]).toBe('alpha.18ea13529c1dab01');
  });

  it('nodes, namespaces, secrets, service accounts, leases and HPAs', () => {
    const node = asObject(loadExchanges('08-service-defaults.json')[3]?.responseBody);
    const nodeCells = printerFor(type('', 'v1', 'nodes'), undefined).print(node, NOW_MS).cells;
    expect(nodeCells.slice(1, 3)).toEqual(['Unknown', '<none>']);
    expect(nodeCells.slice(5)).toEqual(['<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
    const ready = {
      metadata: {
        name: 'n',
        labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'edge' },
      },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.1.1.1' }],
      },
    };
    expect(
      printerFor(type('', 'v1', 'nodes'), undefined)
        .print(ready, NOW_MS)
        .cells.slice(1, 3),
    ).toEqual(['Ready,SchedulingDisabled', 'control-plane,edge']);
    const ns = {
      metadata: { name: 'fixtures', creationTimestamp: '2026-11-18T10:00:00Z' },
      status: { phase: 'Active' },
    };
    expect(printerFor(type('', 'v1', 'namespaces'), undefined).print(ns, NOW_MS).cells).toEqual([
      'fixtures',
      'Active',
      '3d3h',
    ]);
    const secret = { metadata: { name: 's' }, type: 'Opaque', data: { a: 'eA==', b: 'eQ==' } };
    expect(
      printerFor(type('', 'v1', 'secrets'), undefined)
        .print(secret, NOW_MS)
        .cells.slice(0, 3),
    ).toEqual(['s', 'Opaque', 2]);
    const sa = { metadata: { name: 'default' } };
    expect(
      printerFor(type('', 'v1', 'serviceaccounts'), undefined)
        .print(sa, NOW_MS)
        .cells.slice(0, 2),
    ).toEqual(['default', 0]);
    const lease = asObject(loadExchanges('14-events-leases.json')[9]?.responseBody);
    const leaseCells = printerFor(type('coordination.k8s.io', 'v1', 'leases'), undefined).print(
      lease,
      NOW_MS,
    ).cells;
    expect(leaseCells.slice(0, 2)).toEqual(['fixtures-leader', asObject(lease.spec).holderIdentity]);
    const hpa: JsonObject = {
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        maxReplicas: 5,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
          },
          {
            type: 'Pods',
            pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '10' } },
          },
          {
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '1Gi' } },
          },
        ],
      },
      status: {
        currentReplicas: 2,
        currentMetrics: [
          { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 12 } } },
        ],
      },
    };
    const hpaType = type('autoscaling', 'v2', 'horizontalpodautoscalers');
    expect(printerFor(hpaType, undefined).print(hpa, NOW_MS).cells.slice(0, 6)).toEqual([
      'h',
      'Deployment/web',
      '12%/80%, <unknown>/10 + 1 more...',
      '<unset>',
      5,
      2,
    ]);
    const v1 = {
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 3,
        targetCPUUtilizationPercentage: 50,
      },
      status: { currentReplicas: 1 },
    };
    expect(printerFor(hpaType, undefined).print(v1, NOW_MS).cells.slice(2, 4)).toEqual([
      '<unknown>/50%',
      '1',
    ]);
  });

  it('CustomResourceDefinitions use the default convertor: Name and Created At, rows null when empty', () => {
    const crds = type('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const crd = { metadata: { name: 'widgets.example.com', creationTimestamp: '2026-11-21T13:43:30Z' } };
    const got = renderTable(api, crds, [crd], {
      version: 'v1',
      includeObject: 'None',
      resourceVersion: '5',
      single: false,
    });
    expect(asArray(got.columnDefinitions).map((c) => [asObject(c).name, asObject(c).type])).toEqual([
      ['Name', 'string'],
      ['Created At', 'date'],
    ]);
    expect(rowsOf(got)[0]?.cells).toEqual(['widgets.example.com', '2026-11-21T13:43:30Z']);
    expect(
      renderTable(api, crds, [], {
        version: 'v1',
        includeObject: 'None',
        resourceVersion: '5',
        single: false,
      }).rows,
    ).toBeNull();
  });
});

describe('the columns kubectl shows', () => {
  const commands = asArray(asObject(readFixture('kubectl-output.json')).commands).map(asObject);
  const headerLines = (command: string): string[] => {
    const out = commands.find((c) => c.command === command)?.stdout;
    if (typeof out !== 'string') throw new Error(`no output for ${command}`);
    return out.split('\n').filter((l) => l.startsWith('NAME'));
  };
  const header = (t: ResourceType, wide: boolean): string =>
    printerFor(t, api.registry.printerColumnsOf(t))
      .columns.filter((c) => wide || c.priority === 0)
      .map((c) => c.name.toUpperCase())
      .join(' ');
  const words = (line: string): string =>
    line
      .trim()
      .split(/\s{2,}/)
      .join(' ');

  it.each([
    ['kubectl get widgets -n fixtures', 'widgets', false],
    ['kubectl get widgets -n fixtures -o wide', 'widgets', true],
    ['kubectl get deployments -n fixtures -o wide', 'deployments', true],
  ] as const)('%s', (command, resource, wide) => {
    const t = resource === 'widgets' ? widgets : deployments;
    expect(headerLines(command).map(words)).toEqual([header(t, wide)]);
  });

  it('kubectl get all: pods, services, deployments, replicasets and widgets', () => {
    const expected = [
      type('', 'v1', 'pods'),
      type('', 'v1', 'services'),
      deployments,
      type('apps', 'v1', 'replicasets'),
      widgets,
    ].map((t) => header(t, false));
    expect(headerLines('kubectl get all -n fixtures').map(words)).toEqual(expected);
  });
});

describe('PartialObjectMetadata', () => {
  it('a list matches exchange 16 and a single object exchange 17', () => {
    expect(renderPartialList('v1', widgetObjects, '1431')).toEqual(recorded(16));
    expect(renderPartialObject('v1', gamma)).toEqual(recorded(17));
  });

  it('an empty list has items null; pagination goes to metadata; v1beta1 is kept', () => {
    const got = renderPartialList('v1beta1', [], '9', 'tok', 2);
    expect(got).toEqual({
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1beta1',
      metadata: { resourceVersion: '9', continue: 'tok', remainingItemCount: 2 },
      items: null,
    });
  });

  it('does not share metadata with the stored object', () => {
    const partial = renderPartialObject('v1', gamma);
    asObject(partial.metadata).name = 'changed';
    expect(asObject(gamma.metadata).name).toBe('gamma');
  });
});

describe('table options', () => {
  it.each([null, '', 'Metadata', 'None', 'Object'])('includeObject %j is accepted', (value) => {
    expect(tableOptionsError(value)).toBeUndefined();
  });

  it('an unknown includeObject is a 400 with kube wording', () => {
    expect(tableOptionsError('All')).toEqual({
      code: 400,
      reason: 'BadRequest',
      message:
        "Unable to convert to Table as requested: includeObject: Invalid value: \"All\": must be 'Metadata', 'Object', 'None', or empty",
    });
  });
});

describe('HumanDuration', () => {
  const S = 1000;
  const M = 60 * S;
  const H = 60 * M;
  const D = 24 * H;
  it.each([
    [-3 * S, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [12 * S + 900, '12s'],
    [119 * S, '119s'],
    [2 * M, '2m'],
    [5 * M + 3 * S, '5m3s'],
    [10 * M + 59 * S, '10m'],
    [179 * M, '179m'],
    [3 * H, '3h'],
    [3 * H + 5 * M, '3h5m'],
    [8 * H + 30 * M, '8h'],
    [47 * H, '47h'],
    [2 * D, '2d'],
    [3 * D + 4 * H, '3d4h'],
    [8 * D + 5 * H, '8d'],
    [729 * D, '729d'],
    [730 * D, '2y'],
    [735 * D, '2y5d'],
    [3000 * D, '8y'],
  ])('%i ms prints %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe('JSONPath subset', () => {
  const doc: Json = { a: { 'b.c': [1, { d: 'x' }, { d: 'y' }] }, n: null };
  it.each([
    ['.a.b\\.c[1].d', ['x']],
    ["['a']['b.c'][-1].d", ['y']],
    ['.a.b\\.c[*].d', ['x', 'y']],
    ['.a.b\\.c[0:2]', [1, { d: 'x' }]],
    ['.a.missing', []],
    ['.a.b\\.c[9]', []],
    ['.n', [null]],
  ] as const)('%s selects %j', (path, want) => {
    const parsed = parseJsonPath(path);
    if (!parsed.ok) throw new Error(parsed.message);
    expect(evaluateJsonPath(parsed.steps, doc)).toEqual(want);
  });

  it.each([
    ['text', 'text'],
    [3, '3'],
    [1.5, '1.5'],
    [0.00001, '1e-05'],
    [true, 'true'],
    [null, '<no value>'],
    [['a&b'], '["a\\u0026b"]'],
  ] as const)('goText(%j) is %s', (value, want) => {
    expect(goText(value as Json)).toBe(want);
  });
});
