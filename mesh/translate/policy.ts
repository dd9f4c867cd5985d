// What a Service port speaks and which DestinationRule settings apply to one of its clusters:
// protocol from appProtocol or the port name (Istio's convention), traffic policies merged by precedence.
import type { DestinationRuleSpec } from '../../crds/schema/networking.js';
import type { DestinationRuleModel, ServicePortModel } from '../model.js';

type TrafficPolicy = NonNullable<DestinationRuleSpec['trafficPolicy']>;
export type LoadBalancerSettings = NonNullable<TrafficPolicy['loadBalancer']>;
export type ConsistentHash = NonNullable<LoadBalancerSettings['consistentHash']>;
export type ConnectionPool = NonNullable<TrafficPolicy['connectionPool']>;
export type OutlierDetection = NonNullable<TrafficPolicy['outlierDetection']>;

/** The settings of one cluster (service port + subset); each part comes whole from one layer. */
export interface EffectivePolicy {
  loadBalancer?: LoadBalancerSettings;
  connectionPool?: ConnectionPool;
  outlierDetection?: OutlierDetection;
}

/**
 * Istio's precedence, lowest first: the rule's trafficPolicy, its portLevelSettings for the port,
 * the subset's trafficPolicy, the subset's portLevelSettings for the port. A higher layer that sets
 * loadBalancer, connectionPool or outlierDetection replaces that part as a whole.
 */
export function effectivePolicy(
  dr: DestinationRuleModel | undefined,
  port: number,
  subset: string,
): EffectivePolicy {
  if (!dr) return {};
  const top = dr.spec.trafficPolicy;
  const sub = subset === '' ? undefined : dr.spec.subsets?.find((s) => s.name === subset)?.trafficPolicy;
  const layers: Array<EffectivePolicy | undefined> = [
    top,
    top?.portLevelSettings?.find((p) => p.port?.number === port),
    sub,
    sub?.portLevelSettings?.find((p) => p.port?.number === port),
  ];
  const out: EffectivePolicy = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.loadBalancer) out.loadBalancer = layer.loadBalancer;
    if (layer.connectionPool) out.connectionPool = layer.connectionPool;
    if (layer.outlierDetection) out.outlierDetection = layer.outlierDetection;
  }
  return out;
}

/** What a sidecar listener does with a port: HTTP (routes), TCP (tcp_proxy), or nothing (UDP/SCTP). */
export type PortProtocol = 'http' | 'http2' | 'grpc' | 'tcp' | 'unsupported';

const BY_WORD: Readonly<Record<string, PortProtocol>> = {
  http: 'http',
  'grpc-web': 'http',
  http2: 'http2',
  h2c: 'http2',
  'kubernetes.io/h2c': 'http2',
  grpc: 'grpc',
  tcp: 'tcp',
  tls: 'tcp',
  https: 'tcp',
  mongo: 'tcp',
  mysql: 'tcp',
  redis: 'tcp',
  'kubernetes.io/ws': 'http',
  'kubernetes.io/wss': 'tcp',
};

/**
 * A port's protocol: appProtocol when set, else the port name's prefix before '-' (Istio's
 * `http-web`, `grpc`, `tcp-db`…). Unnamed and unrecognised ports are HTTP: name them `tcp-*` or set
 * appProtocol to carry raw TCP through sidecars.
 */
export function portProtocol(p: ServicePortModel): PortProtocol {
  if (p.protocol !== 'TCP') return 'unsupported';
  const app = p.appProtocol?.toLowerCase();
  if (app !== undefined) return BY_WORD[app] ?? 'http';
  const name = p.name.toLowerCase();
  return BY_WORD[name] ?? BY_WORD[name.split('-')[0] ?? ''] ?? 'http';
}

export const isHttp = (p: PortProtocol): boolean => p === 'http' || p === 'http2' || p === 'grpc';
