// PATCH bodies as kube-apiserver v1.26 applies them: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902, with evanphx/json-patch v4 quirks) and strategic merge patch for built-in kinds.

import { clone, fail, isObject, ok, type Json, type JsonObject, type Result } from './types.js';

// ---------------------------------------------------------------------------------------------
// JSON merge patch

/**
 * RFC 7386 as kube applies it: null deletes; a value put where the target has nothing (or a
 * non-object) has its nested nulls pruned (arrays keep their null elements). A non-object patch
 * replaces the target. Inputs are not modified. Run decodeMergePatch first for kube's 400s.
 */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch) || !isObject(target)) return pruneNulls(patch);
  const out = clone(target);
  mergeDocs(out, patch);
  return out;
}

/**
 * kube's check of a merge-patch body (default fieldValidation): it must be a JSON object.
 * Failures are 400 BadRequest.
 */
export function decodeMergePatch(patch: Json): Result<JsonObject> {
  if (isObject(patch)) return ok(patch);
  if (patch === null) return fail(400, 'BadRequest', 'Invalid JSON Patch');
  return fail(
    400,
    'BadRequest',
    `error decoding patch: json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`,
  );
}

function mergeDocs(doc: JsonObject, patch: JsonObject): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete doc[key];
      continue;
    }
    const cur = own(doc, key);
    if (isObject(cur) && isObject(value)) mergeDocs(cur, value);
    else if (isObject(cur)) put(doc, key, clone(value));
    else put(doc, key, pruneNulls(value));
  }
}

function pruneNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map((e) => (e === null ? null : pruneNulls(e)));
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(v)) {
    if (value !== null) put(out, key, pruneNulls(value));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON patch

/** kube refuses JSON patches with more operations than this. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Applies RFC 6902 operations as kube-apiserver v1.26 does (default fieldValidation):
 * - a body that is not an array of op objects (or has a non-string op/path/from) is 400
 *   BadRequest `error decoding patch: json: cannot unmarshal …`; a null body is an empty patch;
 * - more than MAX_JSON_PATCH_OPERATIONS operations is 413;
 * - any operation that fails (failed test, missing path, unknown op, bad index) is 422 Invalid
 *   with kube's generic message and empty details, like kube.
 * Quirks kept from evanphx/json-patch v4: replace of a missing object key adds it; copy from a
 * missing key adds null; negative array indices count from the end; a test of an object passes
 * when every key of the current object has an equal value in the test value.
 */
export function applyJsonPatch(target: Json, ops: Json): Result<Json> {
  const decoded = decodeJsonPatch(ops);
  if (!decoded.ok) return decoded;
  const list = decoded.value;
  if (list.length > MAX_JSON_PATCH_OPERATIONS) {
    return fail(
      413,
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${list.length}`,
    );
  }
  if (!isObject(target) && !Array.isArray(target)) return jsonPatchRejected();
  const doc = clone(target);
  for (const op of list) {
    if (!applyOperation(doc, op)) return jsonPatchRejected();
  }
  return ok(doc);
}

/** kube wraps every JSON-patch apply error into this generic 422 (Status details are `{}`). */
function jsonPatchRejected(): Result<never> {
  return fail(422, 'Invalid', 'the server rejected our request due to an error in our request');
}

/** Mirrors the strict decode into []handlers.jsonPatchOp{op, path, from string; value any}. */
function decodeJsonPatch(ops: Json): Result<(JsonObject | null)[]> {
  const decodeError = (message: string): Result<never> =>
    fail(400, 'BadRequest', `error decoding patch: json: cannot unmarshal ${message}`);
  if (ops === null) return ok([]);
  if (!Array.isArray(ops))
    return decodeError(`${jsonKind(ops)} into Go value of type []handlers.jsonPatchOp`);
  const list: (JsonObject | null)[] = [];
  for (const op of ops) {
    if (op !== null && !isObject(op)) {
      return decodeError(`${jsonKind(op)} into Go value of type handlers.jsonPatchOp`);
    }
    if (op !== null) {
      for (const [key, value] of Object.entries(op)) {
        if (
          (key === 'op' || key === 'path' || key === 'from') &&
          value !== null &&
          typeof value !== 'string'
        ) {
          return decodeError(`${jsonKind(value)} into Go struct field jsonPatchOp.${key} of type string`);
        }
      }
    }
    list.push(op);
  }
  return ok(list);
}

type Container = JsonObject | Json[];
interface Location {
  container: Container;
  key: string;
}

/** Mutates `doc`; false when the operation does not apply. */
function applyOperation(doc: Container, op: JsonObject | null): boolean {
  if (op === null) return false;
  const kind = stringField(op, 'op');
  const value = Object.hasOwn(op, 'value') ? (op.value ?? null) : undefined;
  switch (kind) {
    case 'add': {
      const at = locate(doc, stringField(op, 'path'));
      return at !== undefined && addAt(at, value === undefined ? null : clone(value));
    }
    case 'remove': {
      const at = locate(doc, stringField(op, 'path'));
      return at !== undefined && removeAt(at);
    }
    case 'replace': {
      const at = locate(doc, stringField(op, 'path'));
      if (at === undefined) return false;
      if (Array.isArray(at.container)) {
        const idx = existingIndex(at.container, at.key);
        if (idx === undefined) return false;
        at.container[idx] = value === undefined ? null : clone(value);
        return true;
      }
      put(at.container, at.key, value === undefined ? null : clone(value));
      return true;
    }
    case 'move': {
      const from = locate(doc, stringField(op, 'from'));
      if (from === undefined) return false;
      const moved = getAt(from);
      if (!moved.ok || !removeAt(from)) return false;
      const to = locate(doc, stringField(op, 'path'));
      return to !== undefined && addAt(to, moved.value ?? null);
    }
    case 'copy': {
      const from = locate(doc, stringField(op, 'from'));
      if (from === undefined) return false;
      const copied = getAt(from);
      if (!copied.ok) return false;
      const to = locate(doc, stringField(op, 'path'));
      return to !== undefined && addAt(to, copied.value === undefined ? null : clone(copied.value));
    }
    case 'test': {
      const at = locate(doc, stringField(op, 'path'));
      if (at === undefined) return false;
      const current = getAt(at);
      if (!current.ok || value === undefined) return false;
      if (current.value === undefined || current.value === null) return value === null;
      return value !== null && testEqual(current.value, value);
    }
    default:
      return false;
  }
}

function stringField(op: JsonObject, key: string): string | undefined {
  const v = own(op, key);
  return typeof v === 'string' ? v : undefined;
}

/**
 * evanphx's findObject: every segment but the first and the last is followed from the root (the
 * first is ignored even when the path does not start with '/'); the last names the key.
 */
function locate(doc: Container, path: string | undefined): Location | undefined {
  if (path === undefined) return undefined;
  const segments = path.split('/');
  if (segments.length < 2) return undefined;
  let container: Container = doc;
  for (const segment of segments.slice(1, -1)) {
    const next = getAt({ container, key: decodePointer(segment) });
    if (!next.ok || !(isObject(next.value) || Array.isArray(next.value))) return undefined;
    container = next.value;
  }
  return { container, key: decodePointer(segments[segments.length - 1] ?? '') };
}

function decodePointer(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** A missing object key is not an error (value undefined); a bad array index is. */
function getAt(at: Location): { ok: true; value: Json | undefined } | { ok: false } {
  if (!Array.isArray(at.container)) return { ok: true, value: own(at.container, at.key) };
  const idx = existingIndex(at.container, at.key);
  return idx === undefined ? { ok: false } : { ok: true, value: at.container[idx] };
}

function addAt(at: Location, value: Json): boolean {
  if (!Array.isArray(at.container)) {
    put(at.container, at.key, value);
    return true;
  }
  if (at.key === '-') {
    at.container.push(value);
    return true;
  }
  let idx = goAtoi(at.key);
  const size = at.container.length + 1;
  if (idx === undefined || idx >= size || idx < -size) return false;
  if (idx < 0) idx += size;
  at.container.splice(idx, 0, value);
  return true;
}

function removeAt(at: Location): boolean {
  if (!Array.isArray(at.container)) {
    if (!Object.hasOwn(at.container, at.key)) return false;
    delete at.container[at.key];
    return true;
  }
  const idx = existingIndex(at.container, at.key);
  if (idx === undefined) return false;
  at.container.splice(idx, 1);
  return true;
}

function existingIndex(list: Json[], key: string): number | undefined {
  const idx = goAtoi(key);
  if (idx === undefined || idx >= list.length || idx < -list.length) return undefined;
  return idx < 0 ? idx + list.length : idx;
}

/** strconv.Atoi on a decimal index; undefined where Go fails. */
function goAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** evanphx's lazyNode.equal: objects compare only the keys of the current value. */
function testEqual(current: Json, expected: Json): boolean {
  if (isObject(current)) {
    if (!isObject(expected)) return false;
    return Object.entries(current).every(([key, v]) => {
      if (!Object.hasOwn(expected, key)) return false;
      const ov = expected[key] ?? null;
      if (v === null || ov === null) return v === ov;
      return testEqual(v, ov);
    });
  }
  if (Array.isArray(current)) {
    if (!Array.isArray(expected) || expected.length !== current.length) return false;
    return current.every((v, i) => {
      const ov = expected[i] ?? null;
      if (v === null || ov === null) return v === ov;
      return testEqual(v, ov);
    });
  }
  if (isObject(expected) || Array.isArray(expected)) return false;
  return JSON.stringify(current) === JSON.stringify(expected);
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

/**
 * kube's check of a strategic-merge-patch body (default fieldValidation): an object, or null
 * (which patches nothing). Failures are 400 BadRequest.
 */
export function decodeStrategicMergePatch(patch: Json): Result<JsonObject> {
  if (isObject(patch)) return ok(patch);
  if (patch === null) return ok({});
  return fail(
    400,
    'BadRequest',
    `json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`,
  );
}

/**
 * Strategic merge patch of a built-in object, `kind` as '<apiVersion>/<Kind>' (e.g.
 * 'apps/v1/Deployment', 'v1/Pod'). Lists merge as the field's patchStrategy/patchMergeKey say
 * (PATCH_METADATA); other lists are replaced whole, as are all lists of unknown kinds.
 * Directives: $patch (replace|delete|merge), $retainKeys, $setElementOrder/<f>,
 * $deleteFromPrimitiveList/<f>. Errors carry kube's codes and messages; where kube answers a
 * plain Go error (500 with an unset reason) this returns 500 InternalError with that message.
 * Inputs are not modified. Values copied from the patch where the target had nothing lose their
 * nulls and directive keys, as kube's typed decoding drops them.
 */
export function applyStrategicMergePatch(
  target: JsonObject,
  patch: JsonObject,
  kind: string,
): Result<JsonObject> {
  const root = Object.hasOwn(KIND_ROOTS, kind) ? KIND_ROOTS[kind] : undefined;
  return mergeMap(clone(target), clone(patch), root);
}

/** patchStrategy/patchMergeKey of one field; `type` names the struct of its value or elements. */
export interface FieldPatchMeta {
  readonly type?: string;
  readonly strategy?: 'merge';
  readonly mergeKey?: string;
  /** Informational: kube's retainKeys strategy only matters when a patch carries $retainKeys. */
  readonly retainKeys?: true;
}

const MERGE_BY = (mergeKey: string, type?: string): FieldPatchMeta =>
  type === undefined ? { strategy: 'merge', mergeKey } : { strategy: 'merge', mergeKey, type };
const META: Record<string, FieldPatchMeta> = { metadata: { type: 'ObjectMeta' } };
const CONDITIONS_BY_TYPE: Record<string, FieldPatchMeta> = { conditions: MERGE_BY('type') };
const TEMPLATE: Record<string, FieldPatchMeta> = { template: { type: 'PodTemplateSpec' } };

/**
 * Patch metadata of the built-in structs (Kubernetes API v1.26), only along paths that lead to a
 * list with a merge strategy. Fields not listed have none.
 */
export const PATCH_METADATA: Readonly<Record<string, Readonly<Record<string, FieldPatchMeta>>>> = {
  ObjectMeta: { finalizers: { strategy: 'merge' }, ownerReferences: MERGE_BY('uid') },
  ObjectOnly: META,
  PodTemplateSpec: { ...META, spec: { type: 'PodSpec' } },
  PodSpec: {
    volumes: { ...MERGE_BY('name'), retainKeys: true },
    initContainers: MERGE_BY('name', 'Container'),
    containers: MERGE_BY('name', 'Container'),
    ephemeralContainers: MERGE_BY('name', 'Container'),
    imagePullSecrets: MERGE_BY('name'),
    hostAliases: MERGE_BY('ip'),
    topologySpreadConstraints: MERGE_BY('topologyKey'),
    resourceClaims: { ...MERGE_BY('name'), retainKeys: true },
    schedulingGates: MERGE_BY('name'),
  },
  Container: {
    ports: MERGE_BY('containerPort'),
    env: MERGE_BY('name'),
    volumeMounts: MERGE_BY('mountPath'),
    volumeDevices: MERGE_BY('devicePath'),
  },
  Pod: { ...META, spec: { type: 'PodSpec' }, status: { type: 'PodStatus' } },
  PodStatus: { ...CONDITIONS_BY_TYPE, podIPs: MERGE_BY('ip') },
  PodTemplate: { ...META, template: { type: 'PodTemplateSpec' } },
  Deployment: { ...META, spec: { type: 'DeploymentSpec' }, status: { type: 'Conditions' } },
  DeploymentSpec: { ...TEMPLATE, strategy: { retainKeys: true } },
  WithTemplate: TEMPLATE,
  Conditions: CONDITIONS_BY_TYPE,
  Workload: { ...META, spec: { type: 'WithTemplate' }, status: { type: 'Conditions' } },
  Service: { ...META, spec: { type: 'ServiceSpec' }, status: { type: 'Conditions' } },
  ServiceSpec: { ports: MERGE_BY('port') },
  Namespace: { ...META, status: { type: 'Conditions' } },
  ServiceAccount: { ...META, secrets: MERGE_BY('name') },
  HorizontalPodAutoscalerV2: { ...META, status: { type: 'Conditions' } },
  CronJob: { ...META, spec: { type: 'CronJobSpec' } },
  CronJobSpec: { jobTemplate: { type: 'JobTemplateSpec' } },
  JobTemplateSpec: { ...META, spec: { type: 'WithTemplate' } },
  Node: { ...META, spec: { type: 'NodeSpec' }, status: { type: 'NodeStatus' } },
  NodeSpec: { podCIDRs: { strategy: 'merge' } },
  NodeStatus: { ...CONDITIONS_BY_TYPE, addresses: MERGE_BY('type') },
};

/** Root struct of each kind that strategic merge patch knows. */
export const KIND_ROOTS: Readonly<Record<string, string>> = {
  'v1/Pod': 'Pod',
  'v1/PodTemplate': 'PodTemplate',
  'v1/ReplicationController': 'Workload',
  'v1/Service': 'Service',
  'v1/Namespace': 'Namespace',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Node': 'Node',
  'v1/ConfigMap': 'ObjectOnly',
  'v1/Secret': 'ObjectOnly',
  'v1/Event': 'ObjectOnly',
  'v1/Endpoints': 'ObjectOnly',
  'apps/v1/Deployment': 'Deployment',
  'apps/v1/ReplicaSet': 'Workload',
  'apps/v1/DaemonSet': 'Workload',
  'apps/v1/StatefulSet': 'Workload',
  'batch/v1/Job': 'Workload',
  'batch/v1/CronJob': 'CronJob',
  'autoscaling/v1/Scale': 'ObjectOnly',
  'autoscaling/v1/HorizontalPodAutoscaler': 'ObjectOnly',
  'autoscaling/v2/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV2',
  'events.k8s.io/v1/Event': 'ObjectOnly',
  'coordination.k8s.io/v1/Lease': 'ObjectOnly',
  'discovery.k8s.io/v1/EndpointSlice': 'ObjectOnly',
};

type Schema = string | undefined;

function fieldMeta(schema: Schema, key: string): FieldPatchMeta {
  if (schema === undefined || !Object.hasOwn(PATCH_METADATA, schema)) return {};
  const fields = PATCH_METADATA[schema] ?? {};
  return Object.hasOwn(fields, key) ? (fields[key] ?? {}) : {};
}

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';

const smpBadRequest = (message: string): Result<never> => fail(400, 'BadRequest', message);
/** kube answers these with a plain Go error: HTTP 500, message as is (Status reason unset). */
const smpServerError = (message: string): Result<never> => fail(500, 'InternalError', message);
const errNoMergeKey = (m: JsonObject, key: string): Result<never> =>
  smpServerError(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: Json | undefined): Result<never> =>
  smpServerError(`expected a ${expected}, but received a ${goTypeString(actual)}`);
const errBadPatchType = (directive: Json, m: JsonObject): Result<never> =>
  smpServerError(`unknown patch type: ${goPercentS(directive)} in map: ${goFormat(m)}`);
const SLICE_TYPE = '[]interface {}';
const MAP_TYPE = 'map[string]interface {}';

/** Merges `patch` into `original` (both owned, mutated). */
function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema): Result<JsonObject> {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE] ?? null;
    if (directive === 'replace') {
      delete patch[DIRECTIVE];
      return ok(sanitizeObject(patch));
    }
    if (directive === 'delete') return ok({});
    return errBadPatchType(directive, patch);
  }
  const retained = applyRetainKeys(original, patch);
  if (!retained.ok) return retained;
  const ordered = applySetElementOrder(original, patch, schema);
  if (!ordered.ok) return ordered;

  for (const patchKey of Object.keys(patch)) {
    const value = patch[patchKey] ?? null;
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const listKey = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST);
      if (listKey === undefined) return smpBadRequest('invalid patch format of primitive list');
      key = listKey;
      isDeleteList = true;
    }
    if (value === null) {
      delete original[key];
      continue;
    }
    if (!Object.hasOwn(original, key)) {
      if (!isDeleteList) put(original, key, sanitize(value));
      continue;
    }
    const current = original[key] ?? null;
    if (goTypeOf(current) !== goTypeOf(value)) {
      if (!isDeleteList) put(original, key, sanitize(value));
      continue;
    }
    const meta = fieldMeta(schema, key);
    if (isObject(current) && isObject(value)) {
      const merged = mergeMap(current, value, meta.type);
      if (!merged.ok) return merged;
      put(original, key, merged.value);
    } else if (Array.isArray(current) && Array.isArray(value)) {
      const merged =
        meta.strategy === 'merge'
          ? mergeList(current, value, meta.type, meta.mergeKey ?? '', isDeleteList)
          : ok(value.map(sanitize));
      if (!merged.ok) return merged;
      put(original, key, merged.value);
    } else {
      put(original, key, value);
    }
  }
  return ok(original);
}

/** `$retainKeys`: drop original keys it does not list; every patched key must be listed. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): Result<null> {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return ok(null);
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) return smpBadRequest('invalid patch format of retainKeys');
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER))
      continue;
    if (!retain.includes(key)) return smpBadRequest('invalid patch format of retainKeys');
  }
  for (const key of Object.keys(original)) {
    if (!retain.includes(key)) delete original[key];
  }
  return ok(null);
}

/**
 * `$setElementOrder/<field>`: merges that field's list now and orders it: listed items in the
 * listed order, the others keeping their place relative to the current list.
 */
function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: Schema): Result<null> {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey] ?? null;
    delete patch[directiveKey];
    if (!Array.isArray(order)) return errBadArgType(SLICE_TYPE, order);
    const key = extractKey(directiveKey, SET_ELEMENT_ORDER);
    if (key === undefined) return smpBadRequest('invalid patch format of setElementOrder list');
    const inOriginal = Object.hasOwn(original, key);
    const inPatch = Object.hasOwn(patch, key);
    const originalList = inOriginal ? (original[key] ?? null) : [];
    const patchList = inPatch ? (patch[key] ?? null) : [];
    if (!Array.isArray(originalList)) return errBadArgType(SLICE_TYPE, originalList);
    if (!Array.isArray(patchList)) return errBadArgType(SLICE_TYPE, patchList);
    const meta = fieldMeta(schema, key);
    const mergeKey = meta.mergeKey ?? '';
    const valid = validateAgainstOrder(patchList, order, mergeKey);
    if (!valid.ok) return valid;

    let merged: Json[];
    const raw = new Set<Json>();
    if (inOriginal && !inPatch) {
      merged = originalList;
    } else if (!inOriginal && inPatch) {
      merged = patchList;
      patchList.forEach((item) => raw.add(item));
    } else if (inOriginal && inPatch) {
      const result =
        meta.strategy === 'merge'
          ? mergeList(originalList, patchList, meta.type, mergeKey, false)
          : ok(patchList.map(sanitize));
      if (!result.ok) return result;
      merged = result.value;
    } else {
      continue;
    }
    const parts = partition(merged, order, mergeKey);
    if (!parts.ok) return parts;
    const elementType = sliceElementType([originalList, patchList]);
    if (!elementType.ok) return elementType;
    const both = normalizeElementOrder(
      parts.value.inList,
      parts.value.others,
      order,
      originalList,
      mergeKey,
      elementType.value === MAP_TYPE,
    );
    if (!both.ok) return both;
    put(
      original,
      key,
      both.value.map((item) => (raw.has(item) ? sanitize(item) : item)),
    );
    delete patch[key];
  }
  return ok(null);
}

/** The non-deleted patch items must appear in the `$setElementOrder` list, in its order. */
function validateAgainstOrder(patchList: Json[], order: Json[], mergeKey: string): Result<null> {
  if (order.length === 0 || patchList.length === 0) return ok(null);
  let items = patchList;
  if (mergeKey !== '') {
    const split = splitDeletions(patchList);
    if (!split.ok) return split;
    items = split.value.keep;
  }
  let p = 0;
  let o = 0;
  while (p < items.length && o < order.length) {
    const item = items[p] ?? null;
    if (isObject(item) && Object.hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    const equal = mergeKeyValueEqual(item, order[o] ?? null, mergeKey);
    if (!equal.ok) return equal;
    if (equal.value) p++;
    o++;
  }
  if (p < items.length && o >= order.length) {
    return smpServerError(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(order)}\n`,
    );
  }
  return ok(null);
}

function mergeKeyValueEqual(left: Json, right: Json, mergeKey: string): Result<boolean> {
  if (mergeKey === '') return ok(goEqual(left, right));
  if (!isObject(left)) return errBadArgType(MAP_TYPE, left);
  if (!isObject(right)) return errBadArgType(MAP_TYPE, right);
  if (!Object.hasOwn(left, mergeKey)) return errNoMergeKey(left, mergeKey);
  if (!Object.hasOwn(right, mergeKey)) return errNoMergeKey(right, mergeKey);
  return ok(goEqual(left[mergeKey] ?? null, right[mergeKey] ?? null));
}

/** Merges two lists of a field with the merge strategy (by mergeKey, or as a set of primitives). */
function mergeList(
  original: Json[],
  patch: Json[],
  elementSchema: Schema,
  mergeKey: string,
  isDeleteList: boolean,
): Result<Json[]> {
  if (original.length === 0 && patch.length === 0) return ok(original);
  const elementType = sliceElementType([original, patch]);
  if (!elementType.ok) return elementType;
  const isMap = elementType.value === MAP_TYPE;
  let current = original;
  let patchItems = patch;
  let merged: Json[];
  const raw = new Set<Json>();
  if (!isMap) {
    if (isDeleteList) return ok(original.filter((v) => !patch.some((d) => goEqual(d, v))));
    merged = [];
    for (const v of [...original, ...patch]) if (!merged.some((m) => goEqual(m, v))) merged.push(v);
  } else {
    if (mergeKey === '')
      return smpServerError(`cannot merge lists without merge key for ${elementSchema ?? ''}`);
    const special = applyListDirectives(original, patch, mergeKey);
    if (!special.ok) return special;
    current = special.value.original;
    patchItems = special.value.patch;
    if (special.value.replaced) current.forEach((item) => raw.add(item));
    const result = mergeByKey(current, patchItems, mergeKey, elementSchema, raw);
    if (!result.ok) return result;
    merged = result.value;
  }
  const parts = partition(merged, patchItems, mergeKey);
  if (!parts.ok) return parts;
  const ordered = normalizeElementOrder(
    parts.value.inList,
    parts.value.others,
    patchItems,
    current,
    mergeKey,
    isMap,
  );
  if (!ordered.ok) return ordered;
  return ok(ordered.value.map((item) => (raw.has(item) ? sanitize(item) : item)));
}

/** List elements with `$patch`: delete drops matching items, replace swaps the whole list. */
function applyListDirectives(
  original: Json[],
  patch: Json[],
  mergeKey: string,
): Result<{ original: Json[]; patch: Json[]; replaced: boolean }> {
  const rest: Json[] = [];
  let replace = false;
  let current = original;
  for (const item of patch) {
    if (!isObject(item) || !Object.hasOwn(item, DIRECTIVE)) {
      rest.push(item);
      continue;
    }
    const directive = item[DIRECTIVE] ?? null;
    if (directive === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) return errNoMergeKey(item, mergeKey);
      const keyValue = item[mergeKey] ?? null;
      current = current.filter(
        (e) => !(isObject(e) && Object.hasOwn(e, mergeKey) && goEqual(e[mergeKey] ?? null, keyValue)),
      );
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      return smpServerError('merging lists cannot yet be specified in the patch');
    } else {
      return errBadPatchType(directive, item);
    }
  }
  return ok(
    replace
      ? { original: rest, patch: [], replaced: true }
      : { original: current, patch: rest, replaced: false },
  );
}

