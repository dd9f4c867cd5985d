// Read-only accessors, label-selector matching, controller references and small value helpers
// shared by the workload controllers. Everything here is pure and never mutates its input.
import { isDeepStrictEqual } from 'node:util';
import type { Json, JsonObject } from '../types.js';
import { isObject } from '../types.js';

export const EMPTY: JsonObject = Object.freeze({});

export const objAt = (v: Json | undefined): JsonObject => (isObject(v) ? v : EMPTY);
export const listAt = (v: Json | undefined): JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
export const strAt = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
export const numAt = (v: Json | undefined, fallback = 0): number => (typeof v === 'number' ? v : fallback);

/** The object at `o[key]`, created when absent, for building or editing an owned copy. */
export function mutObj(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  if (isObject(v)) return v;
  const fresh: JsonObject = {};
  o[key] = fresh;
  return fresh;
}

export const metaAt = (o: JsonObject): JsonObject => objAt(o.metadata);
export const specAt = (o: JsonObject): JsonObject => objAt(o.spec);
export const statusAt = (o: JsonObject): JsonObject => objAt(o.status);
export const nameAt = (o: JsonObject): string => strAt(metaAt(o).name);
export const namespaceAt = (o: JsonObject): string => strAt(metaAt(o).namespace);
export const uidAt = (o: JsonObject): string => strAt(metaAt(o).uid);
export const isDeleting = (o: JsonObject): boolean => typeof metaAt(o).deletionTimestamp === 'string';

/** A string map (labels, annotations, a Service selector) as plain strings. */
export function stringMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(objAt(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

export const labelsAt = (o: JsonObject): Record<string, string> => stringMap(metaAt(o).labels);
export const annotationsAt = (o: JsonObject): Record<string, string> => stringMap(metaAt(o).annotations);

/** RFC 3339 time → epoch ms; undefined for absent or unparsable values. */
export function timeMs(v: Json | undefined): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Two string maps equal, where absent and empty are the same. */
export const sameStringMap = (a: Record<string, string>, b: Record<string, string>): boolean =>
  isDeepStrictEqual(a, b);

// ------------------------------------------------------------------------------- label selectors

/**
 * Whether a metav1.LabelSelector ({matchLabels, matchExpressions}) selects `labels`. An empty
 * selector selects everything; an absent one (undefined) selects nothing.
 */
export function selectorMatches(selector: JsonObject | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(stringMap(selector.matchLabels))) if (labels[k] !== v) return false;
  for (const e of listAt(selector.matchExpressions)) {
    const key = strAt(e.key);
    const values = Array.isArray(e.values) ? e.values.filter((x): x is string => typeof x === 'string') : [];
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[key] ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key] ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Whether a selector object has no requirements at all (kube treats it as "everything"). */
export const selectorIsEmpty = (selector: JsonObject): boolean =>
  Object.keys(objAt(selector.matchLabels)).length === 0 && listAt(selector.matchExpressions).length === 0;

/** A Service-style equality selector (a plain map); empty maps select nothing, as after a round trip through storage. */
export function mapSelectorMatches(
  selector: Record<string, string>,
  labels: Record<string, string>,
): boolean {
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => labels[k] === v);
}

// ------------------------------------------------------------------------------- owner references

/** The ownerReference with controller=true, if any. */
export function controllerOf(o: JsonObject): JsonObject | undefined {
  return listAt(metaAt(o).ownerReferences).find((r) => r.controller === true);
}

/** An ownerReference naming `owner` as the controller (what metav1.NewControllerRef builds). */
export function controllerRef(owner: JsonObject, apiVersion: string, kind: string): JsonObject {
  return {
    apiVersion,
    kind,
    name: nameAt(owner),
    uid: uidAt(owner),
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether `o` is controlled by the object with uid `uid`. */
export const controlledBy = (o: JsonObject, uid: string): boolean => strAt(controllerOf(o)?.uid) === uid;

// ------------------------------------------------------------------------------- values

/**
 * An IntOrString scaled against `total`: integers as they are, "N%" as N% of total rounded up or
 * down. Malformed values count as 0 (validation rejects them before they get here).
 */
export function scaledValue(v: Json | undefined, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v !== 'string') return 0;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return /^\d+$/.test(v) ? Number(v) : 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** JSON with object keys sorted, so equal values render identically. */
export function canonicalJson(v: Json | undefined): string {
  if (v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
