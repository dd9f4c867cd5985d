// Clusters and their ClusterLoadAssignments: one per Service port and subset ('' = every endpoint),
// named `outbound|<port>|<subset>|<fqdn>` for both client kinds; settings from the DestinationRule.
import { clusterName } from '../hosts.js';
import type { Endpoint, ServiceModel, ServicePortModel } from '../model.js';
import type { TranslateContext } from './context.js';
import { derived } from './context.js';
import type { ConnectionPool, EffectivePolicy, LoadBalancerSettings, OutlierDetection } from './policy.js';
import { effectivePolicy, portProtocol } from './policy.js';
import type { ProtoObject } from './proto.js';
import { ADS_CONFIG_SOURCE, any, duration, EXT, FILTER, UINT32_MAX, wrap } from './proto.js';

/** Connect timeout of sidecar clusters when the DestinationRule sets none (Istio's default). */
export const DEFAULT_CONNECT_TIMEOUT = '10s';

/** One cluster to build: a port of a Service, restricted to the endpoints whose pods carry `labels`. */
export interface ClusterTarget {
  name: string;
  service: ServiceModel;
  port: ServicePortModel;
  subset: string;
  labels: Readonly<Record<string, string>>;
  policy: EffectivePolicy;
}

/** The labels of the subset '' (every endpoint): one object, so what is made from a subset's labels can be kept. */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Every cluster of the model, sorted by name: each supported port × ('' and each DestinationRule subset).
 * The same for both client kinds and made from the Services and DestinationRules alone: made once per pair of
 * those lists (a build that keeps them, and every translation step of a build, takes the same targets).
 */
export function clusterTargets(ctx: TranslateContext): readonly ClusterTarget[] {
  const byRules = derived(
    ctx.serviceList,
    'cluster targets by DestinationRule index',
    () => new WeakMap<object, readonly ClusterTarget[]>(),
  );
  let targets = byRules.get(ctx.destinationRules);
  if (!targets) byRules.set(ctx.destinationRules, (targets = makeClusterTargets(ctx)));
  return targets;
}

