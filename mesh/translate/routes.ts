// VirtualService http[] → Envoy routes for one Service port (SPEC §4.3), shaped for the client kind:
// proxyless gRPC clients get no mirrors, no query-parameter matches, no CORS and no redirects.
import type { VirtualServiceSpec } from '../../crds/schema/networking.js';
import { clusterName, resolveHost } from '../hosts.js';
import type { ServiceModel, ServicePortModel, VirtualServiceModel } from '../model.js';
import { destinationPort } from '../model.js';
import { grpcStatusCode, REDIRECT_CODES } from '../validate/networking.js';
import type { TranslateContext } from './context.js';
import type { ConsistentHash } from './policy.js';
import { effectivePolicy } from './policy.js';
import type { ProtoObject, ProtoValue } from './proto.js';
import { any, duration, durationNanos, EXT, FILTER, fractionalPercent, wrap } from './proto.js';

type HttpRoute = NonNullable<VirtualServiceSpec['http']>[number];
type HttpMatch = NonNullable<HttpRoute['match']>[number];
type StringMatch = NonNullable<HttpMatch['uri']>;
type Headers = NonNullable<HttpRoute['headers']>;
type Destination = NonNullable<HttpRoute['route']>[number]['destination'];

/** SPEC §4.3: retries when the VirtualService sets none, as Istio does. */
export const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const DEFAULT_RETRY_ATTEMPTS = 2;
const DEFAULT_RETRIABLE_STATUS_CODES = [503];

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A record's entries sorted by key, case-insensitively first (header names are), then exactly. */
const byKey = <T>(rec: Record<string, T> | undefined): Array<[string, T]> =>
  Object.entries(rec ?? {}).sort(([a], [b]) => compare(a.toLowerCase(), b.toLowerCase()) || compare(a, b));

/** Whether a match (or a VirtualService without one) applies to sidecars and proxyless clients. */
const matchIsMeshBound = (m: HttpMatch | { gateways?: string[] | undefined } | undefined): boolean =>
  m?.gateways === undefined || m.gateways.length === 0 || m.gateways.includes('mesh');

/** envoy.type.matcher.v3.StringMatcher; undefined for an empty match (a presence test). */
function stringMatcher(m: StringMatch): ProtoObject | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { safe_regex: { regex: m.regex } };
  return undefined;
}

function headerMatcher(name: string, m: StringMatch, invert: boolean): ProtoObject {
  const sm = stringMatcher(m);
  return {
    name: name.toLowerCase(),
    ...(sm ? { string_match: sm } : { present_match: true }),
    invert_match: invert ? true : undefined,
  };
}

function routeMatch(ctx: TranslateContext, m: HttpMatch | undefined): ProtoObject {
  const uri = m?.uri;
  const path: ProtoObject =
    uri?.exact !== undefined
      ? { path: uri.exact }
      : uri?.prefix !== undefined
        ? { prefix: uri.prefix }
        : uri?.regex !== undefined
          ? { safe_regex: { regex: uri.regex } }
          : { prefix: '/' };
  const headers: ProtoObject[] = [];
  if (m?.method) headers.push(headerMatcher(':method', m.method, false));
  if (m?.authority) headers.push(headerMatcher(':authority', m.authority, false));
  if (m?.scheme) headers.push(headerMatcher(':scheme', m.scheme, false));
  for (const [name, sm] of byKey(m?.headers)) headers.push(headerMatcher(name, sm, false));
  for (const [name, sm] of byKey(m?.withoutHeaders)) headers.push(headerMatcher(name, sm, true));
  const query =
    ctx.kind === 'sidecar'
      ? byKey(m?.queryParams).map(([name, sm]) => {
          const matcher = stringMatcher(sm);
          return { name, ...(matcher ? { string_match: matcher } : { present_match: true }) };
        })
      : [];
  return {
    ...path,
    case_sensitive: m?.ignoreUriCase ? wrap(false) : undefined,
    headers: headers.length ? headers : undefined,
    query_parameters: query.length ? query : undefined,
  };
}

