// Small readers for untyped JSON objects as kube's printers see them after decoding into Go
// structs: a missing field reads as Go's zero value ('' / 0 / false / empty).
import type { Json, JsonObject } from '../types.js';
import { isObject } from '../types.js';

/** The value at a path of object keys, or undefined when any step is missing or not an object. */
export function at(value: Json | undefined, ...path: string[]): Json | undefined {
  let cur: Json | undefined = value;
  for (const key of path) {
    if (!isObject(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

export function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : '';
}

export function int(value: Json | undefined): number {
  return typeof value === 'number' ? Math.trunc(value) : 0;
}

export function list(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

export function obj(value: Json | undefined): JsonObject {
  return isObject(value) ? value : {};
}

/** Number of keys of a map field (len() of a Go map), 0 when absent. */
export function size(value: Json | undefined): number {
  return isObject(value) ? Object.keys(value).length : 0;
}

/** labels.FormatLabels: `k=v` pairs sorted by key and joined by `,`; `<none>` when empty. */
export function formatLabels(value: Json | undefined): string {
  if (!isObject(value)) return '<none>';
  const keys = Object.keys(value).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${str(value[k])}`).join(',');
}
