// Helpers for the objects the operator writes, over plain JSON requests: get-or-null (from an informer's copy
// when there is one), create-if-missing, merge and JSON patch, replace guarded by resourceVersion; each call has
// a deadline.
import type { KubeConfig, KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Problem } from '../validate.js';
import { kubeRequest, RequestTimeout } from './raw.js';

/** Default deadline of one API call. */
export const DEFAULT_KUBE_TIMEOUT_MS = 10_000;

/**
 * A failed API call as data. `status` is the HTTP status (0 when no answer came: network error or deadline);
 * `reason` is the Status reason the server gave (Conflict, AlreadyExists, NotFound, Invalid, …) or
 * `Timeout`/`Unavailable` for calls without an answer.
 */
export interface KubeFailure {
  ok: false;
  status: number;
  reason: string;
  message: string;
}
export type KubeResult<T> = { ok: true; value: T } | KubeFailure;

/** The result of an operator-level operation: a value, or one problem naming the Canary field at fault. */
export type Outcome<T> = { ok: true; value: T } | ({ ok: false } & Problem);

/** A KubeFailure as a Problem on `field` of the Canary, e.g. `spec.targetRef.name`. */
export function failureProblem(f: KubeFailure, field: string, what: string): { ok: false } & Problem {
  return { ok: false, field, message: `${what}: ${f.reason} (HTTP ${f.status}): ${f.message}` };
}

export const isConflict = (f: KubeFailure): boolean => f.status === 409;

/** One RFC 6902 operation. */
export type JsonPatchOp =
  { op: 'add' | 'replace' | 'test'; path: string; value: unknown } | { op: 'remove'; path: string };

/**
 * Where one resource type lives: `collection(namespace)` is its namespaced collection path, e.g.
 * `/apis/apps/v1/namespaces/<ns>/deployments`.
 */
export interface ResourceLocation {
  collection(namespace: string): string;
}

/**
 * A local copy of the objects of one type (an informer's): reads are served from it once it has listed, so that
 * each reconcile does not GET every object it looks at. Objects are the server's JSON, never changed in place.
 */
export interface ObjectCache {
  readonly hasSynced: boolean;
  get(namespace: string, name: string): KubernetesObject | undefined;
}

function statusReason(body: unknown): { reason?: string; message?: string } {
  if (typeof body === 'string') return { message: body };
  if (typeof body !== 'object' || body === null) return {};
  const s = body as { reason?: unknown; message?: unknown };
  return {
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    ...(typeof s.message === 'string' ? { message: s.message } : {}),
  };
}

/**
 * get / createIfMissing / mergePatch / jsonPatch / replace for one resource type over plain JSON requests (the
 * objects are the server's JSON, as informers hold them), every call with a deadline. With a cache, `get`
 * answers from it; a write that conflicts is retried from a fresh read of the server.
 */
export class KubeResource<T extends KubernetesObject> {
  constructor(
    private readonly kc: KubeConfig,
    readonly kind: string,
    private readonly location: ResourceLocation,
    readonly timeoutMs: number = DEFAULT_KUBE_TIMEOUT_MS,
    private readonly cache?: ObjectCache,
  ) {}