function makeClusterTargets(ctx: TranslateContext): ClusterTarget[] {
  const out: ClusterTarget[] = [];
  for (const service of ctx.services.values()) {
    const dr = ctx.destinationRules.get(service.hostname);
    for (const port of service.ports) {
      if (portProtocol(port) === 'unsupported') continue;
      const subsets: Array<[string, Readonly<Record<string, string>>]> = [
        ['', NO_LABELS],
        ...(dr?.spec.subsets ?? []).map((s): [string, Readonly<Record<string, string>>] => [
          s.name,
          s.labels ?? NO_LABELS,
        ]),
      ];
      for (const [subset, labels] of subsets)
        out.push({
          name: clusterName(service.hostname, port.port, subset),
          service,
          port,
          subset,
          labels,
          policy: effectivePolicy(dr, port.port, subset),
        });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether the cluster's endpoints come over EDS (every cluster but a sidecar's PASSTHROUGH one). */
export const usesEds = (ctx: TranslateContext, t: ClusterTarget): boolean =>
  !(ctx.kind === 'sidecar' && t.policy.loadBalancer?.simple === 'PASSTHROUGH');

function loadBalancing(
  ctx: TranslateContext,
  t: ClusterTarget,
  lb: LoadBalancerSettings | undefined,
): ProtoObject {
  const ch = lb?.consistentHash;
  if (ch) {
    const min = ch.ringHash?.minimumRingSize ?? ch.minimumRingSize;
    return {
      lb_policy: 'RING_HASH',
      ring_hash_lb_config: {
        // gRPC accepts XX_HASH only; it is Envoy's default too.
        hash_function: 'XX_HASH',
        minimum_ring_size: min === undefined ? undefined : wrap(min),
      },
    };
  }
  const simple = lb?.simple ?? 'ROUND_ROBIN';
  if (simple === 'ROUND_ROBIN' || simple === 'UNSPECIFIED') return { lb_policy: 'ROUND_ROBIN' };
  if (ctx.kind === 'proxyless') {
    // Proxyless gRPC clients NACK any policy but ROUND_ROBIN and RING_HASH (TESTING.md).
    ctx.notes.add(
      `${t.name}: loadBalancer.simple ${simple} is not available to proxyless gRPC clients; ROUND_ROBIN sent instead`,
    );
    return { lb_policy: 'ROUND_ROBIN' };
  }
  if (simple === 'LEAST_REQUEST' || simple === 'LEAST_CONN') return { lb_policy: 'LEAST_REQUEST' };
  if (simple === 'RANDOM') return { lb_policy: 'RANDOM' };
  // PASSTHROUGH: to the address the caller asked for, no load balancing.
  return { type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED' };
}

/** Thresholds of the DEFAULT priority; unset (or 0, as in Istio) means unlimited. */
function circuitBreakers(pool: ConnectionPool | undefined): ProtoObject {
  const limit = (n: number | undefined): ProtoObject => wrap(n === undefined || n === 0 ? UINT32_MAX : n);
  return {
    thresholds: [
      {
        max_connections: limit(pool?.tcp?.maxConnections),
        max_pending_requests: limit(pool?.http?.http1MaxPendingRequests),
        max_requests: limit(pool?.http?.http2MaxRequests),
        max_retries: limit(pool?.http?.maxRetries),
      },
    ],
  };
}

/**
 * Istio's outlierDetection in Envoy terms. Success-rate ejection (on by default in Envoy and gRPC)
 * is switched off: the DestinationRule asked for consecutive-error ejection only.
 */
function outlierDetection(ctx: TranslateContext, t: ClusterTarget, od: OutlierDetection): ProtoObject {
  if (
    ctx.kind === 'proxyless' &&
    (od.consecutive5xxErrors !== undefined || od.consecutiveGatewayErrors !== undefined)
  )
    ctx.notes.add(
      `${t.name}: proxyless gRPC clients eject by success rate or failure percentage only (gRFC A50); consecutive-error outlier detection is sent but has no effect`,
    );
  return {
    consecutive_5xx: od.consecutive5xxErrors === undefined ? undefined : wrap(od.consecutive5xxErrors),
    enforcing_consecutive_5xx:
      od.consecutive5xxErrors === undefined ? undefined : wrap(od.consecutive5xxErrors > 0 ? 100 : 0),
    consecutive_gateway_failure:
      od.consecutiveGatewayErrors === undefined ? undefined : wrap(od.consecutiveGatewayErrors),
    enforcing_consecutive_gateway_failure:
      od.consecutiveGatewayErrors === undefined ? undefined : wrap(od.consecutiveGatewayErrors > 0 ? 100 : 0),
    interval: od.interval === undefined ? undefined : duration(od.interval),
    base_ejection_time: od.baseEjectionTime === undefined ? undefined : duration(od.baseEjectionTime),
    max_ejection_percent: od.maxEjectionPercent === undefined ? undefined : wrap(od.maxEjectionPercent),
    enforcing_success_rate: wrap(0),
  };
}

/** Upstream HTTP settings of a sidecar cluster: protocol by port, idle timeout and requests per connection. */
function httpProtocolOptions(t: ClusterTarget): ProtoObject | undefined {
  const protocol = portProtocol(t.port);
  if (protocol === 'tcp' || protocol === 'unsupported') return undefined;
  const http = t.policy.connectionPool?.http;
  const perConnection = http?.maxRequestsPerConnection;
  const common =
    http?.idleTimeout !== undefined || (perConnection !== undefined && perConnection > 0)
      ? {
          idle_timeout: http?.idleTimeout === undefined ? undefined : duration(http.idleTimeout),
          max_requests_per_connection: perConnection ? wrap(perConnection) : undefined,
        }
      : undefined;
  return {
    [FILTER.httpProtocolOptions]: any(EXT.httpProtocolOptions, {
      common_http_protocol_options: common,
      ...(protocol === 'http'
        ? { use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} } }
        : { explicit_http_config: { http2_protocol_options: {} } }),
    }),
  };
}

export function buildCluster(ctx: TranslateContext, t: ClusterTarget): ProtoObject {
  const { policy } = t;
  const lb = loadBalancing(ctx, t, policy.loadBalancer);
  const sidecar = ctx.kind === 'sidecar';
  const minHealth = policy.outlierDetection?.minHealthPercent;
  return {
    name: t.name,
    type: 'EDS',
    eds_cluster_config: usesEds(ctx, t) ? { eds_config: ADS_CONFIG_SOURCE, service_name: t.name } : undefined,
    connect_timeout: sidecar
      ? duration(policy.connectionPool?.tcp?.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)
      : undefined,
    ...lb,
    circuit_breakers: circuitBreakers(policy.connectionPool),
    outlier_detection: policy.outlierDetection
      ? outlierDetection(ctx, t, policy.outlierDetection)
      : undefined,
    common_lb_config: minHealth === undefined ? undefined : { healthy_panic_threshold: { value: minHealth } },
    typed_extension_protocol_options: sidecar ? httpProtocolOptions(t) : undefined,
  };
}

const localityKey = (e: Endpoint): string => `${e.locality.region}/${e.locality.zone}/${e.locality.subZone}`;

const selects = (labels: Readonly<Record<string, string>>, e: Endpoint): boolean =>
  Object.entries(labels).every(([k, v]) => e.labels[k] === v);

/**
 * The cluster's endpoints by locality (sorted). Ready endpoints are HEALTHY; serving but
 * terminating ones DRAINING (Envoy finishes what is in flight; gRPC skips them); others are left
 * out. Every locality carries load_balancing_weight (proxyless clients fail every call without
 * it): its count of ready endpoints, at least 1, so traffic spreads evenly over endpoints.
 */
export function buildLoadAssignment(
  t: Pick<ClusterTarget, 'name' | 'labels'>,
  endpoints: readonly Endpoint[],
): ProtoObject {
  const byLocality = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    if (!selects(t.labels, e) || !(e.ready || (e.serving && e.terminating))) continue;
    const key = localityKey(e);
    byLocality.set(key, [...(byLocality.get(key) ?? []), e]);
  }
  const localities = [...byLocality.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, eps]) => {
      const first = eps[0];
      const loc = first?.locality;
      return {
        locality: {
          region: loc?.region || undefined,
          zone: loc?.zone || undefined,
          sub_zone: loc?.subZone || undefined,
        },
        load_balancing_weight: wrap(Math.max(1, eps.filter((e) => e.ready).length)),
        lb_endpoints: eps.map((e) => ({
          endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } },
          health_status: e.ready ? 'HEALTHY' : 'DRAINING',
        })),
      };
    });
  return { cluster_name: t.name, endpoints: localities };
}