/** Route- or cluster-level header mutations (HeaderValueOption with append_action). */
function headerMutations(h: Headers | undefined): Record<string, ProtoValue[] | undefined> {
  const adds = (ops: NonNullable<Headers['request']> | undefined): ProtoObject[] => [
    ...byKey(ops?.set).map(([key, value]) => ({
      header: { key, value },
      append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    })),
    ...byKey(ops?.add).map(([key, value]) => ({
      header: { key, value },
      append_action: 'APPEND_IF_EXISTS_OR_ADD',
    })),
  ];
  const removes = (ops: NonNullable<Headers['request']> | undefined): string[] =>
    [...new Set((ops?.remove ?? []).map((n) => n.toLowerCase()))].sort();
  const nonEmpty = <T>(xs: T[]): T[] | undefined => (xs.length ? xs : undefined);
  return {
    request_headers_to_add: nonEmpty(adds(h?.request)),
    request_headers_to_remove: nonEmpty(removes(h?.request)),
    response_headers_to_add: nonEmpty(adds(h?.response)),
    response_headers_to_remove: nonEmpty(removes(h?.response)),
  };
}

/** Concatenates header mutation lists field by field (route-level first). */
function mergeMutations(
  a: Record<string, ProtoValue[] | undefined>,
  b: Record<string, ProtoValue[] | undefined>,
): Record<string, ProtoValue[] | undefined> {
  const out: Record<string, ProtoValue[] | undefined> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const xs = [...(a[k] ?? []), ...(b[k] ?? [])];
    out[k] = xs.length ? xs : undefined;
  }
  return out;
}

interface ResolvedDestination {
  cluster: string;
  service: ServiceModel;
  port: number;
  subset: string;
}

function resolveDestination(
  ctx: TranslateContext,
  vs: VirtualServiceModel,
  d: Destination,
  listenerPort: number,
): ResolvedDestination | undefined {
  const fqdn = resolveHost(d.host, vs.namespace, ctx.clusterDomain);
  const service = fqdn === undefined ? undefined : ctx.services.get(fqdn);
  const port = service ? destinationPort(service, d.port?.number, listenerPort) : undefined;
  if (!service || port === undefined) return undefined;
  const subset = d.subset ?? '';
  return { cluster: clusterName(service.hostname, port, subset), service, port, subset };
}

/** Route hash_policy from the consistentHash of the destination's DestinationRule (cluster is RING_HASH). */
function hashPolicy(ctx: TranslateContext, ch: ConsistentHash, where: string): ProtoObject[] | undefined {
  if (ch.httpHeaderName !== undefined) return [{ header: { header_name: ch.httpHeaderName } }];
  if (ch.useSourceIp === true)
    // gRPC has no source IP to hash; its channel id keeps each client channel on one endpoint.
    return ctx.kind === 'proxyless'
      ? [{ filter_state: { key: 'io.grpc.channel_id' } }]
      : [{ connection_properties: { source_ip: true } }];
  if (ctx.kind === 'proxyless') {
    ctx.notes.add(
      `${where}: proxyless gRPC clients hash on a header or the channel only; cookie and query-parameter hashing is ignored (each call hashes randomly)`,
    );
  }
  if (ch.httpCookie !== undefined)
    return [
      {
        cookie: {
          name: ch.httpCookie.name,
          path: ch.httpCookie.path,
          ttl: ch.httpCookie.ttl === undefined ? undefined : duration(ch.httpCookie.ttl),
        },
      },
    ];
  if (ch.httpQueryParameterName !== undefined)
    return [{ query_parameter: { name: ch.httpQueryParameterName } }];
  return undefined;
}

/** retry_on conditions gRPC clients act on (gRFC A44); they ignore the others. */
const GRPC_RETRY_ON = new Set([
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
]);

