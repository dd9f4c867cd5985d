// Type-specific validation of built-in objects, worded exactly as kube-apiserver v1.26 words it (ObjectMeta
// is validated by the caller), plus resource.Quantity parsing and canonical form shared with defaulting.
import { isIPv6 } from 'node:net';
import type { Json, JsonObject, StatusCause } from '../types.js';
import { isObject } from '../types.js';
import type { BadValue } from '../validation/meta.js';
import {
  dns1123Label,
  dns1123Subdomain,
  duplicate,
  forbidden,
  GoLiteral,
  goQuote,
  goStringSlice,
  invalid,
  labelValue,
  maxLenError,
  notFound,
  notSupported,
  qualifiedName,
  required,
  tooLong,
  tooMany,
  validateAnnotations,
  validateLabels,
} from '../validation/meta.js';

// ---------------------------------------------------------------------------------------------
// Small readers of decoded JSON.

const objOf = (v: Json | undefined): JsonObject | undefined => (isObject(v) ? v : undefined);
const arrOf = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const strOf = (v: Json | undefined): string => (typeof v === 'string' ? v : '');
const numOf = (v: Json | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
const objects = (v: Json | undefined): JsonObject[] => arrOf(v).map((x) => objOf(x) ?? {});
const stringMapOf = (v: Json | undefined): Record<string, string> | undefined => {
  const o = objOf(v);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = strOf(val);
  return out;
};

/** validation.RegexError: `<msg> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')`. */
function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${fmt}')`;
}

// ---------------------------------------------------------------------------------------------
// resource.Quantity: parsing with kube's errors, exact comparison and the canonical string form.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** A parsed quantity: its exact value in nano-units, its format, and the input when kube keeps it verbatim. */
export interface Quantity {
  nanos: bigint;
  format: QuantityFormat;
  verbatim?: string;
}

export type QuantityResult = { ok: true; value: Quantity } | { ok: false; message: string };

const errFormatWrong =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const errSuffix = "unable to parse quantity's suffix";
const decimalSuffixes: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const NANO = 1_000_000_000n;
const MAX_INT64 = 2n ** 63n - 1n;

