// The built-in checks end to end: a real Prometheus scrapes in-test prom-client exporters standing in for pods of
// several app versions; the `kubernetes` built-in queries, run by the real Prometheus provider and judged by
// evaluate(), pass the good version and fail the bad one, and a version without traffic follows onNoData.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltinQueryParams } from '../../analysis/builtin.js';
import { BUILTIN_CHECKS, BUILTIN_PROVIDER_KINDS, builtinQuery } from '../../analysis/builtin.js';
import { evaluate } from '../../analysis/evaluate.js';
import { createProvider } from '../../analysis/providers/provider.js';
import type { MetricResult, MetricsProvider } from '../../analysis/types.js';
import type { PrometheusHandle } from '../../sandbox/prometheus.js';
import { startPrometheus } from '../../sandbox/prometheus.js';
import { waitFor } from '../helpers/wait-for.js';

const NAMESPACE = 'test';
const SCRAPE_MS = 200;
/** The metrics interval of the checks: ten scrapes, well over the 4× a rate() needs. */
const INTERVAL = '2s';
/** Simulated requests served between two scrapes. */
const REQUESTS_PER_SCRAPE = 50;

interface VersionSpec {
  /** The workload name (the built-in queries' `target`) and its pod, named as a Deployment's pods are. */
  target: string;
  pod: string;
  version: string;
  /** Every n-th request answers 500; undefined: none. */
  errorEvery?: number;
  /** Request durations, cycled. Empty: the app serves no traffic (its series exist, at zero). */
  durationsSeconds: number[];
}

const VERSIONS = {
  // fast, but one request in five fails
  failing: {
    target: 'podinfo-primary',
    pod: 'podinfo-primary-5c8d7b9f4-qx2lz',
    version: '1.0.0',
    errorEvery: 5,
    durationsSeconds: [0.004, 0.008, 0.012, 0.02],
  },
  // never fails, but slow; its name is a prefix of the one above, which its pod pattern must not select
  slow: {
    target: 'podinfo',
    pod: 'podinfo-6b4f8c7d9-wz5kp',
    version: '2.0.0',
    durationsSeconds: [0.3, 0.35, 0.4, 0.45],
  },
  // every request fails: a success rate of 0, not "no data"
  broken: {
    target: 'broken',
    pod: 'broken-7f9c4d8b5-x2kqz',
    version: '3.0.0',
    errorEvery: 1,
    durationsSeconds: [0.005],
  },
  // up and scraped, no requests: rates are 0 and the queries give NaN
  idle: { target: 'idle', pod: 'idle-7d5f6c9b8-m4ntq', version: '4.0.0', durationsSeconds: [] },
} satisfies Record<string, VersionSpec>;

interface Exporter {
  url: string;
  close(): Promise<void>;
}

/**
 * One "pod": a prom-client registry of its own with the demo app's metric names and buckets, served on its own
 * port. Each scrape first accounts for REQUESTS_PER_SCRAPE simulated requests, so traffic follows scrapes.
 */