/** Merges each patch item into the current item with the same key, or appends it (marked raw). */
function mergeByKey(
  original: Json[],
  patch: Json[],
  mergeKey: string,
  elementSchema: Schema,
  raw: Set<Json>,
): Result<Json[]> {
  const out = [...original];
  for (const item of patch) {
    if (!isObject(item)) return errBadArgType(MAP_TYPE, item);
    if (!Object.hasOwn(item, mergeKey)) return errNoMergeKey(item, mergeKey);
    const found = findByKey(out, mergeKey, item[mergeKey] ?? null);
    if (!found.ok) return found;
    const index = found.value;
    const existing = index === undefined ? undefined : out[index];
    if (index === undefined || !isObject(existing)) {
      out.push(item);
      raw.add(item);
      continue;
    }
    const merged = mergeMap(existing, item, elementSchema);
    if (!merged.ok) return merged;
    if (raw.has(existing)) raw.add(merged.value);
    out[index] = merged.value;
  }
  return ok(out);
}

function findByKey(list: Json[], mergeKey: string, value: Json): Result<number | undefined> {
  for (let i = 0; i < list.length; i++) {
    const item = list[i] ?? null;
    if (!isObject(item)) return smpServerError(`value for key ${i} is not a map.`);
    if (Object.hasOwn(item, mergeKey) && goEqual(item[mergeKey] ?? null, value)) return ok(i);
  }
  return ok(undefined);
}

