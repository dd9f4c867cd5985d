// Per-type decoding, defaulting and validation of objects being written ("admission"), and the
// conversions between stored and served forms (apiVersion/kind, core vs events.k8s.io Events).
import type { Api, WriteOptions } from './api.js';
import { applyBuiltinDefaults } from './builtins/defaults.js';
import type { DefaultsContext } from './builtins/defaults.js';
import { eventFromEventsV1, eventToEventsV1, microTimeDecodeError } from './builtins/events.js';
import { validateBuiltin } from './builtins/validate.js';
import { crdDefaults, validateCrd } from './crd.js';
import type { DResult } from './meta.js';
import { failWith, invalidFor } from './meta.js';
import { gvString } from './registry.js';
import type { FieldValidationMode } from './schema.js';
import {
  applyDefaults,
  checkBodyFields,
  checkPatchFields,
  prune,
  validate,
  validateScaleReplicas,
} from './schema.js';
import type { JsonObject, ResourceType, StatusCause } from './types.js';
import { isObject, str } from './types.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './validation/meta.js';

export interface AdmitOptions extends WriteOptions {
  operation: 'create' | 'update' | 'status' | 'decode-patch';
  /** For 'decode-patch': the patch type and raw body (duplicate fields of merge patches). */
  patchType?: 'merge' | 'json' | 'strategic';
  /** Warnings already found when decoding (a patch): replaces the pruning warnings. */
  decodeWarnings?: string[];
}

const modeOf = (v: string | undefined): FieldValidationMode =>
  v === 'Strict' || v === 'Ignore' ? v : 'Warn';

/** Types whose metadata.generation the server maintains. */
export function hasGeneration(t: ResourceType): boolean {
  if (t.custom) return true;
  return (
    (t.group === 'apps' && ['deployments', 'replicasets', 'daemonsets'].includes(t.resource)) ||
    (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') ||
    (t.group === 'discovery.k8s.io' && t.resource === 'endpointslices') ||
    (t.group === 'autoscaling' && t.resource === 'horizontalpodautoscalers')
  );
}

/** DELETE answers with the object itself (not a Status) for these types. */
export function returnsDeletedObject(t: ResourceType): boolean {
  return t.group === '' && t.resource === 'pods';
}

const isEventsV1 = (t: ResourceType): boolean => t.group === 'events.k8s.io' && t.resource === 'events';

/** The stored object as served by t: apiVersion/kind of t, Events converted. */
export function convertForRead(t: ResourceType, obj: JsonObject): JsonObject {
  if (isEventsV1(t)) return eventToEventsV1(obj);
  const out: JsonObject = { ...obj };
  out.apiVersion = gvString(t.group, t.version);
  out.kind = t.kind;
  return out;
}

/** A written object in its stored form (events.k8s.io Events are stored as core Events). */
export function convertForWrite(t: ResourceType, obj: JsonObject): JsonObject {
  if (isEventsV1(t)) return eventFromEventsV1(obj);
  return obj;
}

/** An IPv4 CIDR as numbers: the network address and the number of addresses. */
export interface Ipv4Range {
  text: string;
  network: number;
  size: number;
}

const ipToNumber = (ip: string): number | undefined => {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
};
const numberToIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function parseIpv4Cidr(text: string): Ipv4Range {
  const [addr, bitsText] = text.split('/');
  const bits = Number(bitsText);
  const base = ipToNumber(addr ?? '');
  if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30)
    throw new Error(`invalid service CIDR "${text}"`);
  const size = 2 ** (32 - bits);
  return { text, network: base - (base % size), size };
}

/**
 * Cluster IP and node port allocation over the Services stored now. The scan happens on first use
 * only, so writes of other types pay nothing.
 */
function defaultsContext(api: Api): DefaultsContext {
  const range = api.serviceRange;
  let used: Set<string> | undefined;
  let usedPorts: Set<number> | undefined;
  const scan = (): { ips: Set<string>; ports: Set<number> } => {
    if (!used || !usedPorts) {
      used = new Set();
      usedPorts = new Set();
      for (const svc of api.store.list('/services')) {
        const spec = isObject(svc.spec) ? svc.spec : {};
        for (const ip of (spec.clusterIPs as string[] | undefined) ?? []) used.add(ip);
        if (typeof spec.clusterIP === 'string') used.add(spec.clusterIP);
        for (const p of (spec.ports as JsonObject[] | undefined) ?? [])
          if (typeof p.nodePort === 'number') usedPorts.add(p.nodePort);
      }
    }
    return { ips: used, ports: usedPorts };
  };
  const hosts = range.size - 2;
  const kubernetesServiceIP = numberToIp(range.network + 1);
  return {
    serviceCidr: range.text,
    kubernetesServiceIP,
    inServiceRange: (ip: string) => {
      const n = ipToNumber(ip);
      return n !== undefined && n > range.network && n < range.network + range.size - 1;
    },
    isClusterIPInUse: (ip: string) => scan().ips.has(ip),
    isNodePortInUse: (port: number) => scan().ports.has(port),
    allocateClusterIP: () => {
      const { ips } = scan();
      // Random start, then linear probing, as kube's bitmap allocator does.
      const start = Math.floor(Math.random() * hosts);
      for (let i = 0; i < hosts; i++) {
        const ip = numberToIp(range.network + 1 + ((start + i) % hosts));
        if (ip !== kubernetesServiceIP && !ips.has(ip)) {
          ips.add(ip);
          return ip;
        }
      }
      return '';
    },
    allocateNodePort: () => {
      const { ports } = scan();
      for (let p = 30000 + Math.floor(Math.random() * 2768); ; p = p >= 32767 ? 30000 : p + 1) {
        if (!ports.has(p)) {
          ports.add(p);
          return p;
        }
      }
    },
  };
}

