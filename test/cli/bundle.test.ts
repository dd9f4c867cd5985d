// The build the image runs (`scripts/bundle.mjs`): the bundled `fledge operator` bootstraps a Canary on a
// sandbox API server (token auth through its kubeconfig) and the bundled `fledge status` reads it back; the
// bundle carries only the Kubernetes API classes fledge uses, not the client library's whole generated API.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeRequest } from '../../operator/k8s/raw.js';
import {
  apply,
  canariesPath,
  deploymentsPath,
  read,
  testCanary,
  testDeployment,
} from '../helpers/canaries.js';
import type { CliRun } from '../helpers/cli.js';
import { fledge, jsonLogs, operatorArgs, waitListening } from '../helpers/cli.js';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
}

describe('the bundled fledge (what the image runs)', () => {
  let cluster: TestCluster;
  let dir: string;
  let entry: string;
  let metafile: Metafile;

  beforeAll(async () => {
    // Inside the checkout, so the bundle finds its external packages in node_modules as it does in the image.
    mkdirSync(path.join(root, 'node_modules', '.cache'), { recursive: true });
    dir = mkdtempSync(path.join(root, 'node_modules', '.cache', 'fledge-bundle-'));
    const metafilePath = path.join(dir, 'meta.json');
    execFileSync(
      process.execPath,
      [
        path.join(root, 'scripts', 'bundle.mjs'),
        '--outdir',
        path.join(dir, 'out'),
        '--metafile',
        metafilePath,
      ],
      { stdio: 'pipe' },
    );
    metafile = JSON.parse(readFileSync(metafilePath, 'utf8')) as Metafile;
    entry = path.join(dir, 'out', 'cli', 'fledge.js');
    cluster = await startTestCluster();
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bundles only the Kubernetes API classes fledge calls, and no bytes of the unused ones', () => {
    const bytes = new Map<string, number>();
    for (const output of Object.values(metafile.outputs))
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
        bytes.set(input, (bytes.get(input) ?? 0) + bytesInOutput);
    const apis = [...bytes]
      .filter(([, n]) => n > 0)
      .map(([p]) => /@kubernetes\/client-node\/dist\/gen\/apis\/(\w+Api)\.js$/.exec(p)?.[1])
      .filter((a): a is string => a !== undefined)
      .sort();
    expect(apis).toEqual(['CoreV1Api', 'CustomObjectsApi']);
    // The library's entry module imports all of them.
    const imported = Object.keys(metafile.inputs).filter((p) =>
      /client-node\/dist\/gen\/apis\/\w+Api\.js$/.test(p),
    );
    expect(imported.length).toBeGreaterThan(50);
  });

  it('runs the operator: ready after the first sync, bootstraps a Canary, and `status` reads it; exits 0 on SIGTERM', async () => {
    await installCrds(cluster.kc);
    await kubeRequest(cluster.kc, {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bundled' } },
      timeoutMs: 10_000,
    });
    expect(
      (await apply(cluster.kc, deploymentsPath('bundled'), testDeployment('bundled', 'web'))).status,
    ).toBe(201);
    expect((await apply(cluster.kc, canariesPath('bundled'), testCanary('bundled', 'web'))).status).toBe(201);

    const run: CliRun = fledge(operatorArgs(cluster.kubeconfigPath), entry);
    try {
      const { httpPort } = await waitListening(run);
      const base = `http://127.0.0.1:${httpPort}`;
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
        what: '/readyz to answer 200',
        timeoutMs: 60_000,
        intervalMs: 100,
      });
      const primary = await waitFor(
        () =>
          read<{ spec: { template: { metadata: { labels: Record<string, string> } } } }>(
            cluster.kc,
            `${deploymentsPath('bundled')}/web-primary`,
          ),
        { what: 'the primary Deployment web-primary', timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(primary.spec.template.metadata.labels['app']).toBe('web-primary');
      for (const svc of ['web', 'web-primary', 'web-canary'])
        await waitFor(() => read(cluster.kc, `/api/v1/namespaces/bundled/services/${svc}`), {
          what: `Service ${svc}`,
          timeoutMs: 30_000,
          intervalMs: 100,
        });
      const phase = await waitFor(
        async () =>
          (await read<{ status?: { phase?: string } }>(cluster.kc, `${canariesPath('bundled')}/web`))?.status
            ?.phase,
        { what: 'a phase in the Canary status', timeoutMs: 30_000, intervalMs: 100 },
      );

      const status = fledge(
        ['status', 'web', '-n', 'bundled', '--kubeconfig', cluster.kubeconfigPath],
        entry,
      );
      expect(await status.exited).toBe(0);
      expect(status.lines.join('\n')).toMatch(new RegExp(`Phase:\\s+${phase}`));

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(jsonLogs(run).map((l) => l['msg'])).toContain('fledge operator stopped');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);
});
