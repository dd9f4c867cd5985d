// metrics[].dryRun and metrics[].onNoData: hold end to end (SPEC §2.1) on the sandbox with the operator and a fake
// Prometheus (a local HTTP server answering the instant-query API): a failing dry-run metric never fails the run
// (DryRun events, and it still promotes), and a metric with no data holds the weight without a failed check.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
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
  deployDemoApp,
  releaseDemoVersion,
} from '../../sandbox/demo.js';
import { installCrds } from '../helpers/crds.js';
import { waitFor } from '../helpers/wait-for.js';
import { testLogger } from '../helpers/log.js';

/** Answers GET /api/v1/query like Prometheus: `dry_run_metric` is 50 (fails min 99), `gated_metric` as set. */
class FakePrometheus {
  gatedHasData = false;
  readonly queries: string[] = [];
  private server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = url.searchParams.get('query') ?? '';
    this.queries.push(query);
    const sample = (v: number) => [{ metric: {}, value: [Date.now() / 1000, String(v)] }];
    const result = query.includes('dry_run_metric') ? sample(50) : this.gatedHasData ? sample(100) : [];
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface StoredEvent {
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string };
}

describe('dryRun and onNoData: hold end to end (fake Prometheus)', () => {
  let cluster: SandboxCluster;
  let operator: Operator;
  const prometheus = new FakePrometheus();

  const status = async (): Promise<CanaryStatus> =>
    (
      await getJson<{ status?: CanaryStatus }>(
        cluster.kc,
        `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`,
        5000,
      )
    ).status ?? {};
  const events = async (reason: string): Promise<string[]> =>
    (
      await getJson<{ items: StoredEvent[] }>(cluster.kc, `/api/v1/namespaces/${DEMO_NAMESPACE}/events`, 5000)
    ).items
      .filter((e) => e.involvedObject?.kind === 'Canary' && e.reason === reason)
      .map((e) => e.message ?? '');

  beforeAll(async () => {
    const url = await prometheus.start();
    cluster = await startSandboxCluster({ backoffBaseMs: 500 });
    await installCrds(cluster.kc);
    await deployDemoApp(cluster.kc, { version: 'v1' });
    for (const [name, query] of [
      ['dry-run-metric', 'dry_run_metric{namespace="{{ namespace }}"}'],
      ['gated-metric', 'gated_metric{namespace="{{ namespace }}"}'],
    ] as const)
      await createObject(
        cluster.kc,
        `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/metrictemplates`,
        {
          apiVersion: 'flagger.app/v1beta1',
          kind: 'MetricTemplate',
          metadata: { name, namespace: DEMO_NAMESPACE },
          spec: { provider: { type: 'prometheus', address: url }, query },
        },
      );
    operator = await startOperator({
      kc: cluster.kc,
      log: testLogger('metric-modes.e2e'),
      metricsServer: url,
      mesh: false,
    });
    const canary = demoCanary({
      interval: '10s',
      stepWeight: 10,
      maxWeight: 10,
      threshold: 1,
      metricInterval: '1m',
    });
    // threshold 1: one failed check would fail the run, so a dry-run failure that counted would show at once.
    (canary as { spec: { analysis: { metrics: object[] } } }).spec.analysis.metrics = [
      { name: 'dry', templateRef: { name: 'dry-run-metric' }, thresholdRange: { min: 99 }, dryRun: true },
      { name: 'gated', templateRef: { name: 'gated-metric' }, thresholdRange: { min: 99 }, onNoData: 'hold' },
    ];
    await createObject(cluster.kc, `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries`, canary);
    await waitFor(async () => (await status()).phase === 'Initialized', {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the canary to be Initialized',
    });
  }, 120_000);

  afterAll(async () => {
    await operator?.stop();
    await cluster?.stop();
    await prometheus.close();
  }, 30_000);

  it('holds the weight while the gated metric has no data, then promotes despite the failing dry-run metric', async () => {
    await releaseDemoVersion(cluster.kc, { version: 'v2' });
    let maxFailedChecks = 0;
    const track = async (): Promise<CanaryStatus> => {
      const s = await status();
      maxFailedChecks = Math.max(maxFailedChecks, s.failedChecks ?? 0);
      return s;
    };
    // The first metrics tick at 10%: no data → Hold, no failed check; the dry-run failure is only reported.
    await waitFor(async () => (await events('Hold')).length > 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'a Hold event',
    });
    const held = await track();
    expect(held).toMatchObject({ phase: 'Progressing', canaryWeight: 10, failedChecks: 0 });
    expect((await events('Hold')).join('\n')).toMatch(/Holding the weight: gated: .*onNoData is hold/);
    expect((await events('DryRun')).join('\n')).toMatch(/Dry-run metric dry: /);
    expect(prometheus.queries.some((q) => q.includes('gated_metric'))).toBe(true);

    prometheus.gatedHasData = true;
    await waitFor(async () => (await track()).phase === 'Succeeded', {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: 'promotion once the gated metric has data',
    });
    expect(maxFailedChecks).toBe(0);
  }, 180_000);
});
