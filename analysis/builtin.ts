// The built-in checks `request-success-rate` and `request-duration` (SPEC §5.1) as PromQL, one query per
// Canary provider kind. Pure: no I/O.
import type { Result } from './types.js';

export const BUILTIN_CHECKS = ['request-success-rate', 'request-duration'] as const;
export type BuiltinCheck = (typeof BUILTIN_CHECKS)[number];

/** Canary `spec.provider` values (SPEC §2.1); each has its own metrics for the built-in checks. */
export const BUILTIN_PROVIDER_KINDS = ['fledge', 'istio', 'kubernetes'] as const;
export type BuiltinProviderKind = (typeof BUILTIN_PROVIDER_KINDS)[number];

/** What each built-in check measures, for docs, events and admission hints. */
export const BUILTIN_CHECK_INFO: Readonly<
  Record<BuiltinCheck, { unit: 'percent' | 'milliseconds'; bound: 'min' | 'max'; description: string }>
> = {
  'request-success-rate': {
    unit: 'percent',
    bound: 'min',
    description: 'percentage (0-100) of canary requests answered with a non-5xx status',
  },
  'request-duration': {
    unit: 'milliseconds',
    bound: 'max',
    description: '99th percentile of canary request duration, in milliseconds',
  },
};

export interface BuiltinQueryParams {
  /** canary.spec.targetRef.name: the canary workload (its primary is `<target>-primary`). */
  target: string;
  namespace: string;
  /** canary.spec.service.name; the canary Service is `<service>-canary`. */
  service: string;
  /** canary.spec.service.port: the port of the mesh cluster. */
  port: number;
  /** analysis.metrics[].interval: the PromQL range, e.g. `1m`. */
  interval: string;
}

export function isBuiltinCheck(name: string): name is BuiltinCheck {
  return (BUILTIN_CHECKS as readonly string[]).includes(name);
}

/**
 * The Envoy cluster carrying traffic to the canary, as the mesh names it (SPEC §4.1,
 * `outbound|<port>|<subset>|<service FQDN>`, no subset).
 */
export function canaryClusterName(service: string, namespace: string, port: number): string {
  return `outbound|${port}||${service}-canary.${namespace}.svc.cluster.local`;
}

/**
 * The characters of Kubernetes' generated name parts (rand.SafeEncodeString for pod-template-hash, utilrand.String
 * for the 5-character pod suffix): no vowels, so no real word such as `primary` or `canary` can match them.
 */
const KUBE_SAFE = '[bcdfghjklmnpqrstvwxz2456789]';

/** PromQL durations: one or more number+unit pairs, largest first by convention (`1m`, `1m30s`, `500ms`). */
const PROMQL_DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;

