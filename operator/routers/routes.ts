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
import type { HttpMatch, RouteState } from '../scheduler/index.js';
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

/** Fields copied from spec.service to every http route, under the same name (match is handled apart). */
const COPIED_HTTP_FIELDS = ['retries', 'timeout', 'headers', 'corsPolicy'] as const;

type HttpRoute = NonNullable<VirtualServiceSpec['http']>[number];
type HttpDestination = NonNullable<HttpRoute['route']>[number];
type StringMatch = NonNullable<HttpMatch['uri']>;

/** The response header fledge (as Flagger) sets the session-affinity cookie with. */
export const SET_COOKIE = 'Set-Cookie';

/** `s` as an RE2 literal. */
const regexLiteral = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Istio's StringMatch has no suffix: Flagger's A/B `suffix` becomes the equivalent regex. */
function istioStringMatch(m: StringMatch & { suffix?: unknown }): StringMatch {
  const { suffix, ...rest } = m;
  return typeof suffix === 'string' ? { ...rest, regex: `.*${regexLiteral(suffix)}` } : rest;
}

function istioStringMatches(
  rec: Record<string, StringMatch> | undefined,
): Record<string, StringMatch> | undefined {
  if (rec === undefined) return undefined;
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, istioStringMatch(v)]));
}

/**
 * Flagger's merge of conditions with spec.service.match: every condition combined with every service match
 * (headers, queryParams and sourceLabels joined, the condition's winning on a clash); the conditions alone
 * when the service has no match.
 */
export function mergeMatches(conditions: readonly HttpMatch[], service: readonly HttpMatch[]): HttpMatch[] {
  const join = <T>(a: Record<string, T> | undefined, b: Record<string, T> | undefined) =>
    a === undefined && b === undefined ? undefined : { ...a, ...b };
  const defaults: HttpMatch[] = service.length > 0 ? [...service] : [{}];
  return conditions.flatMap((c) =>
    defaults.map((d) => {
      const merged: HttpMatch = {
        ...d,
        ...c,
        headers: join(d.headers, istioStringMatches(c.headers)),
        queryParams: join(d.queryParams, istioStringMatches(c.queryParams)),
        sourceLabels: join(d.sourceLabels, c.sourceLabels),
      };
      for (const k of ['headers', 'queryParams', 'sourceLabels'] as const)
        if (merged[k] === undefined) delete merged[k];
      return merged;
    }),
  );
}

/** The condition on the `cookie` request header that a client holding `name=value` meets (Flagger's regex). */
export const cookieCondition = (name: string, value: string): HttpMatch => ({
  headers: { cookie: { regex: `.*${regexLiteral(`${name}=${value}`)}.*` } },
});

const setCookie = (name: string, value: string, maxAgeSeconds: number): string =>
  `${name}=${value}; Max-Age=${maxAgeSeconds}`;

/** `name=value; Max-Age=N` → its parts; undefined for anything else. */
function parseSetCookie(
  header: string | undefined,
): { name: string; value: string; maxAge: number } | undefined {
  const m = /^([^=;\s]+)=([^;]*);\s*Max-Age=(-?\d+)$/.exec(header ?? '');
  return m?.[1] === undefined ? undefined : { name: m[1], value: m[2] ?? '', maxAge: Number(m[3]) };
}

const responseAdd = (h: HttpRoute['headers']): Record<string, string> => h?.response?.add ?? {};

/** A Set-Cookie in a response `add` map, whatever the case of its name. */
const setCookieOf = (h: HttpRoute['headers']): string | undefined =>
  Object.entries(responseAdd(h)).find(([k]) => k.toLowerCase() === SET_COOKIE.toLowerCase())?.[1];

function withResponseAdd(
  h: HttpRoute['headers'],
  add: Record<string, string>,
): NonNullable<HttpRoute['headers']> {
  return { ...h, response: { ...h?.response, add: { ...responseAdd(h), ...add } } };
}

