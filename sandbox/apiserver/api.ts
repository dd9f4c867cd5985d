// The sandbox API's verbs on resources, independent of HTTP: get, list, create, update, patch,
// delete, scale and watch, with kube-apiserver's semantics for resourceVersion, generation,
// status subresources, finalizers and deletion. The HTTP layer and in-process controllers call this.
import { isDeepStrictEqual } from 'node:util';
import type { Ipv4Range } from './admission.js';
import {
  admitObject,
  convertForRead,
  convertForWrite,
  hasGeneration,
  parseIpv4Cidr,
  returnsDeletedObject,
} from './admission.js';
import type { DResult, StatusDetails } from './meta.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  failWith,
  generateNameSuffix,
  lift,
  metaOf,
  newUid,
  notFound,
  qualifiedKind,
  qualifiedResource,
  successStatus,
  timestamp,
} from './meta.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.js';
import type { Registry } from './registry.js';
import { gvString, storageKey } from './registry.js';
import type { FieldSelector, LabelSelector } from './selectors.js';
import {
  formatLabelSelector,
  labelSelectorFromObject,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import type { Store, StoreEvent } from './store.js';
import type { Json, JsonObject, ResourceType, StatusCause } from './types.js';
import { clone, isObject, str } from './types.js';

export type PatchType = 'merge' | 'json' | 'strategic';

export interface WriteOptions {
  dryRun?: boolean;
  /** Warnings found while decoding a patch; they replace the pruning warnings. */
  decodeWarnings?: string[];
  /** 'Strict' | 'Warn' | 'Ignore' (default Warn). */
  fieldValidation?: string;
  /** The request body text, for duplicate-field detection. */
  rawBody?: string;
}

export interface WriteResult {
  object: JsonObject;
  warnings: string[];
  /** HTTP code: 201 on create, 200 otherwise. */
  code: number;
}

export interface DeleteOptions {
  propagationPolicy?: string;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
}

export interface ListResult {
  items: JsonObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

export interface Selectors {
  labels: LabelSelector;
  fields: FieldSelector;
}

export interface ApiOptions {
  now?: () => number;
  /** Service cluster IP range (default 10.0.0.0/16). */
  serviceCidr?: string;
}

/** Field values a field selector can test, for an object of a type. */
function fieldValues(t: ResourceType, obj: JsonObject): Record<string, string> {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const out: Record<string, string> = {
    'metadata.name': str(meta.name ?? ''),
    'metadata.namespace': str(meta.namespace ?? ''),
  };
  for (const path of t.extraFieldSelectors ?? []) {
    let cur: Json | undefined = obj;
    for (const part of path.split('.')) cur = isObject(cur) ? cur[part] : undefined;
    if (path === 'source' && isObject(obj.source)) cur = obj.source.component;
    out[path] = cur === undefined || cur === null ? '' : str(cur);
  }
  return out;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

function decodeContinue(token: string): DResult<{ rv: number; start: string }> {
  const bad = (why: string): DResult<{ rv: number; start: string }> =>
    badRequest(`invalid continue token: ${why}`);
  // kube encodes continue tokens as unpadded base64url and reports Go's CorruptInputError offset.
  const bad64 = token.search(/[^A-Za-z0-9_-]/);
  if (bad64 >= 0 || token.length % 4 === 1) {
    return bad(
      `continue key is not valid: illegal base64 data at input byte ${bad64 >= 0 ? bad64 : token.length - 1}`,
    );
  }
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as JsonObject;
    if (parsed.v !== 'meta.k8s.io/v1')
      return bad(
        'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
      );
    if (typeof parsed.rv !== 'number' || typeof parsed.start !== 'string')
      return bad('continue key is not valid');
    return { ok: true, value: { rv: parsed.rv, start: parsed.start } };
  } catch {
    return bad('continue key is not valid');
  }
}

/**
 * Everything outside metadata (and status, when a status subresource exists) — what bumps generation.
 * Deployments also bump it on annotation changes, as kube's deployment strategy does.
 */
function specPart(t: ResourceType, obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  if (t.group === 'apps' && t.resource === 'deployments') {
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    out['metadata.annotations'] = meta.annotations ?? {};
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'metadata' || k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && (t.statusSubresource || !t.custom)) continue;
    out[k] = v;
  }
  return out;
}

/** Strips fields that never take part in a no-op comparison. */
function comparable(obj: JsonObject): JsonObject {
  const c = { ...obj, metadata: { ...(obj.metadata as JsonObject) } };
  delete c.metadata.resourceVersion;
  delete c.metadata.managedFields;
  return c;
}

export class Api {
  readonly now: () => number;
  readonly serviceRange: Ipv4Range;
  private readonly afterWrite: ((t: ResourceType, obj: JsonObject, type: StoreEvent['type']) => void)[] = [];

  constructor(
    readonly store: Store,
    readonly registry: Registry,
    opts: ApiOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.serviceRange = parseIpv4Cidr(opts.serviceCidr ?? '10.0.0.0/16');
  }

  /** Hooks run after each stored change (GC, namespace and CRD controllers). */
  onWrite(fn: (t: ResourceType, obj: JsonObject, type: StoreEvent['type']) => void): void {
    this.afterWrite.push(fn);
  }

  private notify(t: ResourceType, obj: JsonObject, type: StoreEvent['type']): void {
    for (const fn of this.afterWrite) fn(t, obj, type);
  }

  /** The stored object as seen through type t (its apiVersion/kind and conversions); a fresh copy. */
  view(t: ResourceType, stored: JsonObject): JsonObject {
    return convertForRead(t, clone(stored));
  }

  private readonly views = new WeakMap<JsonObject, Map<ResourceType, JsonObject>>();

  /**
   * Like view(), but one shared result per stored object version and type, for fan-out to many
   * watchers. Stored objects are never mutated in place, so the cache stays valid; callers must not
   * mutate what they get.
   */
  sharedView(t: ResourceType, stored: JsonObject): JsonObject {
    let byType = this.views.get(stored);
    if (!byType) this.views.set(stored, (byType = new Map<ResourceType, JsonObject>()));
    let v = byType.get(t);
    if (!v) byType.set(t, (v = this.view(t, stored)));
    return v;
  }

  private stored(t: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    return this.store.get(storageKey(t), t.namespaced ? namespace : undefined, name);
  }

  get(t: ResourceType, namespace: string | undefined, name: string): DResult<JsonObject> {
    const obj = this.stored(t, namespace, name);
    if (!obj) return notFound(t, name);
    return { ok: true, value: this.view(t, obj) };
  }

  parseSelectors(t: ResourceType, labelSelector?: string, fieldSelector?: string): DResult<Selectors> {
    const labels = parseLabelSelector(labelSelector ?? '');
    if (!labels.ok) return lift(labels, undefined);
    const supported = ['metadata.name', 'metadata.namespace', ...(t.extraFieldSelectors ?? [])];
    const registered = t.custom || (t.extraFieldSelectors ?? []).length > 0;
    const fields = parseFieldSelector(fieldSelector ?? '', supported, registered ? 'custom' : 'builtin');
    if (!fields.ok) return lift(fields, undefined);
    return { ok: true, value: { labels: labels.value, fields: fields.value } };
  }

  matches(t: ResourceType, sel: Selectors, obj: JsonObject): boolean {
    const meta = isObject(obj.metadata) ? obj.metadata : {};
    const labels = isObject(meta.labels) ? (meta.labels as Record<string, string>) : undefined;
    if (!matchLabels(sel.labels, labels)) return false;
    if (sel.fields.requirements.length === 0) return true;
    // events.k8s.io field labels (regarding.name, ...) are read from the served form.
    const served = t.group === 'events.k8s.io' ? this.view(t, obj) : obj;
    return matchFields(sel.fields, fieldValues(t, served));
  }

  list(t: ResourceType, namespace: string | undefined, opts: ListOptions): DResult<ListResult> {
    const sel = this.parseSelectors(t, opts.labelSelector, opts.fieldSelector);
    if (!sel.ok) return sel;
    const current = this.store.currentRv();
    let start = '';
    if (opts.continueToken) {
      const c = decodeContinue(opts.continueToken);
      if (!c.ok) return c;
      start = c.value.start;
    }
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== '' && opts.resourceVersion !== '0') {
      const rv = Number(opts.resourceVersion);
      if (!Number.isInteger(rv) || rv < 0) {
        return failWith(400, 'BadRequest', `invalid resource version: ${opts.resourceVersion}`);
      }
      if (rv > current) {
        return failWith(504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${current}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      }
    }
    const fromCache = opts.resourceVersion === '0';
    const all = this.store.list(storageKey(t), t.namespaced ? namespace : undefined);
    const keyOf = (o: JsonObject): string => {
      const m = o.metadata as JsonObject;
      return t.namespaced ? `${str(m.namespace)}/${str(m.name)}` : str(m.name);
    };
    const items: JsonObject[] = [];
    let remaining = 0;
    let nextStart: string | undefined;
    const limit = fromCache ? 0 : (opts.limit ?? 0);
    for (const o of all) {
      const k = keyOf(o);
      if (start && k < start) continue;
      if (!this.matches(t, sel.value, o)) continue;
      if (limit > 0 && items.length >= limit) {
        remaining++;
        continue;
      }
      items.push(o);
    }
    if (limit > 0 && remaining > 0) {
      const last = items[items.length - 1];
      if (last) nextStart = `${keyOf(last)}\u0000`;
    }
    const result: ListResult = { items: items.map((o) => this.view(t, o)), resourceVersion: str(current) };
    if (nextStart !== undefined) {
      result.continueToken = encodeContinue(current, nextStart);
      const filtered = (opts.labelSelector ?? '') !== '' || (opts.fieldSelector ?? '') !== '';
      if (!filtered) result.remainingItemCount = remaining;
    }
    return { ok: true, value: result };
  }

  namespaceExists(namespace: string): JsonObject | undefined {
    return this.store.get('/namespaces', undefined, namespace);
  }

  private checkNamespace(
    t: ResourceType,
    namespace: string | undefined,
    op: 'create' | 'other',
  ): DResult<true> {
    if (!t.namespaced || !namespace) return { ok: true, value: true };
    const ns = this.namespaceExists(namespace);
    if (!ns) {
      return failWith(404, 'NotFound', `namespaces "${namespace}" not found`, {
        name: namespace,
        kind: 'namespaces',
      });
    }
    if (op === 'create' && isObject(ns.metadata) && ns.metadata.deletionTimestamp) {
      return failWith(
        403,
        'Forbidden',
        `${t.resource} is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          kind: t.resource,
          ...(t.group ? { group: t.group } : {}),
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      );
    }
    return { ok: true, value: true };
  }

  create(
    t: ResourceType,
    namespace: string | undefined,
    body: JsonObject,
    opts: WriteOptions = {},
  ): DResult<WriteResult> {
    const obj = convertForWrite(t, clone(body));
    const meta = metaOf(obj);
    if (t.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
        return badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      meta.namespace = namespace ?? 'default';
    } else {
      delete meta.namespace;
    }
    const nsOk = this.checkNamespace(t, namespace, 'create');
    if (!nsOk.ok) return nsOk;
    if (
      (meta.name === undefined || meta.name === '') &&
      typeof meta.generateName === 'string' &&
      meta.generateName
    ) {
      meta.name = `${meta.generateName}${generateNameSuffix()}`;
    }
    // System fields are the server's to set.
    meta.uid = newUid();
    meta.creationTimestamp = timestamp(this.now());
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    delete meta.managedFields;
    if (hasGeneration(t)) meta.generation = 1;
    else delete meta.generation;
    if (t.statusSubresource && t.custom) delete obj.status;

    const admitted = admitObject(this, t, obj, undefined, { ...opts, operation: 'create' });
    if (!admitted.ok) return admitted;
    const name = str(meta.name ?? '');
    if (this.stored(t, meta.namespace, name)) return alreadyExists(t, name);
    if (opts.dryRun)
      return { ok: true, value: { object: this.view(t, obj), warnings: admitted.value, code: 201 } };
    this.store.put(storageKey(t), obj);
    this.notify(t, obj, 'ADDED');
    return { ok: true, value: { object: this.view(t, obj), warnings: admitted.value, code: 201 } };
  }

  /**
   * PUT on the main resource or /status. `body` is the full object as sent.
   * `requireRv`: custom resources refuse an update without metadata.resourceVersion.
   */
  update(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    subresource: '' | 'status',
    body: JsonObject,
    opts: WriteOptions = {},
  ): DResult<WriteResult> {
    const incoming = convertForWrite(t, clone(body));
    const meta = metaOf(incoming);
    if (meta.name !== undefined && meta.name !== name) {
      return badRequest(
        `the name of the object (${str(meta.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (
      t.namespaced &&
      meta.namespace !== undefined &&
      meta.namespace !== '' &&
      meta.namespace !== namespace
    ) {
      return badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const old = this.stored(t, namespace, name);
    if (!old) return notFound(t, name);
    const rv = meta.resourceVersion;
    if (rv === undefined || rv === '') {
      // Built-ins allow an unconditional update: it applies to whatever is stored now.
      if (!t.custom) meta.resourceVersion = (old.metadata as JsonObject).resourceVersion as Json;
      if (t.custom) {
        const cause = {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 0x0: must be specified for an update',
          field: 'metadata.resourceVersion',
        };
        return failWith(
          422,
          'Invalid',
          `${qualifiedResource(t)} "${name}" is invalid: metadata.resourceVersion: ${cause.message}`,
          {
            name,
            ...(t.group ? { group: t.group } : {}),
            kind: t.resource,
            causes: [cause],
          },
        );
      }
    } else if (rv !== (old.metadata as JsonObject).resourceVersion) {
      return conflict(t, name);
    }
    return this.commitUpdate(t, old, incoming, subresource, opts);
  }

  /** Merges an incoming full object onto the stored one and writes it (shared by PUT, PATCH, scale). */
  private commitUpdate(
    t: ResourceType,
    old: JsonObject,
    incoming: JsonObject,
    subresource: '' | 'status',
    opts: WriteOptions,
  ): DResult<WriteResult> {
    const oldMeta = old.metadata as JsonObject;
    const name = str(oldMeta.name);
    let next: JsonObject;
    if (subresource === 'status') {
      // /status changes status only; spec and metadata come from the stored object.
      next = clone(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      const m = metaOf(next);
      for (const k of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
      ] as const) {
        if (oldMeta[k] === undefined) delete m[k];
        else m[k] = oldMeta[k];
      }
      if (t.namespaced) m.namespace = oldMeta.namespace as Json;
      m.name = name;
      delete m.managedFields;
      delete m.selfLink;
      if (t.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
    }
    const admitted = admitObject(this, t, next, old, {
      ...opts,
      operation: subresource === 'status' ? 'status' : 'update',
    });
    if (!admitted.ok) return admitted;
    metaOf(next).resourceVersion = oldMeta.resourceVersion as Json;
    if (isDeepStrictEqual(comparable(next), comparable(old))) {
      return { ok: true, value: { object: this.view(t, old), warnings: admitted.value, code: 200 } };
    }
    if (hasGeneration(t) && !isDeepStrictEqual(specPart(t, next), specPart(t, old))) {
      metaOf(next).generation = Number(oldMeta.generation ?? 0) + 1;
    }
    if (opts.dryRun)
      return { ok: true, value: { object: this.view(t, next), warnings: admitted.value, code: 200 } };
    const nextMeta = next.metadata as JsonObject;
    if (
      nextMeta.deletionTimestamp &&
      ((nextMeta.finalizers as string[] | undefined) ?? []).length === 0 &&
      !this.heldByNamespaceFinalizers(t, next)
    ) {
      // The last finalizer is gone: the object is deleted, and the answer is its last state.
      const result = this.view(t, next);
      const gone = this.store.remove(storageKey(t), next);
      this.notify(t, gone, 'DELETED');
      return { ok: true, value: { object: result, warnings: admitted.value, code: 200 } };
    }
    this.store.put(storageKey(t), next);
    this.notify(t, next, 'MODIFIED');
    return { ok: true, value: { object: this.view(t, next), warnings: admitted.value, code: 200 } };
  }

  /** Namespaces also wait for spec.finalizers (the namespace controller's "kubernetes"). */
  private heldByNamespaceFinalizers(t: ResourceType, obj: JsonObject): boolean {
    if (t.group !== '' || t.resource !== 'namespaces') return false;
    return (isObject(obj.spec) ? ((obj.spec.finalizers as string[] | undefined) ?? []) : []).length > 0;
  }

  /** Removes an object being deleted once its last finalizer is gone. */
  finalizeIfReady(t: ResourceType, obj: JsonObject): void {
    const meta = obj.metadata as JsonObject;
    if (!meta.deletionTimestamp) return;
    if (((meta.finalizers as string[] | undefined) ?? []).length > 0) return;
    if (this.heldByNamespaceFinalizers(t, obj)) return;
    const gone = this.store.remove(storageKey(t), obj);
    this.notify(t, gone, 'DELETED');
  }

  patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    subresource: '' | 'status',
    patchType: PatchType,
    patchBody: Json,
    opts: WriteOptions = {},
  ): DResult<WriteResult> {
    const old = this.stored(t, namespace, name);
    if (!old) return notFound(t, name);
    const current = this.view(t, old);
    const patched = this.applyPatch(t, current, patchType, patchBody);
    if (!patched.ok) return patched;
    const next = patched.value;
    const decoded = admitObject(this, t, next, undefined, { ...opts, operation: 'decode-patch', patchType });
    if (!decoded.ok) return decoded;
    const rv = isObject(next.metadata) ? next.metadata.resourceVersion : undefined;
    if (rv !== undefined && rv !== null && rv !== '' && rv !== (old.metadata as JsonObject).resourceVersion) {
      return conflict(t, name);
    }
    return this.commitUpdate(t, old, convertForWrite(t, next), subresource, {
      ...opts,
      rawBody: undefined,
      decodeWarnings: decoded.value,
    });
  }

  applyPatch(
    t: ResourceType,
    current: JsonObject,
    patchType: PatchType,
    patchBody: Json,
  ): DResult<JsonObject> {
    if (patchType === 'merge') {
      if (!isObject(patchBody)) {
        const r = applyMergePatch(current, patchBody);
        if (!isObject(r))
          return failWith(
            422,
            'Invalid',
            'the server rejected our request due to an error in our request',
            {},
          );
        return { ok: true, value: r };
      }
      const r = applyMergePatch(current, patchBody);
      return { ok: true, value: isObject(r) ? r : {} };
    }
    if (patchType === 'json') {
      const r = applyJsonPatch(current, patchBody);
      if (!r.ok) return lift(r, r.error.code === 422 ? {} : undefined);
      if (!isObject(r.value))
        return failWith(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
      return { ok: true, value: r.value };
    }
    if (!isObject(patchBody))
      return badRequest(
        'error decoding patch: json: cannot unmarshal into Go value of type map[string]interface {}',
      );
    const r = applyStrategicMergePatch(current, patchBody, `${gvString(t.group, t.version)}/${t.kind}`);
    return lift(r, r.ok ? undefined : r.error.code === 422 ? {} : undefined);
  }

  // ------------------------------------------------------------------ scale

  private readPath(obj: JsonObject, path: string): Json | undefined {
    let cur: Json | undefined = obj;
    for (const part of path.replace(/^\./, '').split('.')) cur = isObject(cur) ? cur[part] : undefined;
    return cur;
  }

  private writePath(obj: JsonObject, path: string, value: Json): void {
    const parts = path.replace(/^\./, '').split('.');
    let cur: JsonObject = obj;
    for (const part of parts.slice(0, -1)) {
      if (!isObject(cur[part])) cur[part] = {};
      cur = cur[part];
    }
    cur[parts[parts.length - 1] as string] = value;
  }

  scaleOf(t: ResourceType, obj: JsonObject): DResult<JsonObject> {
    const scale = t.scale;
    if (!scale) return failWith(404, 'NotFound', 'the server could not find the requested resource', {});
    const meta = obj.metadata as JsonObject;
    const specReplicas = this.readPath(obj, scale.specReplicasPath);
    if (t.custom && specReplicas === undefined) {
      return failWith(
        500,
        'InternalError',
        `Internal error occurred: the spec replicas field "${scale.specReplicasPath}" does not exist`,
        {
          causes: [{ message: `the spec replicas field "${scale.specReplicasPath}" does not exist` }],
        },
      );
    }
    const status: JsonObject = {
      replicas: (this.readPath(obj, scale.statusReplicasPath) as number | undefined) ?? 0,
    };
    if (!t.custom) {
      const selector = labelSelectorFromObject(
        isObject(obj.spec) && isObject(obj.spec.selector) ? obj.spec.selector : undefined,
      );
      status.selector = selector.ok ? formatLabelSelector(selector.value) : '';
    } else if (scale.labelSelectorPath) {
      const sel = this.readPath(obj, scale.labelSelectorPath);
      if (typeof sel === 'string') status.selector = sel;
    }
    const smeta: JsonObject = {
      name: meta.name as Json,
      ...(t.namespaced ? { namespace: meta.namespace as Json } : {}),
      uid: meta.uid as Json,
      resourceVersion: meta.resourceVersion as Json,
      creationTimestamp: meta.creationTimestamp as Json,
    };
    return {
      ok: true,
      value: {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: smeta,
        spec: { replicas: (specReplicas as number | undefined) ?? 0 },
        status,
      },
    };
  }

  getScale(t: ResourceType, namespace: string | undefined, name: string): DResult<JsonObject> {
    const obj = this.stored(t, namespace, name);
    if (!obj) return notFound(t, name);
    return this.scaleOf(t, obj);
  }

  /** PUT (body = Scale) or PATCH (patchType set) of /scale. */
  writeScale(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    body: Json,
    patchType: PatchType | undefined,
    opts: WriteOptions = {},
  ): DResult<JsonObject> {
    const old = this.stored(t, namespace, name);
    if (!old) return notFound(t, name);
    const cur = this.scaleOf(t, old);
    if (!cur.ok) return cur;
    let scale: JsonObject;
    if (patchType) {
      if (patchType === 'strategic' && t.custom) return unsupportedPatch();
      const scaleType: ResourceType = {
        ...t,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        custom: false,
      };
      const p = this.applyPatch(scaleType, cur.value, patchType, body);
      if (!p.ok) return p;
      scale = p.value;
    } else {
      if (!isObject(body)) return badRequest('the object provided is unrecognized (must be of type Scale)');
      scale = body;
    }
    const smeta = isObject(scale.metadata) ? scale.metadata : {};
    if (smeta.name !== undefined && smeta.name !== name) {
      return badRequest(
        `the name of the object (${str(smeta.name)}) does not match the name on the URL (${name})`,
      );
    }
    const rv = smeta.resourceVersion;
    if (typeof rv === 'string' && rv !== '' && rv !== (old.metadata as JsonObject).resourceVersion)
      return conflict(t, name);
    const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
    if (!t.custom) {
      if (typeof replicas === 'number' && replicas < 0) {
        return failWith(
          422,
          'Invalid',
          `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`,
          {
            name,
            group: 'autoscaling',
            kind: 'Scale',
            causes: [
              {
                reason: 'FieldValueInvalid',
                message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
                field: 'spec.replicas',
              },
            ],
          },
        );
      }
    }
    const next = clone(old);
    this.writePath(next, t.scale?.specReplicasPath ?? '.spec.replicas', replicas ?? 0);
    const written = this.commitUpdate(t, old, next, '', opts);
    if (!written.ok) return written;
    const stored = this.stored(t, namespace, name) ?? old;
    return this.scaleOf(t, stored);
  }

  // ------------------------------------------------------------------ binding

  /**
   * POST pods/<name>/binding: assigns an unscheduled pod to a node (what a scheduler does).
   * spec.nodeName is otherwise immutable; a pod that already has one is a 409.
   */
  bind(t: ResourceType, namespace: string | undefined, name: string, body: JsonObject): DResult<JsonObject> {
    const pod = this.stored(t, namespace, name);
    if (!pod) return notFound(t, name);
    const target = isObject(body.target) ? body.target : {};
    const node = str(target.name);
    if (!node) {
      return failWith(422, 'Invalid', `Binding "${name}" is invalid: target.name: Required value`, {
        name,
        kind: 'Binding',
        causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }],
      });
    }
    const spec = isObject(pod.spec) ? pod.spec : {};
    if (spec.nodeName) {
      return failWith(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${str(spec.nodeName)}"`,
        { name, kind: 'pods/binding' },
      );
    }
    if ((pod.metadata as JsonObject).deletionTimestamp) {
      return failWith(
        409,
        'Conflict',
        `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is being deleted, cannot be assigned to a host`,
        {
          name,
          kind: 'pods/binding',
        },
      );
    }
    const next = clone(pod);
    (next.spec as JsonObject).nodeName = node;
    const status = isObject(next.status) ? next.status : (next.status = {});
    const conditions = ((status.conditions as JsonObject[] | undefined) ?? []).filter(
      (c) => c.type !== 'PodScheduled',
    );
    conditions.unshift({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: timestamp(this.now()),
    });
    status.conditions = conditions;
    this.store.put(storageKey(t), next);
    this.notify(t, next, 'MODIFIED');
    return {
      ok: true,
      value: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
    };
  }

  // ------------------------------------------------------------------ delete

  delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): DResult<{ code: number; body: JsonObject }> {
    const obj = this.stored(t, namespace, name);
    if (!obj) return notFound(t, name);
    const meta = obj.metadata as JsonObject;
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== meta.uid) {
      return failWith(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.kind} "${name}": the UID in the precondition (${pre.uid}) does not match the UID in record (${str(meta.uid)}). The object might have been deleted and then recreated`,
        { name, ...(t.group ? { group: t.group } : {}), kind: t.kind },
      );
    }
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== meta.resourceVersion) {
      return failWith(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.kind} "${name}": the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${str(meta.resourceVersion)}). The object might have been modified`,
        { name, ...(t.group ? { group: t.group } : {}), kind: t.kind },
      );
    }
    const uid = str(meta.uid);
    const finalizers = [...((meta.finalizers as string[] | undefined) ?? [])];
    let policy = opts.propagationPolicy;
    if (policy === undefined && opts.orphanDependents !== undefined)
      policy = opts.orphanDependents ? 'Orphan' : 'Background';
    if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion'))
      finalizers.push('foregroundDeletion');
    const isNamespace = t.group === '' && t.resource === 'namespaces';
    const nsFinalizers =
      isNamespace && isObject(obj.spec) ? ((obj.spec.finalizers as string[] | undefined) ?? []) : [];
    const graceful = this.gracePeriod(t, obj, opts);
    const deletedBody = (o: JsonObject): JsonObject =>
      returnsDeletedObject(t) ? this.view(t, o) : successStatus(t, name, uid);

    if (finalizers.length === 0 && nsFinalizers.length === 0 && graceful === 0 && !meta.deletionTimestamp) {
      if (opts.dryRun) return { ok: true, value: { code: 200, body: deletedBody(obj) } };
      const gone = this.store.remove(storageKey(t), obj);
      this.notify(t, gone, 'DELETED');
      return { ok: true, value: { code: 200, body: deletedBody(gone) } };
    }
    // Graceful: mark deleting and keep the object until finalizers (or the kubelet) let go.
    const next = clone(obj);
    const m = metaOf(next);
    const already = Boolean(meta.deletionTimestamp);
    if (!already) {
      m.deletionTimestamp = timestamp(this.now() + graceful * 1000);
      m.deletionGracePeriodSeconds = graceful;
      if (hasGeneration(t)) m.generation = Number(meta.generation ?? 0) + 1;
      if (isNamespace) next.status = { ...(isObject(next.status) ? next.status : {}), phase: 'Terminating' };
    } else if (
      graceful === 0 &&
      meta.deletionGracePeriodSeconds !== 0 &&
      !t.custom &&
      t.resource === 'pods'
    ) {
      m.deletionTimestamp = timestamp(this.now());
      m.deletionGracePeriodSeconds = 0;
    }
    if (finalizers.length > 0) m.finalizers = finalizers;
    if (opts.dryRun) return { ok: true, value: { code: 200, body: this.view(t, next) } };
    const unchanged = isDeepStrictEqual(comparable(next), comparable(obj));
    if (!unchanged) {
      this.store.put(storageKey(t), next);
      this.notify(t, next, 'MODIFIED');
    }
    const current = unchanged ? obj : next;
    const curMeta = current.metadata as JsonObject;
    if (
      ((curMeta.finalizers as string[] | undefined) ?? []).length === 0 &&
      nsFinalizers.length === 0 &&
      graceful === 0
    ) {
      const gone = this.store.remove(storageKey(t), current);
      this.notify(t, gone, 'DELETED');
      return { ok: true, value: { code: 200, body: deletedBody(gone) } };
    }
    // The deprecated orphanDependents=false on an object that cannot go at once answers 202.
    const code =
      opts.orphanDependents === false && opts.propagationPolicy === undefined && !already ? 202 : 200;
    return { ok: true, value: { code, body: this.view(t, current) } };
  }

  /** Pods bound to a node terminate gracefully; everything else goes at once. */
  private gracePeriod(t: ResourceType, obj: JsonObject, opts: DeleteOptions): number {
    if (t.group !== '' || t.resource !== 'pods') return 0;
    const spec = isObject(obj.spec) ? obj.spec : {};
    if (!spec.nodeName) return 0;
    const status = isObject(obj.status) ? obj.status : {};
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
    if (opts.gracePeriodSeconds !== undefined) return Math.max(0, opts.gracePeriodSeconds);
    return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
  }

  /** Removes one finalizer from an object (controllers), deleting it when it was the last. */
  removeFinalizer(t: ResourceType, obj: JsonObject, finalizer: string): void {
    const meta = obj.metadata as JsonObject;
    const fins = ((meta.finalizers as string[] | undefined) ?? []).filter((f) => f !== finalizer);
    const next = clone(obj);
    if (fins.length > 0) metaOf(next).finalizers = fins;
    else delete metaOf(next).finalizers;
    if (fins.length === 0 && meta.deletionTimestamp && !this.heldByNamespaceFinalizers(t, next)) {
      const gone = this.store.remove(storageKey(t), next);
      this.notify(t, gone, 'DELETED');
      return;
    }
    this.store.put(storageKey(t), next);
    this.notify(t, next, 'MODIFIED');
  }

  /** Writes an object directly (controllers), bypassing admission; keeps resourceVersion semantics. */
  putDirect(t: ResourceType, obj: JsonObject): JsonObject {
    const existed = this.stored(
      t,
      (obj.metadata as JsonObject).namespace as string | undefined,
      str((obj.metadata as JsonObject).name),
    );
    this.store.put(storageKey(t), obj);
    this.notify(t, obj, existed ? 'MODIFIED' : 'ADDED');
    return obj;
  }

  removeDirect(t: ResourceType, obj: JsonObject): void {
    const gone = this.store.remove(storageKey(t), obj);
    this.notify(t, gone, 'DELETED');
  }

  typeOfStored(key: string): ResourceType | undefined {
    return this.registry.all().find((t) => storageKey(t) === key);
  }

  qualifiedKind(t: ResourceType): string {
    return qualifiedKind(t);
  }
}

export function unsupportedPatch<T = never>(): DResult<T> {
  return failWith(
    415,
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
  );
}

export type { StatusDetails, StatusCause };
