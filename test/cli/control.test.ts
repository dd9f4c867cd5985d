// `fledge status|promote|abort|resume|retry` against the sandbox API server with the fledge CRDs: the
// annotation set, the status output, --watch's exit codes, kubeconfig/namespace resolution and usage errors.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlIo } from '../../cli/control.js';
import { runControl } from '../../cli/control.js';
import type { CanaryStatus } from '../../crds/schema/flagger.js';
import { getJson, kubeRequest } from '../../operator/k8s/raw.js';
import { targetRevision } from '../../operator/workload.js';
import { apply, deploymentsPath, testDeployment } from '../helpers/canaries.js';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'shop';
const BASE = `/apis/flagger.app/v1beta1/namespaces/${NS}/canaries`;
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/kubectl-fledge');

function canary(name: string): object {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace: NS },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      service: { port: 80 },
      analysis: { interval: '10s', threshold: 3, stepWeight: 10, maxWeight: 50 },
    },
  };
}

/** Captured output of one command. */
function capture(extra: Partial<ControlIo> = {}): ControlIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), pollMs: 20, ...extra };
}

describe('fledge status / promote / abort / resume / retry', () => {
  let cluster: TestCluster;
  let kubeconfig: string;

  const setStatus = async (name: string, status: CanaryStatus): Promise<void> => {
    const res = await kubeRequest(cluster.kc, {
      method: 'PATCH',
      path: `${BASE}/${name}/status`,
      contentType: 'application/merge-patch+json',
      body: { status },
      timeoutMs: 5000,
    });
    expect(res.status).toBe(200);
  };
  const annotations = async (name: string) =>
    (
      await getJson<{ metadata: { annotations?: Record<string, string> } }>(
        cluster.kc,
        `${BASE}/${name}`,
        5000,
      )
    ).metadata.annotations ?? {};

  beforeAll(async () => {
    cluster = await startTestCluster();
    await installCrds(cluster.kc);
    const ns = await kubeRequest(cluster.kc, {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      timeoutMs: 5000,
    });
    expect([201, 409]).toContain(ns.status);
    for (const name of ['web', 'api']) {
      const res = await kubeRequest(cluster.kc, {
        method: 'POST',
        path: BASE,
        body: canary(name),
        timeoutMs: 5000,
      });
      expect(res.status).toBe(201);
    }
    // A kubeconfig whose context names the namespace, to check the default namespace comes from it.
    const kc = JSON.parse(cluster.kc.exportConfig()) as { contexts: { context: { namespace?: string } }[] };
    for (const c of kc.contexts) c.context.namespace = NS;
    kubeconfig = `${cluster.kubeconfigPath}.shop`;
    writeFileSync(kubeconfig, JSON.stringify(kc));
    await setStatus('web', {
      phase: 'Progressing',
      canaryWeight: 20,
      failedChecks: 1,
      iterations: 0,
      lastTransitionTime: '2024-05-01T10:00:00Z',
      conditions: [
        {
          type: 'Promoted',
          status: 'Unknown',
          reason: 'Progressing',
          message: 'Canary analysis in progress.',
        },
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  it('promote sets fledge.dev/promote="true" on the Canary (namespace from -n)', async () => {
    const io = capture();
    const code = await runControl('promote', ['web', '-n', NS, '--kubeconfig', cluster.kubeconfigPath], io);
    expect(io.errors).toEqual([]);
    expect(code).toBe(0);
    expect(io.lines).toEqual([`canary ${NS}/web: fledge.dev/promote="true" set`]);
    expect(await annotations('web')).toMatchObject({ 'fledge.dev/promote': 'true' });
  });

  it.each(['abort', 'resume', 'retry'] as const)(
    '%s sets its annotation (namespace from the context)',
    async (cmd) => {
      const io = capture();
      expect(await runControl(cmd, ['api', '--kubeconfig', kubeconfig], io)).toBe(0);
      expect(await annotations('api')).toMatchObject({ [`fledge.dev/${cmd}`]: 'true' });
    },
  );

  it('a missing canary is an error naming it (exit 1); a missing NAME is a usage error (exit 2)', async () => {
    const missing = capture();
    expect(await runControl('abort', ['nope', '--kubeconfig', kubeconfig], missing)).toBe(1);
    expect(missing.errors.join('\n')).toMatch(/Canary shop\/nope: HTTP 404/);
    const usage = capture();
    expect(await runControl('promote', ['--kubeconfig', kubeconfig], usage)).toBe(2);
    expect(usage.errors.join('\n')).toMatch(/the Canary NAME is required/);
    const watchAll = capture();
    expect(await runControl('status', ['--watch', '--kubeconfig', kubeconfig], watchAll)).toBe(2);
    const unknownFlag = capture();
    expect(await runControl('status', ['--frobnicate'], unknownFlag)).toBe(2);
  });

  it('status NAME prints phase, weight, failed checks, iterations, last transition and the message', async () => {
    const io = capture();
    expect(await runControl('status', ['web', '--kubeconfig', kubeconfig], io)).toBe(0);
    expect(io.lines).toEqual([
      'Canary:          shop/web',
      'Phase:           Progressing',
      'Weight:          20%',
      'Failed checks:   1/3',
      'Iterations:      0',
      'Last transition: 2024-05-01T10:00:00Z',
      'Message:         Canary analysis in progress.',
    ]);
  });

  it('status without NAME prints a table of the namespace', async () => {
    const io = capture();
    expect(await runControl('status', ['--kubeconfig', kubeconfig], io)).toBe(0);
    expect(io.lines[0]).toMatch(
      /^NAME\s+STATUS\s+WEIGHT\s+FAILEDCHECKS\s+ITERATIONS\s+LASTTRANSITIONTIME\s+MESSAGE$/,
    );
    expect(io.lines).toHaveLength(3);
    expect(io.lines.find((l) => l.startsWith('web'))).toMatch(
      /^web\s+Progressing\s+20%\s+1\/3\s+0\s+2024-05-01T10:00:00Z\s+Canary analysis in progress\.$/,
    );
    expect(io.lines.find((l) => l.startsWith('api'))).toMatch(/^api\s+Unknown\s+0%\s+0\/3\s+0\s+-$/);
  });

  it.each([
    { phase: 'Succeeded', code: 0 },
    { phase: 'Failed', code: 1 },
  ] as const)(
    'status --watch prints each change and exits $code when the canary ends $phase',
    async ({ phase, code }) => {
      await setStatus('web', { phase: 'Progressing', canaryWeight: 20 });
      const io = capture();
      const watching = runControl('status', ['web', '--watch', '--kubeconfig', kubeconfig], io);
      await waitFor(() => io.lines.some((l) => /Progressing weight=20%/.test(l)), { what: 'the first line' });
      await setStatus('web', { canaryWeight: 30 });
      await waitFor(() => io.lines.some((l) => /Progressing weight=30%/.test(l)), {
        what: 'the weight change',
      });
      await setStatus('web', { phase, canaryWeight: 0 });
      expect(await watching).toBe(code);
      expect(io.lines).toHaveLength(3);
      expect(io.lines[2]).toMatch(new RegExp(`^\\S+Z ${phase} weight=0%`));
    },
  );

  it('status --watch does not end on a Succeeded of an earlier revision: it waits for the run of the current one', async () => {
    // A Deployment and its canary whose last run (Succeeded) was about another revision than the target now.
    const made = await apply(cluster.kc, deploymentsPath(NS), testDeployment(NS, 'rev'));
    expect(made.status).toBe(201);
    expect(
      (await kubeRequest(cluster.kc, { method: 'POST', path: BASE, body: canary('rev'), timeoutMs: 5000 }))
        .status,
    ).toBe(201);
    const stored = await getJson<V1Deployment>(cluster.kc, `${deploymentsPath(NS)}/rev`, 5000);
    const current = targetRevision(stored);
    await setStatus('rev', { phase: 'Succeeded', lastAppliedSpec: 'an-earlier-one' });
    const io = capture();
    const watching = runControl('status', ['rev', '--watch', '--kubeconfig', kubeconfig], io);
    await waitFor(() => io.lines.some((l) => l.includes(`waiting for the run of revision ${current}`)), {
      what: 'the watch to wait for the current revision',
    });
    // The operator picks the revision up, analyses it and promotes it.
    await setStatus('rev', { phase: 'Progressing', lastAppliedSpec: current, canaryWeight: 10 });
    await waitFor(() => io.lines.some((l) => /Progressing weight=10%/.test(l)), { what: 'the run' });
    await setStatus('rev', { phase: 'Succeeded', canaryWeight: 0 });
    expect(await watching).toBe(0);
    expect(io.lines[io.lines.length - 1]).toMatch(/Succeeded weight=0%/);
  });

  it('status --watch stops with 130 when its signal aborts', async () => {
    await setStatus('web', { phase: 'Progressing' });
    const ac = new AbortController();
    const io = capture({ signal: ac.signal });
    const watching = runControl('status', ['web', '-w', '--kubeconfig', kubeconfig], io);
    await waitFor(() => io.lines.length > 0, { what: 'the first line' });
    ac.abort();
    expect(await watching).toBe(130);
  });

  it('bin/kubectl-fledge runs the same CLI as a kubectl plugin', async () => {
    const { stdout } = await promisify(execFile)(BIN, ['status', 'web', '--kubeconfig', kubeconfig], {
      timeout: 30_000,
    });
    expect(stdout).toMatch(/^Canary:\s+shop\/web$/m);
  }, 40_000);
});