/**
 * The http routes of a route state, in Flagger's layouts (service fields copied on each):
 * - plain: one route, primary/canary weighted (with mirror + mirrorPercentage when mirroring);
 * - A/B (match): a route for the merged conditions with the weights, then the service's route 100% primary;
 * - session affinity at a canary weight above 0: a route for requests carrying the cookie 100% canary, then the
 *   weighted route whose canary destination adds `Set-Cookie: name=value; Max-Age=N` to its responses;
 * - session affinity at weight 0: the cookie's route adds `Set-Cookie: name=value; Max-Age=-1` (expiring it)
 *   and goes where the weighted route goes.
 */
function httpRoutes(canary: Canary, r: RouteState): Record<string, unknown>[] {
  const s = canary.spec.service;
  const names = workloadNames(canary);
  const destination = (host: string, weight: number): HttpDestination => ({
    destination: { host, port: { number: s.port } },
    weight,
  });
  const common: Record<string, unknown> = {};
  for (const key of COPIED_HTTP_FIELDS) {
    const v = s[key];
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) common[key] = v;
  }
  // Flagger's rewrite also has `type` (Gateway API); Istio's has uri and authority only.
  if (s.rewrite?.uri !== undefined || s.rewrite?.authority !== undefined)
    common.rewrite = {
      ...(s.rewrite.uri !== undefined ? { uri: s.rewrite.uri } : {}),
      ...(s.rewrite.authority !== undefined ? { authority: s.rewrite.authority } : {}),
    };
  const serviceMatch = s.match ?? [];
  const route = (match: HttpMatch[], dests: HttpDestination[], extra: Record<string, unknown> = {}) => ({
    ...(match.length > 0 ? { match } : {}),
    ...common,
    ...extra,
    route: dests,
  });
  const weighted = [destination(names.primaryService, r.primary), destination(names.canaryService, r.canary)];
  const mirror =
    r.mirror === undefined
      ? {}
      : {
          mirror: { host: names.canaryService, port: { number: s.port } },
          mirrorPercentage: { value: r.mirror.weightPercent },
        };

  if (r.match !== undefined && r.match.length > 0)
    return [
      route(mergeMatches(r.match, serviceMatch), weighted, mirror),
      route(serviceMatch, [destination(names.primaryService, 100)]),
    ];
  const affinity = r.sessionAffinity;
  if (affinity === undefined) return [route(serviceMatch, weighted, mirror)];
  const cookieMatch = mergeMatches(
    [cookieCondition(affinity.cookieName, affinity.cookieValue)],
    serviceMatch,
  );
  if (r.canary === 0) {
    const expire = setCookie(affinity.cookieName, affinity.cookieValue, -1);
    return [
      route(cookieMatch, weighted, { headers: withResponseAdd(s.headers, { [SET_COOKIE]: expire }) }),
      route(serviceMatch, weighted, mirror),
    ];
  }
  const cookie = setCookie(affinity.cookieName, affinity.cookieValue, affinity.maxAgeSeconds);
  const [toPrimary, toCanary] = weighted;
  const sticky = [destination(names.primaryService, 0), destination(names.canaryService, 100)];
  return [
    route(cookieMatch, sticky),
    route(
      serviceMatch,
      [
        ...(toPrimary ? [toPrimary] : []),
        ...(toCanary
          ? [{ ...toCanary, headers: withResponseAdd(toCanary.headers, { [SET_COOKIE]: cookie }) }]
          : []),
      ],
      mirror,
    ),
  ];
}

/**
 * The VirtualService `<service>` as Flagger writes it: hosts [service, ...hosts], gateways, and the http routes
 * of the route state (see httpRoutes) with the spec's match/rewrite/retries/timeout/headers/corsPolicy. Throws
 * on weights that do not sum to 100 (a caller's bug).
 */