/** A PromQL double-quoted string literal holding `value` exactly. */
function promqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** RE2 pattern matching `value` literally. */
function regexLiteral(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

type Selector = string;

/** Label matchers (without braces) selecting the canary's series, per provider kind. */
function canarySelector(kind: BuiltinProviderKind, p: BuiltinQueryParams): Selector {
  switch (kind) {
    case 'fledge':
      // Envoy's cluster stats, from every proxy sending to the canary cluster, under Envoy's `envoy.cluster_name`
      // tag. Envoy's default extraction stops at the first dot, so proxies must carry the stats tag Istio uses for
      // FQDN cluster names: {tag_name: envoy.cluster_name, regex: ^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)}.
      return `envoy_cluster_name=${promqlString(canaryClusterName(p.service, p.namespace, p.port))}`;
    case 'istio':
      // What the canary's own sidecar reports about requests it received, as Flagger's Istio queries do.
      return [
        'reporter="destination"',
        `destination_workload_namespace=${promqlString(p.namespace)}`,
        `destination_workload=${promqlString(p.target)}`,
      ].join(',');
    case 'kubernetes':
      // The app's own metrics, scraped with the pod's `namespace` and `pod` target labels. The pod name of a
      // Deployment is `<target>-<pod-template-hash>-<suffix>` (a DaemonSet's `<target>-<suffix>`); the generated
      // parts are vowel-free, so `<target>-primary-…` pods never match the canary's pattern.
      return [
        `namespace=${promqlString(p.namespace)}`,
        `pod=~${promqlString(`${regexLiteral(p.target)}-(${KUBE_SAFE}+-)?${KUBE_SAFE}{5}`)}`,
      ].join(',');
  }
}

interface Metrics {
  /** Counter of requests, and the matcher keeping the non-5xx ones. */
  requests: string;
  nonServerError: string;
  /** Latency histogram buckets and the factor turning its unit into milliseconds. */
  durationBucket: string;
  toMilliseconds: number;
}

const METRICS: Readonly<Record<BuiltinProviderKind, Metrics>> = {
  fledge: {
    // Envoy tags `cluster.<name>.upstream_rq_<code>` as envoy_cluster_upstream_rq{envoy_response_code="<code>"};
    // `envoy_response_code_class` exists only on the `_xx` counter.
    requests: 'envoy_cluster_upstream_rq',
    nonServerError: 'envoy_response_code!~"5.."',
    durationBucket: 'envoy_cluster_upstream_rq_time_bucket',
    toMilliseconds: 1,
  },
  istio: {
    requests: 'istio_requests_total',
    nonServerError: 'response_code!~"5.."',
    durationBucket: 'istio_request_duration_milliseconds_bucket',
    toMilliseconds: 1,
  },
  kubernetes: {
    requests: 'http_requests_total',
    nonServerError: 'code!~"5.."',
    durationBucket: 'http_request_duration_seconds_bucket',
    toMilliseconds: 1000,
  },
};

function successRateQuery(m: Metrics, selector: Selector, interval: string): string {
  // `or vector(0)`: when every request failed there is no non-5xx series at all, and the rate must be 0, not "no
  // data". With no requests at all the denominator is empty (or 0 → NaN): that is no data.
  const good = `sum(rate(${m.requests}{${selector},${m.nonServerError}}[${interval}]))`;
  const all = `sum(rate(${m.requests}{${selector}}[${interval}]))`;
  return `(${good} or vector(0)) / ${all} * 100`;
}

function durationQuery(m: Metrics, selector: Selector, interval: string): string {
  const p99 = `histogram_quantile(0.99, sum by (le) (rate(${m.durationBucket}{${selector}}[${interval}])))`;
  return m.toMilliseconds === 1 ? p99 : `${p99} * ${m.toMilliseconds}`;
}

function validateParams(p: BuiltinQueryParams): string[] {
  const problems: string[] = [];
  for (const key of ['target', 'namespace', 'service'] as const) {
    if (!p[key]) problems.push(`${key} is empty`);
  }
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
    problems.push(`port ${p.port} is not a port number (1-65535)`);
  }
  if (!PROMQL_DURATION.test(p.interval)) {
    problems.push(`interval ${JSON.stringify(p.interval)} is not a PromQL duration such as 1m or 30s`);
  }
  return problems;
}

/**
 * The PromQL of a built-in check for a provider kind. Unknown check names and provider kinds are errors, never
 * a fallback. Success rate is a percentage of non-5xx requests; duration is P99 in milliseconds. Both select only
 * the canary: its Envoy cluster (fledge), its workload (istio) or its pods (kubernetes).
 */
export function builtinQuery(name: string, providerKind: string, params: BuiltinQueryParams): Result<string> {
  if (!isBuiltinCheck(name)) {
    return {
      ok: false,
      message:
        `unknown built-in check ${JSON.stringify(name)}; built-in checks are ${BUILTIN_CHECKS.join(', ')} ` +
        '(other metrics need a templateRef)',
    };
  }
  if (!(BUILTIN_PROVIDER_KINDS as readonly string[]).includes(providerKind)) {
    return {
      ok: false,
      message: `no built-in ${name} query for provider ${JSON.stringify(providerKind)}; providers: ${BUILTIN_PROVIDER_KINDS.join(', ')}`,
    };
  }
  const kind = providerKind as BuiltinProviderKind;
  const problems = validateParams(params);
  if (problems.length)
    return { ok: false, message: `cannot build the ${name} query: ${problems.join('; ')}` };
  const selector = canarySelector(kind, params);
  const m = METRICS[kind];
  const query =
    name === 'request-success-rate'
      ? successRateQuery(m, selector, params.interval)
      : durationQuery(m, selector, params.interval);
  return { ok: true, value: query };
}
