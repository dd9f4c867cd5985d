// One stored Event read and written through two APIs (core/v1 and events.k8s.io/v1), and the decode-time
// checks of built-ins: Go's time.Parse errors for Time/MicroTime fields, base64 Secret data, quantities.
import type { Json, JsonObject } from '../types.js';
import { isObject } from '../types.js';
import { parseQuantity } from './validate.js';

const CORE_API_VERSION = 'v1';
const EVENTS_API_VERSION = 'events.k8s.io/v1';

function objectOr(v: Json | undefined): JsonObject | undefined {
  return isObject(v) ? v : undefined;
}

function nonEmptyString(v: Json | undefined): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function nonZeroNumber(v: Json | undefined): number | undefined {
  return typeof v === 'number' && v !== 0 ? v : undefined;
}

/** A time field: null when absent or empty (Go's zero metav1.Time/MicroTime serializes as null). */
function timeOrNull(v: Json | undefined): Json {
  return typeof v === 'string' && v !== '' ? v : null;
}

/** ObjectReference in Go field order; every field is omitempty. */
function objectReference(v: Json | undefined): JsonObject {
  const ref = objectOr(v) ?? {};
  const out: JsonObject = {};
  for (const key of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
    const value = nonEmptyString(ref[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** EventSource {component, host}, both omitempty. */
function eventSource(v: Json | undefined): JsonObject {
  const src = objectOr(v) ?? {};
  const out: JsonObject = {};
  const component = nonEmptyString(src['component']);
  const host = nonEmptyString(src['host']);
  if (component !== undefined) out['component'] = component;
  if (host !== undefined) out['host'] = host;
  return out;
}

function setIf(out: JsonObject, key: string, value: Json | undefined): void {
  if (value !== undefined) out[key] = value;
}

/** TypeMeta first, then metadata, as the server writes every object. */
function head(obj: JsonObject, apiVersion: string): JsonObject {
  const out: JsonObject = { kind: 'Event', apiVersion };
  if (obj['metadata'] !== undefined) out['metadata'] = obj['metadata'];
  return out;
}

/**
 * core/v1 Event with the fields Go always serializes: involvedObject and source ({} when empty),
 * firstTimestamp/lastTimestamp/eventTime (null when unset), reportingComponent/reportingInstance
 * ("" when unset). Empty strings and zero counts of omitempty fields are dropped. Returns a new object.
 */
export function normalizeCoreEvent(ev: JsonObject): JsonObject {
  const out = head(ev, CORE_API_VERSION);
  out['involvedObject'] = objectReference(ev['involvedObject']);
  setIf(out, 'reason', nonEmptyString(ev['reason']));
  setIf(out, 'message', nonEmptyString(ev['message']));
  out['source'] = eventSource(ev['source']);
  out['firstTimestamp'] = timeOrNull(ev['firstTimestamp']);
  out['lastTimestamp'] = timeOrNull(ev['lastTimestamp']);
  setIf(out, 'count', nonZeroNumber(ev['count']));
  setIf(out, 'type', nonEmptyString(ev['type']));
  out['eventTime'] = timeOrNull(ev['eventTime']);
  const series = objectOr(ev['series']);
  if (series !== undefined) {
    const s: JsonObject = {};
    setIf(s, 'count', nonZeroNumber(series['count']));
    s['lastObservedTime'] = timeOrNull(series['lastObservedTime']);
    out['series'] = s;
  }
  setIf(out, 'action', nonEmptyString(ev['action']));
  if (objectOr(ev['related']) !== undefined) out['related'] = objectReference(ev['related']);
  out['reportingComponent'] = nonEmptyString(ev['reportingComponent']) ?? '';
  out['reportingInstance'] = nonEmptyString(ev['reportingInstance']) ?? '';
  return out;
}

/**
 * The stored (core/v1) Event as events.k8s.io/v1 shows it: involvedObject→regarding, message→note,
 * reportingComponent→reportingController, source/firstTimestamp/lastTimestamp/count→deprecated*.
 * regarding and deprecatedSource are always present, eventTime and deprecated*Timestamp null when unset.
 */
export function coreEventToEventsV1(core: JsonObject): JsonObject {
  const out = head(core, EVENTS_API_VERSION);
  out['eventTime'] = timeOrNull(core['eventTime']);
  const series = objectOr(core['series']);
  if (series !== undefined) {
    out['series'] = {
      count: typeof series['count'] === 'number' ? series['count'] : 0,
      lastObservedTime: timeOrNull(series['lastObservedTime']),
    };
  }
  setIf(out, 'reportingController', nonEmptyString(core['reportingComponent']));
  setIf(out, 'reportingInstance', nonEmptyString(core['reportingInstance']));
  setIf(out, 'action', nonEmptyString(core['action']));
  setIf(out, 'reason', nonEmptyString(core['reason']));
  out['regarding'] = objectReference(core['involvedObject']);
  if (objectOr(core['related']) !== undefined) out['related'] = objectReference(core['related']);
  setIf(out, 'note', nonEmptyString(core['message']));
  setIf(out, 'type', nonEmptyString(core['type']));
  out['deprecatedSource'] = eventSource(core['source']);
  out['deprecatedFirstTimestamp'] = timeOrNull(core['firstTimestamp']);
  out['deprecatedLastTimestamp'] = timeOrNull(core['lastTimestamp']);
  setIf(out, 'deprecatedCount', nonZeroNumber(core['count']));
  return out;
}

/** An events.k8s.io/v1 Event (as a client sends it) in the stored core/v1 shape, normalized. */
export function eventsV1ToCoreEvent(ev: JsonObject): JsonObject {
  const core: JsonObject = { kind: 'Event', apiVersion: CORE_API_VERSION };
  if (ev['metadata'] !== undefined) core['metadata'] = ev['metadata'];
  setIf(core, 'involvedObject', ev['regarding']);
  setIf(core, 'reason', ev['reason']);
  setIf(core, 'message', ev['note']);
  setIf(core, 'source', ev['deprecatedSource']);
  setIf(core, 'firstTimestamp', ev['deprecatedFirstTimestamp']);
  setIf(core, 'lastTimestamp', ev['deprecatedLastTimestamp']);
  setIf(core, 'count', ev['deprecatedCount']);
  setIf(core, 'type', ev['type']);
  setIf(core, 'eventTime', ev['eventTime']);
  setIf(core, 'series', ev['series']);
  setIf(core, 'action', ev['action']);
  setIf(core, 'related', ev['related']);
  setIf(core, 'reportingComponent', ev['reportingController']);
  setIf(core, 'reportingInstance', ev['reportingInstance']);
  return normalizeCoreEvent(core);
}

/**
 * Field selectors of events.k8s.io/v1 and the stored (core) field each one reads. Any other label is
 * rejected with `field label not supported: <label>`.
 */
export const eventsV1FieldSelectorLabels: Readonly<Record<string, string>> = {
  'metadata.name': 'metadata.name',
  'metadata.namespace': 'metadata.namespace',
  reason: 'reason',
  'regarding.kind': 'involvedObject.kind',
  'regarding.namespace': 'involvedObject.namespace',
  'regarding.name': 'involvedObject.name',
  'regarding.uid': 'involvedObject.uid',
  'regarding.apiVersion': 'involvedObject.apiVersion',
  'regarding.resourceVersion': 'involvedObject.resourceVersion',
  'regarding.fieldPath': 'involvedObject.fieldPath',
  reportingController: 'reportingComponent',
  type: 'type',
};

/** Field selectors core/v1 Events accept besides metadata.name/metadata.namespace. */
export const coreEventFieldSelectorLabels: readonly string[] = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

/** The value a core Event field selector label compares against ('' when unset, as kube does). */
export function coreEventFieldValue(core: JsonObject, label: string): string {
  const meta = objectOr(core['metadata']) ?? {};
  switch (label) {
    case 'metadata.name':
      return nonEmptyString(meta['name']) ?? '';
    case 'metadata.namespace':
      return nonEmptyString(meta['namespace']) ?? '';
    case 'source':
      return nonEmptyString(objectOr(core['source'])?.['component']) ?? '';
    default:
      if (label.startsWith('involvedObject.')) {
        const ref = objectOr(core['involvedObject']) ?? {};
        return nonEmptyString(ref[label.slice('involvedObject.'.length)]) ?? '';
      }
      return nonEmptyString(core[label]) ?? '';
  }
}

/** The stored (core/v1) Event as events.k8s.io/v1 serves it. */
export function eventToEventsV1(stored: JsonObject): JsonObject {
  return coreEventToEventsV1(stored);
}

/** An events.k8s.io/v1 Event as written, in its stored core/v1 form. */
export function eventFromEventsV1(obj: JsonObject): JsonObject {
  return eventsV1ToCoreEvent(obj);
}

// ---------------------------------------------------------------------------------------------
// Go's time.Parse, reproduced for the two layouts kube decodes: metav1.Time uses RFC3339 (any
// fraction accepted, dropped on output) and metav1.MicroTime RFC3339Micro (exactly 6 digits).

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';

type Std = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'frac6' | 'tz';
interface Chunk {
  prefix: string;
  std: Std;
  text: string;
}

const timeChunks = (micro: boolean): Chunk[] => [
  { prefix: '', std: 'year', text: '2006' },
  { prefix: '-', std: 'month', text: '01' },
  { prefix: '-', std: 'day', text: '02' },
  { prefix: 'T', std: 'hour', text: '15' },
  { prefix: ':', std: 'minute', text: '04' },
  { prefix: ':', std: 'second', text: '05' },
  ...(micro ? [{ prefix: '', std: 'frac6' as const, text: '.000000' }] : []),
  { prefix: '', std: 'tz', text: 'Z07:00' },
];

/** A parsed time in UTC, or Go's error text. */
export type GoTimeResult = { ok: true; epochMs: number; micros: number } | { ok: false; message: string };

/** time.quote: ASCII kept (with \\" and \\\\ escaped), every byte of anything else as \\xNN. */
function timeQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 || cp < 0x20) {
      for (const b of new TextEncoder().encode(ch)) out += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      if (ch === '"' || ch === '\\') out += '\\';
      out += ch;
    }
  }
  return out + '"';
}

const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';

/** time.atoi: optional sign, then only digits ("" is 0). */
function goAtoi(s: string): number | undefined {
  let rest = s;
  let neg = false;
  if (rest !== '' && (rest[0] === '-' || rest[0] === '+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (!/^[0-9]*$/.test(rest)) return undefined;
  const x = rest === '' ? 0 : Number(rest);
  if (x > 2 ** 63) return undefined;
  return neg ? -x : x;
}

/** time.getnum: one or two digits (exactly two when fixed). */
function getnum(s: string, fixed: boolean): { n: number; rest: string } | undefined {
  if (!isDigitAt(s, 0)) return undefined;
  if (!isDigitAt(s, 1)) {
    if (fixed) return undefined;
    return { n: Number(s[0]), rest: s.slice(1) };
  }
  return { n: Number(s.slice(0, 2)), rest: s.slice(2) };
}

/** time.parseNanoseconds over value[0:nbytes] (value[0] must be '.' or ','). */
function parseNanoseconds(value: string, nbytes: number): { ns: number; range: string } | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  const n = Math.min(nbytes, 10);
  const ns = goAtoi(value.slice(1, n));
  if (ns === undefined) return undefined;
  if (ns < 0) return { ns: 0, range: 'fractional second' };
  return { ns: ns * 10 ** (10 - n), range: '' };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** time.Parse(layout, value) for RFC3339 (micro=false) or RFC3339Micro (micro=true), with Go's error text. */
export function parseGoTime(value: string, micro: boolean): GoTimeResult {
  const layout = micro ? RFC3339_MICRO : RFC3339;
  const head = `parsing time ${timeQuote(value)}`;
  const cannot = (v: string, elem: string): GoTimeResult => ({
    ok: false,
    message: `${head} as ${timeQuote(layout)}: cannot parse ${timeQuote(v)} as ${timeQuote(elem)}`,
  });
  const chunks = timeChunks(micro);
  let v = value;
  let [year, month, day, hour, min, sec, nsec, offsetSeconds] = [0, 1, 1, 0, 0, 0, 0, 0];
  for (const chunk of chunks) {
    for (const ch of chunk.prefix) {
      if (v.length === 0 || v[0] !== ch) return cannot(v, chunk.prefix);
      v = v.slice(1);
    }
    let bad = false;
    let range = '';
    switch (chunk.std) {
      case 'year': {
        if (v.length < 4 || !isDigitAt(v, 0)) {
          bad = true;
          break;
        }
        const y = goAtoi(v.slice(0, 4));
        v = v.slice(4);
        if (y === undefined) bad = true;
        else year = y;
        break;
      }
      case 'month':
      case 'day':
      case 'hour':
      case 'minute':
      case 'second': {
        const g = getnum(v, chunk.std !== 'hour');
        if (!g) {
          bad = true;
          if (chunk.std === 'month' || chunk.std === 'day') break;
        }
        const n = g?.n ?? 0;
        if (g) v = g.rest;
        if (chunk.std === 'month') {
          month = n;
          if (month <= 0 || month > 12) range = 'month';
        } else if (chunk.std === 'day') day = n;
        else if (chunk.std === 'hour') {
          hour = n;
          if (hour >= 24) range = 'hour';
        } else if (chunk.std === 'minute') {
          min = n;
          if (min >= 60) range = 'minute';
        } else {
          sec = n;
          if (sec >= 60) {
            range = 'second';
            break;
          }
          // A fraction the layout does not name is still accepted (RFC3339 only); like Go, this
          // runs even when the seconds did not parse and then decides the outcome.
          if (!micro && v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigitAt(v, 1)) {
            let end = 2;
            while (isDigitAt(v, end)) end++;
            const pn = parseNanoseconds(v, end);
            v = v.slice(end);
            bad = !pn;
            if (pn) [nsec, range] = [pn.ns, pn.range];
          }
        }
        break;
      }
      case 'frac6': {
        if (v.length < 7) {
          bad = true;
          break;
        }
        const pn = parseNanoseconds(v, 7);
        v = v.slice(7);
        if (!pn) bad = true;
        else [nsec, range] = [pn.ns, pn.range];
        break;
      }
      case 'tz': {
        if (v.length >= 1 && v[0] === 'Z') {
          v = v.slice(1);
          break;
        }
        if (v.length < 6 || v[3] !== ':') {
          bad = true;
          break;
        }
        const [sign, hh, mm] = [v[0], v.slice(1, 3), v.slice(4, 6)];
        v = v.slice(6);
        const h = getnum(hh, true);
        const m = h ? getnum(mm, true) : undefined;
        if (!h || !m || (sign !== '+' && sign !== '-')) {
          bad = true;
          break;
        }
        offsetSeconds = (h.n * 60 + m.n) * 60 * (sign === '-' ? -1 : 1);
        break;
      }
    }
    if (range !== '') return { ok: false, message: `${head}: ${range} out of range` };
    if (bad) return cannot(v, chunk.text);
  }
  if (v.length !== 0) return { ok: false, message: `${head}: extra text: ${timeQuote(v)}` };
  if (day < 1 || day > daysIn(month, year)) return { ok: false, message: `${head}: day out of range` };
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  return { ok: true, epochMs: d.getTime() - offsetSeconds * 1000, micros: Math.floor(nsec / 1000) };
}

function formatUtc(epochMs: number, micros: number | undefined): string {
  const iso = new Date(epochMs).toISOString();
  const frac = micros === undefined ? '' : '.' + String(micros).padStart(6, '0');
  return `${iso.slice(0, 19)}${frac}Z`;
}

/**
 * A time string as the server writes it back: metav1.Time in whole seconds, MicroTime with exactly
 * six digits, both in UTC. Returns the input unchanged when it does not parse.
 */
export function canonicalTime(value: string, micro: boolean): string {
  const r = parseGoTime(value, micro);
  return r.ok ? formatUtc(r.epochMs, micro ? r.micros : undefined) : value;
}

// ---------------------------------------------------------------------------------------------
// Decode-time errors: what kube's JSON decoder reports before any defaulting or validation.

/** How a JSON value is named in Go's UnmarshalTypeError. */
function jsonKind(v: Json): string {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** Decode error of one Time (micro=false) or MicroTime field, or undefined when it decodes. */
function timeFieldError(
  v: Json | undefined,
  micro: boolean,
  struct: string,
  fieldPath: string,
): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    return `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${fieldPath} of type string`;
  }
  const r = parseGoTime(v, micro);
  return r.ok ? undefined : r.message;
}

function firstError(checks: (() => string | undefined)[]): string | undefined {
  for (const check of checks) {
    const e = check();
    if (e !== undefined) return e;
  }
  return undefined;
}

function metadataTimeErrors(meta: JsonObject): string | undefined {
  const checks: (() => string | undefined)[] = [];
  for (const key of Object.keys(meta)) {
    if (key === 'creationTimestamp' || key === 'deletionTimestamp') {
      checks.push(() => timeFieldError(meta[key], false, 'ObjectMeta', `metadata.${key}`));
    } else if (key === 'managedFields' && Array.isArray(meta[key])) {
      for (const entry of meta[key]) {
        if (isObject(entry)) {
          checks.push(() =>
            timeFieldError(entry['time'], false, 'ManagedFieldsEntry', 'metadata.managedFields.time'),
          );
        }
      }
    }
  }
  return firstError(checks);
}

const conditionStructs: Readonly<Record<string, string>> = {
  Pod: 'PodCondition',
  Deployment: 'DeploymentCondition',
  ReplicaSet: 'ReplicaSetCondition',
  DaemonSet: 'DaemonSetCondition',
  Node: 'NodeCondition',
  Namespace: 'NamespaceCondition',
  HorizontalPodAutoscaler: 'HorizontalPodAutoscalerCondition',
};

function statusTimeErrors(kind: string, status: JsonObject): string | undefined {
  const checks: (() => string | undefined)[] = [];
  const struct = conditionStructs[kind];
  if (struct !== undefined && Array.isArray(status['conditions'])) {
    for (const c of status['conditions']) {
      if (!isObject(c)) continue;
      for (const key of ['lastProbeTime', 'lastUpdateTime', 'lastHeartbeatTime', 'lastTransitionTime']) {
        checks.push(() => timeFieldError(c[key], false, struct, `status.conditions.${key}`));
      }
    }
  }
  if (kind === 'Pod')
    checks.unshift(() => timeFieldError(status['startTime'], false, 'PodStatus', 'status.startTime'));
  if (kind === 'HorizontalPodAutoscaler') {
    checks.unshift(() =>
      timeFieldError(status['lastScaleTime'], false, 'HorizontalPodAutoscalerStatus', 'status.lastScaleTime'),
    );
  }
  return firstError(checks);
}

/** Event fields under both API shapes (the stored core form and events.k8s.io/v1 as sent). */
function eventTimeErrors(obj: JsonObject): string | undefined {
  const checks: (() => string | undefined)[] = [];
  for (const key of Object.keys(obj)) {
    switch (key) {
      case 'firstTimestamp':
      case 'lastTimestamp':
      case 'deprecatedFirstTimestamp':
      case 'deprecatedLastTimestamp':
        checks.push(() => timeFieldError(obj[key], false, 'Event', key));
        break;
      case 'eventTime':
        checks.push(() => timeFieldError(obj[key], true, 'Event', key));
        break;
      case 'series': {
        const series = objectOr(obj[key]);
        if (series) {
          checks.push(() =>
            timeFieldError(series['lastObservedTime'], true, 'EventSeries', 'series.lastObservedTime'),
          );
        }
        break;
      }
    }
  }
  return firstError(checks);
}

function leaseTimeErrors(spec: JsonObject): string | undefined {
  const checks: (() => string | undefined)[] = [];
  for (const key of Object.keys(spec)) {
    if (key === 'acquireTime' || key === 'renewTime') {
      checks.push(() => timeFieldError(spec[key], true, 'LeaseSpec', `spec.${key}`));
    }
  }
  return firstError(checks);
}

/** base64.StdEncoding.Decode's first error ("illegal base64 data at input byte N"), or undefined. */
export function base64DecodeError(s: string): string | undefined {
  const bytes = new TextEncoder().encode(s);
  const alphabet = /^[A-Za-z0-9+/]$/;
  const isAlpha = (b: number): boolean => alphabet.test(String.fromCharCode(b));
  const isNl = (b: number | undefined): boolean => b === 0x0a || b === 0x0d;
  const corrupt = (n: number): string => `illegal base64 data at input byte ${n}`;
  let si = 0;
  for (;;) {
    let j = 0;
    for (; j < 4; j++) {
      if (si === bytes.length) {
        if (j === 0) return undefined;
        return corrupt(si - j);
      }
      const b = bytes[si]!;
      si++;
      if (isAlpha(b)) continue;
      if (isNl(b)) {
        j--;
        continue;
      }
      if (b !== 0x3d) return corrupt(si - 1);
      if (j === 0 || j === 1) return corrupt(si - 1);
      if (j === 2) {
        while (si < bytes.length && isNl(bytes[si])) si++;
        if (si === bytes.length) return corrupt(bytes.length);
        if (bytes[si] !== 0x3d) return corrupt(si - 1);
        si++;
      }
      while (si < bytes.length && isNl(bytes[si])) si++;
      if (si < bytes.length) return corrupt(si);
      return undefined;
    }
  }
}

/** Quantity.UnmarshalJSON of every container resource value of a pod spec, in document order. */
function podSpecQuantityError(spec: JsonObject): string | undefined {
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    const containers = spec[list];
    if (!Array.isArray(containers)) continue;
    for (const c of containers) {
      const resources = isObject(c) ? objectOr(c['resources']) : undefined;
      if (!resources) continue;
      for (const part of ['limits', 'requests']) {
        const values = objectOr(resources[part]);
        if (!values) continue;
        for (const v of Object.values(values)) {
          if (v === null) continue;
          const r = parseQuantity(typeof v === 'string' ? v.trim() : JSON.stringify(v));
          if (!r.ok) return r.message;
        }
      }
    }
  }
  return undefined;
}

/**
 * The error kube's decoder reports for a built-in object (apiVersionKind like `coordination.k8s.io/v1/Lease`),
 * or undefined when it decodes. Covers MicroTime fields (Lease acquireTime/renewTime, Event eventTime and
 * series.lastObservedTime: exactly 6 fractional digits), metav1.Time fields (metadata times, Event timestamps,
 * status conditions), base64 Secret data and container resource quantities. The first error in document order
 * wins, as in Go's decoder. Works on either Event shape.
 */
export function microTimeDecodeError(apiVersionKind: string, obj: JsonObject): string | undefined {
  const kind = apiVersionKind.slice(apiVersionKind.lastIndexOf('/') + 1);
  const checks: (() => string | undefined)[] = [];
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    if (key === 'metadata' && isObject(v)) checks.push(() => metadataTimeErrors(v));
    else if (key === 'status' && isObject(v)) checks.push(() => statusTimeErrors(kind, v));
    else if (key === 'spec' && isObject(v)) {
      if (kind === 'Lease') checks.push(() => leaseTimeErrors(v));
      if (kind === 'Pod') checks.push(() => podSpecQuantityError(v));
      if (['Deployment', 'ReplicaSet', 'DaemonSet'].includes(kind)) {
        const template = objectOr(v['template']);
        const podSpec = template ? objectOr(template['spec']) : undefined;
        if (podSpec) checks.push(() => podSpecQuantityError(podSpec));
      }
    } else if (key === 'data' && kind === 'Secret' && isObject(v)) {
      checks.push(() => {
        for (const d of Object.values(v)) {
          const e = typeof d === 'string' ? base64DecodeError(d) : undefined;
          if (e !== undefined) return e;
        }
        return undefined;
      });
    }
  }
  if (kind === 'Event') checks.push(() => eventTimeErrors(obj));
  return firstError(checks);
}