/** parseQuantityString: sign, numerator (leading zeros dropped), denominator digits and suffix. */
function splitQuantity(
  str: string,
): { positive: boolean; num: string; denom: string; suffix: string } | undefined {
  let pos = 0;
  let positive = true;
  if (str[0] === '-' || str[0] === '+') {
    positive = str[0] !== '-';
    pos++;
  }
  while (pos < str.length && str[pos] === '0') pos++;
  if (pos >= str.length) return { positive, num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (pos < str.length && /[0-9]/.test(str[pos]!)) pos++;
  const num = str.slice(numStart, pos) || '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    const denomStart = pos;
    while (pos < str.length && /[0-9]/.test(str[pos]!)) pos++;
    denom = str.slice(denomStart, pos);
  }
  const suffixStart = pos;
  while (pos < str.length && 'eEinumkKMGTP'.includes(str[pos]!)) pos++;
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (pos < str.length && /[0-9]/.test(str[pos]!)) pos++;
  if (pos < str.length) return undefined;
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(
  suffix: string,
): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const dec = decimalSuffixes[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = binarySuffixes[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (
    suffix.length > 1 &&
    (suffix[0] === 'e' || suffix[0] === 'E') &&
    /^[-+]?[0-9]+$/.test(suffix.slice(1))
  ) {
    return { base: 10, exponent: Number(suffix.slice(1)), format: 'DecimalExponent' };
  }
  return undefined;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** resource.ParseQuantity (the string as JSON carries it, already trimmed). */
export function parseQuantity(str: string): QuantityResult {
  if (str.length === 0) return { ok: false, message: errFormatWrong };
  if (str === '0') return { ok: true, value: { nanos: 0n, format: 'DecimalSI', verbatim: '0' } };
  const parts = splitQuantity(str);
  if (!parts) return { ok: false, message: errFormatWrong };
  const suffix = interpretSuffix(parts.suffix);
  if (!suffix) return { ok: false, message: errSuffix };
  const { num, denom, positive } = parts;
  const shifted = num + denom;
  const digits = BigInt(shifted);
  const sign = positive ? 1n : -1n;
  let format = suffix.format;
  // The int64 fast path: exact, uncapped, and the input is kept verbatim when already canonical.
  if (suffix.base === 10) {
    const precision = 18 - (num.length + denom.length);
    const scale = suffix.exponent - denom.length;
    if (precision >= 0 && scale >= -9) {
      const nanos = sign * digits * 10n ** BigInt(scale + 9);
      const canonical = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
      return { ok: true, value: canonical ? { nanos, format, verbatim: str } : { nanos, format } };
    }
  } else if (denom.length === 0) {
    const precision = 15 - num.length - Math.trunc((suffix.exponent * 3) / 10) - 1;
    const value = digits * 2n ** BigInt(suffix.exponent);
    if (precision >= 0 && value <= MAX_INT64) {
      const nanos = sign * value * NANO;
      const canonical = suffix.exponent % 10 === 0 && (digits & 7n) !== 0n;
      return { ok: true, value: canonical ? { nanos, format, verbatim: str } : { nanos, format } };
    }
  }
  // The arbitrary-precision path: rounded up to whole nano-units, capped at the int64 maximum.
  let magnitude: bigint;
  const denomScale = 10n ** BigInt(denom.length);
  if (suffix.base === 10) {
    const e = suffix.exponent + 9;
    magnitude =
      e >= 0
        ? ceilDiv(digits * 10n ** BigInt(e), denomScale)
        : ceilDiv(digits, denomScale * 10n ** BigInt(-e));
  } else {
    magnitude = ceilDiv(digits * 2n ** BigInt(suffix.exponent) * NANO, denomScale);
  }
  if (magnitude > MAX_INT64 * NANO) magnitude = MAX_INT64 * NANO;
  if (format === 'BinarySI' && magnitude > 0n && magnitude < NANO) format = 'DecimalSI';
  return { ok: true, value: { nanos: sign * magnitude, format } };
}

/** Quantity.String(): the canonical form kube writes back (e.g. "0.5" → "500m", "1024Mi" → "1Gi", "12000" → "12k"). */
export function formatQuantity(q: Quantity): string {
  if (q.verbatim !== undefined) return q.verbatim;
  if (q.nanos === 0n) return '0';
  const neg = q.nanos < 0n;
  const abs = neg ? -q.nanos : q.nanos;
  let format = q.format;
  if (format === 'BinarySI' && (abs < 1024n * NANO || abs % NANO !== 0n)) format = 'DecimalSI';
  if (format === 'BinarySI') {
    let v = abs / NANO;
    let k = 0;
    while (v % 1024n === 0n && k < 6) {
      v /= 1024n;
      k++;
    }
    return `${neg ? '-' : ''}${v}${['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'][k] ?? ''}`;
  }
  let m = abs;
  let e = -9;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  while (e % 3 !== 0) {
    m *= 10n;
    e--;
  }
  let suffix: string;
  if (format === 'DecimalExponent') suffix = e === 0 ? '' : `e${e}`;
  else suffix = Object.entries(decimalSuffixes).find(([, exp]) => exp === e)?.[0] ?? '';
  return `${neg ? '-' : ''}${m}${suffix}`;
}

/** The canonical string of a JSON quantity value, or undefined when it does not parse. */
export function canonicalQuantity(v: Json | undefined): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const r = parseQuantity(typeof v === 'string' ? v.trim() : String(v));
  return r.ok ? formatQuantity(r.value) : undefined;
}

function quantityOf(v: Json | undefined): Quantity | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const r = parseQuantity(typeof v === 'string' ? v.trim() : String(v));
  return r.ok ? r.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Go %#v renderings of the values kube reports.

/** `map[string]string{"a":"b"}` (sorted keys), `map[string]string(nil)` when absent. */
function goStringMap(m: Record<string, string> | undefined): GoLiteral {
  if (m === undefined) return new GoLiteral('map[string]string(nil)');
  const keys = Object.keys(m).sort();
  return new GoLiteral(
    `map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(m[k] ?? '')}`).join(', ')}}`,
  );
}

function goStringSliceOrNil(v: Json | undefined): string {
  return Array.isArray(v) ? goStringSlice(v.map(strOf)).text : '[]string(nil)';
}

/** A metav1.LabelSelector as %#v prints it. */
function goLabelSelector(sel: JsonObject): GoLiteral {
  const labels = goStringMap(stringMapOf(sel['matchLabels'])).text;
  const exprs = sel['matchExpressions'];
  const rendered = Array.isArray(exprs)
    ? `[]v1.LabelSelectorRequirement{${objects(exprs)
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${goQuote(strOf(e['key']))}, Operator:${goQuote(strOf(e['operator']))}, Values:${goStringSliceOrNil(e['values'])}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return new GoLiteral(`v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${rendered}}`);
}

/** An intstr.IntOrString as %#v prints it. */
function goIntOrString(v: Json | undefined): GoLiteral {
  if (typeof v === 'string')
    return new GoLiteral(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`);
  return new GoLiteral(`intstr.IntOrString{Type:0, IntVal:${typeof v === 'number' ? v : 0}, StrVal:""}`);
}

// ---------------------------------------------------------------------------------------------
// Shared field validators.

const supportedPortProtocols = ['SCTP', 'TCP', 'UDP'];
const portRangeMsg = 'must be between 1 and 65535, inclusive';
const nonNegativeMsg = 'must be greater than or equal to 0';
const fileModeMsg = 'must be a number between 0 and 0777 (octal), both inclusive';

function nonNegative(field: string, v: Json | undefined): StatusCause[] {
  const n = numOf(v);
  return n !== undefined && n < 0 ? [invalid(field, n, nonNegativeMsg)] : [];
}

function dnsLabelCauses(field: string, value: string): StatusCause[] {
  return dns1123Label(value).map((m) => invalid(field, value, m));
}

function dnsSubdomainCauses(field: string, value: string): StatusCause[] {
  return dns1123Subdomain(value).map((m) => invalid(field, value, m));
}

function qualifiedNameCauses(field: string, value: string): StatusCause[] {
  return qualifiedName(value).map((m) => invalid(field, value, m));
}

function isValidPortNum(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** validation.IsValidPortName. */
function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(name))
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.length > 0 && (name.startsWith('-') || name.endsWith('-')))
    errs.push('must not begin or end with a hyphen');
  return errs;
}

/** ValidatePortNumOrName for an int-or-string port. */
function portNumOrName(field: string, v: Json | undefined): StatusCause[] {
  if (typeof v === 'string') return portNameErrors(v).map((m) => invalid(field, v, m));
  const n = numOf(v) ?? 0;
  return isValidPortNum(n) ? [] : [invalid(field, n, portRangeMsg)];
}

function protocolCauses(field: string, v: Json | undefined): StatusCause[] {
  const p = strOf(v);
  if (p === '') return [required(field)];
  return supportedPortProtocols.includes(p) ? [] : [notSupported(field, p, supportedPortProtocols)];
}

/** validation.IsConfigMapKey. */
export function configKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > 253) errs.push(maxLenError(253));
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) {
    errs.push(
      regexError(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        '[-._a-zA-Z0-9]+',
        'key.name',
        'KEY_NAME',
        'key-name',
      ),
    );
  }
  errs.push(...chDirPrefixErrors(key));
  return errs;
}

function chDirPrefixErrors(value: string): string[] {
  if (value === '.') return [`must not be '.'`];
  if (value === '..') return [`must not be '..'`];
  if (value.startsWith('..')) return [`must not start with '..'`];
  return [];
}

/** netutils.ParseIPSloppy: dotted IPv4 (leading zeros allowed) or IPv6. */
function parseIP(ip: string): number[] | 'v6' | undefined {
  if (isIPv6(ip)) return 'v6';
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  const octets = parts.map((p) => (/^[0-9]{1,3}$/.test(p) ? Number(p) : 256));
  return octets.every((o) => o <= 255) ? octets : undefined;
}

export const validIpMsg = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

function labelSelectorCauses(sel: JsonObject | undefined, field: string): StatusCause[] {
  if (!sel) return [];
  const out = validateLabels(sel['matchLabels'], `${field}.matchLabels`);
  objects(sel['matchExpressions']).forEach((e, i) => {
    const p = `${field}.matchExpressions[${i}]`;
    const op = strOf(e['operator']);
    const values = arrOf(e['values']);
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0)
        out.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) {
        out.push(
          forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
        );
      }
    } else {
      out.push(invalid(`${p}.operator`, op, 'not a valid selector operator'));
    }
    out.push(...qualifiedNameCauses(`${p}.key`, strOf(e['key'])));
    values.forEach((v, j) =>
      out.push(...labelValue(strOf(v)).map((m) => invalid(`${p}.values[${j}]`, strOf(v), m))),
    );
  });
  return out;
}

/** LabelSelectorAsSelector + Matches; undefined when the selector does not convert. A nil selector matches nothing. */
function selectorMatches(sel: JsonObject | undefined, labels: Record<string, string>): boolean | undefined {
  if (!sel) return false;
  for (const [k, v] of Object.entries(stringMapOf(sel['matchLabels']) ?? {}))
    if (labels[k] !== v) return false;
  for (const e of objects(sel['matchExpressions'])) {
    const key = strOf(e['key']);
    const values = arrOf(e['values']).map(strOf);
    const has = Object.hasOwn(labels, key);
    switch (strOf(e['operator'])) {
      case 'In':
        if (values.length === 0) return undefined;
        if (!has || !values.includes(labels[key] ?? '')) return false;
        break;
      case 'NotIn':
        if (values.length === 0) return undefined;
        if (has && values.includes(labels[key] ?? '')) return false;
        break;
      case 'Exists':
        if (values.length > 0) return undefined;
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        if (has) return false;
        break;
      default:
        return undefined;
    }
  }
  return true;
}

const selectorIsEmpty = (sel: JsonObject): boolean =>
  Object.keys(objOf(sel['matchLabels']) ?? {}).length + arrOf(sel['matchExpressions']).length === 0;

/** Semantic.DeepEqual of decoded JSON: absent, null, empty maps and empty lists are the same. */
function semanticEqual(a: Json | undefined, b: Json | undefined): boolean {
  const empty = (v: Json | undefined): boolean =>
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => semanticEqual(a[k], b[k]));
  }
  return a === b;
}

// ---------------------------------------------------------------------------------------------
// Pod specs (Pods and the templates of Deployments, ReplicaSets, DaemonSets).

const volumeSourceKeys = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'flocker',
  'persistentVolumeClaim',
  'rbd',
  'quobyte',
  'cinder',
  'cephfs',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
];

function fileMode(field: string, v: Json | undefined): StatusCause[] {
  const n = numOf(v);
  return n !== undefined && (n < 0 || n > 0o777) ? [invalid(field, n, fileModeMsg)] : [];
}

function volumeSourceCauses(src: string, body: JsonObject, p: string): StatusCause[] {
  switch (src) {
    case 'hostPath':
      return strOf(body['path']) === '' ? [required(`${p}.path`)] : [];
    case 'secret':
      return [
        ...(strOf(body['secretName']) === '' ? [required(`${p}.secretName`)] : []),
        ...fileMode(`${p}.defaultMode`, body['defaultMode']),
      ];
    case 'configMap':
      return [
        ...(strOf(body['name']) === '' ? [required(`${p}.name`)] : []),
        ...fileMode(`${p}.defaultMode`, body['defaultMode']),
      ];
    case 'persistentVolumeClaim':
      return strOf(body['claimName']) === '' ? [required(`${p}.claimName`)] : [];
    case 'downwardAPI':
    case 'projected':
      return fileMode(`${p}.defaultMode`, body['defaultMode']);
    default:
      return [];
  }
}

/** ValidateVolumes; returns the causes and the declared volume names. */
function validateVolumes(volumes: JsonObject[], path: string): { causes: StatusCause[]; names: Set<string> } {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  volumes.forEach((vol, i) => {
    const p = `${path}[${i}]`;
    const name = strOf(vol['name']);
    if (name === '') causes.push(required(`${p}.name`));
    else causes.push(...dnsLabelCauses(`${p}.name`, name));
    let count = 0;
    for (const src of volumeSourceKeys) {
      const body = objOf(vol[src]);
      if (!body) continue;
      if (count > 0) {
        causes.push(forbidden(`${p}.${src}`, 'may not specify more than 1 volume type'));
        continue;
      }
      count++;
      causes.push(...volumeSourceCauses(src, body, `${p}.${src}`));
    }
    if (count === 0) causes.push(required(p, 'must specify a volume type'));
    if (names.has(name)) causes.push(duplicate(`${p}.name`, name));
    else if (name !== '') names.add(name);
  });
  return { causes, names };
}

/** validateHandler of probes (with grpc) and lifecycle hooks (without). */
function handlerCauses(h: JsonObject, p: string, withGrpc: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  let count = 0;
  const kinds = withGrpc ? ['exec', 'httpGet', 'tcpSocket', 'grpc'] : ['exec', 'httpGet', 'tcpSocket'];
  for (const kind of kinds) {
    const body = objOf(h[kind]);
    if (!body) continue;
    if (count > 0) {
      out.push(forbidden(`${p}.${kind}`, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    if (kind === 'exec' && arrOf(body['command']).length === 0) out.push(required(`${p}.exec.command`));
    if (kind === 'httpGet') {
      if (strOf(body['path']) === '') out.push(required(`${p}.httpGet.path`));
      out.push(...portNumOrName(`${p}.httpGet.port`, body['port']));
      const scheme = strOf(body['scheme']);
      if (scheme !== 'HTTP' && scheme !== 'HTTPS')
        out.push(notSupported(`${p}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
    }
    if (kind === 'tcpSocket') out.push(...portNumOrName(`${p}.tcpSocket.port`, body['port']));
    if (kind === 'grpc') {
      const port = numOf(body['port']) ?? 0;
      if (!isValidPortNum(port)) out.push(invalid(`${p}.grpc.port`, port, portRangeMsg));
    }
  }
  if (count === 0) out.push(required(p, 'must specify a handler type'));
  return out;
}

function probeCauses(probe: JsonObject | undefined, p: string): StatusCause[] {
  if (!probe) return [];
  const out = handlerCauses(probe, p, true);
  for (const k of [
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ]) {
    out.push(...nonNegative(`${p}.${k}`, probe[k]));
  }
  const grace = numOf(probe['terminationGracePeriodSeconds']);
  if (grace !== undefined && grace <= 0)
    out.push(invalid(`${p}.terminationGracePeriodSeconds`, grace, 'must be greater than 0'));
  return out;
}

const envFieldPaths = [
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.podIP',
  'status.podIPs',
];

function keySelectorCauses(sel: JsonObject, p: string): StatusCause[] {
  const out = dnsSubdomainCauses(`${p}.name`, strOf(sel['name']));
  const key = strOf(sel['key']);
  if (key === '') out.push(required(`${p}.key`));
  else out.push(...configKeyErrors(key).map((m) => invalid(`${p}.key`, key, m)));
  return out;
}

function envCauses(env: JsonObject[], p: string): StatusCause[] {
  const out: StatusCause[] = [];
  env.forEach((ev, i) => {
    const ip = `${p}[${i}]`;
    const name = strOf(ev['name']);
    if (name === '') out.push(required(`${ip}.name`));
    else {
      if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
        out.push(
          invalid(
            `${ip}.name`,
            name,
            regexError(
              "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
              '[-._a-zA-Z][-._a-zA-Z0-9]*',
              'my.env-name',
              'MY_ENV.NAME',
              'MyEnvName1',
            ),
          ),
        );
      }
      out.push(...chDirPrefixErrors(name).map((m) => invalid(`${ip}.name`, name, m)));
    }
    const from = objOf(ev['valueFrom']);
    if (!from) return;
    const vp = `${ip}.valueFrom`;
    let sources = 0;
    const fieldRef = objOf(from['fieldRef']);
    if (fieldRef) {
      sources++;
      const apiVersion = strOf(fieldRef['apiVersion']);
      const fieldPath = strOf(fieldRef['fieldPath']);
      if (apiVersion === '') out.push(required(`${vp}.fieldRef.apiVersion`));
      else if (fieldPath === '') out.push(required(`${vp}.fieldRef.fieldPath`));
      else {
        const base = fieldPath.replace(/\[.*$/, '');
        if (!envFieldPaths.includes(base))
          out.push(notSupported(`${vp}.fieldRef.fieldPath`, base, envFieldPaths));
      }
    }
    const resourceFieldRef = objOf(from['resourceFieldRef']);
    if (resourceFieldRef) {
      sources++;
      if (strOf(resourceFieldRef['resource']) === '') out.push(required(`${vp}.resourceFieldRef.resource`));
    }
    for (const k of ['configMapKeyRef', 'secretKeyRef']) {
      const sel = objOf(from[k]);
      if (!sel) continue;
      sources++;
      out.push(...keySelectorCauses(sel, `${vp}.${k}`));
    }
    if (sources === 0) {
      out.push(
        invalid(
          vp,
          '',
          'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
        ),
      );
    } else if (strOf(ev['value']) !== '') {
      out.push(invalid(vp, '', 'may not be specified when `value` is not empty'));
    } else if (sources > 1) {
      out.push(invalid(vp, '', 'may not have more than one field specified at a time'));
    }
  });
  return out;
}

function containerPortCauses(ports: JsonObject[], p: string): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const ip = `${p}[${i}]`;
    const name = strOf(port['name']);
    if (name !== '') {
      const errs = portNameErrors(name);
      if (errs.length > 0) out.push(...errs.map((m) => invalid(`${ip}.name`, name, m)));
      else if (names.has(name)) out.push(duplicate(`${ip}.name`, name));
      else names.add(name);
    }
    const containerPort = numOf(port['containerPort']) ?? 0;
    if (containerPort === 0) out.push(required(`${ip}.containerPort`));
    else if (!isValidPortNum(containerPort))
      out.push(invalid(`${ip}.containerPort`, containerPort, portRangeMsg));
    const hostPort = numOf(port['hostPort']) ?? 0;
    if (hostPort !== 0 && !isValidPortNum(hostPort))
      out.push(invalid(`${ip}.hostPort`, hostPort, portRangeMsg));
    out.push(...protocolCauses(`${ip}.protocol`, port['protocol']));
  });
  return out;
}