/** Items of `merged` present in `list` (by merge key, or by value for primitives) and the rest. */
function partition(
  merged: Json[],
  list: Json[],
  mergeKey: string,
): Result<{ inList: Json[]; others: Json[] }> {
  const inList: Json[] = [];
  const others: Json[] = [];
  for (const item of merged) {
    let present: boolean;
    if (mergeKey === '') {
      present = list.some((l) => goEqual(l, item));
    } else {
      if (!isObject(item)) return errBadArgType(MAP_TYPE, item);
      if (!Object.hasOwn(item, mergeKey)) return errNoMergeKey(item, mergeKey);
      const found = findByKey(list, mergeKey, item[mergeKey] ?? null);
      if (!found.ok) return found;
      present = found.value !== undefined;
    }
    (present ? inList : others).push(item);
  }
  return ok({ inList, others });
}

/**
 * Orders patch items by `patchOrder` and server-only items by `serverOrder`, then interleaves
 * them: a server-only item goes first only when both are in the server list and it comes earlier.
 */
function normalizeElementOrder(
  patchItems: Json[],
  serverOnly: Json[],
  patchOrder: Json[],
  serverOrder: Json[],
  mergeKey: string,
  isMap: boolean,
): Result<Json[]> {
  const right = sortByOrder(patchItems, patchOrder, mergeKey, isMap);
  if (!right.ok) return right;
  const left = sortByOrder(serverOnly, serverOrder, mergeKey, isMap);
  if (!left.ok) return left;
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < left.value.length || j < right.value.length) {
    const l = left.value[i];
    const r = right.value[j];
    if (l === undefined) {
      out.push(right.value[j++] ?? null);
    } else if (r === undefined) {
      out.push(left.value[i++] ?? null);
    } else {
      const li = indexIn(serverOrder, l, mergeKey, isMap);
      const ri = indexIn(serverOrder, r, mergeKey, isMap);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left.value[i++] ?? null);
      else out.push(right.value[j++] ?? null);
    }
  }
  return ok(out);
}

