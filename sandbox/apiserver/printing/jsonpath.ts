// The part of kube's JSONPath that CRD printer columns use (fields, escaped dots, indexes, [*],
// slices), evaluated with missing keys allowed, and Go's text rendering of the value found.
import type { Json } from '../types.js';
import { isObject } from '../types.js';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'recursive' }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number; step?: number };

export type ParsedPath = { ok: true; steps: Step[] } | { ok: false; message: string };

/**
 * Parses a JSONPath without its braces (`.spec.size`). Unsupported constructs (filters, unions,
 * functions) are reported as not ok, and evaluate to nothing, like kube's missing values.
 */
export function parseJsonPath(path: string): ParsedPath {
  const steps: Step[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      if (path[i + 1] === '.') {
        steps.push({ kind: 'recursive' });
        i += 2;
        continue;
      }
      i++;
      if (path[i] === '*') {
        steps.push({ kind: 'wildcard' });
        i++;
        continue;
      }
      let name = '';
      while (i < path.length && path[i] !== '.' && path[i] !== '[') {
        if (path[i] === '\\' && i + 1 < path.length) i++;
        name += path[i];
        i++;
      }
      if (name !== '') steps.push({ kind: 'field', name });
      continue;
    }
    if (c === '[') {
      const close = findClose(path, i);
      if (close < 0) return { ok: false, message: `unterminated array in ${path}` };
      const inner = path.slice(i + 1, close).trim();
      const step = parseBracket(inner);
      if (!step) return { ok: false, message: `unsupported array expression [${inner}]` };
      steps.push(step);
      i = close + 1;
      continue;
    }
    // A bare identifier at the start (`status.phase`) reads as a field, as kube's parser does.
    let name = '';
    while (i < path.length && path[i] !== '.' && path[i] !== '[') {
      name += path[i];
      i++;
    }
    steps.push({ kind: 'field', name });
  }
  return { ok: true, steps };
}

function findClose(path: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < path.length; j++) {
    const ch = path[j];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === ']') {
      return j;
    }
  }
  return -1;
}

function parseBracket(inner: string): Step | undefined {
  if (inner === '*') return { kind: 'wildcard' };
  const quoted = /^(['"])(.*)\1$/.exec(inner);
  if (quoted) return { kind: 'field', name: quoted[2] ?? '' };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)(?::(-?\d*))?$/.exec(inner);
  if (slice) {
    const num = (s: string | undefined): number | undefined =>
      s === undefined || s === '' ? undefined : Number(s);
    return { kind: 'slice', start: num(slice[1]), end: num(slice[2]), step: num(slice[3]) };
  }
  return undefined;
}

/** Every value the path selects, in kube's order; missing keys and out-of-range indexes select nothing. */
export function evaluateJsonPath(steps: Step[], root: Json): Json[] {
  let current: Json[] = [root];
  for (const step of steps) {
    const next: Json[] = [];
    for (const value of current) applyStep(step, value, next);
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

function applyStep(step: Step, value: Json, out: Json[]): void {
  switch (step.kind) {
    case 'field':
      if (isObject(value) && Object.hasOwn(value, step.name)) out.push(value[step.name] ?? null);
      return;
    case 'wildcard':
      if (Array.isArray(value)) out.push(...value);
      else if (isObject(value)) for (const key of Object.keys(value).sort()) out.push(value[key] ?? null);
      return;
    case 'recursive':
      collectAll(value, out);
      return;
    case 'index': {
      if (!Array.isArray(value)) return;
      const i = step.index < 0 ? value.length + step.index : step.index;
      if (i >= 0 && i < value.length) out.push(value[i] ?? null);
      return;
    }
    case 'slice': {
      if (!Array.isArray(value)) return;
      const len = value.length;
      const clamp = (n: number): number => Math.min(Math.max(n < 0 ? len + n : n, 0), len);
      const start = clamp(step.start ?? 0);
      const end = clamp(step.end ?? len);
      const by = step.step !== undefined && step.step > 0 ? step.step : 1;
      for (let i = start; i < end; i += by) out.push(value[i] ?? null);
      return;
    }
  }
}

function collectAll(value: Json, out: Json[]): void {
  out.push(value);
  if (Array.isArray(value)) for (const v of value) collectAll(v, out);
  else if (isObject(value)) for (const key of Object.keys(value).sort()) collectAll(value[key] ?? null, out);
}

/**
 * How kube's JSONPath printer writes one value: strings as they are, numbers and booleans as Go's
 * fmt.Print does, objects and arrays as Go's json.Marshal (sorted keys, HTML-escaped), and an
 * explicit null as text/template's `<no value>`.
 */
export function goText(value: Json): string {
  if (value === null) return '<no value>';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return goNumber(value);
  return goJson(value);
}

/** Go's %v of a number decoded from JSON (int64 when integral, else float64). */
export function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e21)) return goExponent(n.toExponential());
  return String(n);
}

function goExponent(js: string): string {
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(js);
  if (!m) return js;
  const digits = (m[3] ?? '').padStart(2, '0');
  return `${m[1] ?? ''}e${m[2] ?? '+'}${digits}`;
}

/** Go's json.Marshal of a value decoded into interface{}: map keys sorted, <, > and & escaped. */
export function goJson(value: Json): string {
  const text = JSON.stringify(sortKeys(value));
  return text
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isObject(value)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key] ?? null);
    return out;
  }
  return value;
}
