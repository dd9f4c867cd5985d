// Sandbox API server throughput: ConfigMap writes per second over HTTP while 100 watches are
// open, and how long each write takes to reach all of those watches.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { BenchMetric } from './run.js';

const WATCHERS = 100;
const WRITES = 20_000;
const CONCURRENCY = 32;

const round2 = (x: number): number => Math.round(x * 100) / 100;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface ServerProcess {
  url: string;
  token: string;
  /** Resident set size of the server process, in bytes. */
  rss(): number;
  stop(): Promise<void>;
}

/** Starts the API server in its own process (see apiserver-server.ts). */
async function startServerProcess(): Promise<ServerProcess> {
  const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), 'apiserver-server.ts');
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', entry],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`benchmark server exited with ${String(code)}`)));
  });
  const { url, token } = JSON.parse(line) as { url: string; token: string };
  return {
    url,
    token,
    rss: () => {
      try {
        const statm = readFileSync(`/proc/${String(child.pid)}/statm`, 'utf8').split(' ');
        return Number(statm[1]) * 4096;
      } catch {
        return NaN;
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function benchApiserver(): Promise<BenchMetric[]> {
  const server = await startServerProcess();
  const token = server.token;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const headers = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };
  const request = (method: string, p: string, body?: unknown): Promise<number> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(`${server.url}${p}`, { method, agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });

  await request('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'bench' },
  });
  // Watches count events and the delay from each write's send time (carried in the object's data;
  // server and benchmark share one process, so performance.now() is one clock) to arrival.
  const fanoutMs: number[] = [];
  let received = 0;
  const watchAgent = new http.Agent({ keepAlive: true, maxSockets: WATCHERS });
  const watches: http.ClientRequest[] = [];
  await Promise.all(
    Array.from({ length: WATCHERS }, () => {
      return new Promise<void>((resolve) => {
        const req = http.request(
          `${server.url}/api/v1/namespaces/bench/configmaps?watch=1&timeoutSeconds=600`,
          { agent: watchAgent, headers },
          (res) => {
            let buf = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              buf += chunk;
              let i: number;
              while ((i = buf.indexOf('\n')) >= 0) {
                const line = buf.slice(0, i);
                buf = buf.slice(i + 1);
                const ev = JSON.parse(line) as { object: { data?: { t?: string } } };
                received++;
                const t0 = Number(ev.object.data?.t);
                if (Number.isFinite(t0)) fanoutMs.push(performance.timeOrigin + performance.now() - t0);
              }
            });
            resolve();
          },
        );
        req.on('error', () => resolve());
        req.end();
        watches.push(req);
      });
    }),
  );

  const rssBefore = server.rss();
  let next = 0;
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= WRITES) return;
        const name = `cm-${i % 2000}`;
        const path =
          i < 2000 ? '/api/v1/namespaces/bench/configmaps' : `/api/v1/namespaces/bench/configmaps/${name}`;
        const method = i < 2000 ? 'POST' : 'PUT';
        const code = await request(method, path, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name },
          data: { i: String(i), t: String(performance.timeOrigin + performance.now()) },
        });
        if (code >= 300) failures++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  // Mark the last writes' delivery: one tagged write, timed to all watchers.
  const probe = performance.now();
  const expectRv = async (): Promise<void> => {
    const target = received + WATCHERS;
    await request('PUT', '/api/v1/namespaces/bench/configmaps/cm-0', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm-0' },
      data: { probe: '1' },
    });
    const deadline = Date.now() + 10_000;
    while (received < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  };
  await expectRv();
  const probeMs = performance.now() - probe;
  for (const w of watches) w.destroy();
  agent.destroy();
  watchAgent.destroy();
  const rssAfter = server.rss();
  await server.stop();
  fanoutMs.sort((a, b) => a - b);
  return [
    { metric: 'writes_per_second', value: Math.round(WRITES / seconds), unit: 'writes/s', target: '>= 2000' },
    { metric: 'write_failures', value: failures, unit: 'count', target: '0' },
    { metric: 'watchers', value: WATCHERS, unit: 'count', target: '' },
    {
      metric: 'watch_events_delivered',
      value: received,
      unit: 'events',
      target: `${(WRITES + 1) * WATCHERS}`,
    },
    { metric: 'probe_write_to_all_watchers', value: Math.round(probeMs * 100) / 100, unit: 'ms', target: '' },
    { metric: 'server_rss', value: Math.round(rssAfter / 1048576), unit: 'MiB', target: '' },
    {
      metric: 'server_rss_growth',
      value: Math.round((rssAfter - rssBefore) / 1048576),
      unit: 'MiB',
      target: '',
    },
    { metric: 'write_to_watcher_p50', value: round2(percentile(fanoutMs, 50)), unit: 'ms', target: '' },
    { metric: 'write_to_watcher_p99', value: round2(percentile(fanoutMs, 99)), unit: 'ms', target: '' },
  ];
}