function retryPolicy(ctx: TranslateContext, http: HttpRoute, where: string): ProtoObject | undefined {
  const retries = http.retries;
  if (retries?.attempts === 0) return undefined;
  const retryOn = retries?.retryOn ?? DEFAULT_RETRY_ON;
  const tokens = retryOn
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const codes = tokens.filter((t) => /^\d+$/.test(t)).map(Number);
  const conditions = tokens.filter((t) => !/^\d+$/.test(t));
  if (codes.length && !conditions.includes('retriable-status-codes'))
    conditions.push('retriable-status-codes');
  const statusCodes = retries?.retryOn === undefined ? DEFAULT_RETRIABLE_STATUS_CODES : codes;
  if (ctx.kind === 'proxyless' && !conditions.some((c) => GRPC_RETRY_ON.has(c)))
    ctx.notes.add(
      `${where}: proxyless gRPC clients retry on gRPC status conditions only (${[...GRPC_RETRY_ON].join(', ')}); retryOn ${retryOn} retries nothing`,
    );
  return {
    retry_on: conditions.join(','),
    num_retries: wrap(retries?.attempts ?? DEFAULT_RETRY_ATTEMPTS),
    per_try_timeout: retries?.perTryTimeout === undefined ? undefined : duration(retries.perTryTimeout),
    retriable_status_codes: statusCodes.length && ctx.kind === 'sidecar' ? statusCodes : undefined,
  };
}

function faultFilterConfig(fault: NonNullable<HttpRoute['fault']>): ProtoObject {
  const pct = (p: { value: number } | undefined): ProtoObject => fractionalPercent(p?.value ?? 100);
  const abort = fault.abort;
  return any(EXT.fault, {
    delay: fault.delay
      ? { fixed_delay: duration(fault.delay.fixedDelay), percentage: pct(fault.delay.percentage) }
      : undefined,
    abort: abort
      ? {
          ...(abort.httpStatus !== undefined
            ? { http_status: abort.httpStatus }
            : { grpc_status: grpcStatusCode(abort.grpcStatus ?? '') ?? 14 }),
          percentage: pct(abort.percentage),
        }
      : undefined,
  });
}

function corsFilterConfig(cors: NonNullable<HttpRoute['corsPolicy']>): ProtoObject {
  const list = (xs: string[] | undefined): string | undefined => (xs?.length ? xs.join(',') : undefined);
  return any(EXT.corsPolicy, {
    allow_origin_string_match: cors.allowOrigins?.map(
      (o) => stringMatcher(o) ?? { safe_regex: { regex: '.*' } },
    ),
    allow_methods: list(cors.allowMethods),
    allow_headers: list(cors.allowHeaders),
    expose_headers: list(cors.exposeHeaders),
    max_age: cors.maxAge === undefined ? undefined : String(durationNanos(cors.maxAge) / 1_000_000_000n),
    allow_credentials: cors.allowCredentials === undefined ? undefined : wrap(cors.allowCredentials),
  });
}

function mirrorPolicies(
  ctx: TranslateContext,
  vs: VirtualServiceModel,
  http: HttpRoute,
  listenerPort: number,
  where: string,
): ProtoObject[] | undefined {
  const mirrors: Array<{ destination: Destination; percent: number | undefined }> = http.mirror
    ? [{ destination: http.mirror, percent: http.mirrorPercentage?.value }]
    : (http.mirrors ?? []).map((m) => ({ destination: m.destination, percent: m.percentage?.value }));
  if (!mirrors.length) return undefined;
  if (ctx.kind === 'proxyless') {
    ctx.notes.add(`${where}: proxyless gRPC clients do not mirror; mirror left out`);
    return undefined;
  }
  const out: ProtoObject[] = [];
  for (const m of mirrors) {
    // No percentage mirrors everything; an explicit 0 mirrors nothing.
    if (m.percent === 0) continue;
    const d = resolveDestination(ctx, vs, m.destination, listenerPort);
    if (!d) continue;
    out.push({
      cluster: d.cluster,
      runtime_fraction: { default_value: fractionalPercent(m.percent ?? 100) },
    });
  }
  return out.length ? out : undefined;
}

