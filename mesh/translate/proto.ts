// Envoy resources as plain objects in protobufjs `fromObject` shape (field names as in the .proto,
// loaded with keepCase; Any as {'@type': url, ...fields}), plus the value helpers translation uses.
import { createHash } from 'node:crypto';

/** A value of a field in `fromObject` shape. */
export type ProtoValue = string | number | boolean | ProtoObject | readonly ProtoValue[];
/** A message in `fromObject` shape. Undefined fields are absent (translate prunes them). */
export interface ProtoObject {
  readonly [field: string]: ProtoValue | undefined;
}

/**
 * 16 hex digits of SHA-256 (content versions and content-named resources), as a string of its own: a slice
 * of the whole hex digest would keep all 64 characters alive.
 */
export const shortHash = (data: string | Uint8Array): string =>
  createHash('sha256').update(data).digest().toString('hex', 0, 8);

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** Type URLs of the resource types translation produces (the `Any` and DiscoveryRequest type_url). */
export const TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

/** Fully qualified proto type names of extension configs carried in `Any` fields. */
export const EXT = {
  httpConnectionManager: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  tcpProxy: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  router: 'envoy.extensions.filters.http.router.v3.Router',
  fault: 'envoy.extensions.filters.http.fault.v3.HTTPFault',
  cors: 'envoy.extensions.filters.http.cors.v3.Cors',
  corsPolicy: 'envoy.extensions.filters.http.cors.v3.CorsPolicy',
  httpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

/** Filter names (HCM http_filters, typed_per_filter_config keys, listener filters, protocol options keys). */
export const FILTER = {
  httpConnectionManager: 'envoy.filters.network.http_connection_manager',
  tcpProxy: 'envoy.filters.network.tcp_proxy',
  router: 'envoy.filters.http.router',
  fault: 'envoy.filters.http.fault',
  cors: 'envoy.filters.http.cors',
  httpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
} as const;

/** An `Any` holding a message of type `typeName`. */
export const any = (typeName: string, fields: ProtoObject = {}): ProtoObject => ({
  '@type': `${TYPE_URL_PREFIX}${typeName}`,
  ...fields,
});

/** ConfigSource for RDS/EDS over the ADS stream the resource came on (both client kinds accept it). */
export const ADS_CONFIG_SOURCE: ProtoObject = { ads: {}, resource_api_version: 'V3' };

/** Largest uint32: "unlimited" for circuit-breaker thresholds. */
export const UINT32_MAX = 4294967295;

/** A wrapper message (UInt32Value, BoolValue, DoubleValue…). */
export const wrap = (value: number | boolean): ProtoObject => ({ value });

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Nanoseconds of an Istio duration ("1s", "0.5s", "1m30s", "100ms"); the schema has validated its form. */
export function durationNanos(text: string): bigint {
  let total = 0n;
  for (const m of text.matchAll(/([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h)/g)) {
    const unit = UNIT_NANOS[m[3] ?? 's'] ?? 1n;
    const whole = BigInt(m[1] ?? '0');
    const frac = m[2] ?? '';
    // Fractions are truncated below a nanosecond.
    const fracNanos = frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += whole * unit + fracNanos;
  }
  return total;
}

/** google.protobuf.Duration from nanoseconds: {seconds, nanos?}. */
export function durationFromNanos(nanos: bigint): ProtoObject {
  const seconds = Number(nanos / 1_000_000_000n);
  const rest = Number(nanos % 1_000_000_000n);
  return rest === 0 ? { seconds } : { seconds, nanos: rest };
}

/** google.protobuf.Duration from an Istio duration string. */
export const duration = (text: string): ProtoObject => durationFromNanos(durationNanos(text));

/** envoy.type.v3.FractionalPercent from an Istio percentage (0–100, fractions allowed), in millionths. */
export const fractionalPercent = (percent: number): ProtoObject => ({
  numerator: Math.round(percent * 10_000),
  denominator: 'MILLION',
});

/** A copy without undefined fields (recursively): what `fromObject` and JSON see are then the same. */
export function prune<T extends ProtoValue>(value: T): T {
  if (Array.isArray(value)) return value.map((v: ProtoValue) => prune(v)) as unknown as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, ProtoValue> = {};
    for (const [k, v] of Object.entries(value as ProtoObject)) if (v !== undefined) out[k] = prune(v);
    return out as unknown as T;
  }
  return value;
}