/**
 * Decodes, defaults and validates `obj` for a write. Returns the warnings to send, or the
 * failure exactly as kube-apiserver words it. Mutates obj (pruning, defaults).
 */
export function admitObject(
  api: Api,
  t: ResourceType,
  obj: JsonObject,
  old: JsonObject | undefined,
  opts: AdmitOptions,
): DResult<string[]> {
  const name = isObject(obj.metadata) ? str(obj.metadata.name ?? '') : '';
  if (opts.operation === 'decode-patch') return decodePatched(api, t, obj, opts);

  // Decode-time MicroTime checks of built-ins (Lease, events.k8s.io Event): a 400 on POST/PUT.
  if (!t.custom) {
    const decodeErr = microTimeDecodeError(`${gvString(t.group, t.version)}/${t.kind}`, obj);
    if (decodeErr)
      return failWith(
        400,
        'BadRequest',
        `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${decodeErr}`,
      );
  }

  const warnings: string[] = [];
  if (t.custom) {
    const schema = api.registry.schemaOf(t) ?? {};
    const mode = modeOf(opts.fieldValidation);
    if (opts.decodeWarnings) {
      warnings.push(...opts.decodeWarnings);
    } else if (opts.rawBody !== undefined && opts.operation !== 'status') {
      const fv = checkBodyFields(opts.rawBody, schema, { mode, kind: t.kind, version: t.version });
      if (!fv.ok) return failWith(fv.error.code, fv.error.reason, fv.error.message);
      warnings.push(...fv.value);
    }
    const pruned = prune(obj, schema);
    if (opts.rawBody === undefined && !opts.decodeWarnings && mode === 'Warn')
      warnings.push(...pruned.map((p) => `unknown field "${p}"`));
    applyDefaults(obj, schema);
    const causes: StatusCause[] = [];
    causes.push(...metaCauses(t, obj, old));
    causes.push(...validate(obj, schema));
    if (t.scale) causes.push(...validateScaleReplicas(obj, t.scale));
    if (causes.length > 0) {
      const r = invalidFor<string[]>(t, name, causes);
      if (!r.ok && warnings.length > 0) r.error.warnings = dedupe(warnings);
      return r;
    }
    return { ok: true, value: dedupe(warnings) };
  }

  const avk = `${gvString(t.group, t.version)}/${t.kind}`;
  if (t.group === 'apiextensions.k8s.io' && t.resource === 'customresourcedefinitions') {
    if (opts.operation === 'create') crdDefaults(obj);
    const causes = [...metaCauses(t, obj, old), ...validateCrd(obj)];
    if (causes.length > 0) return invalidFor(t, name, causes);
    return { ok: true, value: warnings };
  }
  const ctx = defaultsContext(api);
  const before = old;
  const defaulted = applyBuiltinDefaults(avk, obj, ctx, before);
  if (defaulted && !defaulted.ok) return invalidFor(t, name, defaulted.error.causes ?? []);
  const causes = [...metaCauses(t, obj, old), ...validateBuiltin(avk, obj, old)];
  if (causes.length > 0) return invalidFor(t, name, causes);
  return { ok: true, value: warnings };
}

function metaCauses(t: ResourceType, obj: JsonObject, old: JsonObject | undefined): StatusCause[] {
  const meta = isObject(obj.metadata) ? obj.metadata : undefined;
  if (old) {
    return validateObjectMetaUpdate(meta, isObject(old.metadata) ? old.metadata : undefined, {
      namespaced: t.namespaced,
    });
  }
  return validateObjectMeta(meta, { namespaced: t.namespaced });
}

/**
 * Decode-time checks of a patched object: unknown/duplicate fields of custom resources and MicroTime
 * fields of built-ins. kube answers 422 with the field "patch"; otherwise the warnings to send.
 */
function decodePatched(api: Api, t: ResourceType, obj: JsonObject, opts: AdmitOptions): DResult<string[]> {
  if (t.custom) {
    const schema = api.registry.schemaOf(t) ?? {};
    const r = checkPatchFields(schema, {
      mode: modeOf(opts.fieldValidation),
      patched: obj,
      ...(opts.patchType === 'merge' && opts.rawBody !== undefined ? { mergePatchBody: opts.rawBody } : {}),
    });
    if (!r.ok)
      return failWith(r.error.code, r.error.reason, r.error.message, { causes: r.error.causes ?? [] });
    return { ok: true, value: r.value };
  }
  const problem = microTimeDecodeError(`${gvString(t.group, t.version)}/${t.kind}`, obj);
  if (!problem) return { ok: true, value: [] };
  const message = `Invalid value: ${JSON.stringify(JSON.stringify(obj))}: ${problem}`;
  return failWith(422, 'Invalid', ` "" is invalid: patch: ${message}`, {
    causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }],
  });
}

const dedupe = (xs: string[]): string[] => [...new Set(xs)];