/** The forwarding part of a route (RouteAction), or undefined when no destination resolves. */
function routeAction(
  ctx: TranslateContext,
  vs: VirtualServiceModel,
  http: HttpRoute,
  match: HttpMatch | undefined,
  listenerPort: number,
  where: string,
): { action: ProtoObject; destinationHeaders: Record<string, ProtoValue[] | undefined> } | undefined {
  const all = http.route ?? [];
  // Zero-weight destinations are dropped; the schema check made the rest sum to 100.
  const live = all.length === 1 ? all : all.filter((r) => (r.weight ?? 0) > 0);
  const resolved = live.map((r) => ({ r, d: resolveDestination(ctx, vs, r.destination, listenerPort) }));
  if (resolved.some((x) => x.d === undefined)) {
    ctx.notes.add(`${where}: a destination has no port matching ${listenerPort}; route left out`);
    return undefined;
  }
  const dests = resolved.flatMap(({ r, d }) => (d ? [{ r, d }] : []));
  const first = dests[0];
  if (!first) return undefined;

  // Hash policy: from the destinations' DestinationRules (all the same, or the first's).
  const hashes = dests.map(({ d }) => {
    const ch = effectivePolicy(ctx.destinationRules.get(d.service.hostname), d.port, d.subset).loadBalancer
      ?.consistentHash;
    return ch;
  });
  const firstHash = hashes.find((h) => h !== undefined);
  if (firstHash && hashes.some((h) => JSON.stringify(h) !== JSON.stringify(firstHash)))
    ctx.notes.add(`${where}: destinations differ in consistentHash; the first destination's is used`);

  const uri = match?.uri;
  const rewrite = http.rewrite;
  if (rewrite && ctx.kind === 'proxyless')
    ctx.notes.add(`${where}: proxyless gRPC clients do not rewrite requests; rewrite left out`);
  const rewrites =
    rewrite && ctx.kind === 'sidecar'
      ? {
          ...(rewrite.uri === undefined
            ? {}
            : uri?.regex !== undefined
              ? { regex_rewrite: { pattern: { regex: uri.regex }, substitution: rewrite.uri } }
              : { prefix_rewrite: rewrite.uri }),
          host_rewrite_literal: rewrite.authority,
        }
      : {};

  const timeout =
    ctx.kind === 'sidecar'
      ? // Envoy's default is 15 s; SPEC's default is none, which Envoy spells 0s.
        { timeout: duration(http.timeout ?? '0s') }
      : // gRPC reads the deadline from max_stream_duration, not from timeout (gRFC A31).
        http.timeout === undefined
        ? {}
        : { max_stream_duration: { max_stream_duration: duration(http.timeout) } };

  const action: ProtoObject = {
    ...(dests.length === 1
      ? { cluster: first.d.cluster }
      : {
          weighted_clusters: {
            clusters: dests.map(({ r, d }) => ({
              name: d.cluster,
              weight: wrap(r.weight ?? 0),
              ...headerMutations(r.headers),
            })),
          },
        }),
    ...timeout,
    retry_policy: retryPolicy(ctx, http, where),
    request_mirror_policies: mirrorPolicies(ctx, vs, http, listenerPort, where),
    hash_policy: firstHash ? hashPolicy(ctx, firstHash, where) : undefined,
    ...rewrites,
  };
  return {
    action,
    destinationHeaders: dests.length === 1 ? headerMutations(first.r.headers) : {},
  };
}

function routeName(
  vs: VirtualServiceModel,
  http: HttpRoute,
  i: number,
  match: HttpMatch | undefined,
  j: number,
  matches: number,
): string {
  const head = `${vs.namespace}/${vs.name}/${http.name ?? `http-${i}`}`;
  if (match?.name !== undefined) return `${head}/${match.name}`;
  return matches > 1 ? `${head}/match-${j}` : head;
}

/** One Envoy route for http[i] and one of its matches (Istio makes one route per match). */
function httpRoute(
  ctx: TranslateContext,
  vs: VirtualServiceModel,
  http: HttpRoute,
  i: number,
  match: HttpMatch | undefined,
  j: number,
  listenerPort: number,
): ProtoObject | undefined {
  const name = routeName(vs, http, i, match, j, http.match?.length ?? 0);
  const perFilter: Record<string, ProtoObject> = {};
  if (http.fault) perFilter[FILTER.fault] = faultFilterConfig(http.fault);
  if (http.corsPolicy) {
    if (ctx.kind === 'sidecar') perFilter[FILTER.cors] = corsFilterConfig(http.corsPolicy);
    else ctx.notes.add(`${name}: proxyless gRPC clients have no CORS filter; corsPolicy left out`);
  }
  const typedPerFilter = Object.keys(perFilter).length ? perFilter : undefined;

  if (http.redirect) {
    if (ctx.kind === 'proxyless') {
      // gRPC NACKs a route config with a redirect action, and could not follow one anyway.
      ctx.notes.add(`${name}: proxyless gRPC clients cannot follow redirects; route left out`);
      return undefined;
    }
    return {
      name,
      match: routeMatch(ctx, match),
      redirect: {
        path_redirect: http.redirect.uri,
        host_redirect: http.redirect.authority,
        response_code: REDIRECT_CODES[http.redirect.redirectCode ?? 301],
      },
      typed_per_filter_config: typedPerFilter,
      ...headerMutations(http.headers),
    };
  }
  const r = routeAction(ctx, vs, http, match, listenerPort, name);
  if (!r) return undefined;
  return {
    name,
    match: routeMatch(ctx, match),
    route: r.action,
    typed_per_filter_config: typedPerFilter,
    ...mergeMutations(headerMutations(http.headers), r.destinationHeaders),
  };
}

