// Test helper: checks a `fromObject`-shaped resource against its proto type (fromObject silently drops
// misspelled fields): fields exist (Anys by @type), values fit, one field per oneof, no deprecated fields, PGV rules hold.
import protobuf from 'protobufjs';

const ANY = 'google.protobuf.Any';
const WRAPPERS = new Set([
  'google.protobuf.DoubleValue',
  'google.protobuf.FloatValue',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.BoolValue',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
]);
const INT_RANGES: Record<string, [number, number]> = {
  int32: [-2147483648, 2147483647],
  sint32: [-2147483648, 2147483647],
  sfixed32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  fixed32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};

type Rules = { [key: string]: unknown };

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const fullName = (t: protobuf.ReflectionObject): string => t.fullName.replace(/^\./, '');

/** The field's (validate.rules), merged from protobufjs's parsedOptions. */
function validateRules(field: protobuf.Field): Rules | undefined {
  let out: Rules | undefined;
  for (const opt of (field.parsedOptions ?? []) as Array<Record<string, unknown>>) {
    const r = opt['(validate.rules)'];
    if (isPlainObject(r)) out = { ...(out ?? {}), ...r };
  }
  return out;
}

const rulesAt = (r: Rules | undefined, key: string): Rules | undefined => {
  const v = r?.[key];
  return isPlainObject(v) ? v : undefined;
};

function numberRules(path: string, value: number, r: Rules | undefined, out: string[]): void {
  if (!r) return;
  const n = (k: string): number | undefined => {
    const v = r[k];
    return typeof v === 'number' ? v : undefined;
  };
  const gt = n('gt');
  const gte = n('gte');
  const lt = n('lt');
  const lte = n('lte');
  if (gt !== undefined && !(value > gt)) out.push(`${path}: ${value} must be > ${gt}`);
  if (gte !== undefined && !(value >= gte)) out.push(`${path}: ${value} must be >= ${gte}`);
  if (lt !== undefined && !(value < lt)) out.push(`${path}: ${value} must be < ${lt}`);
  if (lte !== undefined && !(value <= lte)) out.push(`${path}: ${value} must be <= ${lte}`);
}

const durationNanos = (d: unknown): number =>
  isPlainObject(d) ? Number(d.seconds ?? 0) * 1e9 + Number(d.nanos ?? 0) : 0;

/**
 * Every problem of `value` as a `type` message, as `path: message` lines; [] when it is fine.
 * `root` resolves the @type of Any fields.
 */
export function checkProtoObject(
  root: protobuf.Root,
  type: protobuf.Type,
  value: unknown,
  path = '$',
): string[] {
  const out: string[] = [];
  checkMessage(root, type, value, path, out);
  return out;
}

function checkMessage(
  root: protobuf.Root,
  type: protobuf.Type,
  value: unknown,
  path: string,
  out: string[],
): void {
  if (!isPlainObject(value)) {
    out.push(`${path}: expected a ${fullName(type)} object, got ${JSON.stringify(value)}`);
    return;
  }
  if (fullName(type) === ANY) {
    const url = value['@type'];
    if (typeof url !== 'string' || !url.startsWith('type.googleapis.com/')) {
      out.push(`${path}: an Any needs '@type': 'type.googleapis.com/<message>'`);
      return;
    }
    let inner: protobuf.Type;
    try {
      inner = root.lookupType(url.slice('type.googleapis.com/'.length));
    } catch {
      out.push(`${path}: unknown @type ${url}`);
      return;
    }
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== '@type'));
    checkMessage(root, inner, rest, `${path}<${fullName(inner)}>`, out);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const field = type.fields[key];
    const p = `${path}.${key}`;
    if (!field) {
      out.push(`${p}: ${fullName(type)} has no field ${key}`);
      continue;
    }
    field.resolve();
    if (field.options?.deprecated === true) out.push(`${p}: deprecated field`);
    const rules = validateRules(field);
    if (field.map) {
      if (!isPlainObject(v)) {
        out.push(`${p}: a map field needs an object`);
        continue;
      }
      for (const [k, item] of Object.entries(v)) checkValue(root, field, item, `${p}[${k}]`, undefined, out);
      continue;
    }
    if (field.repeated) {
      if (!Array.isArray(v)) {
        out.push(`${p}: a repeated field needs an array`);
        continue;
      }
      const rep = rulesAt(rules, 'repeated');
      const min = rep?.min_items;
      const max = rep?.max_items;
      if (typeof min === 'number' && v.length < min) out.push(`${p}: needs at least ${min} items`);
      if (typeof max === 'number' && v.length > max) out.push(`${p}: allows at most ${max} items`);
      v.forEach((item: unknown, i) =>
        checkValue(root, field, item, `${p}[${i}]`, rulesAt(rep, 'items'), out),
      );
      continue;
    }
    checkValue(root, field, v, p, rules, out);
  }
  // Required fields (PGV; a oneof member's rules apply only when it is the one set) and oneofs.
  for (const field of type.fieldsArray) {
    if (field.partOf) continue;
    const rules = validateRules(field);
    const required =
      rulesAt(rules, 'message')?.required === true ||
      rulesAt(rules, 'any')?.required === true ||
      rulesAt(rules, 'duration')?.required === true;
    if (required && value[field.name] === undefined) out.push(`${path}.${field.name}: required`);
    const str = rulesAt(rules, 'string');
    const absent = value[field.name] === undefined;
    if (typeof str?.min_len === 'number' && str.min_len > 0 && str.ignore_empty !== true && absent)
      out.push(`${path}.${field.name}: required (min_len ${str.min_len})`);
    const minItems = rulesAt(rules, 'repeated')?.min_items;
    if (field.repeated && typeof minItems === 'number' && minItems > 0 && absent)
      out.push(`${path}.${field.name}: needs at least ${minItems} items`);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter((name) => value[name] !== undefined);
    if (set.length > 1) out.push(`${path}: oneof ${oneof.name} has several fields set: ${set.join(', ')}`);
    if (set.length === 0 && oneof.options?.['(validate.required)'] === true)
      out.push(`${path}: oneof ${oneof.name} needs one of ${oneof.oneof.join(', ')}`);
  }
}

