// A CRD version's structural schema (openAPIV3Schema) applied to custom objects as kube-apiserver v1.26
// does it: pruning, defaulting, validation, scale-path checks and fieldValidation of unknown/duplicate fields.
import { objectMetaFields } from './object-meta-fields.js';
import type { Json, JsonObject, Result, StatusCause } from './types.js';
import { clone, fail, isObject, ok } from './types.js';
import {
  type BadValue,
  dns1035Label,
  duplicate,
  formatInvalidMessage,
  GoLiteral,
  goFloat,
  goNumber,
  goQuote,
  goSharpV,
  invalid,
  nameIsPathSegment,
  notSupported,
  required,
  tooLongMaxLength,
  tooMany,
  typeInvalid,
  validateObjectMeta,
} from './validation/meta.js';

type Schema = JsonObject;

// ---------------------------------------------------------------------------------------------
// Schema accessors.

function propertiesOf(s: Schema | undefined): JsonObject | undefined {
  const p = s?.['properties'];
  return isObject(p) ? p : undefined;
}

function propertyOf(s: Schema | undefined, key: string): Schema | undefined {
  const props = propertiesOf(s);
  if (!props || !Object.hasOwn(props, key)) return undefined;
  const p = props[key];
  return isObject(p) ? p : undefined;
}

const anything: Schema = { 'x-kubernetes-preserve-unknown-fields': true };

/** additionalProperties as a schema; `true` means "any value, kept as is"; undefined when absent or false. */
function additionalOf(s: Schema | undefined): Schema | undefined {
  const a = s?.['additionalProperties'];
  if (isObject(a)) return a;
  return a === true ? anything : undefined;
}

function itemsOf(s: Schema | undefined): Schema | undefined {
  const i = s?.['items'];
  return isObject(i) ? i : undefined;
}

/** The schema of a map entry: the declared property, else additionalProperties. */
function childOf(s: Schema | undefined, key: string): Schema | undefined {
  return propertyOf(s, key) ?? additionalOf(s);
}

const preservesUnknown = (s: Schema | undefined): boolean =>
  s?.['x-kubernetes-preserve-unknown-fields'] === true;
const isEmbedded = (s: Schema | undefined): boolean => s?.['x-kubernetes-embedded-resource'] === true;
const isNullable = (s: Schema | undefined): boolean => s?.['nullable'] === true;
const hasDefault = (s: Schema | undefined): boolean => s !== undefined && s['default'] !== undefined;

function joinKey(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

// ---------------------------------------------------------------------------------------------
// Pruning.

/** ObjectMeta's fields as a set; anything else under metadata is dropped and reported. */
const objectMetaFieldSet = new Set(objectMetaFields);
const ownerReferenceFields = new Set([
  'apiVersion',
  'kind',
  'name',
  'uid',
  'controller',
  'blockOwnerDeletion',
]);
const managedFieldsEntryFields = new Set([
  'manager',
  'operation',
  'apiVersion',
  'time',
  'fieldsType',
  'fieldsV1',
  'subresource',
]);
const metaKeys = new Set(['apiVersion', 'kind', 'metadata']);

function pruneValue(x: Json, s: Schema | undefined, path: string, out: string[], embedded: boolean): void {
  if (s !== undefined && preservesUnknown(s)) {
    skipPrune(x, s, path, out);
    return;
  }
  if (isObject(x)) {
    if (s === undefined) {
      for (const k of Object.keys(x)) {
        out.push(joinKey(path, k));
        delete x[k];
      }
      return;
    }
    const keepMeta = embedded || isEmbedded(s);
    for (const k of Object.keys(x)) {
      const v = x[k] ?? null;
      if (keepMeta) {
        if ((k === 'apiVersion' || k === 'kind') && typeof v === 'string') continue;
        if (k === 'metadata' && isObject(v)) continue;
      }
      const child = childOf(s, k);
      if (child !== undefined) pruneValue(v, child, joinKey(path, k), out, false);
      else {
        out.push(joinKey(path, k));
        delete x[k];
      }
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    x.forEach((v, i) => pruneValue(v, items, `${path}[${i}]`, out, false));
  }
}

/** Under x-kubernetes-preserve-unknown-fields unknown keys stay, but declared sub-schemas still prune. */
function skipPrune(x: Json, s: Schema | undefined, path: string, out: string[]): void {
  if (s === undefined) return;
  if (isObject(x)) {
    for (const k of Object.keys(x)) {
      if (isEmbedded(s) && metaKeys.has(k)) continue;
      const child = childOf(s, k);
      if (child !== undefined && child !== anything)
        pruneValue(x[k] ?? null, child, joinKey(path, k), out, false);
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    x.forEach((v, i) => skipPrune(v, items, `${path}[${i}]`, out));
  }
}

function pruneKeys(o: JsonObject, allowed: Set<string>, path: string, out: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.has(k)) {
      out.push(joinKey(path, k));
      delete o[k];
    }
  }
}

/** metadata of the root and of embedded resources keeps only ObjectMeta fields. */
function coerceMetadata(meta: JsonObject, path: string, out: string[]): void {
  pruneKeys(meta, objectMetaFieldSet, path, out);
  for (const [list, allowed] of [
    ['ownerReferences', ownerReferenceFields],
    ['managedFields', managedFieldsEntryFields],
  ] as const) {
    const items = meta[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item, i) => {
      if (isObject(item)) pruneKeys(item, allowed, `${path}.${list}[${i}]`, out);
    });
  }
}

