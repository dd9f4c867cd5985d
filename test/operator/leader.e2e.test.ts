// Two operator replicas on one sandbox cluster (real Prometheus, real xDS traffic through the standby's mesh):
// only the leader writes; the leader cut off from the API mid-run (no release) is replaced within the lease
// duration and the run it started is promoted by the new leader.
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
import type { KubeProxy } from '../helpers/kube-proxy.js';
import { startKubeProxy } from '../helpers/kube-proxy.js';
import { waitFor } from '../helpers/wait-for.js';
import { testLogger } from '../helpers/log.js';

interface Replica {
  name: string;
  proxy: KubeProxy;
  operator: Operator;
}

/** The replica's writes other than its Lease's (what only a leader may do). */
const workWrites = (r: Replica): string[] => r.proxy.writes.filter((w) => !w.includes('/leases'));

async function leaderGauge(r: Replica): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:${r.operator.http.port}/metrics`);
  return /^fledge_leader (\d)$/m.exec(await res.text())?.[1];
}

describe('leader election end to end (two replicas, sandbox, Prometheus, grpc-js-xds)', () => {
  let cluster: SandboxCluster;
  const replicas: Replica[] = [];
  let traffic: DemoTraffic | undefined;
  const log = testLogger('leader.e2e');

  const canary = async (): Promise<CanaryStatus> =>
    (
      await getJson<{ status?: CanaryStatus }>(
        cluster.kc,
        `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`,
        5000,
      )
    ).status ?? {};

  const startReplica = async (name: string): Promise<Replica> => {
    const proxy = await startKubeProxy(cluster.kc);
    const operator = await startOperator({
      kc: proxy.kc,
      log,
      metricsServer: cluster.prometheus?.url ?? '',
      leaderElection: { identity: name },
    });
    const r = { name, proxy, operator };
    replicas.push(r);
    return r;
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
  }, 120_000);

  afterAll(async () => {
    await traffic?.stop();
    for (const r of replicas) {
      await r.operator.stop();
      await r.proxy.close();
    }
    await cluster?.stop();
  }, 60_000);

  it('one replica leads, only it writes, and a standby takes over a run in progress', async () => {
    const a = await startReplica('replica-a');
    const b = await startReplica('replica-b');
    const [leader, standby] = await waitFor(
      () => {
        const leading = replicas.filter((r) => r.operator.isLeader());
        if (leading.length > 1) throw new Error('two leaders');
        const l = leading[0];
        return l ? ([l, l === a ? b : a] as const) : undefined;
      },
      { what: 'a leader' },
    );
    expect(await leaderGauge(leader)).toBe('1');
    expect(await leaderGauge(standby)).toBe('0');
    // The lease lives in fledge-system (the default outside a pod), created by the first replica.
    const lease = await getJson<{ spec: { holderIdentity: string; leaseDurationSeconds: number } }>(
      cluster.kc,
      '/apis/coordination.k8s.io/v1/namespaces/fledge-system/leases/fledge-operator',
      5000,
    );
    expect(lease.spec).toMatchObject({ holderIdentity: leader.name, leaseDurationSeconds: 15 });

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
    // Every replica serves xDS: the traffic goes through the standby's mesh.
    const xdsPort = standby.operator.mesh?.xdsPort ?? 0;
    traffic = new DemoTraffic(xdsPort, 'leader-e2e');
    await waitFor(() => traffic?.probe(), { timeoutMs: 20_000, what: 'calls through the standby mesh' });
    traffic.start();

    await releaseDemoVersion(cluster.kc, { version: 'v2' });
    const weights = new Set<number>();
    await waitFor(
      async () => {
        const s = await canary();
        if (s.phase === 'Progressing') weights.add(s.canaryWeight ?? 0);
        return s.phase === 'Progressing' && (s.canaryWeight ?? 0) === 25;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: 'the run at 25%' },
    );
    expect(workWrites(standby)).toEqual([]);
    expect(workWrites(leader).some((w) => w.endsWith(`/canaries/${DEMO_NAME}/status`))).toBe(true);
    expect(workWrites(leader).some((w) => w.includes('/events'))).toBe(true);

    // The leader loses the API server (as a crash would: it cannot release the lease).
    const cutAt = Date.now();
    leader.proxy.down = true;
    await waitFor(() => standby.operator.isLeader(), {
      timeoutMs: 25_000,
      intervalMs: 50,
      what: 'the standby to take over',
    });
    const takeoverMs = Date.now() - cutAt;
    // The last renewal was at most one retry period (2 s) before the cut and the standby may have seen it up to
    // 2 s later; it takes over at its first round (every 2 s) after the lease duration (15 s) from that sighting.
    expect(takeoverMs).toBeLessThan(2_000 + 15_000 + 2_000 + 1_000);
    await waitFor(() => !leader.operator.isLeader(), {
      timeoutMs: 15_000,
      what: 'the old leader to step down',
    });
    expect(await leaderGauge(standby)).toBe('1');

    const writesBefore = workWrites(standby).length;
    await waitFor(
      async () => {
        const s = await canary();
        if (s.phase === 'Progressing') weights.add(s.canaryWeight ?? 0);
        return s.phase === 'Succeeded';
      },
      { timeoutMs: 150_000, intervalMs: 200, what: 'the run to be promoted by the new leader' },
    );
    expect([...weights].filter((w) => w > 0).sort((x, y) => x - y)).toEqual([25, 50]);
    expect(workWrites(standby).length).toBeGreaterThan(writesBefore);
    const promoted = await getJson<{
      spec?: {
        template?: { spec?: { containers?: Array<{ env?: Array<{ name: string; value?: string }> }> } };
      };
    }>(cluster.kc, `/apis/apps/v1/namespaces/${DEMO_NAMESPACE}/deployments/${DEMO_NAME}-primary`, 5000);
    const version = promoted.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === 'VERSION');
    expect(version?.value).toBe('v2');
    console.log(`leader e2e: takeover after ${takeoverMs} ms without a release`);
  }, 360_000);
});
