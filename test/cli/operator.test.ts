// `fledge operator` as a user runs it: the bin runs the operator and the embedded mesh against a kubeconfig,
// reports its bound ports in a JSON log line, serves health, readiness (after the first sync) and metrics
// (canary totals per namespace, a deleted canary's series removed), and exits 0 on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeRequest } from '../../operator/k8s/raw.js';
import { apply, canariesPath, deploymentsPath, testCanary, testDeployment } from '../helpers/canaries.js';
import type { CliRun } from '../helpers/cli.js';
import { fledge, jsonLogs, operatorArgs as cliOperatorArgs, waitListening } from '../helpers/cli.js';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const messages = (run: CliRun): unknown[] => jsonLogs(run).map((l) => l['msg']);

/** The value of one sample in Prometheus text format, e.g. `fledge_canary_total{namespace="a"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('fledge operator', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster();
  });

  afterAll(async () => {
    await cluster.close();
  });

  const operatorArgs = (): string[] => cliOperatorArgs(cluster.kubeconfigPath);

  it('prints its usage with --help and refuses bad flags with exit code 2, naming each', async () => {
    const help = fledge(['operator', '--help']);
    const bad = fledge([
      'operator',
      '--http-port',
      '80x',
      '--concurrency',
      '0',
      '--metrics-server',
      'prometheus:9090',
    ]);
    const unknown = fledge(['operator', '--mesh-port', '1']);
    expect(await help.exited).toBe(0);
    expect(help.lines[0]).toMatch(/^usage: fledge operator /);
    expect(help.lines.join('\n')).toContain('--no-mesh');
    expect(await bad.exited).toBe(2);
    const out = bad.lines.join('\n');
    expect(out).toContain('--http-port must be a port number, got "80x"');
    expect(out).toContain('--concurrency must be a whole number from 1 to 1000, got "0"');
    expect(out).toContain('--metrics-server must be an http(s) URL, got "prometheus:9090"');
    expect(await unknown.exited).toBe(2);
    expect(unknown.lines.join('\n')).toMatch(/--mesh-port/);
  }, 60_000);

  // SIGTERM here lands while informers are still listing: a watch opened after stop() must not keep it alive.
  it('stops with exit code 0 on SIGTERM while still waiting for the first sync (no CRDs yet)', async () => {
    const run = fledge(operatorArgs());
    try {
      const { httpPort, xdsPort } = await waitListening(run);
      expect(xdsPort).toBeGreaterThan(0);
      const base = `http://127.0.0.1:${httpPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(messages(run)).toContain('fledge operator stopped');
      expect(messages(run)).not.toContain('fledge operator started');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 60_000);

  it('is ready after the first sync, serves canary and xDS metrics (totals per namespace, deleted canaries forgotten), and exits 0 on SIGTERM', async () => {
    const run = fledge([...operatorArgs(), '--concurrency', '2']);
    try {
      const { httpPort } = await waitListening(run);
      const base = `http://127.0.0.1:${httpPort}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      await installCrds(cluster.kc);
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
        what: '/readyz to answer 200 after the first sync',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      expect(messages(run)).toContain('fledge operator started');

      const metrics = async (): Promise<string> => {
        const res = await fetch(`${base}/metrics`);
        expect(res.status).toBe(200);
        return res.text();
      };
      const before = await metrics();
      for (const name of ['fledge_canary_status', 'fledge_canary_weight', 'fledge_canary_total'])
        expect(before).toContain(`# TYPE ${name} gauge`);
      expect(before).toContain('# TYPE fledge_canary_duration_seconds histogram');
      expect(before).toContain('# TYPE fledge_xds_connected_proxies gauge');
      expect(before).toContain('# TYPE fledge_xds_pushes_total counter');

      // Two canaries in ns-a (one with its target, so it gets status series), one in ns-b.
      for (const ns of ['ns-a', 'ns-b'])
        await kubeRequest(cluster.kc, {
          method: 'POST',
          path: '/api/v1/namespaces',
          body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
          timeoutMs: 10_000,
        });
      expect((await apply(cluster.kc, deploymentsPath('ns-a'), testDeployment('ns-a', 'web'))).status).toBe(
        201,
      );
      for (const [ns, name] of [
        ['ns-a', 'web'],
        ['ns-a', 'api'],
        ['ns-b', 'web'],
      ] as const)
        expect((await apply(cluster.kc, canariesPath(ns), testCanary(ns, name))).status).toBe(201);
      await waitFor(
        async () => {
          const t = await metrics();
          return (
            sample(t, 'fledge_canary_total{namespace="ns-a"}') === 2 &&
            sample(t, 'fledge_canary_total{namespace="ns-b"}') === 1 &&
            sample(t, 'fledge_canary_status{name="web",namespace="ns-a"}') !== undefined &&
            sample(t, 'fledge_canary_weight{workload="web-primary",namespace="ns-a"}') === 100
          );
        },
        {
          what: 'canary totals 2 and 1 and the status and weight series of ns-a/web',
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );

      for (const [ns, name] of [
        ['ns-a', 'web'],
        ['ns-b', 'web'],
      ] as const) {
        const del = await kubeRequest(cluster.kc, {
          method: 'DELETE',
          path: `${canariesPath(ns)}/${name}`,
          timeoutMs: 10_000,
        });
        expect(del.status).toBe(200);
      }
      await waitFor(
        async () => {
          const t = await metrics();
          return (
            sample(t, 'fledge_canary_total{namespace="ns-a"}') === 1 &&
            sample(t, 'fledge_canary_total{namespace="ns-b"}') === 0
          );
        },
        { what: 'canary totals 1 and 0 after the deletes', timeoutMs: 30_000, intervalMs: 100 },
      );
      const after = await metrics();
      expect(after).not.toMatch(/fledge_canary_status\{name="web",namespace="ns-a"\}/);
      expect(after).not.toMatch(/fledge_canary_weight\{workload="web(-primary)?",namespace="ns-a"\}/);
      expect(after).not.toMatch(/fledge_canary_duration_seconds_count\{name="web",namespace="ns-a"\}/);

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(messages(run)).toContain('fledge operator stopped');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);
});
