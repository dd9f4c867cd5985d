// Sandbox kubelet scale: 100 Deployments x 5 replicas of virtual pods (no processes) until every
// Deployment reports 5 ready replicas, through the real API server, controllers and kubelet.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startKubelet } from '../sandbox/kubelet/kubelet.js';
import { startTestCluster } from '../test/helpers/sandbox.js';
import type { BenchMetric } from './run.js';

const DEPLOYMENTS = 100;
const REPLICAS = 5;

export async function benchKubelet(): Promise<BenchMetric[]> {
  const cluster = await startTestCluster();
  const core = cluster.kc.makeApiClient(CoreV1Api);
  const apps = cluster.kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: 'scale' } } });
  const kubelet = await startKubelet({ kc: cluster.kc, nodes: 4 });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: DEPLOYMENTS }, (_, i) =>
      apps.createNamespacedDeployment({
        namespace: 'scale',
        body: {
          metadata: { name: `app-${i}` },
          spec: {
            replicas: REPLICAS,
            selector: { matchLabels: { app: `app-${i}` } },
            template: {
              metadata: { labels: { app: `app-${i}` } },
              spec: { containers: [{ name: 'app', image: 'registry.example/virtual:1' }] },
            },
          },
        },
      }),
    ),
  );
  const created = performance.now();
  let readyAt = 0;
  let ready = 0;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const list = await apps.listNamespacedDeployment({ namespace: 'scale' });
    ready = list.items.filter((d) => d.status?.readyReplicas === REPLICAS).length;
    if (ready === DEPLOYMENTS) {
      readyAt = performance.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pods = (await core.listNamespacedPod({ namespace: 'scale' })).items;
  const readyPods = pods.filter((p) =>
    p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
  const rss = process.memoryUsage().rss;
  await kubelet.stop();
  await cluster.close();
  const seconds = readyAt ? (readyAt - start) / 1000 : NaN;
  return [
    { metric: 'deployments_ready', value: ready, unit: 'count', target: `${DEPLOYMENTS}` },
    { metric: 'pods_ready', value: readyPods, unit: 'count', target: `${DEPLOYMENTS * REPLICAS}` },
    { metric: 'create_requests', value: Math.round(created - start), unit: 'ms', target: '' },
    { metric: 'all_ready_after', value: Math.round(seconds * 100) / 100, unit: 's', target: '' },
    {
      metric: 'pods_ready_per_second',
      value: Math.round((DEPLOYMENTS * REPLICAS) / seconds),
      unit: 'pods/s',
      target: '',
    },
    { metric: 'process_rss', value: Math.round(rss / 1048576), unit: 'MiB', target: '' },
  ];
}
