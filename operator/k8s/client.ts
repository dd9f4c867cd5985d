// Thin typed helpers over @kubernetes/client-node 1.4 for the objects the operator writes: get-or-null,
// create-if-missing, merge and JSON patch, replace guarded by resourceVersion; each call has a deadline.
import type {
  ConfigurationOptions,
  KubeConfig,
  KubernetesObject,
  RequestContext,
  ResponseContext,
  V1Deployment,
  V1Service,
} from '@kubernetes/client-node';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Problem } from '../validate.js';
import { makeApiClient } from './agent.js';

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
 * The verbs of one resource type as client-node's typed APIs implement them. `options` carries the deadline
 * (and, for patches, the content type) and must be passed to the client-node call.
 */
export interface ResourceVerbs<T> {
  read(namespace: string, name: string, options: ConfigurationOptions): Promise<T>;
  create(namespace: string, body: T, options: ConfigurationOptions): Promise<T>;
  replace(namespace: string, name: string, body: T, options: ConfigurationOptions): Promise<T>;
  patch(namespace: string, name: string, body: object, options: ConfigurationOptions): Promise<T>;
}

/**
 * Request options that abort the request after `timeoutMs` (client-node 1.4 has no signal parameter, but its
 * request context takes one; node-fetch honours it) and optionally set the Content-Type of a patch.
 */
export function requestOptions(timeoutMs: number, contentType?: string): ConfigurationOptions {
  const deadline = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  const base: ConfigurationOptions = { middleware: [deadline], middlewareMergeStrategy: 'append' };
  return contentType === undefined ? base : setHeaderOptions('Content-Type', contentType, base);
}

function statusReason(body: unknown): { reason?: string; message?: string } {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body };
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const s = parsed as { reason?: unknown; message?: unknown };
  return {
    ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
    ...(typeof s.message === 'string' ? { message: s.message } : {}),
  };
}

/** Turns what a client-node call threw into a KubeFailure; rethrows what is not an API or transport error. */
export function toFailure(err: unknown, what: string, timeoutMs: number): KubeFailure {
  if (err instanceof ApiException) {
    const code = (err as ApiException<unknown>).code;
    const s = statusReason((err as ApiException<unknown>).body);
    return { ok: false, status: code, reason: s.reason ?? `HTTP${code}`, message: s.message ?? err.message };
  }
  if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError'))
    return { ok: false, status: 0, reason: 'Timeout', message: `${what}: no answer within ${timeoutMs} ms` };
  if (err instanceof Error && (err.name === 'FetchError' || 'code' in err))
    return { ok: false, status: 0, reason: 'Unavailable', message: `${what}: ${err.message}` };
  throw err;
}

/** get / createIfMissing / mergePatch / jsonPatch / replace for one resource type, every call with a deadline. */
export class KubeResource<T extends KubernetesObject> {
  constructor(
    readonly kind: string,
    private readonly verbs: ResourceVerbs<T>,
    readonly timeoutMs: number = DEFAULT_KUBE_TIMEOUT_MS,
  ) {}

  private async call<R>(what: string, run: (o: ConfigurationOptions) => Promise<R>, type?: string) {
    try {
      const value = await run(requestOptions(this.timeoutMs, type));
      return { ok: true as const, value };
    } catch (err) {
      return toFailure(err, `${what} ${this.kind}`, this.timeoutMs);
    }
  }

  /** The object, or null when it does not exist (404). */
  async get(namespace: string, name: string): Promise<KubeResult<T | null>> {
    const r = await this.call('get', (o) => this.verbs.read(namespace, name, o));
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
    // Created by someone else since the read.
    const raced = await this.get(namespace, name);
    if (!raced.ok) return raced;
    if (raced.value === null) return created;
    return { ok: true, value: { object: raced.value, created: false } };
  }

  /** Creates `obj`; an existing object is a 409 failure (reason AlreadyExists). */
  async create(obj: T): Promise<KubeResult<T>> {
    const { namespace } = objectKey(obj);
    return this.call('create', (o) => this.verbs.create(namespace, obj, o));
  }

  /** RFC 7386 merge patch (maps merge, lists are replaced, null deletes a key). */
  async mergePatch(namespace: string, name: string, patch: object): Promise<KubeResult<T>> {
    return this.call('patch', (o) => this.verbs.patch(namespace, name, patch, o), PatchStrategy.MergePatch);
  }

  /** RFC 6902 JSON patch; a failed `test` op is a 422 failure. */
  async jsonPatch(namespace: string, name: string, ops: JsonPatchOp[]): Promise<KubeResult<T>> {
    return this.call('patch', (o) => this.verbs.patch(namespace, name, ops, o), PatchStrategy.JsonPatch);
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
      const current = await this.get(namespace, name);
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
    return this.call('replace', (o) => this.verbs.replace(namespace, name, obj, o));
  }
}

function objectKey(obj: KubernetesObject): { namespace: string; name: string } {
  const name = obj.metadata?.name;
  const namespace = obj.metadata?.namespace;
  if (!name || !namespace) throw new Error(`object without metadata.name/namespace: ${JSON.stringify(obj)}`);
  return { namespace, name };
}

export function deployments(kc: KubeConfig, timeoutMs?: number): KubeResource<V1Deployment> {
  const api = makeApiClient(kc, AppsV1Api);
  return new KubeResource<V1Deployment>(
    'Deployment',
    {
      read: (namespace, name, o) => api.readNamespacedDeployment({ namespace, name }, o),
      create: (namespace, body, o) => api.createNamespacedDeployment({ namespace, body }, o),
      replace: (namespace, name, body, o) => api.replaceNamespacedDeployment({ namespace, name, body }, o),
      patch: (namespace, name, body, o) => api.patchNamespacedDeployment({ namespace, name, body }, o),
    },
    timeoutMs,
  );
}

export function services(kc: KubeConfig, timeoutMs?: number): KubeResource<V1Service> {
  const api = makeApiClient(kc, CoreV1Api);
  return new KubeResource<V1Service>(
    'Service',
    {
      read: (namespace, name, o) => api.readNamespacedService({ namespace, name }, o),
      create: (namespace, body, o) => api.createNamespacedService({ namespace, body }, o),
      replace: (namespace, name, body, o) => api.replaceNamespacedService({ namespace, name, body }, o),
      patch: (namespace, name, body, o) => api.patchNamespacedService({ namespace, name, body }, o),
    },
    timeoutMs,
  );
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
): KubeResource<T> {
  const api = makeApiClient(kc, CustomObjectsApi);
  const { group, version, plural } = type;
  const asT = async (p: Promise<unknown>): Promise<T> => (await p) as T;
  return new KubeResource<T>(
    type.kind,
    {
      read: (namespace, name, o) =>
        asT(api.getNamespacedCustomObject({ group, version, plural, namespace, name }, o)),
      create: (namespace, body, o) =>
        asT(api.createNamespacedCustomObject({ group, version, plural, namespace, body }, o)),
      replace: (namespace, name, body, o) =>
        asT(api.replaceNamespacedCustomObject({ group, version, plural, namespace, name, body }, o)),
      patch: (namespace, name, body, o) =>
        asT(api.patchNamespacedCustomObject({ group, version, plural, namespace, name, body }, o)),
    },
    timeoutMs,
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
