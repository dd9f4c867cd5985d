// The sandbox's Prometheus harness: podTargets as a table, and a real Prometheus scraping in-test prom-client
// exporters, computing per-version success rates, following target changes and stopping cleanly.
import type { V1Pod } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrometheusHandle, Sample, TargetGroup } from '../../sandbox/prometheus.js';
import { ensurePrometheusInstalled, podTargets, startPrometheus } from '../../sandbox/prometheus.js';
import { waitFor } from '../helpers/wait-for.js';

interface PodSpecArgs {
  name: string;
  namespace?: string;
  phase?: string;
  podIP?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: { image: string; ports?: { name?: string; containerPort: number }[] }[];
}

function pod(a: PodSpecArgs): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: a.name,
      namespace: a.namespace ?? 'shop',
      labels: a.labels ?? { app: 'web', version: 'v1', 'pod-template-hash': '5d8f7c' },
      ...(a.annotations ? { annotations: a.annotations } : {}),
    },
    spec: {
      containers: (
        a.containers ?? [{ image: 'web:1.0', ports: [{ name: 'http', containerPort: 8080 }] }]
      ).map((c, i) => ({ name: `c${i}`, ...c })),
    },
    status: { phase: a.phase ?? 'Running', ...(a.podIP === '' ? {} : { podIP: a.podIP ?? '10.1.0.5' }) },
  };
}

describe('podTargets', () => {
  const cases: { name: string; pods: V1Pod[]; want: TargetGroup[] }[] = [
    {
      name: 'a running pod: its http port and every label',
      pods: [pod({ name: 'web-5d8f7c-abcde' })],
      want: [
        {
          targets: ['10.1.0.5:8080'],
          labels: {
            namespace: 'shop',
            pod: 'web-5d8f7c-abcde',
            app: 'web',
            version: 'v1',
            pod_template_hash: '5d8f7c',
          },
        },
      ],
    },
    {
      name: 'version from the image tag when the pod has no version label',
      pods: [
        pod({
          name: 'p',
          labels: { app: 'podinfo' },
          containers: [
            { image: 'registry:5000/podinfo:6.1.0', ports: [{ name: 'http', containerPort: 9898 }] },
          ],
        }),
      ],
      want: [
        {
          targets: ['10.1.0.5:9898'],
          labels: { namespace: 'shop', pod: 'p', app: 'podinfo', version: '6.1.0' },
        },
      ],
    },
    {
      name: 'no version at all: a registry port is not a tag, and a digest is not one either',
      pods: [
        pod({
          name: 'a',
          labels: {},
          containers: [{ image: 'localhost:5000/web', ports: [{ name: 'http', containerPort: 80 }] }],
        }),
        pod({
          name: 'b',
          labels: {},
          podIP: '10.1.0.6',
          containers: [{ image: 'web@sha256:0123abcd', ports: [{ name: 'http', containerPort: 80 }] }],
        }),
      ],
      want: [
        { targets: ['10.1.0.5:80'], labels: { namespace: 'shop', pod: 'a' } },
        { targets: ['10.1.0.6:80'], labels: { namespace: 'shop', pod: 'b' } },
      ],
    },
    {
      name: 'the prometheus.io/port annotation wins over the http port; version from the container serving it',
      pods: [
        pod({
          name: 'p',
          labels: { app: 'web' },
          annotations: { 'prometheus.io/port': '9797' },
          containers: [
            { image: 'web:2.0', ports: [{ name: 'http', containerPort: 8080 }] },
            { image: 'exporter:0.9', ports: [{ name: 'metrics', containerPort: 9797 }] },
          ],
        }),
      ],
      want: [
        { targets: ['10.1.0.5:9797'], labels: { namespace: 'shop', pod: 'p', app: 'web', version: '0.9' } },
      ],
    },
    {
      name: 'the http port of a later container (a sidecar comes first)',
      pods: [
        pod({
          name: 'p',
          labels: { app: 'web' },
          containers: [
            { image: 'proxy:1.2', ports: [{ name: 'admin', containerPort: 15000 }] },
            { image: 'web:3.1', ports: [{ name: 'http', containerPort: 8080 }] },
          ],
        }),
      ],
      want: [
        { targets: ['10.1.0.5:8080'], labels: { namespace: 'shop', pod: 'p', app: 'web', version: '3.1' } },
      ],
    },
    {
      name: 'an IPv6 pod IP is bracketed',
      pods: [pod({ name: 'p', podIP: 'fd00::5', labels: { app: 'web', version: 'v2' } })],
      want: [
        { targets: ['[fd00::5]:8080'], labels: { namespace: 'shop', pod: 'p', app: 'web', version: 'v2' } },
      ],
    },
    {
      name: 'skipped: not Running, no podIP, no port, an annotation that is not a port',
      pods: [
        pod({ name: 'pending', phase: 'Pending' }),
        pod({ name: 'succeeded', phase: 'Succeeded' }),
        pod({ name: 'no-ip', podIP: '' }),
        pod({
          name: 'no-port',
          containers: [{ image: 'web:1', ports: [{ name: 'grpc', containerPort: 9090 }] }],
        }),
        pod({ name: 'bad-annotation', annotations: { 'prometheus.io/port': 'http' } }),
        pod({ name: 'port-out-of-range', annotations: { 'prometheus.io/port': '70000' } }),
      ],
      want: [],
    },
    {
      name: 'sorted by namespace, then pod name',
      pods: [
        pod({ name: 'b', namespace: 'z', labels: {} }),
        pod({ name: 'c', namespace: 'a', labels: {} }),
        pod({ name: 'a', namespace: 'z', labels: {} }),
      ],
      want: [
        { targets: ['10.1.0.5:8080'], labels: { namespace: 'a', pod: 'c', version: '1.0' } },
        { targets: ['10.1.0.5:8080'], labels: { namespace: 'z', pod: 'a', version: '1.0' } },
        { targets: ['10.1.0.5:8080'], labels: { namespace: 'z', pod: 'b', version: '1.0' } },
      ],
    },
  ];
  it.each(cases)('$name', ({ pods, want }) => {
    expect(podTargets(pods)).toEqual(want);
  });
});

