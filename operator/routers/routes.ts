// Pure builders of the networking.istio.io objects a Canary's routes are made of (Flagger's layout): the
// VirtualService `<service>` splitting traffic between `<service>-primary` and `<service>-canary`, and their
// DestinationRules. Shared by the `fledge` and `istio` routers; no I/O.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { z } from 'zod';
import type { Canary, CanaryProvider } from '../../crds/schema/flagger.js';
import type { DestinationRuleSpec, VirtualServiceSpec } from '../../crds/schema/networking.js';
import { destinationRuleSpec, virtualServiceSpec } from '../../crds/schema/networking.js';
import type { Outcome } from '../k8s/client.js';
import { canonicalJson } from '../k8s/client.js';
import type { RouteWeights } from '../router.js';
import { ownerReference, workloadNames } from '../workload.js';

/**
 * What differs between the providers that write these objects; everything else is shared. `apiVersion` is the
 * networking.istio.io version the objects are written as (it is also the API version the router reads).
 */
export interface RouteFlavor {
  provider: Extract<CanaryProvider, 'fledge' | 'istio'>;
  apiVersion: `networking.istio.io/${string}`;
  /** Labels on every object written, merged over the object's other labels. */
  labels: Record<string, string>;
}

export interface VirtualService {
  apiVersion: string;
  kind: 'VirtualService';
  metadata: V1ObjectMeta;
  spec: VirtualServiceSpec;
}

export interface DestinationRule {
  apiVersion: string;
  kind: 'DestinationRule';
  metadata: V1ObjectMeta;
  spec: DestinationRuleSpec;
}

/** Weights must be integers in 0..100 summing to 100; anything else is a caller's bug. */
export function checkWeights(w: RouteWeights): void {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 100;
  if (!ok(w.primary) || !ok(w.canary) || w.primary + w.canary !== 100)
    throw new Error(`route weights must be integers summing to 100, got ${w.primary}/${w.canary}`);
}

function pathOf(prefix: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : `${out}.${String(key)}`),
    prefix,
  );
}

/**
 * Validates a built spec with the CRD's own schema, so a Canary field the API server would refuse in the
 * VirtualService/DestinationRule (say `timeout: 30`) is reported under the Canary's field, before any write.
 */
function validated<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  canaryField: (path: readonly PropertyKey[]) => string,
): Outcome<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    field: issue ? canaryField(issue.path) : 'spec.service',
    message: issue ? issue.message : 'invalid',
  };
}

function metadata(canary: Canary, name: string, flavor: RouteFlavor): V1ObjectMeta {
  return {
    name,
    namespace: canary.metadata.namespace,
    labels: { ...flavor.labels },
    ownerReferences: [ownerReference(canary)],
  };
}

/** DestinationRules `<service>-primary` and `<service>-canary`: host = that Service, trafficPolicy from the spec. */
export function buildDestinationRules(canary: Canary, flavor: RouteFlavor): Outcome<DestinationRule[]> {
  const names = workloadNames(canary);
  const out: DestinationRule[] = [];
  for (const host of [names.primaryService, names.canaryService]) {
    const tp = canary.spec.service.trafficPolicy;
    const spec = validated(destinationRuleSpec, { host, ...(tp ? { trafficPolicy: tp } : {}) }, (p) =>
      pathOf('spec.service', p),
    );
    if (!spec.ok) return spec;
    out.push({
      apiVersion: flavor.apiVersion,
      kind: 'DestinationRule',
      metadata: metadata(canary, host, flavor),
      spec: spec.value,
    });
  }
  return { ok: true, value: out };
}

/** http[0] fields copied from spec.service under the same name. */
const COPIED_HTTP_FIELDS = ['match', 'retries', 'timeout', 'headers', 'corsPolicy'] as const;

/**
 * The VirtualService `<service>` as Flagger writes it for the canary strategy: hosts [service, ...hosts],
 * gateways, one http route with the spec's match/rewrite/retries/timeout/headers/corsPolicy and the two weighted
 * destinations. Throws on weights that do not sum to 100 (a caller's bug).
 */
export function buildVirtualService(
  canary: Canary,
  w: RouteWeights,
  flavor: RouteFlavor,
): Outcome<VirtualService> {
  checkWeights(w);
  const s = canary.spec.service;
  const names = workloadNames(canary);
  const destination = (host: string, weight: number) => ({
    destination: { host, port: { number: s.port } },
    weight,
  });
  const http: Record<string, unknown> = {};
  for (const key of COPIED_HTTP_FIELDS) {
    const v = s[key];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) http[key] = v;
  }
  // Flagger's rewrite also has `type` (Gateway API); Istio's has uri and authority only.
  if (s.rewrite?.uri !== undefined || s.rewrite?.authority !== undefined)
    http.rewrite = {
      ...(s.rewrite.uri !== undefined ? { uri: s.rewrite.uri } : {}),
      ...(s.rewrite.authority !== undefined ? { authority: s.rewrite.authority } : {}),
    };
  http.route = [destination(names.primaryService, w.primary), destination(names.canaryService, w.canary)];
  const raw = { hosts: [...new Set([s.name, ...(s.hosts ?? [])])], gateways: [...s.gateways], http: [http] };
  const spec = validated(virtualServiceSpec, raw, (p) =>
    p[0] === 'http' ? pathOf('spec.service', p.slice(2)) : pathOf('spec.service', p),
  );
  if (!spec.ok) return spec;
  return {
    ok: true,
    value: {
      apiVersion: flavor.apiVersion,
      kind: 'VirtualService',
      metadata: metadata(canary, s.name, flavor),
      spec: spec.value,
    },
  };
}

const isHost = (host: string, service: string): boolean => host === service || host.startsWith(`${service}.`);

/**
 * The weights a VirtualService serves to the Canary's primary and canary Services: the first http route that
 * has a destination to either. A destination without a weight gets 100 when it is the route's only one
 * (Istio's rule), else 0. A problem when no route leads to them.
 */
export function readWeights(canary: Canary, vs: Pick<VirtualService, 'spec'>): Outcome<RouteWeights> {
  const names = workloadNames(canary);
  for (const http of vs.spec.http ?? []) {
    const route = http.route ?? [];
    const weightTo = (service: string): number | undefined => {
      const dests = route.filter((r) => isHost(r.destination.host, service));
      if (dests.length === 0) return undefined;
      return dests.reduce((sum, r) => sum + (r.weight ?? (route.length === 1 ? 100 : 0)), 0);
    };
    const primary = weightTo(names.primaryService);
    const canaryWeight = weightTo(names.canaryService);
    if (primary !== undefined || canaryWeight !== undefined)
      return { ok: true, value: { primary: primary ?? 0, canary: canaryWeight ?? 0 } };
  }
  return {
    ok: false,
    field: 'spec.service.name',
    message: `VirtualService ${canary.spec.service.name} has no http route to ${names.primaryService} or ${names.canaryService}`,
  };
}

/**
 * `existing` with the desired spec and the desired labels merged over its own; null when it already matches.
 * Everything else of the existing object (owners, annotations, status) is kept.
 */
export function updatedRouteObject<T extends VirtualService | DestinationRule>(
  existing: T,
  desired: T,
): T | null {
  const labels = { ...existing.metadata.labels, ...desired.metadata.labels };
  if (
    canonicalJson(existing.spec) === canonicalJson(desired.spec) &&
    canonicalJson(existing.metadata.labels ?? {}) === canonicalJson(labels)
  )
    return null;
  return { ...existing, metadata: { ...existing.metadata, labels }, spec: desired.spec };
}