  private async call(
    what: string,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<KubeResult<T>> {
    let res;
    try {
      res = await kubeRequest(this.kc, {
        method,
        path,
        timeoutMs: this.timeoutMs,
        ...(body === undefined ? {} : { body }),
        ...(contentType ? { contentType } : {}),
      });
    } catch (err) {
      if (err instanceof RequestTimeout)
        return {
          ok: false,
          status: 0,
          reason: 'Timeout',
          message: `${what} ${this.kind}: no answer within ${this.timeoutMs} ms`,
        };
      const message = err instanceof Error ? err.message : String(err);
      return { ok: false, status: 0, reason: 'Unavailable', message: `${what} ${this.kind}: ${message}` };
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, value: res.body as T };
    const s = statusReason(res.body);
    return {
      ok: false,
      status: res.status,
      reason: s.reason ?? `HTTP${res.status}`,
      message: s.message ?? `${what} ${this.kind}: HTTP ${res.status}`,
    };
  }

  private path(namespace: string, name?: string): string {
    const base = this.location.collection(encodeURIComponent(namespace));
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  /**
   * The object, or null when it does not exist (404). From the cache when there is one and it has listed
   * (`fresh` asks the server).
   */
  async get(namespace: string, name: string, fresh = false): Promise<KubeResult<T | null>> {
    if (!fresh && this.cache?.hasSynced)
      return { ok: true, value: (this.cache.get(namespace, name) as T) ?? null };
    const r = await this.call('get', 'GET', this.path(namespace, name));
    if (!r.ok && r.status === 404) return { ok: true, value: null };
    return r;
  }

  /** Creates `obj` unless an object of that name exists; returns the stored object either way. */
  async createIfMissing(obj: T): Promise<KubeResult<{ object: T; created: boolean }>> {
    const { namespace, name } = objectKey(obj);
    const existing = await this.get(namespace, name);
    if (!existing.ok) return existing;
    if (existing.value !== null) return { ok: true, value: { object: existing.value, created: false } };
    const created = await this.create(obj);
    if (created.ok) return { ok: true, value: { object: created.value, created: true } };
    if (created.status !== 409) return created;
    // Created by someone else since the read (or the cache has not seen it yet).
    const raced = await this.get(namespace, name, true);
    if (!raced.ok) return raced;
    if (raced.value === null) return created;
    return { ok: true, value: { object: raced.value, created: false } };
  }

  /** Creates `obj`; an existing object is a 409 failure (reason AlreadyExists). */
  async create(obj: T): Promise<KubeResult<T>> {
    const { namespace } = objectKey(obj);
    return this.call('create', 'POST', this.path(namespace), obj);
  }

  /** RFC 7386 merge patch (maps merge, lists are replaced, null deletes a key). */
  async mergePatch(namespace: string, name: string, patch: object): Promise<KubeResult<T>> {
    return this.call('patch', 'PATCH', this.path(namespace, name), patch, 'application/merge-patch+json');
  }

  /** RFC 6902 JSON patch; a failed `test` op is a 422 failure. */
  async jsonPatch(namespace: string, name: string, ops: JsonPatchOp[]): Promise<KubeResult<T>> {
    return this.call('patch', 'PATCH', this.path(namespace, name), ops, 'application/json-patch+json');
  }

  /**
   * Read-modify-write: reads the object, lets `change` derive the new object from it (null: nothing to write)
   * and replaces it guarded by the resourceVersion read. A conflict is retried once from a fresh read; a second
   * conflict is returned. The value is null when the object does not exist.
   */
  async modify(
    namespace: string,
    name: string,
    change: (current: T) => T | null,
  ): Promise<KubeResult<{ object: T; written: boolean } | null>> {
    for (let attempt = 0; ; attempt++) {
      // A retry after a conflict reads the server: the cache may not have the newer version yet.
      const current = await this.get(namespace, name, attempt > 0);
      if (!current.ok) return current;
      if (current.value === null) return { ok: true, value: null };
      const next = change(current.value);
      if (next === null) return { ok: true, value: { object: current.value, written: false } };
      const written = await this.replace({
        ...next,
        metadata: { ...next.metadata, resourceVersion: current.value.metadata?.resourceVersion },
      });
      if (written.ok) return { ok: true, value: { object: written.value, written: true } };
      if (written.status !== 409 || attempt > 0) return written;
    }
  }

  /**
   * Creates `desired` when missing; otherwise brings the existing object up to date with `update` (read-modify-
   * write, see modify). The value tells which of the two happened.
   */
  async ensure(
    desired: T,
    update: (current: T) => T | null,
  ): Promise<KubeResult<{ object: T; created: boolean; updated: boolean }>> {
    const { namespace, name } = objectKey(desired);
    const ensured = await this.createIfMissing(desired);
    if (!ensured.ok) return ensured;
    if (ensured.value.created) return { ok: true, value: { ...ensured.value, updated: false } };
    const modified = await this.modify(namespace, name, update);
    if (!modified.ok) return modified;
    // Deleted between the two calls: the next reconcile creates it again.
    if (modified.value === null) return { ok: true, value: { ...ensured.value, updated: false } };
    return {
      ok: true,
      value: { object: modified.value.object, created: false, updated: modified.value.written },
    };
  }

  /**
   * PUT of the whole object. `obj.metadata.resourceVersion` must be the version it was derived from: a write
   * since then is a 409 failure (reason Conflict), never a lost update.
   */
  async replace(obj: T): Promise<KubeResult<T>> {
    const { namespace, name } = objectKey(obj);
    if (!obj.metadata?.resourceVersion) throw new Error(`replace ${this.kind} ${name}: no resourceVersion`);
    return this.call('replace', 'PUT', this.path(namespace, name), obj);
  }
}

function objectKey(obj: KubernetesObject): { namespace: string; name: string } {
  const name = obj.metadata?.name;
  const namespace = obj.metadata?.namespace;
  if (!name || !namespace) throw new Error(`object without metadata.name/namespace: ${JSON.stringify(obj)}`);
  return { namespace, name };
}

/** Where a namespaced resource of `apiVersion` (`v1` or `group/version`) with this plural lives. */
export function resourceAt(apiVersion: string, plural: string): ResourceLocation {
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return { collection: (namespace) => `${prefix}/namespaces/${namespace}/${plural}` };
}

export function deployments(
  kc: KubeConfig,
  timeoutMs?: number,
  cache?: ObjectCache,
): KubeResource<V1Deployment> {
  return new KubeResource<V1Deployment>(
    kc,
    'Deployment',
    resourceAt('apps/v1', 'deployments'),
    timeoutMs,
    cache,
  );
}

export function services(kc: KubeConfig, timeoutMs?: number, cache?: ObjectCache): KubeResource<V1Service> {
  return new KubeResource<V1Service>(kc, 'Service', resourceAt('v1', 'services'), timeoutMs, cache);
}

export interface CustomResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

/**
 * A namespaced custom resource. Objects come back as the server's JSON; `T` is the caller's claim about their
 * shape (CRD schema validation backs it), so readers should still tolerate missing optional fields.
 */
export function customResources<T extends KubernetesObject>(
  kc: KubeConfig,
  type: CustomResourceType,
  timeoutMs?: number,
  cache?: ObjectCache,
): KubeResource<T> {
  return new KubeResource<T>(
    kc,
    type.kind,
    resourceAt(`${type.group}/${type.version}`, type.plural),
    timeoutMs,
    cache,
  );
}

/**
 * JSON with object keys sorted and null/undefined fields left out (Kubernetes reads both as absent), so the
 * same object read back from the server, typed (client-node models) or plain, renders identically.
 */
export function canonicalJson(v: unknown): string {
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x ?? null)).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined && o[k] !== null)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