function coerceEmbedded(x: Json, s: Schema | undefined, path: string, out: string[], root: boolean): void {
  if (s === undefined && !root) return;
  if (isObject(x)) {
    const meta = x['metadata'];
    if ((root || isEmbedded(s)) && isObject(meta)) coerceMetadata(meta, joinKey(path, 'metadata'), out);
    for (const [k, v] of Object.entries(x)) {
      if ((root || isEmbedded(s)) && k === 'metadata') continue;
      const child = childOf(s, k);
      if (child !== undefined) coerceEmbedded(v, child, joinKey(path, k), out, false);
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    x.forEach((v, i) => coerceEmbedded(v, items, `${path}[${i}]`, out, false));
  }
}

/**
 * Drops null values of fields that are neither nullable nor defaulted (kube does this while decoding,
 * right after pruning; a null of a defaulted field is left for applyDefaults to replace).
 */
export function pruneNonNullableNulls(x: Json, s: Schema | undefined): void {
  if (s === undefined) return;
  if (isObject(x)) {
    for (const k of Object.keys(x)) {
      const child = childOf(s, k);
      if (child === undefined || child === anything) continue;
      const v = x[k] ?? null;
      if (v === null && !isNullable(child) && !hasDefault(child)) delete x[k];
      else pruneNonNullableNulls(v, child);
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    for (const v of x) pruneNonNullableNulls(v, items);
  }
}

/**
 * Removes, in place, every field the structural schema does not declare (honouring
 * x-kubernetes-preserve-unknown-fields, additionalProperties, x-kubernetes-embedded-resource; apiVersion,
 * kind and metadata at the root are kept, metadata reduced to ObjectMeta fields), then drops nulls of
 * non-nullable fields without default. Returns the removed paths in kube's Warning order: schema paths
 * sorted (`junk`, `spec.bogus`, `spec.items[0].x`), then metadata paths (`metadata.bogus`).
 */
export function prune(obj: JsonObject, schema: JsonObject): string[] {
  const schemaPaths: string[] = [];
  pruneValue(obj, schema, '', schemaPaths, true);
  schemaPaths.sort();
  const metaPaths: string[] = [];
  coerceEmbedded(obj, schema, '', metaPaths, true);
  metaPaths.sort();
  pruneNonNullableNulls(obj, schema);
  return [...schemaPaths, ...metaPaths];
}

/** The paths prune() would remove, without touching `obj`. */
export function unknownFields(obj: JsonObject, schema: JsonObject): string[] {
  return prune(clone(obj), schema);
}

// ---------------------------------------------------------------------------------------------
// Defaulting.

function isNonNullableNull(v: Json | undefined, s: Schema | undefined): boolean {
  return v === null && s !== undefined && !isNullable(s);
}

function defaultValue(x: Json, s: Schema | undefined): void {
  if (s === undefined) return;
  if (isObject(x)) {
    const props = propertiesOf(s) ?? {};
    for (const [k, p] of Object.entries(props)) {
      if (!isObject(p) || p['default'] === undefined) continue;
      if (!Object.hasOwn(x, k) || isNonNullableNull(x[k], p)) x[k] = clone(p['default']);
    }
    const additional = additionalOf(s);
    for (const k of Object.keys(x)) {
      const p = propertyOf(s, k);
      if (p !== undefined) {
        defaultValue(x[k] ?? null, p);
      } else if (additional !== undefined && additional !== anything) {
        const d = additional['default'];
        if (isNonNullableNull(x[k], additional) && d !== undefined) x[k] = clone(d);
        defaultValue(x[k] ?? null, additional);
      }
    }
  } else if (Array.isArray(x)) {
    const items = itemsOf(s);
    const d = items?.['default'];
    x.forEach((v, i) => {
      if (isNonNullableNull(v, items) && d !== undefined) x[i] = clone(d);
      defaultValue(x[i] ?? null, items);
    });
  }
}

/**
 * Structural defaulting, in place: a property's default applies when the property is absent (or null and
 * not nullable); defaults apply inside objects that exist, including ones just defaulted, never create a
 * missing parent. Nulls of non-nullable fields without default are dropped as kube does before defaulting.
 */
export function applyDefaults(obj: JsonObject, schema: JsonObject): void {
  pruneNonNullableNulls(obj, schema);
  defaultValue(obj, schema);
}

// ---------------------------------------------------------------------------------------------
// Validation (kube-openapi's SchemaValidator as apiextensions-apiserver runs it).

/** A kube-openapi validation error before it becomes a field error. */
interface SchemaError {
  kind: 'type' | 'required' | 'enum' | 'tooLong' | 'tooMany' | 'invalid' | 'composite';
  /** Path as kube-openapi names it: `spec.name`; a leading '.' is dropped for the field. */
  name: string;
  message: string;
  value?: BadValue;
  enumValues?: Json[];
  max?: number;
  actual?: number;
}

/** Formats kube keeps in CRD schemas (others are stripped before validation, so never checked). */
const supportedFormats = new Set([
  'bsonobjectid',
  'uri',
  'email',
  'hostname',
  'ipv4',
  'ipv6',
  'cidr',
  'mac',
  'uuid',
  'uuid3',
  'uuid4',
  'uuid5',
  'isbn',
  'isbn10',
  'isbn13',
  'creditcard',
  'ssn',
  'hexcolor',
  'rgbcolor',
  'byte',
  'password',
  'date',
  'duration',
  'datetime',
]);

function formatOf(s: Schema): string {
  const f = s['format'];
  if (typeof f !== 'string' || f === '') return '';
  return supportedFormats.has(f.replaceAll('-', '')) ? f : '';
}

function typesOf(s: Schema): string[] {
  if (s['x-kubernetes-int-or-string'] === true) return ['integer', 'string'];
  const t = s['type'];
  return typeof t === 'string' && t !== '' ? [t] : [];
}

function isInt(n: number): boolean {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63;
}

/** The JSON type and Go format kube-openapi infers from a decoded value. */
function dataType(v: Json): [string, string] {
  if (typeof v === 'boolean') return ['boolean', ''];
  if (typeof v === 'string') return ['string', ''];
  if (typeof v === 'number') return isInt(v) ? ['integer', 'int64'] : ['number', 'float64'];
  if (Array.isArray(v)) return ['array', ''];
  if (v === null) return ['null', ''];
  return ['object', ''];
}

function typeError(path: string, typeName: string, actual: string): SchemaError {
  return {
    kind: 'type',
    name: path,
    value: actual,
    message: `${path} in body must be of type ${typeName}: ${goQuote(actual)}`,
  };
}

const fullDate = /^(\d{4})-(\d{2})-(\d{2})$/;
const timeOfDay = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$/;

function isDate(s: string): boolean {
  const m = fullDate.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d <= days;
}

function isDateTime(s: string): boolean {
  if (s.length < 4) return false;
  const parts = s.toLowerCase().split('t');
  if (parts.length < 2 || !isDate(parts[0] ?? '')) return false;
  const m = timeOfDay.exec(parts[1] ?? '');
  if (!m) return false;
  return (m[1] ?? '') <= '23' && (m[2] ?? '') <= '59' && (m[3] ?? '') <= '59';
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (!s.includes(':')) return false;
  let rest = s;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  let groupsNeeded = 8;
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    rest = s.slice(0, lastColon + 1) + '0:0';
    groupsNeeded = 8;
  }
  const halves = rest.split('::');
  if (halves.length > 2) return false;
  const hex = /^[0-9a-fA-F]{1,4}$/;
  const groups = (h: string): string[] | null => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => hex.test(x)) ? g : null;
  };
  if (halves.length === 1) {
    const g = groups(rest);
    return g !== null && g.length === groupsNeeded;
  }
  const a = groups(halves[0] ?? '');
  const b = groups(halves[1] ?? '');
  return a !== null && b !== null && a.length + b.length < groupsNeeded;
}