function volumeMountCauses(mounts: JsonObject[], volumes: Set<string>, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  const paths = new Set<string>();
  mounts.forEach((m, i) => {
    const ip = `${p}[${i}]`;
    const name = strOf(m['name']);
    const mountPath = strOf(m['mountPath']);
    if (name === '') out.push(required(`${ip}.name`));
    if (!volumes.has(name)) out.push(notFound(`${ip}.name`, name));
    if (mountPath === '') out.push(required(`${ip}.mountPath`));
    if (paths.has(mountPath)) out.push(invalid(`${ip}.mountPath`, mountPath, 'must be unique'));
    paths.add(mountPath);
  });
  return out;
}

const standardContainerResources = ['cpu', 'memory', 'ephemeral-storage'];

function resourceCauses(resources: JsonObject | undefined, p: string): StatusCause[] {
  if (!resources) return [];
  const out: StatusCause[] = [];
  const limits = objOf(resources['limits']) ?? {};
  const requests = objOf(resources['requests']) ?? {};
  const nameCauses = (name: string, field: string): StatusCause[] => {
    const c = qualifiedNameCauses(field, name);
    if (!name.includes('/')) {
      if (!standardContainerResources.includes(name) && !name.startsWith('hugepages-')) {
        c.push(invalid(field, name, 'must be a standard resource for containers'));
      }
    }
    return c;
  };
  const valueCauses = (q: Quantity | undefined, field: string): StatusCause[] =>
    q && q.nanos < 0n ? [invalid(field, formatQuantity(q), nonNegativeMsg)] : [];
  for (const [name, v] of Object.entries(limits)) {
    out.push(
      ...nameCauses(name, `${p}.limits[${name}]`),
      ...valueCauses(quantityOf(v), `${p}.limits[${name}]`),
    );
  }
  for (const [name, v] of Object.entries(requests)) {
    const q = quantityOf(v);
    out.push(...nameCauses(name, `${p}.requests[${name}]`), ...valueCauses(q, `${p}.requests[${name}]`));
    const lim = Object.hasOwn(limits, name) ? quantityOf(limits[name]) : undefined;
    const overcommit =
      !name.startsWith('hugepages-') && (!name.includes('/') || name.startsWith('kubernetes.io/'));
    if (q && lim) {
      if (!overcommit && q.nanos !== lim.nanos) {
        out.push(invalid(`${p}.requests`, formatQuantity(q), `must be equal to ${name} limit`));
      } else if (q.nanos > lim.nanos) {
        out.push(invalid(`${p}.requests`, formatQuantity(q), `must be less than or equal to ${name} limit`));
      }
    } else if (q && !overcommit) {
      out.push(required(`${p}.limits`, 'Limit must be set for non overcommitable resources'));
    }
  }
  return out;
}

function containerCauses(c: JsonObject, p: string, volumes: Set<string>, regular: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const name = strOf(c['name']);
  if (name === '') out.push(required(`${p}.name`));
  else out.push(...dnsLabelCauses(`${p}.name`, name));
  if (strOf(c['image']) === '') out.push(required(`${p}.image`));
  const lifecycle = objOf(c['lifecycle']);
  if (lifecycle) {
    for (const hook of ['postStart', 'preStop']) {
      const h = objOf(lifecycle[hook]);
      if (h) out.push(...handlerCauses(h, `${p}.lifecycle.${hook}`, false));
    }
  }
  if (regular) {
    out.push(...probeCauses(objOf(c['livenessProbe']), `${p}.livenessProbe`));
    const readiness = objOf(c['readinessProbe']);
    if (readiness && readiness['terminationGracePeriodSeconds'] !== undefined) {
      out.push(
        invalid(
          `${p}.readinessProbe.terminationGracePeriodSeconds`,
          readiness['terminationGracePeriodSeconds'],
          'must not be set for readinessProbes',
        ),
      );
    }
    for (const probe of ['livenessProbe', 'startupProbe']) {
      const pr = objOf(c[probe]);
      const st = numOf(pr?.['successThreshold']);
      if (pr && st !== 1) out.push(invalid(`${p}.${probe}.successThreshold`, st ?? 0, 'must be 1'));
    }
  } else {
    for (const probe of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c[probe] !== undefined && c[probe] !== null) {
        out.push(forbidden(`${p}.${probe}`, `may not be set for init containers`));
      }
    }
  }
  const policy = strOf(c['terminationMessagePolicy']);
  if (policy === '')
    out.push(required(`${p}.terminationMessagePolicy`, "must be 'File' or 'FallbackToLogsOnError'"));
  else if (policy !== 'File' && policy !== 'FallbackToLogsOnError') {
    out.push(invalid(`${p}.terminationMessagePolicy`, policy, "must be 'File' or 'FallbackToLogsOnError'"));
  }
  if (regular) {
    out.push(...probeCauses(objOf(c['readinessProbe']), `${p}.readinessProbe`));
    out.push(...probeCauses(objOf(c['startupProbe']), `${p}.startupProbe`));
  }
  out.push(...containerPortCauses(objects(c['ports']), `${p}.ports`));
  out.push(...envCauses(objects(c['env']), `${p}.env`));
  out.push(...volumeMountCauses(objects(c['volumeMounts']), volumes, `${p}.volumeMounts`));
  const pull = strOf(c['imagePullPolicy']);
  if (pull === '') out.push(required(`${p}.imagePullPolicy`));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(pull)) {
    out.push(notSupported(`${p}.imagePullPolicy`, pull, ['Always', 'IfNotPresent', 'Never']));
  }
  out.push(...resourceCauses(objOf(c['resources']), `${p}.resources`));
  return out;
}

