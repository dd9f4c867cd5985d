// Merge, JSON and strategic merge patch, as tables and against recorded kube-apiserver v1.26 exchanges.

import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  decodeMergePatch,
  decodeStrategicMergePatch,
  MAX_JSON_PATCH_OPERATIONS,
} from '../../sandbox/apiserver/patch.js';
import { isObject, type Json, type JsonObject, type Result } from '../../sandbox/apiserver/types.js';
import { asObject, fixtureExchanges } from '../helpers/fixtures.js';

/** The recorded exchanges of a fixture file, flattened to what the patch tests compare. */
const loadExchanges = (file: string) =>
  fixtureExchanges(file).map(({ request, response }) => ({
    method: request.method,
    contentType: request.headers['content-type'],
    requestBody: request.body,
    status: response.status,
    responseBody: response.body,
  }));
type Exchange = ReturnType<typeof loadExchanges>[number];

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`unexpected failure: ${r.error.code} ${r.error.message}`);
  return r.value;
}

function failure<T>(r: Result<T>): { code: number; reason: string; message: string } {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.value)}`);
  return r.error;
}

/** The Status fields a failure must reproduce. */
function statusOf(body: Json): {
  code: Json | undefined;
  reason: Json | undefined;
  message: Json | undefined;
} {
  const s = asObject(body);
  return { code: s.code, reason: s.reason, message: s.message };
}

function get(v: Json | undefined, ...path: string[]): Json | undefined {
  let cur = v;
  for (const key of path) cur = isObject(cur) ? cur[key] : undefined;
  return cur;
}

/** The object without what the server itself maintains on every write. */
function withoutServerFields(v: Json): JsonObject {
  const copy = structuredClone(asObject(v));
  const meta = asObject(copy.metadata);
  delete meta.resourceVersion;
  delete meta.generation;
  delete meta.managedFields;
  return copy;
}

const smp = (target: JsonObject, patch: JsonObject, kind = 'apps/v1/Deployment'): JsonObject =>
  value(applyStrategicMergePatch(target, patch, kind));

describe('applyMergePatch (RFC 7386 appendix A)', () => {
  it.each<[Json, Json, Json]>([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it('prunes nulls inside values it adds, keeps null array elements, and leaves inputs alone', () => {
    const target: JsonObject = { spec: { n: 1 } };
    const patch: JsonObject = { spec: { list: [null, { x: null, y: 1 }] }, status: { a: null, b: 2 } };
    expect(applyMergePatch(target, patch)).toEqual({
      spec: { n: 1, list: [null, { y: 1 }] },
      status: { b: 2 },
    });
    expect(target).toEqual({ spec: { n: 1 } });
    expect(patch.status).toEqual({ a: null, b: 2 });
  });

  it('decodeMergePatch accepts only objects, with kube wording', () => {
    expect(value(decodeMergePatch({ a: 1 }))).toEqual({ a: 1 });
    expect(failure(decodeMergePatch([1]))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message:
        'error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}',
    });
    expect(failure(decodeMergePatch('x')).message).toContain('cannot unmarshal string into');
    expect(failure(decodeMergePatch(null))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: 'Invalid JSON Patch',
    });
  });
});

describe('applyJsonPatch', () => {
  const doc: JsonObject = {
    metadata: { annotations: { 'a/b': '1', 'c~d': '2' } },
    spec: { list: ['x', 'y', 'z'], n: 1, obj: { k: 'v', m: [1, 2] } },
  };
  const apply = (ops: Json): Json => value(applyJsonPatch(doc, ops));

  it.each<[string, Json, string[], Json]>([
    ['add key', [{ op: 'add', path: '/spec/new', value: { a: 1 } }], ['spec', 'new'], { a: 1 }],
    ['add overwrites', [{ op: 'add', path: '/spec/n', value: 2 }], ['spec', 'n'], 2],
    [
      'add at index',
      [{ op: 'add', path: '/spec/list/1', value: 'q' }],
      ['spec', 'list'],
      ['x', 'q', 'y', 'z'],
    ],
    [
      'add at end index',
      [{ op: 'add', path: '/spec/list/3', value: 'q' }],
      ['spec', 'list'],
      ['x', 'y', 'z', 'q'],
    ],
    ['add with -', [{ op: 'add', path: '/spec/list/-', value: 'q' }], ['spec', 'list'], ['x', 'y', 'z', 'q']],
    [
      'add at negative index',
      [{ op: 'add', path: '/spec/list/-1', value: 'q' }],
      ['spec', 'list'],
      ['x', 'y', 'z', 'q'],
    ],
    ['add without value adds null', [{ op: 'add', path: '/spec/n' }], ['spec', 'n'], null],
    ['remove key', [{ op: 'remove', path: '/spec/obj/k' }], ['spec', 'obj'], { m: [1, 2] }],
    ['remove index', [{ op: 'remove', path: '/spec/list/0' }], ['spec', 'list'], ['y', 'z']],
    ['remove negative index', [{ op: 'remove', path: '/spec/list/-1' }], ['spec', 'list'], ['x', 'y']],
    [
      'replace ~1 key',
      [{ op: 'replace', path: '/metadata/annotations/a~1b', value: 'z' }],
      ['metadata', 'annotations', 'a/b'],
      'z',
    ],
    [
      'replace ~0 key',
      [{ op: 'replace', path: '/metadata/annotations/c~0d', value: 'z' }],
      ['metadata', 'annotations', 'c~d'],
      'z',
    ],
    [
      'replace index',
      [{ op: 'replace', path: '/spec/list/2', value: 'Z' }],
      ['spec', 'list'],
      ['x', 'y', 'Z'],
    ],
    [
      'replace of a missing key adds it',
      [{ op: 'replace', path: '/spec/missing', value: 1 }],
      ['spec', 'missing'],
      1,
    ],
    [
      'move',
      [{ op: 'move', from: '/spec/n', path: '/spec/obj/n' }],
      ['spec'],
      { list: ['x', 'y', 'z'], obj: { k: 'v', m: [1, 2], n: 1 } },
    ],
    [
      'move in a list',
      [{ op: 'move', from: '/spec/list/0', path: '/spec/list/-' }],
      ['spec', 'list'],
      ['y', 'z', 'x'],
    ],
    ['copy', [{ op: 'copy', from: '/spec/obj/m', path: '/spec/m2' }], ['spec', 'm2'], [1, 2]],
    [
      'copy from a missing key adds null',
      [{ op: 'copy', from: '/spec/nope', path: '/spec/m2' }],
      ['spec', 'm2'],
      null,
    ],
    [
      'path without leading slash drops its first segment',
      [{ op: 'add', path: 'spec/x', value: 1 }],
      ['x'],
      1,
    ],
    [
      'test then replace',
      [
        { op: 'test', path: '/spec/n', value: 1 },
        { op: 'replace', path: '/spec/n', value: 5 },
      ],
      ['spec', 'n'],
      5,
    ],
    [
      'test of an object by a superset',
      [{ op: 'test', path: '/spec/obj', value: { k: 'v', m: [1, 2], extra: 1 } }],
      ['spec', 'n'],
      1,
    ],
    ['test of a missing key with null', [{ op: 'test', path: '/spec/none', value: null }], ['spec', 'n'], 1],
    ['empty patch', [], ['spec', 'n'], 1],
    ['null patch', null, ['spec', 'n'], 1],
  ])('%s', (_name, ops, path, expected) => {
    expect(get(apply(ops), ...path)).toEqual(expected);
  });

  it('does not modify the target or the operations', () => {
    const ops: Json = [{ op: 'add', path: '/spec/obj/k2', value: { deep: 1 } }];
    const out = apply(ops);
    expect(get(out, 'spec', 'obj', 'k2')).toEqual({ deep: 1 });
    expect(get(doc, 'spec', 'obj')).toEqual({ k: 'v', m: [1, 2] });
    const added = get(out, 'spec', 'obj', 'k2');
    if (isObject(added)) added.deep = 2;
    expect(ops).toEqual([{ op: 'add', path: '/spec/obj/k2', value: { deep: 1 } }]);
  });

  const rejected = {
    code: 422,
    reason: 'Invalid',
    message: 'the server rejected our request due to an error in our request',
  };
  it.each<[string, Json]>([
    ['failing test', [{ op: 'test', path: '/spec/n', value: 2 }]],
    ['test of an object missing a key', [{ op: 'test', path: '/spec/obj', value: { k: 'v' } }]],
    ['test of a present key with null', [{ op: 'test', path: '/spec/n', value: null }]],
    ['test without value', [{ op: 'test', path: '/spec/n' }]],
    ['test of 1 against "1"', [{ op: 'test', path: '/spec/n', value: '1' }]],
    ['remove of a missing key', [{ op: 'remove', path: '/spec/nope' }]],
    ['add under a missing parent', [{ op: 'add', path: '/spec/nope/x', value: 1 }]],
    ['add past the end', [{ op: 'add', path: '/spec/list/4', value: 1 }]],
    ['add at a non-numeric index', [{ op: 'add', path: '/spec/list/x', value: 1 }]],
    ['replace past the end', [{ op: 'replace', path: '/spec/list/3', value: 1 }]],
    ['remove with -', [{ op: 'remove', path: '/spec/list/-' }]],
    ['traverse a scalar', [{ op: 'add', path: '/spec/n/x', value: 1 }]],
    ['root path', [{ op: 'replace', path: '', value: {} }]],
    ['missing path', [{ op: 'add', value: 1 }]],
    ['move from a missing key', [{ op: 'move', from: '/spec/nope', path: '/spec/x' }]],
    ['move without from', [{ op: 'move', path: '/spec/x' }]],
    ['unknown op', [{ op: 'frobnicate', path: '/spec/n', value: 1 }]],
    ['missing op', [{ path: '/spec/n', value: 1 }]],
    ['null operation', [null]],
    [
      'second op fails after first applied',
      [
        { op: 'add', path: '/spec/a', value: 1 },
        { op: 'remove', path: '/spec/b' },
      ],
    ],
  ])('%s is 422 with the generic message', (_name, ops) => {
    expect(failure(applyJsonPatch(doc, ops))).toEqual(rejected);
  });

  it.each<[Json, string]>([
    [{ spec: {} }, 'object into Go value of type []handlers.jsonPatchOp'],
    ['add', 'string into Go value of type []handlers.jsonPatchOp'],
    [3, 'number into Go value of type []handlers.jsonPatchOp'],
    [true, 'bool into Go value of type []handlers.jsonPatchOp'],
    [[1], 'number into Go value of type handlers.jsonPatchOp'],
    [[[]], 'array into Go value of type handlers.jsonPatchOp'],
    [[{ op: 'add', path: 5 }], 'number into Go struct field jsonPatchOp.path of type string'],
    [
      [{ op: 'add', path: '/a', value: 1 }, { op: true }],
      'bool into Go struct field jsonPatchOp.op of type string',
    ],
    [[{ op: 'move', from: {}, path: '/a' }], 'object into Go struct field jsonPatchOp.from of type string'],
  ])('body %j is 400', (ops, detail) => {
    expect(failure(applyJsonPatch(doc, ops))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: `error decoding patch: json: cannot unmarshal ${detail}`,
    });
  });

  it('refuses more than the maximum number of operations', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, (): Json => ({
      op: 'test',
      path: '/spec/n',
      value: 1,
    }));
    expect(failure(applyJsonPatch(doc, ops))).toEqual({
      code: 413,
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
    });
    expect(applyJsonPatch(doc, ops.slice(1)).ok).toBe(true);
  });
});

describe('applyStrategicMergePatch', () => {
  const deployment: JsonObject = {
    metadata: {
      name: 'web',
      labels: { app: 'web' },
      finalizers: ['a', 'b'],
      ownerReferences: [
        { uid: 'u1', name: 'one', kind: 'X' },
        { uid: 'u2', name: 'two', kind: 'X' },
      ],
    },
    spec: {
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx',
              ports: [{ containerPort: 80, name: 'http' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              volumeMounts: [{ mountPath: '/data', name: 'data' }],
            },
            { name: 'sidecar', image: 'busybox' },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 't1', operator: 'Exists' }],
        },
      },
    },
    status: {
      conditions: [
        { type: 'Available', status: 'False' },
        { type: 'Progressing', status: 'True' },
      ],
    },
  };
  const containers = (o: JsonObject): Json | undefined => get(o, 'spec', 'template', 'spec', 'containers');
  const web = (o: JsonObject): Json | undefined => {
    const list = containers(o);
    return Array.isArray(list) ? list.find((c) => get(c, 'name') === 'web') : undefined;
  };
  const patchContainers = (...items: Json[]): JsonObject => ({
    spec: { template: { spec: { containers: items } } },
  });

  it('merges containers by name and keeps the others in place', () => {
    const out = smp(deployment, patchContainers({ name: 'sidecar', image: 'busybox:1.36' }));
    expect(containers(out)).toMatchObject([
      { name: 'web', image: 'nginx' },
      { name: 'sidecar', image: 'busybox:1.36' },
    ]);
  });

  it('puts new list items before the ones the patch does not mention', () => {
    const out = smp(deployment, patchContainers({ name: 'web', env: [{ name: 'C', value: '3' }] }));
    expect(get(web(out), 'env')).toEqual([
      { name: 'C', value: '3' },
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    const reordered = smp(
      deployment,
      patchContainers({ name: 'web', env: [{ name: 'B', value: '9' }, { name: 'A' }] }),
    );
    expect(get(web(reordered), 'env')).toEqual([
      { name: 'B', value: '9' },
      { name: 'A', value: '1' },
    ]);
  });

  it('merges nested lists by their own keys: ports by containerPort, volumeMounts by mountPath', () => {
    const out = smp(
      deployment,
      patchContainers({
        name: 'web',
        ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }],
        volumeMounts: [{ mountPath: '/data', readOnly: true }],
      }),
    );
    expect(get(web(out), 'ports')).toEqual([
      { containerPort: 80, name: 'http', protocol: 'TCP' },
      { containerPort: 443 },
    ]);
    expect(get(web(out), 'volumeMounts')).toEqual([{ mountPath: '/data', name: 'data', readOnly: true }]);
  });

  it('replaces lists without a merge strategy whole (tolerations)', () => {
    const out = smp(deployment, {
      spec: { template: { spec: { tolerations: [{ key: 't2', operator: 'Exists' }] } } },
    });
    expect(get(out, 'spec', 'template', 'spec', 'tolerations')).toEqual([{ key: 't2', operator: 'Exists' }]);
  });

  it('an empty list patch of a merge list changes nothing', () => {
    expect(containers(smp(deployment, patchContainers()))).toEqual(containers(deployment));
  });

  it('merges ObjectMeta: finalizers as a set, ownerReferences by uid, labels as a map', () => {
    const out = smp(deployment, {
      metadata: {
        finalizers: ['c', 'a'],
        ownerReferences: [
          { uid: 'u2', name: 'two-renamed' },
          { uid: 'u3', name: 'three', kind: 'Y' },
        ],
        labels: { tier: 'front', app: null },
      },
    });
    expect(get(out, 'metadata', 'finalizers')).toEqual(['c', 'a', 'b']);
    expect(get(out, 'metadata', 'ownerReferences')).toEqual([
      { uid: 'u1', name: 'one', kind: 'X' },
      { uid: 'u2', name: 'two-renamed', kind: 'X' },
      { uid: 'u3', name: 'three', kind: 'Y' },
    ]);
    expect(get(out, 'metadata', 'labels')).toEqual({ tier: 'front' });
  });

  it('merges status conditions by type', () => {
    const out = smp(deployment, { status: { conditions: [{ type: 'Available', status: 'True' }] } });
    expect(get(out, 'status', 'conditions')).toEqual([
      { type: 'Available', status: 'True' },
      { type: 'Progressing', status: 'True' },
    ]);
  });

  it('$patch: delete removes a list item by its merge key', () => {
    const out = smp(deployment, patchContainers({ name: 'sidecar', $patch: 'delete' }));
    expect(containers(out)).toHaveLength(1);
    expect(get(web(out), 'name')).toBe('web');
  });

  it('$patch: replace on a list item replaces the whole list with the other items', () => {
    const out = smp(
      deployment,
      patchContainers({ $patch: 'replace' }, { name: 'only', image: 'x', env: null }),
    );
    expect(containers(out)).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('$patch: replace and delete on maps', () => {
    const replaced = smp(deployment, { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } });
    expect(get(replaced, 'spec', 'strategy')).toEqual({ type: 'Recreate' });
    const deleted = smp(deployment, { spec: { template: { metadata: { labels: { $patch: 'delete' } } } } });
    expect(get(deleted, 'spec', 'template', 'metadata', 'labels')).toEqual({});
  });

  it('$retainKeys drops the keys it does not list', () => {
    const out = smp(deployment, {
      spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } },
    });
    expect(get(out, 'spec', 'strategy')).toEqual({ type: 'Recreate' });
  });

  it('$deleteFromPrimitiveList removes values from a merge list of primitives', () => {
    const out = smp(deployment, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
    expect(get(out, 'metadata', 'finalizers')).toEqual(['b']);
  });

  it('$setElementOrder orders a merge list (kubectl apply style patches)', () => {
    const out = smp(deployment, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'new' }, { name: 'web' }],
            containers: [{ name: 'new', image: 'n' }],
          },
        },
      },
    });
    expect(
      Array.isArray(containers(out)) ? (containers(out) as Json[]).map((c) => get(c, 'name')) : [],
    ).toEqual(['sidecar', 'new', 'web']);
    const finalizers = smp(deployment, {
      metadata: {
        '$setElementOrder/finalizers': ['b', 'c'],
        finalizers: ['c'],
        '$deleteFromPrimitiveList/finalizers': ['a'],
      },
    });
    expect(get(finalizers, 'metadata', 'finalizers')).toEqual(['b', 'c']);
  });

  it('values added where the target had nothing lose nulls and directives', () => {
    const out = smp(deployment, {
      spec: {
        template: {
          spec: {
            initContainers: [
              { name: 'init', image: 'x', args: null },
              { name: 'gone', $patch: 'delete' },
            ],
          },
        },
      },
      status: { observedGeneration: 2, extra: { a: null, $patch: 'replace' } },
    });
    expect(get(out, 'spec', 'template', 'spec', 'initContainers')).toEqual([
      { name: 'init', image: 'x' },
      { name: 'gone' },
    ]);
    expect(get(out, 'status', 'extra')).toEqual({});
    expect(get(out, 'status', 'observedGeneration')).toBe(2);
  });

  it('null deletes a key and is ignored for a missing one', () => {
    const out = smp(deployment, { spec: { replicas: null, paused: null } });
    expect(get(out, 'spec')).not.toHaveProperty('replicas');
    expect(get(out, 'spec')).not.toHaveProperty('paused');
  });

  it('merges Service ports by port and Pod status conditions/podIPs', () => {
    const svc = smp(
      { spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: 'a' } } },
      { spec: { ports: [{ port: 80, name: 'http' }, { port: 443 }], selector: { tier: 'x' } } },
      'v1/Service',
    );
    expect(get(svc, 'spec')).toEqual({
      ports: [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443 }],
      selector: { app: 'a', tier: 'x' },
    });
    const pod = smp(
      {
        status: {
          conditions: [{ type: 'Ready', status: 'False' }],
          podIPs: [{ ip: '10.0.0.1' }],
          containerStatuses: [{ name: 'a' }],
        },
      },
      {
        status: {
          conditions: [{ type: 'Ready', status: 'True' }],
          podIPs: [{ ip: '10.0.0.2' }],
          containerStatuses: [{ name: 'b' }],
        },
      },
      'v1/Pod',
    );
    expect(get(pod, 'status')).toEqual({
      conditions: [{ type: 'Ready', status: 'True' }],
      podIPs: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }],
      containerStatuses: [{ name: 'b' }],
    });
  });

  it('treats every list of an unknown kind as atomic', () => {
    const out = smp(
      { containers: [{ name: 'a', image: 'x' }], finalizers: ['f'] },
      { containers: [{ name: 'a' }], finalizers: ['g'] },
      'example.com/v1/Widget',
    );
    expect(out).toEqual({ containers: [{ name: 'a' }], finalizers: ['g'] });
  });

  it('does not modify its inputs', () => {
    const target = structuredClone(deployment);
    const patch = patchContainers({ name: 'sidecar', $patch: 'delete' });
    smp(target, patch);
    expect(target).toEqual(deployment);
    expect(patch).toEqual(patchContainers({ name: 'sidecar', $patch: 'delete' }));
  });

  it.each<[string, JsonObject, { code: number; reason: string; message: string }]>([
    [
      'list item without its merge key',
      patchContainers({ image: 'x' }),
      {
        code: 500,
        reason: 'InternalError',
        message: 'map: map[image:x] does not contain declared merge key: name',
      },
    ],
    [
      'unknown $patch on a map',
      { spec: { strategy: { $patch: 'frob', type: 'x' } } },
      {
        code: 500,
        reason: 'InternalError',
        message: 'unknown patch type: frob in map: map[$patch:frob type:x]',
      },
    ],
    [
      '$patch: merge on a list',
      patchContainers({ name: 'web', $patch: 'merge' }),
      { code: 500, reason: 'InternalError', message: 'merging lists cannot yet be specified in the patch' },
    ],
    [
      '$patch: delete without merge key',
      patchContainers({ $patch: 'delete' }),
      {
        code: 500,
        reason: 'InternalError',
        message: 'map: map[$patch:delete] does not contain declared merge key: name',
      },
    ],
    [
      'mixed element types in a merge list',
      { metadata: { finalizers: [1] } },
      { code: 500, reason: 'InternalError', message: 'list element types are not identical: [[a b] [1]]' },
    ],
    [
      '$retainKeys that is not a list',
      { spec: { strategy: { $retainKeys: 'type' } } },
      { code: 400, reason: 'BadRequest', message: 'invalid patch format of retainKeys' },
    ],
    [
      '$retainKeys missing a patched key',
      { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: {} } } },
      { code: 400, reason: 'BadRequest', message: 'invalid patch format of retainKeys' },
    ],
    [
      'malformed $deleteFromPrimitiveList',
      { metadata: { $deleteFromPrimitiveListfinalizers: ['a'] } },
      { code: 400, reason: 'BadRequest', message: 'invalid patch format of primitive list' },
    ],
    [
      'malformed $setElementOrder',
      { metadata: { $setElementOrderX: [] } },
      { code: 400, reason: 'BadRequest', message: 'invalid patch format of setElementOrder list' },
    ],
    [
      '$setElementOrder that is not a list',
      { metadata: { '$setElementOrder/finalizers': 'a' } },
      { code: 500, reason: 'InternalError', message: 'expected a []interface {}, but received a string' },
    ],
    [
      '$setElementOrder not matching the patch list',
      { metadata: { '$setElementOrder/finalizers': ['a'], finalizers: ['z'] } },
      {
        code: 500,
        reason: 'InternalError',
        message: "The order in patch list:\n[z]\n doesn't match $setElementOrder list:\n[a]\n",
      },
    ],
  ])('%s', (_name, patch, expected) => {
    expect(failure(applyStrategicMergePatch(deployment, patch, 'apps/v1/Deployment'))).toEqual(expected);
  });

  it('decodeStrategicMergePatch: null patches nothing, non-objects are 400', () => {
    expect(value(decodeStrategicMergePatch(null))).toEqual({});
    expect(failure(decodeStrategicMergePatch([]))).toEqual({
      code: 400,
      reason: 'BadRequest',
      message: 'json: cannot unmarshal array into Go value of type map[string]interface {}',
    });
  });
});

describe('fixtures: 09-patches.json (Deployment web, Widget alpha)', () => {
  const ex = loadExchanges('09-patches.json');
  const at = (i: number, contentType: string): Exchange => {
    const e = ex[i];
    if (e?.method !== 'PATCH' || e.contentType !== contentType)
      throw new Error(`exchange ${i} is not a ${contentType} PATCH`);
    return e;
  };
  const after = (i: number): JsonObject => asObject(ex[i]?.responseBody);

  it('JSON patch test + replace of an escaped annotation key', () => {
    const e = at(1, 'application/json-patch+json');
    const out = asObject(value(applyJsonPatch(after(0), e.requestBody)));
    expect(withoutServerFields(out)).toEqual(withoutServerFields(after(1)));
  });

  it.each([2, 3, 4, 5])('failing JSON patch #%i answers like kube', (i) => {
    const e = at(i, 'application/json-patch+json');
    expect(e.status).toBeGreaterThanOrEqual(400);
    expect(failure(applyJsonPatch(after(1), e.requestBody))).toEqual(statusOf(e.responseBody));
  });

  // Each applies to the last successful response (#2-#5 failed and left the object as #1 made it).
  it.each([
    [6, 1],
    [7, 6],
    [8, 7],
    [9, 8],
  ])('strategic merge patch #%i on the result of #%i yields the recorded spec', (i, before) => {
    const e = at(i, 'application/strategic-merge-patch+json');
    const out = smp(after(before), asObject(e.requestBody), 'apps/v1/Deployment');
    expect(out.spec).toEqual(after(i).spec);
    expect(out.status).toEqual(after(i).status);
  });

  it('merge patch of the containers list replaces it whole', () => {
    const e = at(11, 'application/merge-patch+json');
    const out = asObject(applyMergePatch(after(9), e.requestBody));
    const requested = get(e.requestBody, 'spec', 'template', 'spec', 'containers');
    if (!Array.isArray(requested)) throw new Error('the recorded patch sets a containers list');
    expect(get(out, 'spec', 'template', 'spec', 'containers')).toEqual(requested);
    // kube then re-applies defaults to what the patch left.
    expect(get(after(11), 'spec', 'template', 'spec', 'containers')).toMatchObject(requested);
  });

  it('merge patch of replicas', () => {
    const e = at(12, 'application/merge-patch+json');
    expect(asObject(applyMergePatch(after(11), e.requestBody)).spec).toEqual(after(12).spec);
  });

  it('Widget merge patch deleting spec.extra with null', () => {
    const e = at(14, 'application/merge-patch+json');
    const before = loadExchanges('04-errors.json')[6]?.responseBody ?? null;
    expect(get(before, 'spec', 'extra')).toBeDefined();
    expect(asObject(applyMergePatch(before, e.requestBody)).spec).toEqual(after(14).spec);
  });

  it('Widget merge patch that changes nothing, then a JSON patch', () => {
    const noop = at(15, 'application/merge-patch+json');
    expect(applyMergePatch(after(14), noop.requestBody)).toEqual(after(14));
    const e = at(16, 'application/json-patch+json');
    const out = asObject(value(applyJsonPatch(after(15), e.requestBody)));
    expect(out.spec).toEqual(after(16).spec);
    expect(get(out, 'metadata', 'labels')).toEqual(get(after(16), 'metadata', 'labels'));
  });
});

describe('fixtures: other recorded patches', () => {
  it('06: merge, JSON and strategic patches of /scale', () => {
    const ex = loadExchanges('06-scale-subresource.json');
    const body = (i: number): JsonObject => asObject(ex[i]?.responseBody);
    const req = (i: number): Json => ex[i]?.requestBody ?? null;
    expect(ex[3]?.contentType).toBe('application/merge-patch+json');
    expect(asObject(applyMergePatch(body(2), req(3))).spec).toEqual(body(3).spec);
    expect(ex[9]?.contentType).toBe('application/json-patch+json');
    expect(asObject(value(applyJsonPatch(body(7), req(9)))).spec).toEqual(body(9).spec);
    expect(ex[16]?.contentType).toBe('application/strategic-merge-patch+json');
    const scaled = smp(body(15), asObject(req(16)), 'autoscaling/v1/Scale');
    expect(scaled.spec).toEqual(body(16).spec);
    expect(scaled.status).toEqual(body(16).status);
  });

  it('14: the event recorder strategic merge patch of a core Event', () => {
    const ex = loadExchanges('14-events-leases.json');
    expect(ex[1]?.contentType).toBe('application/strategic-merge-patch+json');
    const out = smp(asObject(ex[0]?.responseBody), asObject(ex[1]?.requestBody ?? null), 'v1/Event');
    expect(withoutServerFields(out)).toEqual(withoutServerFields(ex[1]?.responseBody ?? null));
  });

  it('14: Lease takeover by merge patch', () => {
    const ex = loadExchanges('14-events-leases.json');
    expect(ex[19]?.contentType).toBe('application/merge-patch+json');
    const out = asObject(applyMergePatch(ex[10]?.responseBody ?? null, ex[19]?.requestBody ?? null));
    expect(out.spec).toEqual(get(ex[19]?.responseBody, 'spec'));
  });

  it('13: finalizers removed with null and replaced as a whole list', () => {
    const ex = loadExchanges('13-finalizers-gc.json');
    const removed = asObject(applyMergePatch(ex[5]?.responseBody ?? null, ex[6]?.requestBody ?? null));
    expect(withoutServerFields(removed)).toEqual(withoutServerFields(ex[6]?.responseBody ?? null));
    const replaced = applyMergePatch(ex[32]?.responseBody ?? null, ex[33]?.requestBody ?? null);
    expect(get(replaced, 'metadata', 'finalizers')).toEqual(
      get(ex[33]?.responseBody, 'metadata', 'finalizers'),
    );
    // A strategic merge patch of the same body on a built-in kind would union instead.
    const unioned = smp(
      asObject(ex[32]?.responseBody),
      asObject(ex[33]?.requestBody ?? null),
      'v1/ConfigMap',
    );
    expect(get(unioned, 'metadata', 'finalizers')).toEqual(['example.com/hold', 'foregroundDeletion']);
  });

  it('05: merge patches of a Widget label and spec', () => {
    const ex = loadExchanges('05-status-subresource.json');
    const labelled = applyMergePatch(ex[2]?.responseBody ?? null, ex[3]?.requestBody ?? null);
    expect(get(labelled, 'metadata', 'labels')).toEqual(get(ex[3]?.responseBody, 'metadata', 'labels'));
    const scaled = applyMergePatch(ex[3]?.responseBody ?? null, ex[4]?.requestBody ?? null);
    expect(get(scaled, 'spec')).toEqual(get(ex[4]?.responseBody, 'spec'));
  });
});
