// The sandbox as the analysis will see it: two versions of the demo app run as pods, a real
// Prometheus scrapes them through the kubelet's targets, and a PromQL success-rate query tells
// the healthy version from the one failing 20% of requests.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxCluster } from '../../sandbox/cluster.js';
import { startSandboxCluster } from '../../sandbox/cluster.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'metrics';

describe('sandbox cluster with Prometheus', () => {
  let cluster: SandboxCluster;

  beforeAll(async () => {
    cluster = await startSandboxCluster({ prometheus: true, scrapeIntervalMs: 250 });
    const core = cluster.kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    const apps = cluster.kc.makeApiClient(AppsV1Api);
    for (const [version, errorRate] of [
      ['v1', '0'],
      ['v2', '0.2'],
    ] as const) {
      await apps.createNamespacedDeployment({
        namespace: NS,
        body: {
          metadata: { name: `podinfo-${version}` },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'podinfo', version } },
            template: {
              metadata: { labels: { app: 'podinfo', version } },
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: `fledge/demo-app:${version}`,
                    ports: [{ name: 'http', containerPort: 8080 }],
                    env: [{ name: 'ERROR_RATE', value: errorRate }],
                    readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
                  },
                ],
              },
            },
          },
        },
      });
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('measures the success rate of each version', async () => {
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const pods = await waitFor(
      async () => {
        const ps = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=podinfo' })).items;
        const ready = ps.filter((p: V1Pod) =>
          p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === 2 ? ready : undefined;
      },
      { timeoutMs: 20_000, what: 'both versions ready' },
    );
    const prom = cluster.prometheus;
    if (!prom) throw new Error('prometheus not started');
    // Steady, bounded load on both versions while Prometheus picks the pods up and scrapes them.
    const stop = Date.now() + 25_000;
    let sent = 0;
    const load = (async () => {
      while (Date.now() < stop && sent < 40_000) {
        await Promise.all(
          pods.map((p) => fetch(`http://${p.status?.podIP ?? ''}:8080/`).then((r) => r.arrayBuffer())),
        );
        sent += pods.length;
      }
    })();
    const query =
      'sum by (version) (rate(http_requests_total{namespace="metrics",code!~"5.."}[2s])) / sum by (version) (rate(http_requests_total{namespace="metrics"}[2s]))';
    // Both series present in three successive evaluations (a full 2 s window of scrapes): take the last.
    let seen = 0;
    const rates = await waitFor(
      async () => {
        const samples = await prom.query(query);
        const byVersion = new Map(samples.map((s) => [s.metric.version, s.value]));
        const v1 = byVersion.get('v1');
        const v2 = byVersion.get('v2');
        const both = v1 !== undefined && v2 !== undefined && Number.isFinite(v1) && Number.isFinite(v2);
        seen = both ? seen + 1 : 0;
        return both && seen >= 3 ? { v1, v2 } : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 1000, what: 'success rates of both versions' },
    );
    await load;
    expect(rates.v1).toBe(1);
    expect(rates.v2).toBeGreaterThan(0.7);
    expect(rates.v2).toBeLessThan(0.9);
  });
});