const formatCheckers: Record<string, (s: string) => boolean> = {
  date: isDate,
  datetime: isDateTime,
  byte: (s) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s),
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid3: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  uuid4: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  uuid5: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i.test(s),
  ipv4: isIPv4,
  ipv6: isIPv6,
  cidr: (s) => {
    const [ip = '', bits, ...more] = s.split('/');
    if (bits === undefined || more.length > 0 || !/^[0-9]+$/.test(bits)) return false;
    if (isIPv4(ip)) return Number(bits) <= 32;
    return isIPv6(ip) && Number(bits) <= 128;
  },
  mac: (s) =>
    /^[0-9a-fA-F]{2}([:-])(?:[0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}$/.test(s) ||
    /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(s),
  hostname: (s) =>
    s.length <= 255 &&
    /^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$/u.test(
      s,
    ),
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) =>
    /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/.test(
      s,
    ),
  ssn: (s) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  bsonobjectid: (s) => /^[0-9a-fA-F]{24}$/.test(s),
  email: (s) => /^[^@\s]+@[^@\s]+$/.test(s),
};

function compilePattern(pattern: string): RegExp | undefined {
  let src = pattern;
  let flags = '';
  if (src.startsWith('(?i)')) {
    src = src.slice(4);
    flags = 'i';
  }
  try {
    return new RegExp(src, flags + 'u');
  } catch {
    try {
      return new RegExp(src, flags);
    } catch {
      return undefined;
    }
  }
}

/** Go's reflect.DeepEqual on decoded JSON. */
function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((x, i) => deepEqual(x, b[i] ?? null))
    );
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k] ?? null, b[k] ?? null))
    );
  }
  return false;
}

/** kube-openapi's enum match: the value converted to the enum entry's Go type, then DeepEqual. */
function enumMatches(data: Json, entry: Json): boolean {
  if (entry === null || data === null) return false;
  if (typeof entry === 'number' && typeof data === 'number') {
    if (isInt(entry)) return Math.trunc(data) === entry;
    return data === entry;
  }
  if (typeof entry === 'string' && typeof data === 'number') {
    if (!isInt(data)) return false;
    const cp = data >= 0 && data <= 0x10ffff && !(data >= 0xd800 && data <= 0xdfff) ? data : 0xfffd;
    return String.fromCodePoint(cp) === entry;
  }
  return deepEqual(data, entry);
}

/** Go's float64 → int64 conversion of a bound (truncation toward zero). */
const toInt64 = (n: number): number => Math.trunc(n);

/** swag.IsFloat64AJSONInteger: integral within a relative epsilon of 1e-9. */
function isJsonInteger(f: number): boolean {
  if (!Number.isFinite(f)) return false;
  if (Number.isInteger(f)) return true;
  const g = Math.trunc(f);
  const diff = Math.abs(f - g);
  return diff / Math.min(Math.abs(f) + Math.abs(g), Number.MAX_VALUE) < 1e-9;
}

export interface ValidateOptions {
  /**
   * Order in which an object's declared properties are visited (errors of sibling properties come out in
   * this order). kube iterates a Go map here, so its order is random; the default — names sorted, then
   * rotated to start with the last — is one order kube produces and the one recorded in the fixtures.
   */
  propertyOrder?: (names: string[]) => string[];
}

export const defaultPropertyOrder = (names: string[]): string[] => {
  const sorted = [...names].sort();
  const last = sorted.pop();
  return last === undefined ? sorted : [last, ...sorted];
};

class SchemaValidator {
  readonly errors: SchemaError[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly order: (names: string[]) => string[]) {}

