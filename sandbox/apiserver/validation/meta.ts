// ObjectMeta validation worded exactly as kube-apiserver v1.26 words it, plus the small name/label
// validators, Go-style value rendering and field-error constructors shared by every validator.
import type { Json, JsonObject, StatusCause } from '../types.js';
import { isObject } from '../types.js';

// ---------------------------------------------------------------------------------------------
// Go-style rendering of bad values (field.Error.ErrorBody prints them with %v, %q or %#v).

/** A bad value already rendered the way Go prints it (e.g. `0x0`, `[]string{"a"}`). */
export class GoLiteral {
  constructor(readonly text: string) {}
}

/** What a field error may carry as its bad value. */
export type BadValue = Json | GoLiteral;

function isPrintable(ch: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch);
}

/** strconv.Quote: a double-quoted Go string literal. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (isPrintable(ch)) out += ch;
    else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** Go's %v of a float64: shortest digits, exponent form (two-digit exponent) below 1e-4 and from 1e6. */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa = '', e = '0'] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6)
    return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

/** A JSON number as Go prints it once decoded into unstructured data: integers are int64, others float64. */
export function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 63) return BigInt(n).toString();
  return goFloat(n);
}

/** Go's %#v of a value decoded from JSON into interface{} (maps print with sorted keys). */
export function goSharpV(v: Json): string {
  if (v === null) return 'interface {}(nil)';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'string') return goQuote(v);
  if (Array.isArray(v)) return `[]interface {}{${v.map(goSharpV).join(', ')}}`;
  const keys = Object.keys(v).sort();
  return `map[string]interface {}{${keys.map((k) => `${goQuote(k)}:${goSharpV(v[k] ?? null)}`).join(', ')}}`;
}

/** `[]string{"a", "b"}` — Go's %#v of a string slice. */
export function goStringSlice(values: readonly string[]): GoLiteral {
  return new GoLiteral(`[]string{${values.map(goQuote).join(', ')}}`);
}

/** The bad value as field.Error.ErrorBody renders it after the type prefix. */
export function renderBadValue(value: BadValue): string {
  if (value instanceof GoLiteral) return value.text;
  if (value === null) return goQuote('null');
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'string') return goQuote(value);
  return goSharpV(value);
}

// ---------------------------------------------------------------------------------------------
// Field errors as Status causes (reason = field.ErrorType, message = ErrorBody, field = path).

function cause(reason: string, message: string, field: string): StatusCause {
  return field === '' ? { reason, message } : { reason, message, field };
}

function withDetail(s: string, detail: string): string {
  return detail === '' ? s : `${s}: ${detail}`;
}

export function required(field: string, detail = ''): StatusCause {
  return cause('FieldValueRequired', withDetail('Required value', detail), field);
}

export function forbidden(field: string, detail: string): StatusCause {
  return cause('FieldValueForbidden', withDetail('Forbidden', detail), field);
}

export function invalid(field: string, value: BadValue, detail: string): StatusCause {
  return cause('FieldValueInvalid', withDetail(`Invalid value: ${renderBadValue(value)}`, detail), field);
}

export function typeInvalid(field: string, value: BadValue, detail: string): StatusCause {
  return cause('FieldValueTypeInvalid', withDetail(`Invalid value: ${renderBadValue(value)}`, detail), field);
}

/** `Unsupported value: "medium": supported values: "small", "large"` (values quoted, in the given order). */
export function notSupported(field: string, value: BadValue, validValues: readonly string[]): StatusCause {
  const detail = validValues.length > 0 ? `supported values: ${validValues.map(goQuote).join(', ')}` : '';
  return cause(
    'FieldValueNotSupported',
    withDetail(`Unsupported value: ${renderBadValue(value)}`, detail),
    field,
  );
}

export function duplicate(field: string, value: BadValue): StatusCause {
  return cause('FieldValueDuplicate', `Duplicate value: ${renderBadValue(value)}`, field);
}

export function notFound(field: string, value: BadValue): StatusCause {
  return cause('FieldValueNotFound', `Not found: ${renderBadValue(value)}`, field);
}

/** `Too long: may not be longer than N` (field.TooLongMaxLength, used for schema maxLength). */
export function tooLongMaxLength(field: string, maxLength: number): StatusCause {
  return cause(
    'FieldValueTooLong',
    withDetail('Too long', maxLength >= 0 ? `may not be longer than ${maxLength}` : 'value is too long'),
    field,
  );
}

/** `Too long: must have at most N bytes` (the bad value is not printed for this type). */
export function tooLong(field: string, maxLength: number): StatusCause {
  return cause(
    'FieldValueTooLong',
    withDetail('Too long', maxLength >= 0 ? `must have at most ${maxLength} bytes` : 'value is too long'),
    field,
  );
}