/**
 * Go's insertion sort with kube's comparator (an item missing from `order` sorts before
 * anything), so that even inconsistent inputs order as kube orders them; `$patch: delete`
 * items go last.
 */
function sortByOrder(items: Json[], order: Json[], mergeKey: string, isMap: boolean): Result<Json[]> {
  let keep = items;
  let deletions: Json[] = [];
  if (isMap) {
    for (const item of [...items, ...order]) {
      if (!isObject(item)) return errBadArgType(MAP_TYPE, item);
      if (!Object.hasOwn(item, mergeKey)) return errNoMergeKey(item, mergeKey);
    }
    const split = splitDeletions(items);
    if (!split.ok) return split;
    keep = split.value.keep;
    deletions = split.value.deletions;
  }
  const sorted = [...keep];
  const less = (a: Json, b: Json): boolean => {
    const ia = indexIn(order, a, mergeKey, isMap);
    if (ia < 0) return true;
    const ib = indexIn(order, b, mergeKey, isMap);
    return ib < 0 || ia < ib;
  };
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i; j > 0 && less(sorted[j] ?? null, sorted[j - 1] ?? null); j--) {
      const t = sorted[j] ?? null;
      sorted[j] = sorted[j - 1] ?? null;
      sorted[j - 1] = t;
    }
  }
  return ok([...sorted, ...deletions]);
}

