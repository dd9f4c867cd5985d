// Small helpers on object metadata and Status messages shared by the API layer and controllers.
import { randomUUID } from 'node:crypto';
import type { ApiFailure, Json, JsonObject, ResourceType, Result, StatusCause } from './types.js';
import { fail, isObject, str } from './types.js';
import { formatInvalidMessage } from './validation/meta.js';

export const metaOf = (obj: JsonObject): JsonObject => {
  if (!isObject(obj.metadata)) obj.metadata = {};
  return obj.metadata;
};

export const nameOf = (obj: JsonObject): string =>
  isObject(obj.metadata) ? str(obj.metadata.name ?? '') : '';
export const namespaceOf = (obj: JsonObject): string | undefined =>
  isObject(obj.metadata) && typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : undefined;

export const newUid = (): string => randomUUID();

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
export const timestamp = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** RFC 3339 with exactly six fractional digits, as metav1.MicroTime serializes. */
export const microTimestamp = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function generateNameSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}

/** "widgets.example.com" / "configmaps": the group-qualified resource of Status messages. */
export const qualifiedResource = (t: Pick<ResourceType, 'group' | 'resource'>): string =>
  t.group ? `${t.resource}.${t.group}` : t.resource;

/** "Widget.example.com" / "ConfigMap": the group-qualified kind of Invalid messages. */
export const qualifiedKind = (t: Pick<ResourceType, 'group' | 'kind'>): string =>
  t.group ? `${t.kind}.${t.group}` : t.kind;

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A failure with Status.details attached (carried beside the ApiFailure). */
export interface DetailedFailure extends ApiFailure {
  details?: StatusDetails;
  /** Warning headers that go out with the failure (e.g. unknown fields of an invalid object). */
  warnings?: string[];
}

export type DResult<T> = { ok: true; value: T } | { ok: false; error: DetailedFailure };

export function failWith<T = never>(
  code: number,
  reason: ApiFailure['reason'],
  message: string,
  details?: StatusDetails,
): DResult<T> {
  return { ok: false, error: details ? { code, reason, message, details } : { code, reason, message } };
}

const resourceDetails = (t: ResourceType, name: string): StatusDetails => ({
  name,
  ...(t.group ? { group: t.group } : {}),
  kind: t.resource,
});

export const notFound = <T = never>(t: ResourceType, name: string): DResult<T> =>
  failWith(404, 'NotFound', `${qualifiedResource(t)} "${name}" not found`, resourceDetails(t, name));

export const alreadyExists = <T = never>(t: ResourceType, name: string): DResult<T> =>
  failWith(
    409,
    'AlreadyExists',
    `${qualifiedResource(t)} "${name}" already exists`,
    resourceDetails(t, name),
  );

export const conflict = <T = never>(t: ResourceType, name: string): DResult<T> =>
  failWith(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(t)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    resourceDetails(t, name),
  );

export const badRequest = <T = never>(message: string): DResult<T> => failWith(400, 'BadRequest', message);

/** 422 Invalid with kube's message: `Kind.group "name" is invalid: [a, b]` (no brackets for one cause). */
export function invalid<T = never>(
  qualifiedKindName: string,
  group: string,
  kind: string,
  name: string,
  causes: StatusCause[],
): DResult<T> {
  return failWith(422, 'Invalid', formatInvalidMessage(qualifiedKindName, name, causes), {
    name,
    ...(group ? { group } : {}),
    kind,
    causes,
  });
}

/** 422 for an object of type t. events.k8s.io Events are validated as core Events, and named so. */
export const invalidFor = <T = never>(t: ResourceType, name: string, causes: StatusCause[]): DResult<T> =>
  t.group === 'events.k8s.io'
    ? invalid(t.kind, '', t.kind, name, causes)
    : invalid(qualifiedKind(t), t.group, t.kind, name, causes);

/** Converts a plain Result failure into a detailed one. */
export function lift<T>(r: Result<T>, details?: StatusDetails): DResult<T> {
  if (r.ok) return r;
  const d = details ?? (r.error.causes ? { causes: r.error.causes } : undefined);
  return { ok: false, error: d ? { ...r.error, details: d } : { ...r.error } };
}

export function statusBody(e: DetailedFailure): JsonObject {
  const details: JsonObject = {};
  const d = e.details;
  if (d) {
    if (d.name !== undefined) details.name = d.name;
    if (d.group !== undefined) details.group = d.group;
    if (d.kind !== undefined) details.kind = d.kind;
    if (d.uid !== undefined) details.uid = d.uid;
    if (d.causes !== undefined) details.causes = d.causes as unknown as Json;
    if (d.retryAfterSeconds !== undefined) details.retryAfterSeconds = d.retryAfterSeconds;
  } else if (e.causes) {
    details.causes = e.causes as unknown as Json;
  }
  const out: JsonObject = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
  };
  if (e.reason) out.reason = e.reason;
  if (d !== undefined || e.causes) out.details = details;
  out.code = e.code;
  return out;
}

/** Status Success returned by DELETE when the object is gone at once. */
export function successStatus(t: ResourceType, name: string, uid: string): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, ...(t.group ? { group: t.group } : {}), kind: t.resource, uid },
  };
}

export { fail };