  private add(e: SchemaError): void {
    if (this.seen.has(e.message)) return;
    this.seen.add(e.message);
    this.errors.push(e);
  }

  /** Validates `data` against a subschema (allOf/anyOf/oneOf/not branch) into a separate result. */
  private sub(data: Json, s: Schema, path: string): SchemaValidator {
    const v = new SchemaValidator(this.order);
    v.value(data, s, path);
    return v;
  }

  private merge(other: SchemaValidator): void {
    for (const e of other.errors) this.add(e);
  }

  value(data: Json, s: Schema, path: string): void {
    if (data === null) {
      this.typeCheck(data, s, path);
      this.enumCheck(data, s, path);
      return;
    }
    this.typeCheck(data, s, path);
    this.schemaProps(data, s, path);
    if (typeof data === 'string') {
      this.stringCheck(data, s, path);
      this.formatCheck(data, s, path);
    }
    if (typeof data === 'number') this.numberCheck(data, s, path);
    if (Array.isArray(data)) this.sliceCheck(data, s, path);
    this.enumCheck(data, s, path);
    if (isObject(data)) this.objectCheck(data, s, path);
  }

  private typeCheck(data: Json, s: Schema, path: string): void {
    const types = typesOf(s);
    const format = formatOf(s);
    if (types.length === 0 && format === '') return;
    if (data === null) {
      if (types.length > 0 && !types.includes('null') && !isNullable(s)) {
        this.add(typeError(path, types.join(','), 'null'));
      }
      return;
    }
    const [schType, dataFormat] = dataType(data);
    const stringOrSlice = typeof data === 'string' || Array.isArray(data);
    const isFloatInt =
      typeof data === 'number' && schType === 'number' && isJsonInteger(data) && types.includes('integer');
    const isIntFloat = schType === 'integer' && types.includes('number');
    if (
      !stringOrSlice &&
      format !== '' &&
      !(types.includes(schType) || dataFormat === format || isFloatInt || isIntFloat)
    ) {
      this.add(typeError(path, format, dataFormat));
      return;
    }
    if (!(types.includes('number') || types.includes('integer')) && format !== '' && stringOrSlice) return;
    if (!(types.includes(schType) || isFloatInt || isIntFloat))
      this.add(typeError(path, types.join(','), schType));
  }

  private schemaProps(data: Json, s: Schema, path: string): void {
    const list = (k: string): Schema[] => {
      const v = s[k];
      return Array.isArray(v) ? v.filter(isObject) : [];
    };
    const anyOf = list('anyOf');
    if (anyOf.length > 0) {
      let best: SchemaValidator | undefined;
      let success: SchemaValidator | undefined;
      for (const branch of anyOf) {
        const r = this.sub(data, branch, path);
        if (r.errors.length === 0) {
          success = r;
          best = undefined;
          break;
        }
        best ??= r;
      }
      if (!success) this.add(composite(`${goQuote(path)} must validate at least one schema (anyOf)`));
      if (best) this.merge(best);
    }
    const oneOf = list('oneOf');
    if (oneOf.length > 0) {
      let validated = 0;
      let best: SchemaValidator | undefined;
      for (const branch of oneOf) {
        const r = this.sub(data, branch, path);
        if (r.errors.length === 0) {
          validated++;
          best = undefined;
          continue;
        }
        if (validated === 0) best ??= r;
      }
      if (validated !== 1) {
        const more = validated === 0 ? 'Found none valid' : `Found ${validated} valid alternatives`;
        this.add(composite(`${goQuote(path)} must validate one and only one schema (oneOf). ${more}`));
        if (best) this.merge(best);
      }
    }
    const allOf = list('allOf');
    if (allOf.length > 0) {
      let validated = 0;
      for (const branch of allOf) {
        const r = this.sub(data, branch, path);
        if (r.errors.length === 0) validated++;
        this.merge(r);
      }
      if (validated !== allOf.length) {
        const more = validated === 0 ? '. None validated' : '';
        this.add(composite(`${goQuote(path)} must validate all the schemas (allOf)${more}`));
      }
    }
    const not = s['not'];
    if (isObject(not) && this.sub(data, not, path).errors.length === 0) {
      this.add(composite(`${goQuote(path)} must not validate the schema (not)`));
    }
  }

  /** kube-openapi's string checks stop at the first failure: maxLength, minLength, pattern. */
  private stringCheck(data: string, s: Schema, path: string): void {
    const runes = [...data].length;
    const maxLength = s['maxLength'];
    if (typeof maxLength === 'number' && runes > maxLength) {
      this.add({
        kind: 'tooLong',
        name: path,
        value: data,
        max: maxLength,
        message: `${path} in body should be at most ${maxLength} chars long`,
      });
      return;
    }
    const minLength = s['minLength'];
    if (typeof minLength === 'number' && runes < minLength) {
      this.add({
        kind: 'invalid',
        name: path,
        value: data,
        message: `${path} in body should be at least ${minLength} chars long`,
      });
      return;
    }
    const pattern = s['pattern'];
    if (typeof pattern === 'string' && pattern !== '') {
      const re = compilePattern(pattern);
      if (re === undefined) {
        this.add({
          kind: 'invalid',
          name: path,
          value: data,
          message: `${path} in body should match '${pattern}, but pattern is invalid'`,
        });
      } else if (!re.test(data)) {
        this.add({
          kind: 'invalid',
          name: path,
          value: data,
          message: `${path} in body should match '${pattern}'`,
        });
      }
    }
  }

