// Manual control end to end (SPEC §3.6) on the sandbox with real Prometheus, the operator and a real xDS client:
// `fledge promote` mid-run promotes at once (before the remaining steps), `fledge abort` mid-run rolls back; the
// operator removes each annotation after consuming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runControl } from '../../cli/control.js';
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
  deployDemoApp,
  grpcSuccessRateTemplate,
  releaseDemoVersion,
} from '../../sandbox/demo.js';
import { installCrds } from '../helpers/crds.js';
import { waitFor } from '../helpers/wait-for.js';
import { testLogger } from '../helpers/log.js';

interface StoredCanary {
  metadata: { annotations?: Record<string, string> };
  status?: CanaryStatus;
}

/** The replicas and the first container's image of a Deployment. */
interface StoredDeployment {
  spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string }> } } };
}

const imageOf = (d: StoredDeployment): string | undefined => d.spec?.template?.spec?.containers?.[0]?.image;

describe('manual control end to end (fledge promote / abort)', () => {
  let cluster: SandboxCluster;
  let operator: Operator;
  let traffic: DemoTraffic;
  const log = testLogger('manual.e2e');
  const silent = { out: () => undefined, err: () => undefined };

  const canary = (): Promise<StoredCanary> =>
    getJson<StoredCanary>(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`,
      5000,
    );
  const deployment = (name: string): Promise<StoredDeployment> =>
    getJson<StoredDeployment>(
      cluster.kc,
      `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments/${name}`,
      5000,
    );
  /** Waits until a run of the new revision has moved traffic to the canary; returns that weight. */
  const progressed = async (): Promise<number> =>
    waitFor(
      async () => {
        const s = (await canary()).status ?? {};
        return s.phase === 'Progressing' && (s.canaryWeight ?? 0) > 0 ? s.canaryWeight : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: 'the run to move traffic to the canary' },
    );
  const control = (cmd: 'promote' | 'abort'): Promise<number> =>
    runControl(cmd, [DEMO_NAME, '-n', DEMO_NAMESPACE, '--kubeconfig', cluster.kubeconfigPath], silent);

  beforeAll(async () => {
    cluster = await startSandboxCluster({ prometheus: true, scrapeIntervalMs: 500, backoffBaseMs: 500 });
    await installCrds(cluster.kc);
    await deployDemoApp(cluster.kc, { version: 'v1' });
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/metrictemplates`,
      grpcSuccessRateTemplate(cluster.prometheus?.url ?? ''),
    );
    operator = await startOperator({
      kc: cluster.kc,
      log,
      metricsServer: cluster.prometheus?.url ?? '',
      xdsPort: 0,
    });
    // A normal run takes five advances (10% steps up to 50%), so a promotion after the first is visibly early.
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries`,
      demoCanary({ interval: '10s', stepWeight: 10, maxWeight: 50, threshold: 2, metricInterval: '10s' }),
    );
    await waitFor(async () => (await canary()).status?.phase === 'Initialized', {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the canary to be Initialized',
    });
    traffic = new DemoTraffic(operator.mesh?.xdsPort ?? 0, 'manual-e2e-traffic');
    await waitFor(() => traffic.probe(), { timeoutMs: 20_000, what: 'calls through the mesh' });
    traffic.start();
  }, 120_000);

  afterAll(async () => {
    await traffic?.stop();
    await operator?.stop();
    await cluster?.stop();
  }, 30_000);

  it('fledge promote mid-run promotes at the next reconcile, skipping the remaining steps', async () => {
    await releaseDemoVersion(cluster.kc, { version: 'v2' });
    const weightAtRequest = await progressed();
    const requestedAt = Date.now();
    expect(await control('promote')).toBe(0);
    // Consumed by the reconcile the annotation triggers, well before the next 10 s interval tick.
    await waitFor(async () => (await canary()).status?.phase === 'Promoting', {
      timeoutMs: 8000,
      intervalMs: 100,
      what: 'Promoting after fledge promote',
    });
    expect(Date.now() - requestedAt).toBeLessThan(8000);
    const weights = new Set<number>();
    await waitFor(
      async () => {
        const s = (await canary()).status ?? {};
        weights.add(s.canaryWeight ?? 0);
        return s.phase === 'Succeeded';
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'Succeeded after the manual promotion' },
    );
    // The remaining steps were skipped: at most one regular tick advanced (racing the request), never to 50%.
    expect(Math.max(...weights)).toBeLessThanOrEqual(weightAtRequest + 10);
    expect(Math.max(...weights)).toBeLessThan(50);
    const c = await canary();
    expect(c.metadata.annotations?.['fledge.dev/promote']).toBeUndefined();
    expect(c.status?.conditions?.find((x) => x.type === 'ManualControl')).toMatchObject({
      status: 'True',
      reason: 'Applied',
    });
    expect(imageOf(await deployment(`${DEMO_NAME}-primary`))).toBe('fledge/demo-app:v2');
  }, 180_000);

  it('fledge abort mid-run rolls back: Failed, weight 0, primary untouched, annotation gone', async () => {
    await releaseDemoVersion(cluster.kc, { version: 'v3' });
    await progressed();
    expect(await control('abort')).toBe(0);
    await waitFor(async () => (await canary()).status?.phase === 'Failed', {
      timeoutMs: 8000,
      intervalMs: 100,
      what: 'Failed after fledge abort',
    });
    const c = await canary();
    expect(c.status?.canaryWeight).toBe(0);
    expect(c.status?.conditions?.find((x) => x.type === 'Promoted')?.message).toMatch(
      /aborted by fledge\.dev\/abort/,
    );
    await waitFor(async () => (await canary()).metadata.annotations?.['fledge.dev/abort'] === undefined, {
      what: 'the abort annotation to be removed',
    });
    expect(imageOf(await deployment(`${DEMO_NAME}-primary`))).toBe('fledge/demo-app:v2');
    await waitFor(async () => (await deployment(DEMO_NAME)).spec?.replicas === 0, { what: 'target at 0' });
  }, 180_000);
});