export function tooMany(field: string, actual: number, max: number): StatusCause {
  return cause(
    'FieldValueTooMany',
    `Too many: ${actual}: ${max >= 0 ? `must have at most ${max} items` : 'has too many items'}`,
    field,
  );
}

export function internalError(field: string, detail: string): StatusCause {
  return cause('InternalError', withDetail('Internal error', detail), field);
}

/**
 * kube's Status message for a 422 Invalid: `Kind.group "name" is invalid: <causes>`; causes render as
 * `<field>: <message>`, identical renderings are shown once, and more than one is wrapped in [ ].
 * `kindWithGroup` is GroupKind.String(): `Widget.example.com`, or just `ConfigMap` for the core group.
 */
export function formatInvalidMessage(kindWithGroup: string, name: string, causes: StatusCause[]): string {
  const head = `${kindWithGroup} ${goQuote(name)} is invalid`;
  const seen = new Set<string>();
  for (const c of causes) seen.add(`${c.field ?? ''}: ${c.message ?? ''}`);
  const msgs = [...seen];
  if (msgs.length === 0) return head;
  if (msgs.length === 1) return `${head}: ${msgs[0] ?? ''}`;
  return `${head}: [${msgs.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// Name, label and qualified-name validators: each returns kube's messages, [] when valid.

function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

export const emptyError = (): string => 'must be non-empty';
export const maxLenError = (length: number): string => `must be no more than ${length} characters`;

/** Byte length as Go's len() counts it (UTF-8). */
export function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

export function dns1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!dns1123LabelRe.test(value)) {
    errs.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        dns1123LabelFmt,
        'my-name',
        '123-abc',
      ),
    );
  }
  return errs;
}

export function dns1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!dns1123SubdomainRe.test(value)) {
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        dns1123SubdomainFmt,
        'example.com',
      ),
    );
  }
  return errs;
}

export function dns1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!dns1035LabelRe.test(value)) {
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        dns1035LabelFmt,
        'my-name',
        'abc-123',
      ),
    );
  }
  return errs;
}

/** IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters. */
export function qualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const m of dns1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!qualifiedNameRe.test(name)) {
    errs.push(
      `name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`,
    );
  }
  return errs;
}

export function labelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (!labelValueRe.test(value)) {
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        labelValueFmt,
        'MyValue',
        'my_value',
        '12345',
      ),
    );
  }
  return errs;
}

/** A name validator as kube's ValidateNameFunc: `prefix` is true when validating generateName. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** generateName may end in '-': kube masks the trailing dash before validating it as a name. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name;
}

export const nameIsDnsSubdomain: NameValidator = (name, prefix) =>
  dns1123Subdomain(prefix ? maskTrailingDash(name) : name);
export const nameIsDnsLabel: NameValidator = (name, prefix) =>
  dns1123Label(prefix ? maskTrailingDash(name) : name);
export const nameIsDns1035Label: NameValidator = (name, prefix) =>
  dns1035Label(prefix ? maskTrailingDash(name) : name);

/** path.ValidatePathSegmentName: not '.' or '..' and no '/' or '%' (a prefix may be anything else). */
export const nameIsPathSegment: NameValidator = (name, prefix) => {
  if (!prefix && (name === '.' || name === '..')) return [`may not be '${name}'`];
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
};

// ---------------------------------------------------------------------------------------------
// ObjectMeta.

export const totalAnnotationSizeLimitBytes = 256 * 1024;
const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export interface ObjectMetaOptions {
  namespaced: boolean;
  /** Default true: names are DNS-1123 subdomains; false: DNS-1123 labels. Ignored when nameFn is given. */
  nameIsDnsSubdomain?: boolean;
  /** Name rule of the resource (e.g. DNS-1035 label for Services). */
  nameFn?: NameValidator;
  /**
   * Built-in (core) resources also reject finalizer names without a '/' that are not one of
   * kubernetes, orphan, foregroundDeletion. Custom resources do not.
   */
  builtInFinalizerRule?: boolean;
  /** Field path of the metadata (default `metadata`; embedded resources use e.g. `spec.template.metadata`). */
  path?: string;
}

function str(v: Json | undefined): string {
  return typeof v === 'string' ? v : '';
}

function stringMap(v: Json | undefined): [string, string][] {
  if (!isObject(v)) return [];
  return Object.entries(v).map(([k, val]) => [k, typeof val === 'string' ? val : '']);
}

function stringList(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : '')) : [];
}

export function validateLabels(labels: Json | undefined, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  for (const [k, v] of stringMap(labels)) {
    for (const m of qualifiedName(k)) out.push(invalid(field, k, m));
    for (const m of labelValue(v)) out.push(invalid(field, v, m));
  }
  return out;
}

/** Annotation keys are qualified names compared case-insensitively; keys+values at most 256 KiB. */
export function validateAnnotations(annotations: Json | undefined, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  let totalBytes = 0;
  for (const [k, v] of stringMap(annotations)) {
    for (const m of qualifiedName(k.toLowerCase())) out.push(invalid(field, k, m));
    totalBytes += byteLength(k) + byteLength(v);
  }
  if (totalBytes > totalAnnotationSizeLimitBytes) out.push(tooLong(field, totalAnnotationSizeLimitBytes));
  return out;
}

/** `v1.OwnerReference{...}` as %#v prints it; pointer fields print as an address when set. */
function goOwnerReference(ref: JsonObject): string {
  const ptr = (v: Json | undefined): string =>
    typeof v === 'boolean' ? '(*bool)(0xc000000000)' : '(*bool)(nil)';
  return (
    `v1.OwnerReference{APIVersion:${goQuote(str(ref['apiVersion']))}, Kind:${goQuote(str(ref['kind']))}, ` +
    `Name:${goQuote(str(ref['name']))}, UID:${goQuote(str(ref['uid']))}, ` +
    `Controller:${ptr(ref['controller'])}, BlockOwnerDeletion:${ptr(ref['blockOwnerDeletion'])}}`
  );
}

/** schema.FromAPIVersionAndKind: group/version of an apiVersion (version '' when unparsable). */
function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] ?? '' };
  if (parts.length === 2) return { group: parts[0] ?? '', version: parts[1] ?? '' };
  return { group: '', version: '' };
}

/** Fields are reported without an index (`metadata.ownerReferences.uid`), as kube does. */
export function validateOwnerReferences(refs: Json | undefined, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!Array.isArray(refs)) return out;
  let firstController = '';
  for (const r of refs) {
    const ref = isObject(r) ? r : {};
    const apiVersion = str(ref['apiVersion']);
    const kind = str(ref['kind']);
    const gv = splitApiVersion(apiVersion);
    if (gv.version === '') out.push(invalid(`${field}.apiVersion`, apiVersion, 'version must not be empty'));
    if (kind === '') out.push(invalid(`${field}.kind`, kind, 'kind must not be empty'));
    const name = str(ref['name']);
    if (name === '') out.push(invalid(`${field}.name`, name, 'name must not be empty'));
    const uid = str(ref['uid']);
    if (uid === '') out.push(invalid(`${field}.uid`, uid, 'uid must not be empty'));
    if (gv.group === '' && gv.version === 'v1' && kind === 'Event') {
      out.push(
        invalid(
          field,
          new GoLiteral(goOwnerReference(ref)),
          '/v1, Kind=Event is disallowed from being an owner',
        ),
      );
    }
    if (ref['controller'] === true) {
      const current = `${kind}/${name}`;
      if (firstController !== '') {
        const all = refs.map((x) => goOwnerReference(isObject(x) ? x : {})).join(', ');
        out.push(
          invalid(
            field,
            new GoLiteral(`[]v1.OwnerReference{${all}}`),
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return out;
}

export function validateFinalizers(
  finalizers: Json | undefined,
  field: string,
  builtInFinalizerRule = false,
): StatusCause[] {
  const out: StatusCause[] = [];
  const list = stringList(finalizers);
  for (const f of list) for (const m of qualifiedName(f)) out.push(invalid(field, f, m));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    out.push(
      invalid(field, goStringSlice(list), 'finalizer orphan and foregroundDeletion cannot be both set'),
    );
  }
  if (builtInFinalizerRule) {
    for (const f of list) {
      if (!f.includes('/') && !standardFinalizers.has(f)) {
        out.push(invalid(field, f, 'name is neither a standard finalizer name nor is it fully qualified'));
      }
    }
  }
  return out;
}

/**
 * ValidateObjectMetaAccessor: the metadata checks of a create, in kube's order (generateName, name,
 * namespace, generation, labels, annotations, ownerReferences, finalizers). Paths are rooted at
 * `opts.path` (default `metadata`).
 */
export function validateObjectMeta(meta: JsonObject | undefined, opts: ObjectMetaOptions): StatusCause[] {
  const m = meta ?? {};
  const out: StatusCause[] = [];
  const at = (field: string): string => `${opts.path ?? 'metadata'}.${field}`;
  const nameFn: NameValidator =
    opts.nameFn ?? (opts.nameIsDnsSubdomain === false ? nameIsDnsLabel : nameIsDnsSubdomain);
  const generateName = str(m['generateName']);
  if (generateName !== '') {
    for (const msg of nameFn(generateName, true)) out.push(invalid(at('generateName'), generateName, msg));
  }
  const name = str(m['name']);
  if (name === '') out.push(required(at('name'), 'name or generateName is required'));
  else for (const msg of nameFn(name, false)) out.push(invalid(at('name'), name, msg));
  const namespace = str(m['namespace']);
  if (opts.namespaced) {
    if (namespace === '') out.push(required(at('namespace')));
    else for (const msg of dns1123Label(namespace)) out.push(invalid(at('namespace'), namespace, msg));
  } else if (namespace !== '') {
    out.push(forbidden(at('namespace'), 'not allowed on this type'));
  }
  const generation = m['generation'];
  if (typeof generation === 'number' && generation < 0) {
    out.push(invalid(at('generation'), generation, 'must be greater than or equal to 0'));
  }
  out.push(...validateLabels(m['labels'], at('labels')));
  out.push(...validateAnnotations(m['annotations'], at('annotations')));
  out.push(...validateOwnerReferences(m['ownerReferences'], at('ownerReferences')));
  out.push(...validateFinalizers(m['finalizers'], at('finalizers'), opts.builtInFinalizerRule === true));
  return out;
}

/** ValidateObjectMetaAccessorUpdate alone: what an update may not do to metadata. */
function metaUpdateChecks(n: JsonObject, o: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  if (o['deletionTimestamp'] !== undefined && o['deletionTimestamp'] !== null) {
    const old = new Set(stringList(o['finalizers']));
    const added = [...new Set(stringList(n['finalizers']))].filter((f) => !old.has(f)).sort();
    if (added.length > 0) {
      out.push(
        forbidden(
          'metadata.finalizers',
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added).text}`,
        ),
      );
    }
  }
  if (str(n['resourceVersion']) === '') {
    out.push(invalid('metadata.resourceVersion', '', 'must be specified for an update'));
  }
  const newGen = typeof n['generation'] === 'number' ? n['generation'] : 0;
  const oldGen = typeof o['generation'] === 'number' ? o['generation'] : 0;
  if (newGen < oldGen) out.push(invalid('metadata.generation', newGen, 'must not be decremented'));
  for (const key of ['name', 'namespace', 'uid'] as const) {
    if (str(n[key]) !== str(o[key])) out.push(invalid(`metadata.${key}`, str(n[key]), 'field is immutable'));
  }
  for (const key of ['creationTimestamp', 'deletionTimestamp'] as const) {
    const nv = n[key] ?? null;
    if (nv !== (o[key] ?? null)) out.push(invalid(`metadata.${key}`, timeLiteral(nv), 'field is immutable'));
  }
  const ng = n['deletionGracePeriodSeconds'] ?? null;
  if (ng !== (o['deletionGracePeriodSeconds'] ?? null)) {
    out.push(invalid('metadata.deletionGracePeriodSeconds', ng, 'field is immutable'));
  }
  out.push(...validateLabels(n['labels'], 'metadata.labels'));
  out.push(...validateAnnotations(n['annotations'], 'metadata.annotations'));
  out.push(...validateOwnerReferences(n['ownerReferences'], 'metadata.ownerReferences'));
  return out;
}