function splitDeletions(items: Json[]): Result<{ keep: Json[]; deletions: Json[] }> {
  const keep: Json[] = [];
  const deletions: Json[] = [];
  for (const item of items) {
    if (!isObject(item)) return errBadArgType(MAP_TYPE, item);
    (item[DIRECTIVE] === 'delete' ? deletions : keep).push(item);
  }
  return ok({ keep, deletions });
}

function indexIn(list: Json[], item: Json, mergeKey: string, isMap: boolean): number {
  const keyOf = (v: Json): Json => (isMap ? (isObject(v) ? (own(v, mergeKey) ?? null) : null) : v);
  const wanted = keyOf(item);
  return list.findIndex((v) => goEqual(keyOf(v), wanted));
}

/** All elements must share one Go type, which must not be a list. */
function sliceElementType(lists: Json[][]): Result<string> {
  let type: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const t = goTypeOf(item);
      if (type === undefined) {
        if (t === SLICE_TYPE)
          return fail(422, 'Invalid', 'the server rejected our request due to an error in our request');
        type = t;
      } else if (t !== type) {
        return smpServerError(`list element types are not identical: ${goFormat(lists)}`);
      }
    }
  }
  return type === undefined ? smpServerError('no elements in any of the given slices') : ok(type);
}

function extractKey(key: string, prefix: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) return undefined;
  return key.slice(slash + 1);
}

