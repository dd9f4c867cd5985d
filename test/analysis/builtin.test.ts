// Built-in checks as PromQL: the exact query per provider kind, that each parses with the PromQL grammar, that
// the kubernetes pod pattern selects the canary's pods only, and that unknown names are errors.
import { describe, expect, it } from 'vitest';
import type { BuiltinQueryParams } from '../../analysis/builtin.js';
import {
  BUILTIN_CHECKS,
  BUILTIN_PROVIDER_KINDS,
  builtinQuery,
  canaryClusterName,
} from '../../analysis/builtin.js';
import { checkPromql } from '../../analysis/template.js';

const params: BuiltinQueryParams = {
  target: 'podinfo',
  namespace: 'test',
  service: 'podinfo',
  port: 9898,
  interval: '1m',
};

function query(name: string, kind: string, p: BuiltinQueryParams = params): string {
  const r = builtinQuery(name, kind, p);
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

const CLUSTER = 'envoy_cluster_name="outbound|9898||podinfo-canary.test.svc.cluster.local"';
const ISTIO = 'reporter="destination",destination_workload_namespace="test",destination_workload="podinfo"';
const POD =
  'namespace="test",pod=~"podinfo-([bcdfghjklmnpqrstvwxz2456789]+-)?[bcdfghjklmnpqrstvwxz2456789]{5}"';

describe('builtinQuery', () => {
  const table: { check: string; kind: string; want: string }[] = [
    {
      check: 'request-success-rate',
      kind: 'fledge',
      want:
        `(sum(rate(envoy_cluster_upstream_rq{${CLUSTER},envoy_response_code!~"5.."}[1m])) or vector(0))` +
        ` / sum(rate(envoy_cluster_upstream_rq{${CLUSTER}}[1m])) * 100`,
    },
    {
      check: 'request-duration',
      kind: 'fledge',
      want: `histogram_quantile(0.99, sum by (le) (rate(envoy_cluster_upstream_rq_time_bucket{${CLUSTER}}[1m])))`,
    },
    {
      check: 'request-success-rate',
      kind: 'istio',
      want:
        `(sum(rate(istio_requests_total{${ISTIO},response_code!~"5.."}[1m])) or vector(0))` +
        ` / sum(rate(istio_requests_total{${ISTIO}}[1m])) * 100`,
    },
    {
      check: 'request-duration',
      kind: 'istio',
      want: `histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{${ISTIO}}[1m])))`,
    },
    {
      check: 'request-success-rate',
      kind: 'kubernetes',
      want:
        `(sum(rate(http_requests_total{${POD},code!~"5.."}[1m])) or vector(0))` +
        ` / sum(rate(http_requests_total{${POD}}[1m])) * 100`,
    },
    {
      check: 'request-duration',
      kind: 'kubernetes',
      want: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${POD}}[1m]))) * 1000`,
    },
  ];

  it('covers every check and provider kind', () => {
    expect(table.length).toBe(BUILTIN_CHECKS.length * BUILTIN_PROVIDER_KINDS.length);
  });

  it.each(table)('$check for $kind', ({ check, kind, want }) => {
    const q = query(check, kind);
    expect(q).toBe(want);
    expect(checkPromql(q)).toEqual({ ok: true });
  });

  it('every query parses with the PromQL grammar, also with awkward names and long intervals', () => {
    const awkward: BuiltinQueryParams = {
      target: 'web.v2',
      namespace: 'a-b',
      service: 'web"x\\y',
      port: 80,
      interval: '1h30m',
    };
    for (const check of BUILTIN_CHECKS) {
      for (const kind of BUILTIN_PROVIDER_KINDS) {
        expect([check, kind, checkPromql(query(check, kind, awkward))]).toEqual([check, kind, { ok: true }]);
      }
    }
  });

  it('label values are escaped PromQL strings, regex metacharacters in the target are literal', () => {
    expect(query('request-duration', 'fledge', { ...params, service: 'we"b' })).toContain(
      'envoy_cluster_name="outbound|9898||we\\"b-canary.test.svc.cluster.local"',
    );
    expect(query('request-duration', 'kubernetes', { ...params, target: 'web.v2' })).toContain(
      'pod=~"web\\\\.v2-(',
    );
  });

  const errors: {
    name: string;
    check: string;
    kind: string;
    p?: Partial<BuiltinQueryParams>;
    want: RegExp;
  }[] = [
    {
      name: 'an unknown check name',
      check: 'request-error-rate',
      kind: 'fledge',
      want: /unknown built-in check "request-error-rate"; built-in checks are request-success-rate, request-duration/,
    },
    {
      name: 'an unknown provider kind',
      check: 'request-duration',
      kind: 'linkerd',
      want: /no built-in request-duration query for provider "linkerd"; providers: fledge, istio, kubernetes/,
    },
    {
      name: 'an interval that is not a PromQL duration',
      check: 'request-duration',
      kind: 'istio',
      p: { interval: '60' },
      want: /interval "60" is not a PromQL duration/,
    },
    {
      name: 'a port out of range',
      check: 'request-success-rate',
      kind: 'fledge',
      p: { port: 0 },
      want: /port 0 is not a port number/,
    },
    {
      name: 'an empty target',
      check: 'request-duration',
      kind: 'kubernetes',
      p: { target: '' },
      want: /target is empty/,
    },
  ];
  it.each(errors)('$name is an error', ({ check, kind, p, want }) => {
    const r = builtinQuery(check, kind, { ...params, ...p });
    expect(r.ok).toBe(false);
    expect(r.ok || r.message).toMatch(want);
  });
});

describe('canaryClusterName', () => {
  it('follows outbound|<port>|<subset>|<service FQDN> with no subset', () => {
    expect(canaryClusterName('podinfo', 'test', 9898)).toBe(
      'outbound|9898||podinfo-canary.test.svc.cluster.local',
    );
  });
});

describe('kubernetes pod pattern', () => {
  // Prometheus anchors regex matchers at both ends; RE2 and JavaScript agree on this subset.
  function podPattern(target: string): RegExp {
    const q = query('request-duration', 'kubernetes', { ...params, target });
    const m = /pod=~"((?:[^"\\]|\\.)*)"/.exec(q);
    if (!m?.[1]) throw new Error(`no pod matcher in ${q}`);
    return new RegExp(`^(?:${m[1].replace(/\\\\/g, '\\')})$`);
  }

  const cases: { target: string; pod: string; match: boolean }[] = [
    { target: 'podinfo', pod: 'podinfo-6b4f8c7d9-wz5kp', match: true },
    { target: 'podinfo', pod: 'podinfo-wz5kp', match: true }, // a DaemonSet's pod
    { target: 'podinfo', pod: 'podinfo-primary-6b4f8c7d9-wz5kp', match: false },
    { target: 'podinfo', pod: 'podinfo-primary-wz5kp', match: false }, // the primary DaemonSet's pod
    { target: 'podinfo', pod: 'podinfo-canary-6b4f8c7d9-wz5kp', match: false },
    { target: 'podinfo', pod: 'podinfo-v2-6b4f8c7d9-wz5kp', match: false },
    { target: 'podinfo', pod: 'other-6b4f8c7d9-wz5kp', match: false },
    { target: 'podinfo-primary', pod: 'podinfo-primary-6b4f8c7d9-wz5kp', match: true },
    { target: 'web.v2', pod: 'web.v2-6b4f8c7d9-wz5kp', match: true },
    { target: 'web.v2', pod: 'webxv2-6b4f8c7d9-wz5kp', match: false },
  ];
  it.each(cases)('target $target, pod $pod → $match', ({ target, pod, match }) => {
    expect(podPattern(target).test(pod)).toBe(match);
  });
});