function checkValue(
  root: protobuf.Root,
  field: protobuf.Field,
  v: unknown,
  p: string,
  rules: Rules | undefined,
  out: string[],
): void {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    checkMessage(root, rt, v, p, out);
    const name = fullName(rt);
    if (WRAPPERS.has(name) && isPlainObject(v) && typeof v.value === 'number')
      for (const k of ['uint32', 'uint64', 'double', 'int32', 'int64'])
        numberRules(p, v.value, rulesAt(rules, k), out);
    if (name === 'google.protobuf.Duration' && isPlainObject(v)) {
      const d = rulesAt(rules, 'duration');
      const ns = durationNanos(v);
      for (const [k, cmp] of [
        ['gt', (a: number, b: number) => a > b],
        ['gte', (a: number, b: number) => a >= b],
        ['lt', (a: number, b: number) => a < b],
        ['lte', (a: number, b: number) => a <= b],
      ] as const) {
        const bound = d?.[k];
        if (bound !== undefined && !cmp(ns, durationNanos(bound)))
          out.push(`${p}: duration must be ${k} ${JSON.stringify(bound)}`);
      }
    }
    return;
  }
  if (rt instanceof protobuf.Enum) {
    if (typeof v === 'string' ? rt.values[v] === undefined : !Object.values(rt.values).includes(Number(v)))
      out.push(`${p}: ${JSON.stringify(v)} is not a value of enum ${fullName(rt)}`);
    const notIn = rulesAt(rules, 'enum')?.not_in;
    const num = typeof v === 'string' ? rt.values[v] : Number(v);
    if (Array.isArray(notIn) && notIn.includes(num)) out.push(`${p}: ${JSON.stringify(v)} is not allowed`);
    return;
  }
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') out.push(`${p}: expected a string, got ${JSON.stringify(v)}`);
      else {
        const s = rulesAt(rules, 'string');
        if (typeof s?.min_len === 'number' && [...v].length < s.min_len)
          out.push(`${p}: needs at least ${s.min_len} characters`);
        if (typeof s?.max_bytes === 'number' && Buffer.byteLength(v) > s.max_bytes)
          out.push(`${p}: too long`);
      }
      return;
    case 'bytes':
      if (typeof v !== 'string' && !(v instanceof Uint8Array)) out.push(`${p}: expected bytes`);
      return;
    case 'bool':
      if (typeof v !== 'boolean') out.push(`${p}: expected a boolean, got ${JSON.stringify(v)}`);
      return;
    case 'double':
    case 'float':
      if (typeof v !== 'number') out.push(`${p}: expected a number, got ${JSON.stringify(v)}`);
      else numberRules(p, v, rulesAt(rules, field.type), out);
      return;
    default: {
      const range = INT_RANGES[field.type];
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (!range || typeof n !== 'number' || !Number.isInteger(n) || n < range[0] || n > range[1])
        out.push(`${p}: expected a ${field.type}, got ${JSON.stringify(v)}`);
      else numberRules(p, n, rulesAt(rules, field.type), out);
    }
  }
}
