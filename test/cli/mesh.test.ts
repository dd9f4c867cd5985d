// `fledge mesh` as a user runs it: the bin runs the control plane against a kubeconfig, reports its bound
// ports in a JSON log line, serves health, readiness, metrics and debug over HTTP, and exits 0 on SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../helpers/crds.js';
import type { TestCluster } from '../helpers/sandbox.js';
import { startTestCluster } from '../helpers/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  exited: Promise<number | null>;
}

function fledge(args: string[]): Run {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'fledge.mjs'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

const isRecord = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null;

/** The JSON log lines of a run, parsed (other lines skipped). */
const logs = (run: Run): Array<Record<string, unknown>> =>
  run.lines.flatMap((l) => {
    try {
      const o: unknown = JSON.parse(l);
      return isRecord(o) ? [o] : [];
    } catch {
      return [];
    }
  });

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('fledge mesh', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster();
  });

  afterAll(async () => {
    await cluster.close();
  });

  it('prints its usage with --help and refuses a bad port with exit code 2', async () => {
    const help = fledge(['mesh', '--help']);
    expect(await help.exited).toBe(0);
    expect(help.lines[0]).toMatch(/^usage: fledge mesh /);
    expect(help.lines.join('\n')).toContain('--xds-port');
    const bad = fledge(['mesh', '--xds-port', 'x15010']);
    expect(await bad.exited).toBe(2);
    expect(bad.lines.join('\n')).toContain('--xds-port must be a port number, got "x15010"');
  }, 60_000);

  it('is not ready until every input can be listed, then serves readiness, /debug/syncz and /metrics, and exits 0 on SIGTERM', async () => {
    // No CRDs yet: VirtualServices and DestinationRules cannot be listed, so the first sync cannot happen.
    const run = fledge([
      'mesh',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--xds-port',
      '0',
      '--debug-port',
      '0',
      '--host',
      '127.0.0.1',
    ]);
    try {
      const listening = await waitFor(
        () => {
          if (run.child.exitCode !== null) throw new Error(`exited early:\n${run.lines.join('\n')}`);
          return logs(run).find((l) => l['msg'] === 'fledge mesh listening');
        },
        { what: 'the "fledge mesh listening" log line', timeoutMs: 30_000 },
      );
      const { xdsPort, debugPort } = listening as { xdsPort: number; debugPort: number };
      expect(xdsPort).toBeGreaterThan(0);
      expect(debugPort).toBeGreaterThan(0);
      const base = `http://127.0.0.1:${debugPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect(await canConnect(xdsPort)).toBe(true);

      await installCrds(cluster.kc);
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, {
        what: '/readyz to answer 200 once the CRDs are served',
        timeoutMs: 30_000,
      });
      await waitFor(() => logs(run).some((l) => l['msg'] === 'fledge mesh ready'), {
        what: 'the "fledge mesh ready" log line',
      });
      const syncz = await fetch(`${base}/debug/syncz`);
      expect(syncz.status).toBe(200);
      expect(await syncz.json()).toEqual([]);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('# TYPE fledge_xds_connected_proxies gauge');
      expect(text).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`${base}/nothing-here`)).status).toBe(404);

      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(logs(run).map((l) => l['msg'])).toContain('fledge mesh stopped');
      expect(await canConnect(xdsPort)).toBe(false);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 90_000);
});