  private formatCheck(data: string, s: Schema, path: string): void {
    const format = formatOf(s);
    const check = formatCheckers[format.replaceAll('-', '')];
    if (check !== undefined && !check(data)) this.add(typeError(path, format, data));
  }

  /** multipleOf, then minimum, then maximum; integer data is compared with bounds truncated to int64. */
  private numberCheck(data: number, s: Schema, path: string): void {
    const intData = isInt(data);
    const multipleOf = s['multipleOf'];
    if (typeof multipleOf === 'number' && multipleOf !== 0) {
      const bad = intData && isInt(multipleOf) ? data % multipleOf !== 0 : !isJsonInteger(data / multipleOf);
      if (bad) {
        this.add({
          kind: 'invalid',
          name: path,
          value: data,
          message: `${path} in body should be a multiple of ${goNumber(multipleOf)}`,
        });
      }
    }
    const minimum = s['minimum'];
    if (typeof minimum === 'number') {
      const exclusive = s['exclusiveMinimum'] === true;
      const bound = intData ? toInt64(minimum) : minimum;
      if (exclusive ? data <= bound : data < bound) {
        const shown = intData ? String(bound) : goFloat(bound);
        this.add({
          kind: 'invalid',
          name: path,
          value: data,
          message: `${path} in body should be greater than${exclusive ? '' : ' or equal to'} ${shown}`,
        });
      }
    }
    const maximum = s['maximum'];
    if (typeof maximum === 'number') {
      const exclusive = s['exclusiveMaximum'] === true;
      const bound = intData ? toInt64(maximum) : maximum;
      if (exclusive ? data >= bound : data > bound) {
        const shown = intData ? String(bound) : goFloat(bound);
        this.add({
          kind: 'invalid',
          name: path,
          value: data,
          message: `${path} in body should be less than${exclusive ? '' : ' or equal to'} ${shown}`,
        });
      }
    }
  }

  private sliceCheck(data: Json[], s: Schema, path: string): void {
    const items = itemsOf(s);
    if (items !== undefined) data.forEach((v, i) => this.value(v, items, `${path}[${i}]`));
    const minItems = s['minItems'];
    if (typeof minItems === 'number' && data.length < minItems) {
      this.add({
        kind: 'invalid',
        name: path,
        value: data.length,
        message: `${path} in body should have at least ${minItems} items`,
      });
    }
    const maxItems = s['maxItems'];
    if (typeof maxItems === 'number' && data.length > maxItems) {
      this.add({
        kind: 'tooMany',
        name: path,
        actual: data.length,
        max: maxItems,
        message: `${path} in body should have at most ${maxItems} items`,
      });
    }
    if (s['uniqueItems'] === true && data.some((v, i) => data.slice(i + 1).some((w) => deepEqual(v, w)))) {
      this.add({ kind: 'invalid', name: path, message: `${path} in body shouldn't contain duplicates` });
    }
  }

  private enumCheck(data: Json, s: Schema, path: string): void {
    const values = s['enum'];
    if (!Array.isArray(values) || values.length === 0) return;
    if (values.some((e) => enumMatches(data, e))) return;
    this.add({
      kind: 'enum',
      name: path,
      value: data,
      enumValues: values,
      message: `${path} in body should be one of ${goEnumList(values)}`,
    });
  }

  private objectCheck(data: JsonObject, s: Schema, path: string): void {
    const numKeys = Object.keys(data).length;
    const minProperties = s['minProperties'];
    if (typeof minProperties === 'number' && numKeys < minProperties) {
      this.add({
        kind: 'invalid',
        name: path,
        value: minProperties,
        message: `${path} in body should have at least ${minProperties} properties`,
      });
      return;
    }
    const maxProperties = s['maxProperties'];
    if (typeof maxProperties === 'number' && numKeys > maxProperties) {
      this.add({
        kind: 'tooMany',
        name: path,
        actual: numKeys,
        max: maxProperties,
        message: `${path} in body should have at most ${maxProperties} properties`,
      });
      return;
    }
    const props = propertiesOf(s) ?? {};
    const additional = s['additionalProperties'];
    if (isObject(additional)) {
      for (const [k, v] of Object.entries(data)) {
        if (!Object.hasOwn(props, k)) this.value(v, additional, `${path}.${k}`);
      }
    }
    for (const name of this.order(Object.keys(props))) {
      const p = props[name];
      if (!isObject(p) || !Object.hasOwn(data, name)) continue;
      this.value(data[name] ?? null, p, path === '' ? name : `${path}.${name}`);
    }
    const req = s['required'];
    if (Array.isArray(req)) {
      for (const k of req) {
        if (typeof k === 'string' && !Object.hasOwn(data, k)) {
          this.add({ kind: 'required', name: `${path}.${k}`, message: `${path}.${k} in body is required` });
        }
      }
    }
  }
}

function composite(message: string): SchemaError {
  return { kind: 'composite', name: '', message };
}

/** Go's %v of the enum list: `[small large]`. */
function goEnumList(values: Json[]): string {
  const v = (x: Json): string => {
    if (x === null) return '<nil>';
    if (typeof x === 'string') return x;
    if (typeof x === 'number') return goNumber(x);
    if (typeof x === 'boolean') return String(x);
    if (Array.isArray(x)) return `[${x.map(v).join(' ')}]`;
    return `map[${Object.keys(x)
      .sort()
      .map((k) => `${k}:${v(x[k] ?? null)}`)
      .join(' ')}]`;
  };
  return `[${values.map(v).join(' ')}]`;
}