/** What kube's typed decoding keeps of a value copied from a patch: no nulls, no directives. */
function sanitize(v: Json): Json {
  if (Array.isArray(v)) return v.map((e) => (e === null ? null : sanitize(e)));
  return isObject(v) ? sanitizeObject(v) : v;
}

function sanitizeObject(v: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(v)) {
    if (value === null || isDirectiveKey(key)) continue;
    put(out, key, sanitize(value));
  }
  return out;
}

function isDirectiveKey(key: string): boolean {
  return (
    key === DIRECTIVE ||
    key === RETAIN_KEYS ||
    key.startsWith(SET_ELEMENT_ORDER) ||
    key.startsWith(DELETE_FROM_PRIMITIVE_LIST)
  );
}

// ---------------------------------------------------------------------------------------------
// Go formatting helpers (for messages that print decoded JSON with %v)

/** The Go type encoding/json decodes a value to (integers kept as int64, as kube decodes). */
function goTypeOf(v: Json): string {
  if (v === null) return '<nil>';
  if (Array.isArray(v)) return SLICE_TYPE;
  if (isObject(v)) return MAP_TYPE;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  return Number.isInteger(v) ? 'int64' : 'float64';
}

/** %s of reflect.TypeOf(v). */
function goTypeString(v: Json | undefined): string {
  return v === undefined || v === null ? '%!s(<nil>)' : goTypeOf(v);
}

/** %s of an interface value. */
function goPercentS(v: Json): string {
  if (typeof v === 'string') return v;
  if (v === null) return '%!s(<nil>)';
  return `%!s(${goTypeOf(v)}=${goFormat(v)})`;
}

/** Go == on decoded JSON values; maps and slices never compare equal. */
function goEqual(a: Json, b: Json): boolean {
  if (isObject(a) || Array.isArray(a) || isObject(b) || Array.isArray(b)) return false;
  return goTypeOf(a) === goTypeOf(b) && a === b;
}

/** fmt's %v of a decoded JSON value (maps print with sorted keys). */
function goFormat(v: Json | undefined): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return goFormatNumber(v);
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `map[${keys.map((k) => `${k}:${goFormat(v[k])}`).join(' ')}]`;
}

/** int64 as decimal; float64 as %v (shortest, exponent form below 1e-4 or from 1e+06). */
function goFormatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const [mantissa = '0', expPart = '0'] = n.toExponential().split('e');
  const exp = Number(expPart);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

function jsonKind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

function own(obj: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Sets an own property, also for '__proto__' (which plain assignment would not create). */
function put(obj: JsonObject, key: string, value: Json): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