/**
 * The metadata causes of an update. Without `opts`: only ValidateObjectMetaAccessorUpdate (no new
 * finalizers while deleting, resourceVersion set, generation not decremented, name/namespace/uid/
 * creationTimestamp/deletionTimestamp/deletionGracePeriodSeconds immutable, labels/annotations/
 * ownerReferences valid). With `opts`: everything kube's update path reports about metadata, in its
 * order: the generic registry's ValidateObjectMeta (path-segment names) and update checks, then the
 * strategy's update checks again — so each update cause appears twice, as in 13-finalizers-gc.json
 * (formatInvalidMessage shows it once). The resource's own name rule is not re-checked (names are
 * immutable).
 */
export function validateObjectMetaUpdate(
  newMeta: JsonObject | undefined,
  oldMeta: JsonObject | undefined,
  opts?: ObjectMetaOptions,
): StatusCause[] {
  const n = newMeta ?? {};
  const o = oldMeta ?? {};
  const update = metaUpdateChecks(n, o);
  if (opts === undefined) return update;
  return [...validateObjectMeta(n, { ...opts, nameFn: nameIsPathSegment }), ...update, ...update];
}

/** A metav1.Time prints through its String() method (`2006-01-02 15:04:05 +0000 UTC`); a nil one as "null". */
function timeLiteral(v: Json): BadValue {
  if (typeof v !== 'string') return 'null';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return new GoLiteral(v);
  const iso = d.toISOString();
  return new GoLiteral(`${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`);
}