/** The route to a Service without a VirtualService: everything to its port's cluster. */
function defaultRoute(ctx: TranslateContext, service: ServiceModel, port: ServicePortModel): ProtoObject {
  const cluster = clusterName(service.hostname, port.port);
  const ch = effectivePolicy(ctx.destinationRules.get(service.hostname), port.port, '').loadBalancer
    ?.consistentHash;
  const none: HttpRoute = {};
  return {
    name: 'default',
    match: { prefix: '/' },
    route: {
      cluster,
      ...(ctx.kind === 'sidecar' ? { timeout: duration('0s') } : {}),
      retry_policy: retryPolicy(ctx, none, cluster),
      hash_policy: ch ? hashPolicy(ctx, ch, cluster) : undefined,
    },
  };
}

/** Routes of the virtual host of `service` on `port`, in VirtualService order. */
export function httpRoutes(
  ctx: TranslateContext,
  service: ServiceModel,
  port: ServicePortModel,
): ProtoObject[] {
  const vs = ctx.virtualServices.get(service.hostname);
  if (!vs?.spec.http?.length) return [defaultRoute(ctx, service, port)];
  const routes: ProtoObject[] = [];
  vs.spec.http.forEach((http, i) => {
    const matches: Array<HttpMatch | undefined> = http.match?.length ? http.match : [undefined];
    matches.forEach((m, j) => {
      if (m?.port !== undefined && m.port !== port.port) return;
      if (!matchIsMeshBound(m)) return;
      if (ctx.kind === 'proxyless' && Object.keys(m?.queryParams ?? {}).length) {
        // A gRPC call has no query string: this match can never apply to it.
        ctx.notes.add(
          `${routeName(vs, http, i, m, j, matches.length)}: proxyless gRPC clients ignore query parameters; match left out`,
        );
        return;
      }
      const r = httpRoute(ctx, vs, http, i, m, j, port.port);
      if (r) routes.push(r);
    });
  });
  return routes;
}

/** tcp_proxy config for a sidecar TCP listener: the first tcp[] route for the port, else the port's cluster. */
export function tcpProxy(ctx: TranslateContext, service: ServiceModel, port: ServicePortModel): ProtoObject {
  const vs = ctx.virtualServices.get(service.hostname);
  const tcp = vs?.spec.tcp?.find(
    (t) =>
      !t.match?.length ||
      t.match.some((m) => (m.port === undefined || m.port === port.port) && matchIsMeshBound(m)),
  );
  const fallback = clusterName(service.hostname, port.port);
  const all = tcp?.route ?? [];
  const live = all.length === 1 ? all : all.filter((r) => (r.weight ?? 0) > 0);
  const dests =
    vs && tcp
      ? live.flatMap((r) => {
          const d = resolveDestination(ctx, vs, r.destination, port.port);
          return d ? [{ name: d.cluster, weight: r.weight ?? 0 }] : [];
        })
      : [];
  const first = dests[0];
  if (dests.length <= 1)
    return any(EXT.tcpProxy, { stat_prefix: first?.name ?? fallback, cluster: first?.name ?? fallback });
  return any(EXT.tcpProxy, {
    stat_prefix: fallback,
    weighted_clusters: { clusters: dests.map((d) => ({ name: d.name, weight: d.weight })) },
  });
}
