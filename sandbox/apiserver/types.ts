// Shared plain-data types of the sandbox API server: JSON values, failures as data, Status causes.

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** Reasons of metav1.Status that the sandbox returns. */
export type StatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'Unauthorized'
  | 'Forbidden'
  | 'RequestEntityTooLarge'
  | 'Timeout'
  | 'InternalError';

/** One entry of Status.details.causes, e.g. {reason: 'FieldValueRequired', message: 'Required value', field: 'spec.name'}. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/**
 * An expected failure of a request, as data. `message` is the Status message
 * exactly as kube-apiserver words it; `causes` go to Status.details.causes.
 */
export interface ApiFailure {
  code: number;
  reason: StatusReason;
  message: string;
  causes?: StatusCause[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ApiFailure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(
  code: number,
  reason: StatusReason,
  message: string,
  causes?: StatusCause[],
): Result<T> => ({
  ok: false,
  error: causes ? { code, reason, message, causes } : { code, reason, message },
});

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep copy of a JSON value (objects in the store are never shared with callers). */
export function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

/** What the server knows of a served resource: drives routing, discovery, tables and validation. */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  /** Plural lower-case name used in URLs, e.g. 'deployments'. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  /** Status subresource enabled (writes to the main resource ignore status). */
  statusSubresource: boolean;
  /** Scale subresource paths (JSONPath-like '.spec.replicas'), when enabled. */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** Field selectors accepted besides metadata.name and metadata.namespace. */
  extraFieldSelectors?: string[];
  /** True for resources defined by a CustomResourceDefinition. */
  custom: boolean;
}

/** A JSON scalar as text ('' for objects, arrays, null and undefined): names, uids, versions. */
export function str(v: Json | undefined): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}