function toCause(e: SchemaError): StatusCause {
  if (e.kind === 'composite') return invalid('<nil>', '', e.message);
  const trimmed = e.name.startsWith('.') ? e.name.slice(1) : e.name;
  const field = trimmed === '' ? '<nil>' : trimmed;
  const value: BadValue = e.value ?? '';
  switch (e.kind) {
    case 'required':
      return required(field);
    case 'enum':
      return notSupported(
        field,
        value,
        (e.enumValues ?? []).map((v) => (typeof v === 'string' ? v : goJsonMarshal(v))),
      );
    case 'tooLong':
      return tooLongMaxLength(field, e.max ?? -1);
    case 'tooMany':
      return tooMany(field, e.actual ?? -1, e.max ?? -1);
    case 'type':
      return typeInvalid(field, value, e.message);
    case 'invalid':
      return invalid(field, value, e.message);
  }
}

/**
 * The schema's value validations on `obj` as Status causes, worded and ordered as kube does: per value
 * type → allOf/anyOf/oneOf/not → string (maxLength, minLength, pattern) → format → number (multipleOf,
 * minimum, maximum) → items and minItems/maxItems → enum → object (properties, then required). Identical
 * messages are reported once. Run it on the pruned and defaulted object.
 */
export function validate(obj: JsonObject, schema: JsonObject, opts: ValidateOptions = {}): StatusCause[] {
  const v = new SchemaValidator(opts.propertyOrder ?? defaultPropertyOrder);
  v.value(obj, schema, '');
  return v.errors.map(toCause);
}

// ---------------------------------------------------------------------------------------------
// Embedded resources and list types (kube checks them after the schema and scale checks).

function embeddedResourceCauses(path: string, x: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  if (!Object.hasOwn(x, 'apiVersion')) out.push(required(`${path}.apiVersion`, 'must not be empty'));
  if (!Object.hasOwn(x, 'kind')) out.push(required(`${path}.kind`, 'must not be empty'));
  for (const [k, v] of Object.entries(x)) {
    if (k === 'apiVersion') {
      if (typeof v !== 'string') out.push(invalid(`${path}.apiVersion`, v, 'must be a string'));
      else if (v === '') out.push(invalid(`${path}.apiVersion`, v, 'must not be empty'));
      else if (v.split('/').length > 2) {
        out.push(invalid(`${path}.apiVersion`, v, `unexpected GroupVersion string: ${v}`));
      }
    } else if (k === 'kind') {
      if (typeof v !== 'string') out.push(invalid(`${path}.kind`, v, 'must be a string'));
      else if (v === '') out.push(invalid(`${path}.kind`, v, 'must not be empty'));
      else {
        const errs = dns1035Label(v.toLowerCase());
        if (errs.length > 0) {
          out.push(
            invalid(`${path}.kind`, v, `may have mixed case, but should otherwise match: ${errs.join(',')}`),
          );
        }
      }
    } else if (k === 'metadata' && isObject(v)) {
      // A name is optional in an embedded object; kube validates a stand-in so no error is reported for it.
      const meta: JsonObject = { ...v };
      if (typeof meta['name'] !== 'string' || meta['name'] === '') meta['name'] = 'fakename';
      const namespaced = typeof meta['namespace'] === 'string' && meta['namespace'] !== '';
      out.push(
        ...validateObjectMeta(meta, { namespaced, nameFn: nameIsPathSegment, path: `${path}.metadata` }),
      );
    }
  }
  return out;
}

/**
 * x-kubernetes-embedded-resource objects below the root: apiVersion and kind required and well formed,
 * metadata validated as ObjectMeta (name optional, namespace checked only when set).
 */
export function validateEmbedded(obj: JsonObject, schema: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const walk = (x: Json, s: Schema | undefined, path: string, root: boolean): void => {
    if (s === undefined) return;
    if (isObject(x)) {
      if (!root && isEmbedded(s)) out.push(...embeddedResourceCauses(path, x));
      const additional = additionalOf(s);
      for (const [k, v] of Object.entries(x)) {
        const child = propertyOf(s, k);
        if (child !== undefined) walk(v, child, joinKey(path, k), false);
        else if (additional !== undefined && additional !== anything)
          walk(v, additional, `${path}[${k}]`, false);
      }
    } else if (Array.isArray(x)) {
      const items = itemsOf(s);
      x.forEach((v, i) => walk(v, items, `${path}[${i}]`, false));
    }
  };
  walk(obj, schema, '', true);
  return out;
}

/**
 * x-kubernetes-list-type set (no duplicate items) and map (no two items with the same
 * x-kubernetes-list-map-keys values): `Duplicate value: ...` at the later item's index.
 */
