// Tracked configs end to end (SPEC §3.1) on the sandbox with the operator, the embedded mesh and a real xDS
// client: the demo app reads VERSION from a ConfigMap; changing only the ConfigMap starts a run, and the
// promotion copies it to `<name>-primary`, so the primary then answers with the new value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../../crds/schema/flagger.js';
import { getJson } from '../../operator/k8s/raw.js';
import type { Operator } from '../../operator/main.js';
import { startOperator } from '../../operator/main.js';
import type { SandboxCluster } from '../../sandbox/cluster.js';
import { startSandboxCluster } from '../../sandbox/cluster.js';
import {
  createObject,
  DEMO_NAME,
  DEMO_NAMESPACE,
  demoCanary,
  DemoTraffic,
  patchObject,
} from '../../sandbox/demo.js';
import { installCrds } from '../helpers/crds.js';
import { waitFor } from '../helpers/wait-for.js';
import { testLogger } from '../helpers/log.js';

const CONFIG = `${DEMO_NAME}-config`;
const configPath = (name: string): string => `/api/v1/namespaces/${DEMO_NAMESPACE}/configmaps/${name}`;

/** The demo app with VERSION read from ConfigMap `<name>-config` (env valueFrom). */
function demoDeployment(): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: DEMO_NAME, labels: { app: DEMO_NAME } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: DEMO_NAME } },
      template: {
        metadata: { labels: { app: DEMO_NAME } },
        spec: {
          containers: [
            {
              name: DEMO_NAME,
              image: 'fledge/demo-app:v1',
              env: [{ name: 'VERSION', valueFrom: { configMapKeyRef: { name: CONFIG, key: 'version' } } }],
              ports: [
                { name: 'http', containerPort: 8080 },
                { name: 'grpc', containerPort: 9090 },
              ],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

describe('tracked configs end to end (ConfigMap change → run → promotion)', () => {
  let cluster: SandboxCluster;
  let operator: Operator;
  let traffic: DemoTraffic;
  const log = testLogger('configs.e2e');

  const status = async (): Promise<CanaryStatus> =>
    (
      await getJson<{ status?: CanaryStatus }>(
        cluster.kc,
        `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`,
        5000,
      )
    ).status ?? {};
  const configData = async (name: string): Promise<Record<string, string> | undefined> =>
    (await getJson<{ data?: Record<string, string> }>(cluster.kc, configPath(name), 5000)).data;

  beforeAll(async () => {
    cluster = await startSandboxCluster({ backoffBaseMs: 500 });
    await installCrds(cluster.kc);
    await createObject(cluster.kc, `/api/v1/namespaces/${DEMO_NAMESPACE}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: CONFIG },
      data: { version: 'config-1' },
    });
    await createObject(
      cluster.kc,
      `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments`,
      demoDeployment(),
    );
    operator = await startOperator({ kc: cluster.kc, log, metricsServer: 'http://127.0.0.1:1' });
    const canary = demoCanary({
      interval: '10s',
      stepWeight: 50,
      maxWeight: 50,
      threshold: 1,
      metricInterval: '1m',
    });
    // No metrics: the run advances on readiness alone (no Prometheus here).
    (canary as { spec: { analysis: { metrics: unknown[] } } }).spec.analysis.metrics = [];
    await createObject(cluster.kc, `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries`, canary);
    await waitFor(async () => (await status()).phase === 'Initialized', {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the canary to be Initialized',
    });
    traffic = new DemoTraffic(operator.mesh?.xdsPort ?? 0, 'configs-e2e', 2);
    await waitFor(() => traffic.probe(), { timeoutMs: 20_000, what: 'calls through the mesh' });
    traffic.start();
  }, 120_000);

  afterAll(async () => {
    await traffic?.stop();
    await operator?.stop();
    await cluster?.stop();
  }, 30_000);

  it('initialized: the primary reads the -primary copy, tracked in status', async () => {
    const s = await status();
    expect(Object.keys(s.trackedConfigs ?? {})).toEqual([`configmap/${CONFIG}`]);
    expect(await configData(`${CONFIG}-primary`)).toEqual({ version: 'config-1' });
    const before = traffic.total.byVersion['config-1'] ?? 0;
    await waitFor(() => (traffic.total.byVersion['config-1'] ?? 0) > before + 20, {
      what: 'config-1 answering',
    });
  });

  it('a ConfigMap change alone starts a run, and the promotion copies it to the primary', async () => {
    const before = await status();
    await patchObject(cluster.kc, configPath(CONFIG), { data: { version: 'config-2' } });
    const progressing = await waitFor(
      async () => {
        const s = await status();
        return s.phase === 'Progressing' ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'a run of the config change' },
    );
    expect(progressing.lastAppliedSpec).not.toBe(before.lastAppliedSpec);
    expect(progressing.trackedConfigs?.[`configmap/${CONFIG}`]).not.toBe(
      before.trackedConfigs?.[`configmap/${CONFIG}`],
    );
    // Until promotion the primary's copy keeps the promoted content.
    expect(await configData(`${CONFIG}-primary`)).toEqual({ version: 'config-1' });

    await waitFor(async () => (await status()).phase === 'Succeeded', {
      timeoutMs: 120_000,
      intervalMs: 250,
      what: 'the config change to be promoted',
    });
    const done = await status();
    expect(done.lastPromotedSpec).toBe(progressing.lastAppliedSpec);
    expect(await configData(`${CONFIG}-primary`)).toEqual({ version: 'config-2' });
    // The primary's pods were rolled onto the new copy: from now on only config-2 answers.
    await waitFor(() => (traffic.total.byVersion['config-2'] ?? 0) > 0, { what: 'config-2 answering' });
    const from = traffic.since();
    await waitFor(() => (from.byVersion['config-2'] ?? 0) > 50, {
      timeoutMs: 20_000,
      what: '50 more calls answered by config-2',
    });
    expect(Object.keys(from.byVersion)).toEqual(['config-2']);
  }, 180_000);
});