async function startExporter(spec: VersionSpec): Promise<Exporter> {
  const registry = new Registry();
  registry.setDefaultLabels({ version: spec.version });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, path and status code.',
    labelNames: ['method', 'path', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to finishing its response.',
    labelNames: ['method', 'path', 'code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const ok = { method: 'GET', path: '/', code: '200' };
  requests.inc(ok, 0);
  duration.zero(ok);
  let served = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    for (let i = 0; i < REQUESTS_PER_SCRAPE && spec.durationsSeconds.length > 0; i++, served++) {
      const failed = spec.errorEvery !== undefined && served % spec.errorEvery === 0;
      const labels = { ...ok, code: failed ? '500' : '200' };
      requests.inc(labels);
      duration.observe(labels, spec.durationsSeconds[served % spec.durationsSeconds.length] ?? 0);
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const params = (target: string): BuiltinQueryParams => ({
  target,
  namespace: NAMESPACE,
  service: target,
  port: 9898,
  interval: INTERVAL,
});

function kubernetesQuery(check: string, target: string): string {
  const r = builtinQuery(check, 'kubernetes', params(target));
  if (!r.ok) throw new Error(r.message);
  return r.value;
}

describe('built-in checks against a real Prometheus', () => {
  let prom: PrometheusHandle | undefined;
  let provider: MetricsProvider;
  const exporters: Exporter[] = [];

  beforeAll(async () => {
    const targets = [];
    for (const spec of Object.values(VERSIONS)) {
      const exporter = await startExporter(spec);
      exporters.push(exporter);
      targets.push({
        targets: [exporter.url],
        labels: { namespace: NAMESPACE, pod: spec.pod, app: spec.target, version: spec.version },
      });
    }
    prom = await startPrometheus({ scrapeIntervalMs: SCRAPE_MS, targets });
    const created = createProvider({ type: 'prometheus', address: prom.url, timeoutMs: 5_000 });
    if (!created.ok) throw new Error(created.message);
    provider = created.value;

    // Ready when every busy version has a success rate over the interval, and the idle one has been scraped
    // often enough that its NaN means "no requests", not "not scraped yet".
    const valueOf = async (q: string): Promise<number | undefined> => {
      const r = await provider.query(q);
      return r.kind === 'value' ? r.value : undefined;
    };
    await waitFor(
      async () => {
        for (const v of [VERSIONS.failing, VERSIONS.slow, VERSIONS.broken]) {
          if ((await valueOf(kubernetesQuery('request-success-rate', v.target))) === undefined) return false;
        }
        const idleSamples = await valueOf(
          `min(count_over_time(http_requests_total{pod="${VERSIONS.idle.pod}"}[${INTERVAL}]))`,
        );
        return idleSamples !== undefined && idleSamples >= 4;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'Prometheus to have scraped every version' },
    );
  });

  afterAll(async () => {
    await prom?.stop();
    await Promise.all(exporters.map((e) => e.close()));
  });

  async function check(check: string, target: string): Promise<MetricResult> {
    return provider.query(kubernetesQuery(check, target));
  }

  it('request-success-rate passes the version without errors and fails the one failing 20%', async () => {
    // Exactly 100: the `podinfo` pod pattern left out the failing `podinfo-primary-…` pod.
    const good = evaluate({
      metric: 'request-success-rate',
      result: await check('request-success-rate', VERSIONS.slow.target),
      threshold: { min: 99 },
    });
    expect(good).toMatchObject({ outcome: 'pass', value: 100 });
    expect(good.reason).toBe('request-success-rate 100 is at or above the minimum 99');

    const bad = evaluate({
      metric: 'request-success-rate',
      result: await check('request-success-rate', VERSIONS.failing.target),
      threshold: { min: 99 },
    });
    expect(bad.outcome).toBe('fail');
    expect(bad.value).toBeCloseTo(80, 0);
    expect(bad.reason).toMatch(/^request-success-rate (79|80)(\.\d+)? is below the minimum 99$/);
  });

  it('request-duration passes the fast version and fails the slow one (P99 in milliseconds)', async () => {
    const fast = evaluate({
      metric: 'request-duration',
      result: await check('request-duration', VERSIONS.failing.target),
      threshold: { max: 100 },
    });
    expect(fast.outcome).toBe('pass');
    // 20 ms is the slowest request; interpolation in the (10 ms, 25 ms] bucket puts P99 inside it.
    expect(fast.value).toBeGreaterThan(10);
    expect(fast.value).toBeLessThanOrEqual(25);

    const slow = evaluate({
      metric: 'request-duration',
      result: await check('request-duration', VERSIONS.slow.target),
      threshold: { max: 100 },
    });
    expect(slow.outcome).toBe('fail');
    expect(slow.value).toBeGreaterThan(250);
    expect(slow.value).toBeLessThanOrEqual(500);
    expect(slow.reason).toMatch(/^request-duration \d+(\.\d+)? is above the maximum 100$/);
  });

  it('a version failing every request has a success rate of 0, not "no data"', async () => {
    const result = await check('request-success-rate', VERSIONS.broken.target);
    expect(result).toEqual({ kind: 'value', value: 0 });
    const v = evaluate({ metric: 'request-success-rate', result, threshold: { min: 99 }, onNoData: 'pass' });
    expect(v).toMatchObject({ outcome: 'fail', reason: 'request-success-rate 0 is below the minimum 99' });
  });

  describe('no data follows onNoData', () => {
    const cases = [
      { name: 'a version with no traffic (NaN)', target: VERSIONS.idle.target },
      { name: 'a target with no pods (no series)', target: 'ghost' },
    ];
    for (const { name, target } of cases) {
      for (const metric of BUILTIN_CHECKS) {
        it(`${metric}, ${name}`, async () => {
          const result = await check(metric, target);
          expect(result.kind).toBe('no-data');
          const threshold = metric === 'request-success-rate' ? { min: 99 } : { max: 100 };
          const outcomes = (['fail', 'hold', 'pass'] as const).map((onNoData) => {
            const v = evaluate({ metric, result, threshold, onNoData });
            expect(v.value).toBeUndefined();
            expect(v.reason).toContain(`${metric} has no data (`);
            expect(v.reason).toContain(`onNoData is ${onNoData}`);
            return v.outcome;
          });
          expect(outcomes).toEqual(['fail', 'hold', 'pass']);
        });
      }
    }
  });

  it('the real Prometheus accepts every built-in query of every provider kind', async () => {
    for (const kind of BUILTIN_PROVIDER_KINDS) {
      for (const name of BUILTIN_CHECKS) {
        const q = builtinQuery(name, kind, params('podinfo'));
        if (!q.ok) throw new Error(q.message);
        const r = await provider.query(q.value);
        // No Envoy or Istio series here, so those give no data; what matters is that none is a bad query.
        expect([kind, name, r.kind === 'bad-query' ? r.message : 'accepted']).toEqual([
          kind,
          name,
          'accepted',
        ]);
      }
    }
  });

  it('a query Prometheus rejects fails the check with its message, even with onNoData pass', async () => {
    const result = await provider.query('sum(rate(http_requests_total[2s])');
    expect(result.kind).toBe('bad-query');
    const v = evaluate({ metric: 'custom', result, threshold: { min: 0 }, onNoData: 'pass' });
    expect(v.outcome).toBe('fail');
    expect(v.reason).toMatch(
      /^custom could not be evaluated: the metrics provider rejected the query: .*parse error/,
    );
  });
});