export function buildVirtualService(
  canary: Canary,
  r: RouteState,
  flavor: RouteFlavor,
): Outcome<VirtualService> {
  checkWeights(r);
  const s = canary.spec.service;
  const raw = {
    hosts: [...new Set([s.name, ...(s.hosts ?? [])])],
    gateways: [...s.gateways],
    http: httpRoutes(canary, r),
  };
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
 * The http route that carries the Canary's weights (Flagger's rule): the last one with a destination to the
 * canary Service (so A/B's match route, and the weighted route after a session cookie's), else the first one
 * with a destination to the primary; -1 when none leads to either.
 */
function weightsRouteIndex(canary: Canary, http: readonly HttpRoute[]): number {
  const names = workloadNames(canary);
  const leadsTo = (h: HttpRoute, service: string) =>
    (h.route ?? []).some((r) => isHost(r.destination.host, service));
  for (let i = http.length - 1; i >= 0; i--) {
    const h = http[i];
    if (h !== undefined && leadsTo(h, names.canaryService)) return i;
  }
  return http.findIndex((h) => leadsTo(h, names.primaryService));
}

/**
 * The weights a VirtualService serves to the Canary's primary and canary Services, from the route that
 * carries them (see weightsRouteIndex). A destination without a weight gets 100 when it is the route's only
 * one (Istio's rule), else 0. A problem when no route leads to them.
 */
export function readWeights(canary: Canary, vs: Pick<VirtualService, 'spec'>): Outcome<RouteWeights> {
  const names = workloadNames(canary);
  const http = vs.spec.http ?? [];
  const route = http[weightsRouteIndex(canary, http)]?.route;
  if (route === undefined)
    return {
      ok: false,
      field: 'spec.service.name',
      message: `VirtualService ${canary.spec.service.name} has no http route to ${names.primaryService} or ${names.canaryService}`,
    };
  const weightTo = (service: string): number =>
    route
      .filter((r) => isHost(r.destination.host, service))
      .reduce((sum, r) => sum + (r.weight ?? (route.length === 1 ? 100 : 0)), 0);
  return {
    ok: true,
    value: { primary: weightTo(names.primaryService), canary: weightTo(names.canaryService) },
  };
}

/**
 * The route state a VirtualService serves, as far as its layout shows it (see httpRoutes): the weights; the
 * mirror to the canary; the session cookie (from the canary's Set-Cookie, or the expiring one before the
 * weighted route); and for A/B the conditions of the weights route as served (merged with spec.service.match).
 */
export function readRoutes(canary: Canary, vs: Pick<VirtualService, 'spec'>): Outcome<RouteState> {
  const weights = readWeights(canary, vs);
  if (!weights.ok) return weights;
  const names = workloadNames(canary);
  const http = vs.spec.http ?? [];
  const at = weightsRouteIndex(canary, http);
  const carrier = http[at];
  const state: RouteState = { ...weights.value };
  if (carrier?.mirror !== undefined && isHost(carrier.mirror.host, names.canaryService))
    state.mirror = { weightPercent: carrier.mirrorPercentage?.value ?? 100 };
  const toCanary = carrier?.route?.find((r) => isHost(r.destination.host, names.canaryService));
  const cookie =
    parseSetCookie(setCookieOf(toCanary?.headers)) ??
    http
      .slice(0, at)
      .map((h) => parseSetCookie(setCookieOf(h.headers)))
      .find((c) => c !== undefined && c.maxAge < 0);
  if (cookie !== undefined)
    state.sessionAffinity = {
      cookieName: cookie.name,
      cookieValue: cookie.value,
      maxAgeSeconds: cookie.maxAge,
    };
  else if (carrier?.match !== undefined && at < http.length - 1) state.match = carrier.match;
  return { ok: true, value: state };
}

/**
 * The route state reconcile writes back over a served one: the same weights, mirror and session cookie, and
 * A/B's conditions taken from the current spec (so a spec change applies; none left means a plain route).
 */
export function reconciledRoutes(canary: Canary, served: RouteState): RouteState {
  const { match, ...rest } = served;
  const conditions = canary.spec.analysis.match;
  return match !== undefined && conditions.length > 0 ? { ...rest, match: conditions } : rest;
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