interface Exporter {
  /** host:port, as a scrape target. */
  target: string;
  url: string;
  close(): Promise<void>;
}

/** An HTTP app counting http_requests_total{code,version}; every `failEvery`-th request answers 500. */
async function startExporter(version: string, failEvery?: number): Promise<Exporter> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'Requests served, by status code and app version.',
    labelNames: ['code', 'version'],
    registers: [registry],
  });
  let served = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType }).end(text);
        },
        (err: unknown) => {
          res.writeHead(500).end(String(err));
        },
      );
      return;
    }
    served++;
    const code = failEvery !== undefined && served % failEvery === 0 ? 500 : 200;
    requests.inc({ code: String(code), version });
    res.writeHead(code).end(version);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends requests one after another until maxRequests, maxMs or the signal; resolves with the count sent. */
async function driveLoad(url: string, limits: { maxRequests: number; maxMs: number; signal: AbortSignal }) {
  const deadline = Date.now() + limits.maxMs;
  let sent = 0;
  // The stop signal is checked between requests: handing it to thousands of fetches would pile up listeners.
  while (sent < limits.maxRequests && Date.now() < deadline && !limits.signal.aborted) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    sent++;
  }
  return sent;
}

function byLabel(samples: Sample[], label: string): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [s.metric[label] ?? '', s.value]));
}

