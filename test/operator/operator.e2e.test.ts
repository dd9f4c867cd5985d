// End to end on the sandbox with real processes, real Prometheus and a real xDS client: a good revision is
// promoted step by step (surviving an operator restart mid-run, with no failed call), a revision failing 30%
// of calls is rolled back with all traffic back on the primary, and kubectl shows the columns during a run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
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
  deployDemoApp,
  grpcSuccessRateTemplate,
  releaseDemoVersion,
} from '../../sandbox/demo.js';
import { installCrds } from '../helpers/crds.js';
import { testLogger } from '../helpers/log.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);

interface StoredCanary {
  status?: CanaryStatus;
}

interface StoredDeployment {
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: Array<{ env?: Array<{ name: string; value?: string }> }> } };
  };
}

const envOf = (d: StoredDeployment, name: string): string | undefined =>
  d.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === name)?.value;

async function kubectlPresent(): Promise<boolean> {
  try {
    await run('kubectl', ['version', '--client']);
    return true;
  } catch {
    return false;
  }
}

describe('operator end to end (sandbox, Prometheus, grpc-js-xds)', () => {
  let cluster: SandboxCluster;
  let operator: Operator;
  let traffic: DemoTraffic;
  let xdsPort = 0;
  const log = testLogger('operator.e2e');

  const canary = async (): Promise<CanaryStatus> =>
    (
      await getJson<StoredCanary>(
        cluster.kc,
        `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`,
        5000,
      )
    ).status ?? {};
  const deployment = (name: string): Promise<StoredDeployment> =>
    getJson<StoredDeployment>(
      cluster.kc,
      `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments/${name}`,
      5000,
    );

  const start = async (): Promise<void> => {
    operator = await startOperator({
      kc: cluster.kc,
      log,
      metricsServer: cluster.prometheus?.url ?? '',
      xdsPort,
    });
    xdsPort = operator.mesh?.xdsPort ?? 0;
  };

  beforeAll(async () => {
    cluster = await startSandboxCluster({ prometheus: true, scrapeIntervalMs: 500, backoffBaseMs: 500 });
    await installCrds(cluster.kc);
    await deployDemoApp(cluster.kc, { version: 'v1' });
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/metrictemplates`,
      grpcSuccessRateTemplate(cluster.prometheus?.url ?? ''),
    );
    await start();
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries`,
      demoCanary({ interval: '10s', stepWeight: 25, maxWeight: 50, threshold: 2, metricInterval: '10s' }),
    );
    await waitFor(async () => (await canary()).phase === 'Initialized', {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the canary to be Initialized',
    });
    traffic = new DemoTraffic(xdsPort, 'e2e-traffic');
    await waitFor(() => traffic.probe(), { timeoutMs: 20_000, what: 'calls through the mesh' });
    traffic.start();
  }, 120_000);

  afterAll(async () => {
    await traffic?.stop();
    await operator?.stop();
    await cluster?.stop();
  }, 30_000);

  it('initialized: primary serving v1, target scaled to zero, Promoted condition True', async () => {
    const s = await canary();
    expect(s.conditions?.find((c) => c.type === 'Promoted')).toMatchObject({
      status: 'True',
      reason: 'Initialized',
    });
    expect(envOf(await deployment(`${DEMO_NAME}-primary`), 'VERSION')).toBe('v1');
    await waitFor(async () => (await deployment(DEMO_NAME)).spec?.replicas === 0, { what: 'target at 0' });
    const from = traffic.since();
    await waitFor(() => (from.byVersion['v1'] ?? 0) > 20, { what: 'v1 answering' });
  });

  it('promotes a good revision step by step, resumes after an operator restart, and fails no call', async () => {
    const failedBefore = { ...traffic.total.errors };
    await releaseDemoVersion(cluster.kc, { version: 'v2' });
    const weights = new Set<number>();
    const phases = new Set<string>();
    let restarted = false;
    let sawKubectl: string | undefined;
    const hasKubectl = await kubectlPresent();
    await waitFor(
      async () => {
        const s = await canary();
        phases.add(s.phase ?? '');
        if (s.phase === 'Progressing') weights.add(s.canaryWeight ?? 0);
        if (
          hasKubectl &&
          sawKubectl === undefined &&
          s.phase === 'Progressing' &&
          (s.canaryWeight ?? 0) > 0
        ) {
          const out = await run('kubectl', [
            '--kubeconfig',
            cluster.kubeconfigPath,
            'get',
            'canary',
            '-o',
            'wide',
          ]);
          sawKubectl = out.stdout;
        }
        if (!restarted && s.phase === 'Progressing' && (s.canaryWeight ?? 0) === 25) {
          restarted = true;
          await operator.stop();
          await start();
        }
        return s.phase === 'Succeeded';
      },
      { timeoutMs: 150_000, intervalMs: 200, what: 'the good revision to be promoted' },
    );
    expect(restarted).toBe(true);
    expect([...weights].filter((w) => w > 0).sort((a, b) => a - b)).toEqual([25, 50]);
    expect(phases.has('Promoting') || phases.has('Finalising')).toBe(true);
    const primary = await deployment(`${DEMO_NAME}-primary`);
    expect(envOf(primary, 'VERSION')).toBe('v2');
    await waitFor(async () => (await deployment(DEMO_NAME)).spec?.replicas === 0, {
      what: 'target back at 0',
    });
    // The split during the run reached the canary, and after promotion v2 serves everything from the primary.
    expect(traffic.total.byVersion['v2'] ?? 0).toBeGreaterThan(0);
    // Calls started from now on (one in flight may still end on the old route).
    const after = traffic.since();
    await waitFor(() => (after.byVersion['v2'] ?? 0) > 50, { what: 'v2 answering after promotion' });
    expect(Object.keys(after.byVersion)).toEqual(['v2']);
    expect(traffic.total.errors).toEqual(failedBefore);
    const s = await canary();
    expect(s.conditions?.find((c) => c.type === 'Promoted')).toMatchObject({
      status: 'True',
      reason: 'Succeeded',
    });
    expect(s.lastPromotedSpec).toBe(s.lastAppliedSpec);
    if (hasKubectl) {
      expect(sawKubectl).toMatch(/NAME\s+STATUS\s+WEIGHT\s+FAILEDCHECKS\s+INTERVAL\s+MIRROR\s+STEPWEIGHT/);
      expect(sawKubectl).toMatch(
        new RegExp(`${DEMO_NAME}\\s+Progressing\\s+(25|50)\\s+0\\s+10s\\s+\\S*\\s*25\\s`),
      );
    }
  }, 200_000);

  it('rolls back a revision that fails 30% of calls after `threshold` failed checks', async () => {
    await releaseDemoVersion(cluster.kc, { version: 'v3', errorRate: 0.3 });
    let maxFailed = 0;
    await waitFor(
      async () => {
        const s = await canary();
        maxFailed = Math.max(maxFailed, s.failedChecks ?? 0);
        return s.phase === 'Failed';
      },
      { timeoutMs: 150_000, intervalMs: 250, what: 'the bad revision to be rolled back' },
    );
    const s = await canary();
    expect(maxFailed).toBe(2);
    expect(s.canaryWeight).toBe(0);
    expect(s.conditions?.find((c) => c.type === 'Promoted')).toMatchObject({
      status: 'False',
      reason: 'Failed',
    });
    expect(s.conditions?.find((c) => c.type === 'Promoted')?.message).toMatch(/failed checks/);
    // The primary is untouched and the target is scaled to zero.
    expect(envOf(await deployment(`${DEMO_NAME}-primary`), 'VERSION')).toBe('v2');
    await waitFor(async () => (await deployment(DEMO_NAME)).spec?.replicas === 0, { what: 'target at 0' });
    // All traffic is back on the primary: calls started from now on see only v2 and no errors (a call
    // started before the rollback converged may still end on v3).
    const after = traffic.since();
    await waitFor(() => (after.byVersion['v2'] ?? 0) > 100, { what: '100 calls after the rollback' });
    expect(Object.keys(after.byVersion)).toEqual(['v2']);
    expect(after.errors).toEqual({});
  }, 200_000);
});