function tolerationCauses(tolerations: JsonObject[], p: string): StatusCause[] {
  const out: StatusCause[] = [];
  tolerations.forEach((t, i) => {
    const ip = `${p}[${i}]`;
    const key = strOf(t['key']);
    const op = strOf(t['operator']);
    const effect = strOf(t['effect']);
    const value = strOf(t['value']);
    if (key !== '') out.push(...qualifiedNameCauses(`${ip}.key`, key));
    if (key === '' && op !== 'Exists') {
      out.push(
        invalid(
          `${ip}.operator`,
          op,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t['tolerationSeconds'] !== undefined && t['tolerationSeconds'] !== null && effect !== 'NoExecute') {
      out.push(invalid(`${ip}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const errs = labelValue(value);
      if (errs.length > 0) out.push(invalid(`${ip}.operator`, value, errs.join(';')));
    } else if (op !== 'Exists') {
      out.push(notSupported(`${ip}.operator`, op, ['Equal', 'Exists']));
    }
    if (effect !== '' && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      out.push(notSupported(`${ip}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return out;
}

/** ValidatePodSpec (the parts the sandbox checks), paths rooted at `p` (e.g. `spec.template.spec`). */
function validatePodSpec(spec: JsonObject, p: string): StatusCause[] {
  const { causes: out, names: volumes } = validateVolumes(objects(spec['volumes']), `${p}.volumes`);
  const containers = objects(spec['containers']);
  const initContainers = objects(spec['initContainers']);
  const containerNames = new Set<string>();
  if (containers.length === 0) out.push(required(`${p}.containers`));
  containers.forEach((c, i) => {
    const cp = `${p}.containers[${i}]`;
    out.push(...containerCauses(c, cp, volumes, true));
    const name = strOf(c['name']);
    if (containerNames.has(name)) out.push(duplicate(`${cp}.name`, name));
    else containerNames.add(name);
  });
  initContainers.forEach((c, i) => {
    const cp = `${p}.initContainers[${i}]`;
    out.push(...containerCauses(c, cp, volumes, false));
    const name = strOf(c['name']);
    if (containerNames.has(name)) out.push(duplicate(`${cp}.name`, name));
    else containerNames.add(name);
  });
  const restart = strOf(spec['restartPolicy']);
  if (restart === '') out.push(required(`${p}.restartPolicy`));
  else if (!['Always', 'OnFailure', 'Never'].includes(restart)) {
    out.push(notSupported(`${p}.restartPolicy`, restart, ['Always', 'OnFailure', 'Never']));
  }
  const dns = strOf(spec['dnsPolicy']);
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (dns === '') out.push(required(`${p}.dnsPolicy`));
  else if (!dnsPolicies.includes(dns)) out.push(notSupported(`${p}.dnsPolicy`, dns, dnsPolicies));
  out.push(...validateLabels(spec['nodeSelector'], `${p}.nodeSelector`));
  const sa = strOf(spec['serviceAccountName']);
  if (sa !== '') out.push(...dnsSubdomainCauses(`${p}.serviceAccountName`, sa));
  const nodeName = strOf(spec['nodeName']);
  if (nodeName !== '') out.push(...dnsSubdomainCauses(`${p}.nodeName`, nodeName));
  const deadline = numOf(spec['activeDeadlineSeconds']);
  if (deadline !== undefined && (deadline < 1 || deadline > 2147483647)) {
    out.push(invalid(`${p}.activeDeadlineSeconds`, deadline, 'must be between 1 and 2147483647, inclusive'));
  }
  for (const k of ['hostname', 'subdomain']) {
    const v = strOf(spec[k]);
    if (v !== '') out.push(...dnsLabelCauses(`${p}.${k}`, v));
  }
  out.push(...tolerationCauses(objects(spec['tolerations']), `${p}.tolerations`));
  const preemption = spec['preemptionPolicy'];
  if (typeof preemption === 'string' && !['Never', 'PreemptLowerPriority'].includes(preemption)) {
    out.push(notSupported(`${p}.preemptionPolicy`, preemption, ['Never', 'PreemptLowerPriority']));
  }
  return out;
}

/** ValidatePodTemplateSpec: template labels are reported at `<path>.labels`, as kube does. */
function validatePodTemplate(template: JsonObject, p: string): StatusCause[] {
  const meta = objOf(template['metadata']) ?? {};
  const out = validateLabels(meta['labels'], `${p}.labels`);
  out.push(...validateAnnotations(meta['annotations'], `${p}.annotations`));
  out.push(...validatePodSpec(objOf(template['spec']) ?? {}, `${p}.spec`));
  if (arrOf(objOf(template['spec'])?.['ephemeralContainers']).length > 0) {
    out.push(forbidden(`${p}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// apps/v1 workloads.

function percentValue(v: Json | undefined): { value: number; percent: boolean } {
  if (typeof v === 'string') {
    const n = /^[0-9]+%$/.test(v) ? Number(v.slice(0, -1)) : Number.NaN;
    return { value: n, percent: true };
  }
  return { value: numOf(v) ?? 0, percent: false };
}

function positiveIntOrPercent(v: Json | undefined, field: string): StatusCause[] {
  if (typeof v === 'string') {
    return /^[0-9]+%$/.test(v)
      ? []
      : [
          invalid(
            field,
            goIntOrString(v),
            regexError(
              "a valid percent string must be a numeric string followed by an ending '%'",
              '[0-9]+%',
              '1%',
              '93%',
            ),
          ),
        ];
  }
  return nonNegative(field, v);
}

function notMoreThan100Percent(v: Json | undefined, field: string): StatusCause[] {
  const pv = percentValue(v);
  return pv.percent && pv.value > 100
    ? [invalid(field, goIntOrString(v), 'must not be greater than 100%')]
    : [];
}

function deploymentStrategyCauses(strategy: JsonObject, p: string): StatusCause[] {
  const type = strOf(strategy['type']);
  const rolling = objOf(strategy['rollingUpdate']);
  if (type === 'Recreate') {
    return rolling
      ? [forbidden(`${p}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'")]
      : [];
  }
  if (type === 'RollingUpdate') {
    if (!rolling) return [required(`${p}.rollingUpdate`, 'this should be defaulted and never be nil')];
    const rp = `${p}.rollingUpdate`;
    const out = [
      ...positiveIntOrPercent(rolling['maxUnavailable'], `${rp}.maxUnavailable`),
      ...positiveIntOrPercent(rolling['maxSurge'], `${rp}.maxSurge`),
    ];
    if (
      percentValue(rolling['maxUnavailable']).value === 0 &&
      percentValue(rolling['maxSurge']).value === 0
    ) {
      out.push(
        invalid(
          `${rp}.maxUnavailable`,
          goIntOrString(rolling['maxUnavailable']),
          'may not be 0 when `maxSurge` is 0',
        ),
      );
    }
    out.push(...notMoreThan100Percent(rolling['maxUnavailable'], `${rp}.maxUnavailable`));
    return out;
  }
  const rendered = new GoLiteral(
    `apps.DeploymentStrategy{Type:${goQuote(type)}, RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}`,
  );
  return [notSupported(p, rendered, ['Recreate', 'RollingUpdate'])];
}

function daemonSetStrategyCauses(strategy: JsonObject, p: string): StatusCause[] {
  const type = strOf(strategy['type']);
  if (type === 'OnDelete') return [];
  if (type !== 'RollingUpdate') {
    const rendered = new GoLiteral(
      `apps.DaemonSetUpdateStrategy{Type:${goQuote(type)}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}`,
    );
    return [notSupported(p, rendered, ['RollingUpdate', 'OnDelete'])];
  }
  const rolling = objOf(strategy['rollingUpdate']);
  if (!rolling) return [required(`${p}.rollingUpdate`)];
  const rp = `${p}.rollingUpdate`;
  const out: StatusCause[] = [];
  const check = (key: string): boolean => {
    const v = rolling[key];
    if (v === undefined || v === null || percentValue(v).value === 0) return false;
    out.push(...positiveIntOrPercent(v, `${rp}.${key}`), ...notMoreThan100Percent(v, `${rp}.${key}`));
    return true;
  };
  const hasUnavailable = check('maxUnavailable');
  const hasSurge = check('maxSurge');
  if (hasUnavailable && hasSurge) {
    out.push(
      invalid(
        `${rp}.maxSurge`,
        goIntOrString(rolling['maxSurge']),
        'may not be set when maxUnavailable is non-zero',
      ),
    );
  } else if (!hasUnavailable && !hasSurge) {
    out.push(required(`${rp}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
  }
  return out;
}

/** The selector checks shared by Deployments and ReplicaSets, then their pod template. */
function replicatedSpecCauses(spec: JsonObject, kindWord: string): StatusCause[] {
  const out: StatusCause[] = [];
  const selector = objOf(spec['selector']);
  if (!selector) out.push(required('spec.selector'));
  else {
    out.push(...labelSelectorCauses(selector, 'spec.selector'));
    if (selectorIsEmpty(selector))
      out.push(
        invalid('spec.selector', goLabelSelector(selector), `empty selector is invalid for ${kindWord}`),
      );
  }
  const template = objOf(spec['template']) ?? {};
  const templateLabels = stringMapOf(objOf(template['metadata'])?.['labels']);
  const matches = selectorMatches(selector, templateLabels ?? {});
  if (matches === undefined) {
    out.push(invalid('spec.selector', goLabelSelector(selector ?? {}), 'invalid label selector'));
    return out;
  }
  const emptySelector = selector !== undefined && selectorIsEmpty(selector);
  if (!emptySelector && !matches) {
    out.push(
      invalid(
        'spec.template.metadata.labels',
        goStringMap(templateLabels),
        '`selector` does not match template `labels`',
      ),
    );
  }
  out.push(...validatePodTemplate(template, 'spec.template'));
  const podSpec = objOf(template['spec']) ?? {};
  const restart = strOf(podSpec['restartPolicy']);
  if (restart !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', restart, ['Always']));
  if (podSpec['activeDeadlineSeconds'] !== undefined && podSpec['activeDeadlineSeconds'] !== null) {
    out.push(
      invalid(
        'spec.template.spec.activeDeadlineSeconds',
        podSpec['activeDeadlineSeconds'],
        'activeDeadlineSeconds in ReplicaSet is not Supported',
      ),
    );
  }
  return out;
}

function selectorImmutable(spec: JsonObject, oldSpec: JsonObject | undefined): StatusCause[] {
  if (!oldSpec || semanticEqual(spec['selector'], oldSpec['selector'])) return [];
  const sel = objOf(spec['selector']);
  return [invalid('spec.selector', sel ? goLabelSelector(sel) : 'null', 'field is immutable')];
}

function validateDeployment(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const out = nonNegative('spec.replicas', spec['replicas']);
  out.push(...replicatedSpecCauses(spec, 'deployment'));
  out.push(...deploymentStrategyCauses(objOf(spec['strategy']) ?? {}, 'spec.strategy'));
  out.push(...nonNegative('spec.minReadySeconds', spec['minReadySeconds']));
  out.push(...nonNegative('spec.revisionHistoryLimit', spec['revisionHistoryLimit']));
  const deadline = numOf(spec['progressDeadlineSeconds']);
  if (deadline !== undefined) {
    out.push(...nonNegative('spec.progressDeadlineSeconds', deadline));
    if (deadline <= (numOf(spec['minReadySeconds']) ?? 0)) {
      out.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
    }
  }
  if (old) out.push(...selectorImmutable(spec, objOf(old['spec'])));
  return out;
}

function validateReplicaSet(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const out = [
    ...nonNegative('spec.replicas', spec['replicas']),
    ...nonNegative('spec.minReadySeconds', spec['minReadySeconds']),
  ];
  out.push(...replicatedSpecCauses(spec, 'deployment'));
  if (old) out.push(...selectorImmutable(spec, objOf(old['spec'])));
  return out;
}

function validateDaemonSet(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const selector = objOf(spec['selector']);
  const out = labelSelectorCauses(selector, 'spec.selector');
  const template = objOf(spec['template']) ?? {};
  const templateLabels = stringMapOf(objOf(template['metadata'])?.['labels']);
  if (selectorMatches(selector, templateLabels ?? {}) === false) {
    out.push(
      invalid(
        'spec.template.metadata.labels',
        goStringMap(templateLabels),
        '`selector` does not match template `labels`',
      ),
    );
  }
  if (selector && selectorIsEmpty(selector)) {
    out.push(invalid('spec.selector', goLabelSelector(selector), 'empty selector is invalid for daemonset'));
  }
  out.push(...validatePodTemplate(template, 'spec.template'));
  const podSpec = objOf(template['spec']) ?? {};
  const restart = strOf(podSpec['restartPolicy']);
  if (restart !== 'Always') out.push(notSupported('spec.template.spec.restartPolicy', restart, ['Always']));
  if (podSpec['activeDeadlineSeconds'] !== undefined && podSpec['activeDeadlineSeconds'] !== null) {
    out.push(
      invalid(
        'spec.template.spec.activeDeadlineSeconds',
        podSpec['activeDeadlineSeconds'],
        'activeDeadlineSeconds in DaemonSet is not Supported',
      ),
    );
  }
  out.push(...nonNegative('spec.minReadySeconds', spec['minReadySeconds']));
  out.push(...nonNegative('spec.templateGeneration', spec['templateGeneration']));
  out.push(...daemonSetStrategyCauses(objOf(spec['updateStrategy']) ?? {}, 'spec.updateStrategy'));
  out.push(...nonNegative('spec.revisionHistoryLimit', spec['revisionHistoryLimit']));
  if (old) out.push(...selectorImmutable(spec, objOf(old['spec'])));
  return out;
}

// ---------------------------------------------------------------------------------------------
// core/v1 Pod, Service, ConfigMap, Secret, Endpoints.

const podUpdateMessage =
  'pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** The spec with the fields a pod update may change replaced by the old values. */
function mungedPodSpec(spec: JsonObject, oldSpec: JsonObject): JsonObject {
  const munged: JsonObject = { ...spec };
  for (const list of ['containers', 'initContainers']) {
    const olds = objects(oldSpec[list]);
    if (Array.isArray(spec[list])) {
      munged[list] = objects(spec[list]).map((c, i) => {
        const o = olds[i];
        return o && o['image'] !== undefined ? { ...c, image: o['image'] } : c;
      });
    }
  }
  for (const k of ['activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds']) {
    if (oldSpec[k] === undefined) delete munged[k];
    else munged[k] = oldSpec[k];
  }
  return munged;
}

function validatePod(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const out = validatePodSpec(spec, 'spec');
  if (!old && arrOf(spec['ephemeralContainers']).length > 0) {
    out.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  }
  if (old) {
    const oldSpec = objOf(old['spec']) ?? {};
    if (!semanticEqual(mungedPodSpec(spec, oldSpec), oldSpec)) out.push(forbidden('spec', podUpdateMessage));
  }
  return out;
}

const isHeadless = (spec: JsonObject): boolean => strOf(arrOf(spec['clusterIPs'])[0]) === 'None';

/** ValidateServiceClusterIPsRelatedFields (also the allocator's pre-check before any allocation). */
export function serviceClusterIPCauses(spec: JsonObject): StatusCause[] {
  if (strOf(spec['type']) === 'ExternalName') return [];
  const out: StatusCause[] = [];
  const clusterIP = strOf(spec['clusterIP']);
  const ips = arrOf(spec['clusterIPs']).map(strOf);
  if (clusterIP !== '') {
    if (ips.length === 0) out.push(required('spec.clusterIPs'));
    else if (ips[0] !== clusterIP)
      out.push(invalid('spec.clusterIPs', goStringSlice(ips), 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    out.push(
      invalid('spec.clusterIPs', goStringSlice(ips), 'must be empty when `clusterIP` is not specified'),
    );
  }
  const seen = new Set<string>();
  arrOf(spec['ipFamilies']).forEach((f, i) => {
    const fam = strOf(f);
    if (fam !== 'IPv4' && fam !== 'IPv6')
      out.push(notSupported(`spec.ipFamilies[${i}]`, fam, ['IPv4', 'IPv6']));
    if (seen.has(fam)) out.push(duplicate(`spec.ipFamilies[${i}]`, fam));
    seen.add(fam);
  });
  const policy = spec['ipFamilyPolicy'];
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (typeof policy === 'string' && !policies.includes(policy))
    out.push(notSupported('spec.ipFamilyPolicy', policy, policies));
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1)
        out.push(invalid('spec.clusterIPs', goStringSlice(ips), "'None' must be the first and only value"));
      return;
    }
    if (parseIP(ip) === undefined) out.push(invalid(`spec.clusterIPs[${i}]`, ip, validIpMsg));
  });
  if (ips.length > 2)
    out.push(invalid('spec.clusterIPs', goStringSlice(ips), 'may only hold up to 2 values'));
  return out;
}

/** %#v of the (protocol, port) key kube uses to find duplicate Service ports. */
function goServicePortKey(protocol: string, port: number): GoLiteral {
  return new GoLiteral(
    `core.ServicePort{Name:"", Protocol:${goQuote(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`,
  );
}

function validateService(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const type = strOf(spec['type']);
  const ports = objects(spec['ports']);
  const headless = isHeadless(spec);
  const out: StatusCause[] = [];
  if (old) out.push(...serviceUpdateCauses(spec, objOf(old['spec']) ?? {}));
  if (ports.length === 0 && !headless && type !== 'ExternalName') out.push(required('spec.ports'));
  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    out.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  }
  if (type === 'ExternalName') {
    if (arrOf(spec['clusterIPs']).length > 0)
      out.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (arrOf(spec['ipFamilies']).length > 0)
      out.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (spec['ipFamilyPolicy'] !== undefined && spec['ipFamilyPolicy'] !== null) {
      out.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    }
    const cname = strOf(spec['externalName']).replace(/\.$/, '');
    if (cname !== '') out.push(...dnsSubdomainCauses('spec.externalName', cname));
    else out.push(required('spec.externalName'));
  }
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `spec.ports[${i}]`;
    const name = strOf(port['name']);
    if (ports.length > 1 && name === '') out.push(required(`${p}.name`));
    else if (name !== '') {
      out.push(...dnsLabelCauses(`${p}.name`, name));
      if (names.has(name)) out.push(duplicate(`${p}.name`, name));
      else names.add(name);
    }
    const portNum = numOf(port['port']) ?? 0;
    if (!isValidPortNum(portNum)) out.push(invalid(`${p}.port`, portNum, portRangeMsg));
    out.push(...protocolCauses(`${p}.protocol`, port['protocol']));
    out.push(...portNumOrName(`${p}.targetPort`, port['targetPort']));
    if (typeof port['appProtocol'] === 'string')
      out.push(...qualifiedNameCauses(`${p}.appProtocol`, port['appProtocol']));
  });
  if (spec['selector'] !== undefined && spec['selector'] !== null)
    out.push(...validateLabels(spec['selector'], 'spec.selector'));
  const affinity = strOf(spec['sessionAffinity']);
  if (affinity === '') out.push(required('spec.sessionAffinity'));
  else if (affinity !== 'ClientIP' && affinity !== 'None') {
    out.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  }
  if (affinity === 'ClientIP') {
    const timeout = numOf(objOf(objOf(spec['sessionAffinityConfig'])?.['clientIP'])?.['timeoutSeconds']);
    if (timeout === undefined || timeout <= 0 || timeout > 86400) {
      out.push(
        invalid(
          'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
          timeout ?? 0,
          'must be greater than 0 and less than 86400',
        ),
      );
    }
  } else if (
    affinity === 'None' &&
    spec['sessionAffinityConfig'] !== undefined &&
    spec['sessionAffinityConfig'] !== null
  ) {
    out.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  out.push(...serviceClusterIPCauses(spec));
  arrOf(spec['externalIPs']).forEach((v, i) => {
    const ip = strOf(v);
    if (parseIP(ip) === undefined) out.push(invalid(`spec.externalIPs[${i}]`, ip, validIpMsg));
    else out.push(...nonSpecialIPCauses(ip, `spec.externalIPs[${i}]`));
  });
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (type === '') out.push(required('spec.type'));
  else if (!types.includes(type)) out.push(notSupported('spec.type', type, types));
  if (type === 'ClusterIP') {
    ports.forEach((port, i) => {
      if ((numOf(port['nodePort']) ?? 0) !== 0) {
        out.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
      }
    });
  }
  const nodePorts = new Set<string>();
  const portKeys = new Set<string>();
  ports.forEach((port, i) => {
    const protocol = strOf(port['protocol']);
    const nodePort = numOf(port['nodePort']) ?? 0;
    if (nodePort !== 0) {
      if (nodePorts.has(`${protocol}/${nodePort}`))
        out.push(duplicate(`spec.ports[${i}].nodePort`, nodePort));
      nodePorts.add(`${protocol}/${nodePort}`);
    }
    const portNum = numOf(port['port']) ?? 0;
    if (portKeys.has(`${protocol}/${portNum}`))
      out.push(duplicate(`spec.ports[${i}]`, goServicePortKey(protocol, portNum)));
    portKeys.add(`${protocol}/${portNum}`);
  });
  out.push(...serviceTrafficPolicyCauses(spec, type));
  return out;
}

/** ExternallyAccessible: LoadBalancer, NodePort, or ClusterIP with external IPs. */
function externallyAccessible(spec: JsonObject, type: string): boolean {
  return (
    type === 'LoadBalancer' ||
    type === 'NodePort' ||
    (type === 'ClusterIP' && arrOf(spec['externalIPs']).length > 0)
  );
}

/** validateServiceExternalTrafficPolicy and validateServiceInternalTrafficFieldsValue. */
function serviceTrafficPolicyCauses(spec: JsonObject, type: string): StatusCause[] {
  const out: StatusCause[] = [];
  const external = strOf(spec['externalTrafficPolicy']);
  if (!externallyAccessible(spec, type)) {
    if (external !== '') {
      out.push(
        invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services'),
      );
    }
  } else if (external === '') out.push(required('spec.externalTrafficPolicy'));
  else if (external !== 'Cluster' && external !== 'Local') {
    out.push(notSupported('spec.externalTrafficPolicy', external, ['Cluster', 'Local']));
  }
  const hc = numOf(spec['healthCheckNodePort']) ?? 0;
  if (!(type === 'LoadBalancer' && external === 'Local')) {
    if (hc !== 0) {
      out.push(
        invalid(
          'spec.healthCheckNodePort',
          hc,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    }
  } else if (hc === 0) out.push(required('spec.healthCheckNodePort'));
  else if (!isValidPortNum(hc)) out.push(invalid('spec.healthCheckNodePort', hc, portRangeMsg));
  const internal = spec['internalTrafficPolicy'];
  if (
    (internal === undefined || internal === null) &&
    ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(type)
  ) {
    out.push(required('spec.internalTrafficPolicy', 'must be specified'));
  }
  if (typeof internal === 'string' && internal !== 'Cluster' && internal !== 'Local') {
    out.push(notSupported('spec.internalTrafficPolicy', internal, ['Cluster', 'Local']));
  }
  return out;
}

function nonSpecialIPCauses(ip: string, field: string): StatusCause[] {
  const v4 = parseIP(ip);
  if (!Array.isArray(v4)) return [];
  const [a = 0, b = 0, c = 0] = v4;
  if (v4.every((o) => o === 0)) return [invalid(field, ip, 'may not be unspecified (0.0.0.0)')];
  if (a === 127) return [invalid(field, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)')];
  if (a === 169 && b === 254)
    return [invalid(field, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)')];
  if (a === 224 && b === 0 && c === 0) {
    return [invalid(field, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)')];
  }
  return [];
}

/** validateUpgradeDowngradeClusterIPs: the primary clusterIP never changes once set. */
function serviceUpdateCauses(spec: JsonObject, oldSpec: JsonObject): StatusCause[] {
  if (strOf(spec['type']) === 'ExternalName' || strOf(oldSpec['type']) === 'ExternalName') return [];
  if (isHeadless(spec) && isHeadless(oldSpec)) return [];
  const ips = arrOf(spec['clusterIPs']).map(strOf);
  const oldIps = arrOf(oldSpec['clusterIPs']).map(strOf);
  const out: StatusCause[] = [];
  const changed = (): StatusCause =>
    invalid('spec.clusterIPs[0]', goStringSlice(ips), 'may not change once set');
  if (oldIps.length === ips.length) {
    oldIps.forEach((ip, i) => {
      if (ip !== ips[i])
        out.push(invalid(`spec.clusterIPs[${i}]`, goStringSlice(ips), 'may not change once set'));
    });
  } else if (oldIps.length > ips.length) {
    if (ips.length === 0)
      out.push(invalid('spec.clusterIPs[0]', goStringSlice(ips), 'primary clusterIP can not be unset'));
    else if (ips[0] !== oldIps[0]) out.push(changed());
  } else if (oldIps.length > 0 && ips[0] !== oldIps[0]) {
    out.push(changed());
  }
  return out;
}

const maxConfigBytes = 1024 * 1024;

function validateConfigMap(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  if (old && old['immutable'] === true) {
    if (obj['immutable'] !== true)
      out.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!semanticEqual(obj['data'], old['data']))
      out.push(forbidden('data', 'field is immutable when `immutable` is set'));
    if (!semanticEqual(obj['binaryData'], old['binaryData'])) {
      out.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
    }
  }
  const data = objOf(obj['data']) ?? {};
  const binary = objOf(obj['binaryData']) ?? {};
  let total = 0;
  for (const [key, v] of Object.entries(data)) {
    out.push(...configKeyErrors(key).map((m) => invalid(`data[${key}]`, key, m)));
    if (Object.hasOwn(binary, key))
      out.push(invalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
    total += new TextEncoder().encode(strOf(v)).length;
  }
  for (const [key, v] of Object.entries(binary)) {
    out.push(...configKeyErrors(key).map((m) => invalid(`binaryData[${key}]`, key, m)));
    if (Object.hasOwn(data, key))
      out.push(invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
    total += Math.floor((strOf(v).replace(/=+$/, '').length * 3) / 4);
  }
  if (total > maxConfigBytes) out.push(tooLong('', maxConfigBytes));
  return out;
}

function validateSecret(obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  if (old) {
    if (strOf(obj['type']) !== strOf(old['type']))
      out.push(invalid('type', strOf(obj['type']), 'field is immutable'));
    if (old['immutable'] === true) {
      if (obj['immutable'] !== true)
        out.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
      if (!semanticEqual(obj['data'], old['data']))
        out.push(forbidden('data', 'field is immutable when `immutable` is set'));
    }
  }
  const data = objOf(obj['data']) ?? {};
  let total = 0;
  for (const [key, v] of Object.entries(data)) {
    out.push(...configKeyErrors(key).map((m) => invalid(`data[${key}]`, key, m)));
    total += Math.floor((strOf(v).replace(/=+$/, '').length * 3) / 4);
  }
  if (total > maxConfigBytes) out.push(tooLong('data', maxConfigBytes));
  const has = (k: string): boolean => Object.hasOwn(data, k);
  switch (strOf(obj['type'])) {
    case 'kubernetes.io/service-account-token': {
      const annotations = objOf(objOf(obj['metadata'])?.['annotations']) ?? {};
      if (strOf(annotations['kubernetes.io/service-account.name']) === '') {
        out.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    }
    case 'kubernetes.io/dockercfg':
      if (!has('.dockercfg')) out.push(required('data[.dockercfg]'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      if (!has('.dockerconfigjson')) out.push(required('data[.dockerconfigjson]'));
      break;
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password'))
        out.push(required('data[username]'), required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (strOf(data['ssh-privatekey']) === '') out.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) out.push(required('data[tls.crt]'));
      if (!has('tls.key')) out.push(required('data[tls.key]'));
      break;
  }
  return out;
}

function validateEndpoints(obj: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  objects(obj['subsets']).forEach((ss, i) => {
    const p = `subsets[${i}]`;
    const addresses = objects(ss['addresses']);
    const notReady = objects(ss['notReadyAddresses']);
    if (addresses.length === 0 && notReady.length === 0)
      out.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    for (const [list, items] of [
      ['addresses', addresses],
      ['notReadyAddresses', notReady],
    ] as const) {
      items.forEach((a, j) => {
        const ap = `${p}.${list}[${j}]`;
        const ip = strOf(a['ip']);
        if (parseIP(ip) === undefined) {
          out.push(
            invalid(`${ap}.ip`, ip, validIpMsg),
            invalid(`${ap}.ip`, ip, 'must be a valid IP address'),
          );
        } else out.push(...nonSpecialIPCauses(ip, `${ap}.ip`));
        const hostname = strOf(a['hostname']);
        if (hostname !== '') out.push(...dnsLabelCauses(`${ap}.hostname`, hostname));
        if (typeof a['nodeName'] === 'string')
          out.push(...dnsSubdomainCauses(`${ap}.nodeName`, a['nodeName']));
      });
    }
    const ports = objects(ss['ports']);
    ports.forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      const name = strOf(port['name']);
      if (ports.length > 1 && name === '') out.push(required(`${pp}.name`));
      else if (name !== '') out.push(...dnsLabelCauses(`${pp}.name`, name));
      const n = numOf(port['port']) ?? 0;
      if (!isValidPortNum(n)) out.push(invalid(`${pp}.port`, n, portRangeMsg));
      out.push(...protocolCauses(`${pp}.protocol`, port['protocol']));
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Events, Leases, EndpointSlices, HorizontalPodAutoscalers.

/** %#v of a time field as kube prints it (metav1.Time is a Stringer). */
function goTime(v: Json | undefined): GoLiteral {
  if (typeof v !== 'string' || v === '') return new GoLiteral('0001-01-01 00:00:00 +0000 UTC');
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return new GoLiteral(v);
  const iso = d.toISOString();
  return new GoLiteral(`${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`);
}

function goObjectReference(v: Json | undefined): GoLiteral {
  const r = objOf(v) ?? {};
  const f = (k: string): string => goQuote(strOf(r[k]));
  return new GoLiteral(
    `core.ObjectReference{Kind:${f('kind')}, Namespace:${f('namespace')}, Name:${f('name')}, UID:${f('uid')}, APIVersion:${f('apiVersion')}, ResourceVersion:${f('resourceVersion')}, FieldPath:${f('fieldPath')}}`,
  );
}

/**
 * Event validation on the stored (core) shape. `eventsV1` is the request version: events.k8s.io/v1 gets the
 * strict checks and its own field names; core/v1 only the legacy ones (namespace agreement, and for Events
 * with eventTime the reporting fields).
 */
function validateEvent(ev: JsonObject, old: JsonObject | undefined, eventsV1: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const namespace = strOf(objOf(ev['metadata'])?.['namespace']);
  const involved = objOf(ev['involvedObject']) ?? {};
  const involvedNs = strOf(involved['namespace']);
  const hasEventTime = typeof ev['eventTime'] === 'string' && ev['eventTime'] !== '';
  const mismatch = (): StatusCause =>
    invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace');
  const reportingField = eventsV1 ? 'reportingController' : 'reportingComponent';
  if (!hasEventTime) {
    if (involvedNs === '') {
      if (namespace !== '' && namespace !== 'default') out.push(mismatch());
    } else if (namespace !== involvedNs) out.push(mismatch());
  } else {
    if (involvedNs === '' && namespace !== 'default' && namespace !== 'kube-system') out.push(mismatch());
    const controller = strOf(ev['reportingComponent']);
    if (controller === '') out.push(required(reportingField));
    out.push(...qualifiedNameCauses(reportingField, controller));
    const instance = strOf(ev['reportingInstance']);
    if (instance === '') out.push(required('reportingInstance'));
    if (instance.length > 128) out.push(invalid('reportingInstance', '', 'can have at most 128 characters'));
    const action = strOf(ev['action']);
    if (action === '') out.push(required('action'));
    if (action.length > 128) out.push(invalid('action', '', 'can have at most 128 characters'));
    const reason = strOf(ev['reason']);
    if (reason === '') out.push(required('reason'));
    if (reason.length > 128) out.push(invalid('reason', '', 'can have at most 128 characters'));
    if (strOf(ev['message']).length > 1024) out.push(invalid('note', '', 'can have at most 1024 characters'));
  }
  out.push(...dnsSubdomainCauses('namespace', namespace));
  if (!eventsV1) return out;
  const series = objOf(ev['series']);
  if (series) {
    if ((numOf(series['count']) ?? 0) < 2) out.push(invalid('series.count', '', 'should be at least 2'));
    if (typeof series['lastObservedTime'] !== 'string') out.push(required('series.lastObservedTime'));
  }
  if (old) return [...out, ...eventUpdateCauses(ev, old)];
  if (!hasEventTime) out.push(required('eventTime'));
  const type = strOf(ev['type']);
  if (type !== 'Normal' && type !== 'Warning') out.push(invalid('type', '', `has invalid value: ${type}`));
  if (typeof ev['firstTimestamp'] === 'string')
    out.push(invalid('deprecatedFirstTimestamp', '', 'needs to be unset'));
  if (typeof ev['lastTimestamp'] === 'string')
    out.push(invalid('deprecatedLastTimestamp', '', 'needs to be unset'));
  if ((numOf(ev['count']) ?? 0) !== 0) out.push(invalid('deprecatedCount', '', 'needs to be unset'));
  const source = objOf(ev['source']) ?? {};
  if (strOf(source['component']) !== '' || strOf(source['host']) !== '') {
    out.push(invalid('deprecatedSource', '', 'needs to be unset'));
  }
  return out;
}

function eventUpdateCauses(ev: JsonObject, old: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const immutable = (field: string, key: string, render: (v: Json | undefined) => BadValue): void => {
    if (!semanticEqual(ev[key], old[key])) out.push(invalid(field, render(ev[key]), 'field is immutable'));
  };
  const asString = (v: Json | undefined): BadValue => strOf(v);
  immutable('involvedObject', 'involvedObject', goObjectReference);
  immutable('reason', 'reason', asString);
  immutable('message', 'message', asString);
  immutable('source', 'source', (v) => {
    const s = objOf(v) ?? {};
    return new GoLiteral(
      `core.EventSource{Component:${goQuote(strOf(s['component']))}, Host:${goQuote(strOf(s['host']))}}`,
    );
  });
  immutable('firstTimestamp', 'firstTimestamp', goTime);
  immutable('lastTimestamp', 'lastTimestamp', goTime);
  immutable('count', 'count', (v) => numOf(v) ?? 0);
  immutable('type', 'type', asString);
  immutable('eventTime', 'eventTime', goTime);
  immutable('action', 'action', asString);
  immutable('related', 'related', (v) => (objOf(v) ? goObjectReference(v) : 'null'));
  immutable('reportingController', 'reportingComponent', asString);
  immutable('reportingInstance', 'reportingInstance', asString);
  return out;
}

function validateLease(obj: JsonObject): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const out: StatusCause[] = [];
  const duration = numOf(spec['leaseDurationSeconds']);
  if (duration !== undefined && duration <= 0)
    out.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = numOf(spec['leaseTransitions']);
  if (transitions !== undefined && transitions < 0)
    out.push(invalid('spec.leaseTransitions', transitions, nonNegativeMsg));
  return out;
}

function validateEndpointSlice(obj: JsonObject): StatusCause[] {
  const out: StatusCause[] = [];
  const addressType = strOf(obj['addressType']);
  if (addressType === '') out.push(required('addressType'));
  else if (!['FQDN', 'IPv4', 'IPv6'].includes(addressType)) {
    out.push(notSupported('addressType', addressType, ['FQDN', 'IPv4', 'IPv6']));
  }
  const endpoints = objects(obj['endpoints']);
  if (endpoints.length > 1000) out.push(tooMany('endpoints', endpoints.length, 1000));
  endpoints.forEach((ep, i) => {
    const p = `endpoints[${i}].addresses`;
    const addresses = arrOf(ep['addresses']).map(strOf);
    if (addresses.length === 0) out.push(required(p, 'must contain at least 1 address'));
    else if (addresses.length > 100) out.push(tooMany(p, addresses.length, 100));
    addresses.forEach((a, j) => {
      const parsed = parseIP(a);
      if (addressType === 'IPv4' && !Array.isArray(parsed))
        out.push(invalid(`${p}[${j}]`, a, 'must be a valid IPv4 address'));
      if (addressType === 'IPv6' && parsed !== 'v6')
        out.push(invalid(`${p}[${j}]`, a, 'must be a valid IPv6 address'));
    });
    if (typeof ep['nodeName'] === 'string')
      out.push(...dnsSubdomainCauses(`endpoints[${i}].nodeName`, ep['nodeName']));
    if (typeof ep['hostname'] === 'string')
      out.push(...dnsLabelCauses(`endpoints[${i}].hostname`, ep['hostname']));
  });
  const names = new Set<string>();
  const ports = objects(obj['ports']);
  if (ports.length > 20000) out.push(tooMany('ports', ports.length, 20000));
  ports.forEach((port, i) => {
    const p = `ports[${i}]`;
    const name = strOf(port['name']);
    if (name !== '') out.push(...dnsLabelCauses(`${p}.name`, name));
    if (names.has(name)) out.push(duplicate(`${p}.name`, name));
    else names.add(name);
    const protocol = port['protocol'];
    if (typeof protocol !== 'string') out.push(required(`${p}.protocol`));
    else if (!supportedPortProtocols.includes(protocol))
      out.push(notSupported(`${p}.protocol`, protocol, supportedPortProtocols));
    if (typeof port['appProtocol'] === 'string')
      out.push(...qualifiedNameCauses(`${p}.appProtocol`, port['appProtocol']));
  });
  return out;
}

const metricSourceTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const metricSourceFields: Readonly<Record<string, string>> = {
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
  External: 'external',
  ContainerResource: 'containerResource',
};

function metricTargetCauses(target: JsonObject, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  const type = strOf(target['type']);
  if (type === '') out.push(required(`${p}.type`, 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(type)) {
    out.push(invalid(`${p}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  }
  for (const k of ['value', 'averageValue']) {
    const q = quantityOf(target[k]);
    if (q && q.nanos <= 0n) out.push(invalid(`${p}.${k}`, formatQuantity(q), 'must be positive'));
  }
  const util = numOf(target['averageUtilization']);
  if (util !== undefined && util < 1)
    out.push(invalid(`${p}.averageUtilization`, util, 'must be greater than 0'));
  return out;
}

function metricCauses(m: JsonObject, p: string): StatusCause[] {
  const out: StatusCause[] = [];
  const type = strOf(m['type']);
  if (type === '') out.push(required(`${p}.type`, 'must specify a metric source type'));
  if (!metricSourceTypes.includes(type)) out.push(notSupported(`${p}.type`, type, metricSourceTypes));
  const present = Object.values(metricSourceFields).filter((f) => objOf(m[f]) !== undefined);
  const first = present[0];
  if (present.length === 1 && first !== undefined) {
    const src = objOf(m[first]) ?? {};
    const sp = `${p}.${first}`;
    if (first === 'resource' || first === 'containerResource') {
      if (strOf(src['name']) === '') out.push(required(`${sp}.name`, 'must specify a resource name'));
      if (first === 'containerResource' && strOf(src['container']) === '') {
        out.push(required(`${sp}.container`, 'must specify a container'));
      }
      const target = objOf(src['target']) ?? {};
      out.push(...metricTargetCauses(target, `${sp}.target`));
      const hasUtil = target['averageUtilization'] !== undefined && target['averageUtilization'] !== null;
      const hasAvg = target['averageValue'] !== undefined && target['averageValue'] !== null;
      if (!hasUtil && !hasAvg) {
        out.push(
          required(
            `${sp}.target.averageUtilization`,
            'must set either a target raw value or a target utilization',
          ),
        );
      }
      if (hasUtil && hasAvg) {
        out.push(
          forbidden(
            `${sp}.target.averageValue`,
            'may not set both a target raw value and a target utilization',
          ),
        );
      }
    } else {
      if (strOf(objOf(src['metric'])?.['name']) === '')
        out.push(required(`${sp}.metric.name`, 'must specify a metric name'));
      out.push(...metricTargetCauses(objOf(src['target']) ?? {}, `${sp}.target`));
    }
  }
  const expected = metricSourceFields[type];
  if (expected === undefined) out.push(notSupported(`${p}.type`, type, metricSourceTypes));
  else if (objOf(m[expected]) === undefined) {
    out.push(required(`${p}.${expected}`, 'must populate information for the given metric source'));
  }
  if (present.length !== 1) {
    for (const f of present) {
      if (f !== expected) out.push(forbidden(`${p}.${f}`, 'must populate the given metric source only'));
    }
  }
  return out;
}

function scalingRulesCauses(rules: JsonObject | undefined, p: string): StatusCause[] {
  if (!rules) return [];
  const out: StatusCause[] = [];
  const window = numOf(rules['stabilizationWindowSeconds']);
  if (window !== undefined && window < 0) {
    out.push(invalid(`${p}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
  }
  if (window !== undefined && window > 3600) {
    out.push(invalid(`${p}.stabilizationWindowSeconds`, window, 'must be less than or equal to 3600'));
  }
  const select = rules['selectPolicy'];
  if (typeof select === 'string' && !['Disabled', 'Max', 'Min'].includes(select)) {
    out.push(notSupported(`${p}.selectPolicy`, select, ['Disabled', 'Max', 'Min']));
  }
  const policies = objects(rules['policies']);
  if (policies.length === 0) out.push(required(`${p}.policies`, 'must specify at least one Policy'));
  policies.forEach((pol, i) => {
    const pp = `${p}.policies[${i}]`;
    const type = strOf(pol['type']);
    if (type !== 'Pods' && type !== 'Percent')
      out.push(notSupported(`${pp}.type`, type, ['Percent', 'Pods']));
    const value = numOf(pol['value']) ?? 0;
    if (value <= 0) out.push(invalid(`${pp}.value`, value, 'must be greater than zero'));
    const period = numOf(pol['periodSeconds']) ?? 0;
    if (period <= 0) out.push(invalid(`${pp}.periodSeconds`, period, 'must be greater than zero'));
    if (period > 1800) out.push(invalid(`${pp}.periodSeconds`, period, 'must be less than or equal to 1800'));
  });
  return out;
}

function pathSegmentCauses(field: string, value: string): StatusCause[] {
  if (value === '.' || value === '..') return [invalid(field, value, `may not be '${value}'`)];
  return ['/', '%']
    .filter((c) => value.includes(c))
    .map((c) => invalid(field, value, `may not contain '${c}'`));
}

function validateHpa(obj: JsonObject): StatusCause[] {
  const spec = objOf(obj['spec']) ?? {};
  const out: StatusCause[] = [];
  const min = numOf(spec['minReplicas']);
  const max = numOf(spec['maxReplicas']) ?? 0;
  if (min !== undefined && min < 1)
    out.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (max < 1) out.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min !== undefined && max < min)
    out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  const ref = objOf(spec['scaleTargetRef']) ?? {};
  for (const k of ['kind', 'name']) {
    const v = strOf(ref[k]);
    if (v === '') out.push(required(`spec.scaleTargetRef.${k}`));
    else out.push(...pathSegmentCauses(`spec.scaleTargetRef.${k}`, v));
  }
  objects(spec['metrics']).forEach((m, i) => out.push(...metricCauses(m, `spec.metrics[${i}]`)));
  const behavior = objOf(spec['behavior']);
  if (behavior) {
    out.push(...scalingRulesCauses(objOf(behavior['scaleUp']), 'spec.behavior.scaleUp'));
    out.push(...scalingRulesCauses(objOf(behavior['scaleDown']), 'spec.behavior.scaleDown'));
  }
  return out;
}

/**
 * The type-specific causes kube reports for a create (old undefined) or update of a built-in object,
 * identified as `<apiVersion>/<kind>` (e.g. `apps/v1/Deployment`, `v1/Pod`), after defaulting. Events are
 * given in their stored core/v1 shape; the apiVersion says which API wrote them. Unknown kinds: [].
 */
export function validateBuiltin(apiVersionKind: string, obj: JsonObject, old?: JsonObject): StatusCause[] {
  switch (apiVersionKind) {
    case 'apps/v1/Deployment':
      return validateDeployment(obj, old);
    case 'apps/v1/ReplicaSet':
      return validateReplicaSet(obj, old);
    case 'apps/v1/DaemonSet':
      return validateDaemonSet(obj, old);
    case 'v1/Pod':
      return validatePod(obj, old);
    case 'v1/Service':
      return validateService(obj, old);
    case 'v1/ConfigMap':
      return validateConfigMap(obj, old);
    case 'v1/Secret':
      return validateSecret(obj, old);
    case 'v1/Endpoints':
      return validateEndpoints(obj);
    case 'v1/Event':
      return validateEvent(obj, old, false);
    case 'events.k8s.io/v1/Event':
      return validateEvent(obj, old, true);
    case 'coordination.k8s.io/v1/Lease':
      return validateLease(obj);
    case 'discovery.k8s.io/v1/EndpointSlice':
      return validateEndpointSlice(obj);
    case 'autoscaling/v2/HorizontalPodAutoscaler':
      return validateHpa(obj);
    default:
      return [];
  }
}