describe('a real Prometheus', () => {
  beforeAll(async () => {
    // Installs the Debian package on a fresh machine (~15 s); a no-op when it is there.
    await ensurePrometheusInstalled();
  }, 600_000);

  describe('scraping two app versions', () => {
    let prom: PrometheusHandle;
    let v1: Exporter;
    let v2: Exporter;
    const groups = (): TargetGroup[] => [
      { targets: [v1.target], labels: { app: 'web', pod: 'web-v1' } },
      { targets: [v2.target], labels: { app: 'web', pod: 'web-v2' } },
    ];
    beforeAll(async () => {
      [v1, v2] = await Promise.all([startExporter('v1'), startExporter('v2', 5)]);
      prom = await startPrometheus({ scrapeIntervalMs: 200, targets: groups() });
    });
    afterAll(async () => {
      await Promise.all([prom?.stop(), v1?.close(), v2?.close()]);
    });

    it('computes ~100% success for v1 and ~80% for v2 from rate() over its scrapes', async () => {
      const load = new AbortController();
      const limits = { maxRequests: 20_000, maxMs: 25_000, signal: load.signal };
      const loops = Promise.all([driveLoad(v1.url, limits), driveLoad(v2.url, limits)]);
      try {
        // Wait until each of the three series (v1 200, v2 200, v2 500) has a full 2 s window of scrapes,
        // so that rate() compares like with like rather than a series' first moments.
        await waitFor(
          async () => {
            const counts = await prom.query('count_over_time(http_requests_total{job="sandbox-pods"}[2s])');
            return counts.length === 3 && counts.every((s) => s.value >= 9);
          },
          { timeoutMs: 20_000, what: 'three request series with 2 s of scrapes' },
        );
        const rates = await prom.query(
          'sum by (version) (rate(http_requests_total{job="sandbox-pods",code!~"5.."}[2s]))' +
            ' / sum by (version) (rate(http_requests_total{job="sandbox-pods"}[2s]))',
        );
        const success = byLabel(rates, 'version');
        expect(Object.keys(success).sort()).toEqual(['v1', 'v2']);
        expect(success['v1']).toBeCloseTo(1, 6);
        expect(Math.abs((success['v2'] ?? NaN) - 0.8)).toBeLessThan(0.03);

        // The target group's labels are attached to what Prometheus scraped.
        const up = await prom.query('up{job="sandbox-pods"}');
        expect(byLabel(up, 'pod')).toEqual({ 'web-v1': 1, 'web-v2': 1 });
        expect(up.every((s) => s.metric['app'] === 'web')).toBe(true);
      } finally {
        load.abort();
      }
      const [sentV1, sentV2] = await loops;
      expect(sentV1).toBeGreaterThan(0);
      expect(sentV2).toBeGreaterThan(0);
    });

    // Prometheus hands discovered targets to its scrapers in batches at most every 5 s, so target changes take
    // up to ~6 s to show.
    it('drops a target from up once setTargets leaves it out', async () => {
      await prom.setTargets(groups());
      await waitFor(async () => (await prom.query('up{job="sandbox-pods"} == 1')).length === 2, {
        timeoutMs: 20_000,
        what: 'both targets up',
      });
      await prom.setTargets([{ targets: [v1.target], labels: { pod: 'web-v1' } }]);
      const up = await waitFor(
        async () => {
          const samples = await prom.query('up{job="sandbox-pods"}');
          return samples.length === 1 ? samples : undefined;
        },
        { timeoutMs: 20_000, what: 'the v2 target gone from up' },
      );
      expect(up[0]?.metric['instance']).toBe(v1.target);
      expect(up[0]?.value).toBe(1);
    });

    it('rejects a bad query with Prometheus’ error', async () => {
      await expect(prom.query('sum(rate(http_requests_total[2s]')).rejects.toThrow(/bad_data/);
    });
  });

  it('stop() ends the process, frees the port and removes the temp dir', async () => {
    const prom = await startPrometheus();
    expect(existsSync(prom.dir)).toBe(true);
    expect((await fetch(`${prom.url}/-/ready`)).status).toBe(200);
    await prom.stop();
    expect(() => process.kill(prom.pid, 0)).toThrow(/ESRCH/);
    expect(existsSync(prom.dir)).toBe(false);
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
    await prom.stop(); // idempotent
  });

  it('reports the last lines of Prometheus’ log when it fails to start', async () => {
    await expect(startPrometheus({ extraArgs: ['--no-such-flag'] })).rejects.toThrow(
      /did not start: it exited \(exit code \d+\)[\s\S]*no-such-flag/,
    );
  });

  it('refuses a scrape interval that is not a positive whole number of milliseconds', async () => {
    await expect(startPrometheus({ scrapeIntervalMs: 0 })).rejects.toThrow(/scrapeIntervalMs/);
  });
});