export function validateListTypes(obj: JsonObject, schema: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const dup = (field: string, v: Json): StatusCause =>
    duplicate(field, isObject(v) || Array.isArray(v) ? new GoLiteral(goSharpV(v)) : v);
  const walk = (x: Json, s: Schema | undefined, path: string): void => {
    if (s === undefined) return;
    if (Array.isArray(x)) {
      const listType = s['x-kubernetes-list-type'];
      if (listType === 'set') {
        x.forEach((v, i) => {
          if (x.slice(0, i).some((w) => deepEqual(v, w))) out.push(dup(`${path}[${i}]`, v));
        });
      } else if (listType === 'map') {
        const keysJson = s['x-kubernetes-list-map-keys'];
        const keys = Array.isArray(keysJson)
          ? keysJson.filter((k): k is string => typeof k === 'string')
          : [];
        const seen: JsonObject[] = [];
        x.forEach((v, i) => {
          if (!isObject(v)) return;
          const id: JsonObject = {};
          for (const k of keys) if (Object.hasOwn(v, k)) id[k] = v[k] ?? null;
          if (seen.some((o) => deepEqual(o, id))) out.push(dup(`${path}[${i}]`, id));
          else seen.push(id);
        });
      }
      const items = itemsOf(s);
      x.forEach((v, i) => walk(v, items, `${path}[${i}]`));
    } else if (isObject(x)) {
      const additional = additionalOf(s);
      for (const [k, v] of Object.entries(x)) {
        const p = propertyOf(s, k);
        if (p !== undefined) walk(v, p, joinKey(path, k));
        else if (additional !== undefined && additional !== anything) walk(v, additional, `${path}[${k}]`);
      }
    }
  };
  walk(obj, schema, '');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scale subresource paths.

export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** Go's %v of a decoded JSON value. */
function goV(v: Json | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goV).join(' ')}]`;
  return `map[${Object.keys(v)
    .sort()
    .map((k) => `${k}:${goV(v[k])}`)
    .join(' ')}]`;
}

/** Go's %T of a decoded JSON value. */
function goT(v: Json | undefined): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return isInt(v) ? 'int64' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

type Nested = { found: false } | { found: true; value: Json } | { error: string };

/** unstructured.NestedFieldNoCopy on a `.a.b.c` path. */
function nestedField(obj: JsonObject, dottedPath: string): Nested {
  const fields = dottedPath.replace(/^\./, '').split('.');
  let val: Json = obj;
  for (let i = 0; i < fields.length; i++) {
    if (val === null) return { found: false };
    if (!isObject(val)) {
      return {
        error: `.${fields.slice(0, i + 1).join('.')} accessor error: ${goV(val)} is of the type ${goT(val)}, expected map[string]interface{}`,
      };
    }
    const key = fields[i] ?? '';
    if (!Object.hasOwn(val, key)) return { found: false };
    val = val[key] ?? null;
  }
  return { found: true, value: val };
}

function replicasCauses(obj: JsonObject, path: string): StatusCause[] {
  const r = nestedField(obj, path);
  if ('error' in r) return [invalid(path, 0, r.error)];
  if (!r.found) return [];
  const v = r.value;
  if (typeof v !== 'number' || !isInt(v)) {
    const jsonPath = `.${path.replace(/^\./, '')}`;
    return [
      invalid(path, 0, `${jsonPath} accessor error: ${goV(v)} is of the type ${goT(v)}, expected int64`),
    ];
  }
  if (v < 0) return [invalid(path, v, 'should be a non-negative integer')];
  if (v > 2147483647) return [invalid(path, v, 'should be less than or equal to 2147483647')];
  return [];
}

/** The scale checks of the main resource's spec replicas path (field is the path as written: `.spec.replicas`). */
export function validateScaleSpec(obj: JsonObject, scale: ScalePaths): StatusCause[] {
  return replicasCauses(obj, scale.specReplicasPath);
}

/** The scale checks of the status replicas path and the label selector path (a string if present). */
export function validateScaleStatus(obj: JsonObject, scale: ScalePaths): StatusCause[] {
  const out = replicasCauses(obj, scale.statusReplicasPath);
  if (scale.labelSelectorPath !== undefined) {
    const r = nestedField(obj, scale.labelSelectorPath);
    if ('error' in r) out.push(invalid(scale.labelSelectorPath, '', r.error));
    else if (r.found && typeof r.value !== 'string') {
      const jsonPath = `.${scale.labelSelectorPath.replace(/^\./, '')}`;
      out.push(
        invalid(
          scale.labelSelectorPath,
          '',
          `${jsonPath} accessor error: ${goV(r.value)} is of the type ${goT(r.value)}, expected string`,
        ),
      );
    }
  }
  return out;
}

/** Both scale checks, spec first, as kube adds them after the schema's causes. */
export function validateScaleReplicas(obj: JsonObject, scale: ScalePaths): StatusCause[] {
  return [...validateScaleSpec(obj, scale), ...validateScaleStatus(obj, scale)];
}

// ---------------------------------------------------------------------------------------------
// fieldValidation: unknown and duplicate fields.

export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

/**
 * The `fieldValidation` query parameter (absent or empty: Warn). Any other value is a 422 worded as kube
 * words it for the verb's options kind (CreateOptions, UpdateOptions, PatchOptions).
 */
export function parseFieldValidation(
  value: string | null | undefined,
  verb: 'create' | 'update' | 'patch',
): Result<FieldValidationMode> {
  if (value === null || value === undefined || value === '') return ok('Warn');
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return ok(value);
  const kind = { create: 'CreateOptions', update: 'UpdateOptions', patch: 'PatchOptions' }[verb];
  const causes = [notSupported('fieldValidation', value, ['Ignore', 'Strict', 'Warn'])];
  return fail(422, 'Invalid', formatInvalidMessage(`${kind}.meta.k8s.io`, '', causes), causes);
}

/**
 * Paths of keys that occur more than once in the same JSON object of `raw` (`spec.name`,
 * `spec.items[0].name`), in document order of the repeated occurrence. Malformed JSON yields what was
 * found before the error; the caller reports parse errors itself.
 */
export function findDuplicateFields(raw: string): string[] {
  const dups: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < raw.length && ' \t\n\r'.includes(raw[i] ?? '')) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < raw.length && raw[i] !== '"') i += raw[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(raw.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = raw[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (raw[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (raw[i] !== '"') throw new Error('key expected');
        const key = str();
        const p = joinKey(path, key);
        if (keys.has(key)) dups.push(p);
        keys.add(key);
        ws();
        if (raw[i] !== ':') throw new Error('colon expected');
        i++;
        value(p);
        ws();
        if (raw[i] === ',') {
          i++;
          continue;
        }
        if (raw[i] === '}') {
          i++;
          return;
        }
        throw new Error('object not closed');
      }
    } else if (c === '[') {
      i++;
      ws();
      if (raw[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        if (raw[i] === ',') {
          i++;
          continue;
        }
        if (raw[i] === ']') {
          i++;
          return;
        }
        throw new Error('array not closed');
      }
    } else if (c === '"') {
      str();
    } else {
      const m = /^-?[0-9.eE+-]+|^true|^false|^null/.exec(raw.slice(i, i + 400));
      if (!m) throw new Error('value expected');
      i += m[0].length;
    }
  };
  try {
    value('');
  } catch {
    // Malformed input: report what was seen.
  }
  return dups;
}

const duplicateText = (path: string): string => `duplicate field ${goQuote(path)}`;
const unknownText = (path: string): string => `unknown field "${path}"`;

/** A Warning header value as kube sends it: `299 - "unknown field \"spec.bogus\""`. */
export function warningHeader(text: string): string {
  return `299 - "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * fieldValidation of a raw JSON body: duplicate fields (from the text), then, given a schema, unknown
 * fields (what prune() would drop). Ignore: ok([]); Warn: ok with the Warning texts (`duplicate field
 * "spec.name"`, `unknown field "spec.bogus"`); Strict with any: a failure whose message is just
 * `strict decoding error: <texts joined by ", ">` (checkBodyFields/checkPatchFields wrap it as kube does).
 * A body that is not JSON yields ok([]): parse errors are reported elsewhere. A mode other than the
 * three is treated as Warn (parseFieldValidation rejects it earlier).
 */
export function fieldValidationProblems(
  rawBody: string,
  schema: JsonObject | undefined,
  mode: string,
): Result<string[]> {
  if (mode === 'Ignore') return ok([]);
  let parsed: Json;
  try {
    parsed = JSON.parse(rawBody) as Json;
  } catch {
    return ok([]);
  }
  const texts = findDuplicateFields(rawBody).map(duplicateText);
  if (schema !== undefined && isObject(parsed)) texts.push(...unknownFields(parsed, schema).map(unknownText));
  if (mode !== 'Strict' || texts.length === 0) return ok(texts);
  return fail(400, 'BadRequest', `strict decoding error: ${texts.join(', ')}`);
}

export interface BodyFieldCheck {
  mode: FieldValidationMode;
  /** Kind and version of the resource, for the 400 message: `Widget in version "v1" cannot be handled as a Widget`. */
  kind: string;
  version: string;
}

/**
 * fieldValidation for a POST/PUT body. Strict with unknown or duplicate fields: 400 BadRequest
 * `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error: ...`; otherwise ok with
 * the Warning texts (none for Ignore). `rawBody` must be JSON (convert YAML first).
 */
export function checkBodyFields(
  rawBody: string,
  schema: JsonObject,
  check: BodyFieldCheck,
): Result<string[]> {
  const r = fieldValidationProblems(rawBody, schema, check.mode);
  if (r.ok) return r;
  return fail(
    400,
    'BadRequest',
    `${check.kind} in version ${goQuote(check.version)} cannot be handled as a ${check.kind}: ${r.error.message}`,
  );
}

export interface PatchFieldCheck {
  mode: FieldValidationMode;
  /** The object after applying the patch, before pruning. */
  patched: JsonObject;
  /**
   * The patched object as kube serialises it into the 422 message; default: goJsonMarshal(patched)
   * (sorted keys, as for custom resources). Built-in kinds serialise in struct field order: pass it.
   */
  patchedJson?: string;
  /** The raw body of a JSON merge patch, checked for duplicate fields; omit for other patch types. */
  mergePatchBody?: string;
}

function strictPatchFailure(value: string, texts: string[]): Result<string[]> {
  const causes = [invalid('patch', value, `strict decoding error: ${texts.join(', ')}`)];
  return fail(422, 'Invalid', formatInvalidMessage('', '', causes), causes);
}

/**
 * fieldValidation for a PATCH: duplicate fields of a merge patch body, then unknown fields of the patched
 * object. Strict: 422 Invalid ` "" is invalid: patch: Invalid value: "<json>": strict decoding error: ...`
 * (the patch body for duplicates, the patched object for unknown fields); Warn: the Warning texts.
 */
export function checkPatchFields(schema: JsonObject, check: PatchFieldCheck): Result<string[]> {
  if (check.mode === 'Ignore') return ok([]);
  const warnings: string[] = [];
  if (check.mergePatchBody !== undefined) {
    const dups = findDuplicateFields(check.mergePatchBody).map(duplicateText);
    if (check.mode === 'Strict' && dups.length > 0) return strictPatchFailure(check.mergePatchBody, dups);
    warnings.push(...dups);
  }
  const unknown = unknownFields(check.patched, schema).map(unknownText);
  if (check.mode === 'Strict' && unknown.length > 0) {
    return strictPatchFailure(check.patchedJson ?? goJsonMarshal(check.patched), unknown);
  }
  return ok([...warnings, ...unknown]);
}

/** Go's encoding/json string literal (go1.19): HTML-safe, control characters as \u00XX except \n \r \t. */
function goJsonString(str: string): string {
  let out = '"';
  for (const ch of str) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || ch === '<' || ch === '>' || ch === '&' || cp === 0x2028 || cp === 0x2029) {
      out += `\\u${cp.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out + '"';
}

/** Go's encoding/json of decoded JSON: map keys sorted, strings as goJsonString. */
export function goJsonMarshal(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  if (typeof v === 'string') return goJsonString(v);
  if (Array.isArray(v)) return `[${v.map(goJsonMarshal).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${goJsonString(k)}:${goJsonMarshal(v[k] ?? null)}`)
    .join(',')}}`;
}
