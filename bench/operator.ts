// Operator scale (SPEC §10): N Canaries (default 1,000) over virtual pods on the sandbox, all progressing at
// once (interval 10 s, stepWeight 1) against a fake Prometheus that answers every query at once with a passing
// value. The operator runs as shipped: `fledge operator` bundled (`npm run build`), in its own process with
// the image's NODE_OPTIONS (from the Dockerfile), behind a counting proxy; over a steady window it measures
// tick drift, reconcile latency, RSS, CPU and API writes per tick.
// FLEDGE_BENCH_CANARIES, FLEDGE_BENCH_NAMESPACES and FLEDGE_BENCH_WINDOW_S override the count, the namespaces
// they are spread over (default 20) and the window (seconds); FLEDGE_BENCH_NODE_OPTIONS the Node options, and
// FLEDGE_BENCH_NODE_ARGS adds Node arguments NODE_OPTIONS does not take (e.g. --cpu-prof, for profiling);
// FLEDGE_BENCH_CONCURRENCY sets the operator's --concurrency (default: the operator's own default).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { installCrds } from '../crds/install.js';
import { kubeRequest } from '../operator/k8s/raw.js';
import { startKubelet } from '../sandbox/kubelet/kubelet.js';
import { startKubeProxy } from '../test/helpers/kube-proxy.js';
import { startTestCluster } from '../test/helpers/sandbox.js';
import type { BenchMetric } from './run.js';

/** Canary i lives in namespace scale-<i mod namespaces>, as canaries of many teams would. */
const nsOf = (i: number, namespaces: number): string => `scale-${i % namespaces}`;
const INTERVAL = '10s';

/** A local Prometheus query API answering every instant query with 100 (passes `min: 99`) at once. */
async function startFakePrometheus(): Promise<{
  url: string;
  queries: () => number;
  close(): Promise<void>;
}> {
  let queries = 0;
  const server = http.createServer((req, res) => {
    queries++;
    req.resume();
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '100'] }] },
    });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    queries: () => queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function request(
  kc: KubeConfig,
  method: 'POST' | 'PATCH' | 'GET',
  p: string,
  body?: object,
): Promise<unknown> {
  const res = await kubeRequest(kc, {
    method,
    path: p,
    timeoutMs: 30_000,
    ...(body ? { body } : {}),
    ...(method === 'PATCH' ? { contentType: 'application/merge-patch+json' } : {}),
  });
  if (res.status >= 300) throw new Error(`${method} ${p}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Runs `f` over 0..n-1, `width` at a time. */
async function inBatches(n: number, width: number, f: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += width)
    await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => f(i + j)));
}

const deployment = (i: number, version: string, ns: string): object => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `app-${i}`, namespace: ns },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: `app-${i}` } },
    template: {
      metadata: { labels: { app: `app-${i}` } },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'registry.example/virtual:1',
            env: [{ name: 'VERSION', value: version }],
            ports: [{ name: 'http', containerPort: 8080 }],
          },
        ],
      },
    },
  },
});

const canary = (i: number, ns: string): object => ({
  apiVersion: 'flagger.app/v1beta1',
  kind: 'Canary',
  metadata: { name: `app-${i}`, namespace: ns },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `app-${i}` },
    service: { port: 8080 },
    analysis: {
      interval: INTERVAL,
      threshold: 5,
      stepWeight: 1,
      maxWeight: 100,
      metrics: [{ name: 'request-success-rate', interval: '1m', thresholdRange: { min: 99 } }],
    },
  },
});

/** Phase counts of every canary. */
async function phases(kc: KubeConfig): Promise<Record<string, number>> {
  const list = (await request(kc, 'GET', '/apis/flagger.app/v1beta1/canaries')) as {
    items: { status?: { phase?: string } }[];
  };
  const out: Record<string, number> = {};
  for (const c of list.items) out[c.status?.phase ?? 'none'] = (out[c.status?.phase ?? 'none'] ?? 0) + 1;
  return out;
}

async function waitPhase(kc: KubeConfig, phase: string, n: number, timeoutMs: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const p = await phases(kc);
    if ((p[phase] ?? 0) >= n) return (performance.now() - start) / 1000;
    if (performance.now() - start > timeoutMs)
      throw new Error(
        `after ${timeoutMs} ms only ${p[phase] ?? 0}/${n} canaries ${phase}: ${JSON.stringify(p)}`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Sums of a histogram's cumulative buckets over all its series, by `le`; plus _count and _sum. */
interface Histogram {
  buckets: Map<number, number>;
  count: number;
  sum: number;
}

function histogram(text: string, name: string): Histogram {
  const h: Histogram = { buckets: new Map(), count: 0, sum: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith(`${name}_bucket`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1] ?? '+Inf';
      const bound = le === '+Inf' ? Infinity : Number(le);
      h.buckets.set(bound, (h.buckets.get(bound) ?? 0) + value);
    } else if (line.startsWith(`${name}_count`)) h.count += value;
    else if (line.startsWith(`${name}_sum`)) h.sum += value;
  }
  return h;
}

const minus = (a: Histogram, b: Histogram): Histogram => ({
  buckets: new Map([...a.buckets].map(([le, v]) => [le, v - (b.buckets.get(le) ?? 0)])),
  count: a.count - b.count,
  sum: a.sum - b.sum,
});

/** histogram_quantile: linear within the bucket holding rank q·count (the last finite bound past it). */
function quantile(h: Histogram, q: number): number {
  const bounds = [...h.buckets.keys()].sort((x, y) => x - y);
  const rank = q * h.count;
  let prevBound = 0;
  let prevCum = 0;
  for (const le of bounds) {
    const cum = h.buckets.get(le) ?? 0;
    if (cum >= rank && cum > prevCum) {
      if (le === Infinity) return prevBound;
      return prevBound + ((le - prevBound) * (rank - prevCum)) / (cum - prevCum);
    }
    prevBound = le;
    prevCum = cum;
  }
  return NaN;
}

function gauge(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

const rssMiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The NODE_OPTIONS the image runs the operator with (its Dockerfile's `ENV NODE_OPTIONS="…"`). */
function imageNodeOptions(dockerfile: string): string {
  const m = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
  if (!m) throw new Error('the Dockerfile sets no ENV NODE_OPTIONS="…"');
  return m[1] ?? '';
}

/** Builds the operator as the image does (`scripts/bundle.mjs` into dist/); returns the CLI's entry. */
function build(): string {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'inherit' });
  return path.join(ROOT, 'dist', 'cli', 'fledge.js');
}

/** Resolves with the httpPort of the "fledge operator listening" JSON log line on `stdout`. */
function listeningPort(stdout: NodeJS.ReadableStream, exited: Promise<void>): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the operator did not start in 60 s')), 60_000);
    // The operator logs for the whole run: every line is read (and dropped), so its stdout never backs up.
    createInterface({ input: stdout }).on('line', (line) => {
      if (!line.includes('fledge operator listening')) return;
      const port = (JSON.parse(line) as { httpPort?: number }).httpPort;
      if (typeof port !== 'number') return;
      clearTimeout(timer);
      resolve(port);
    });
    void exited.then(() => reject(new Error('the operator exited before it was ready')));
  });
}

export async function benchOperator(): Promise<BenchMetric[]> {
  const n = Number(process.env['FLEDGE_BENCH_CANARIES'] ?? 1000);
  const windowS = Number(process.env['FLEDGE_BENCH_WINDOW_S'] ?? 150);
  const namespaces = Number(process.env['FLEDGE_BENCH_NAMESPACES'] ?? 20);
  const nodeOptions =
    process.env['FLEDGE_BENCH_NODE_OPTIONS'] ??
    imageNodeOptions(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  console.log(`building the operator; it runs with NODE_OPTIONS="${nodeOptions}"`);
  // Built before the sandbox starts: a failed build leaves nothing running.
  const entry = build();
  const cluster = await startTestCluster();
  const kc = cluster.kc;
  const kubelet = await startKubelet({ kc, nodes: 4 });
  const prom = await startFakePrometheus();
  const proxy = await startKubeProxy(kc);
  const dir = mkdtempSync(path.join(tmpdir(), 'fledge-bench-operator-'));
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, proxy.kc.exportConfig());
  await installCrds(kc);
  for (let j = 0; j < namespaces; j++)
    await request(kc, 'POST', '/api/v1/namespaces', { metadata: { name: nsOf(j, namespaces) } });

  const nodeArgs = (process.env['FLEDGE_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, entry, 'operator', '--kubeconfig', kubeconfigPath, '--metrics-server', prom.url];
  args.push('--http-port', '0', '--xds-port', '0', '--host', '127.0.0.1');
  const concurrency = process.env['FLEDGE_BENCH_CONCURRENCY'];
  if (concurrency) args.push('--concurrency', concurrency);
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const httpPort = await listeningPort(child.stdout, exited);
    const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const pid = child.pid ?? 0;

    const t0 = performance.now();
    await inBatches(n, 50, (i) =>
      request(
        kc,
        'POST',
        `/apis/apps/v1/namespaces/${nsOf(i, namespaces)}/deployments`,
        deployment(i, 'v1', nsOf(i, namespaces)),
      ),
    );
    await inBatches(n, 50, (i) =>
      request(
        kc,
        'POST',
        `/apis/flagger.app/v1beta1/namespaces/${nsOf(i, namespaces)}/canaries`,
        canary(i, nsOf(i, namespaces)),
      ),
    );
    const created = (performance.now() - t0) / 1000;
    console.log(`${n} deployments and canaries created in ${round(created, 1)} s; waiting for Initialized…`);
    const initialized = await waitPhase(kc, 'Initialized', n, 900_000);
    console.log(
      `all Initialized after ${round(initialized, 1)} s (RSS ${round(rssMiB(pid), 0)} MiB); releasing v2…`,
    );
    await inBatches(n, 50, (i) =>
      request(kc, 'PATCH', `/apis/apps/v1/namespaces/${nsOf(i, namespaces)}/deployments/app-${i}`, {
        // A merge patch replaces the container list: the whole template, with v2.
        spec: {
          template: (deployment(i, 'v2', nsOf(i, namespaces)) as { spec: { template: object } }).spec
            .template,
        },
      }),
    );
    const progressing = await waitPhase(kc, 'Progressing', n, 600_000);
    console.log(`all Progressing after ${round(progressing, 1)} s; steady window of ${windowS} s…`);

    const before = await scrape();
    const writes0 = proxy.writes.length;
    const queries0 = prom.queries();
    const cpu0 = process.cpuUsage();
    const rss: number[] = [];
    const windowStart = performance.now();
    while (performance.now() - windowStart < windowS * 1000) {
      rss.push(rssMiB(pid));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const after = await scrape();
    const elapsedS = (performance.now() - windowStart) / 1000;
    const parentCpuS = (() => {
      const c = process.cpuUsage(cpu0);
      return (c.user + c.system) / 1e6;
    })();
    const writes = proxy.writes.slice(writes0);
    const end = await phases(kc);

    const drift = minus(
      histogram(after, 'fledge_canary_tick_drift_seconds'),
      histogram(before, 'fledge_canary_tick_drift_seconds'),
    );
    const duration = minus(
      histogram(after, 'fledge_canary_duration_seconds'),
      histogram(before, 'fledge_canary_duration_seconds'),
    );
    const ticks = gauge(after, 'fledge_canary_ticks_total') - gauge(before, 'fledge_canary_ticks_total');
    const childCpuS =
      gauge(after, 'fledge_process_process_cpu_seconds_total') -
      gauge(before, 'fledge_process_process_cpu_seconds_total');
    // GC time in the window (prom-client's GC histogram), and the event loop's longest stall: it resets at
    // each scrape, so the value at the window's end is the maximum over the window.
    const gcS =
      histogram(after, 'fledge_process_nodejs_gc_duration_seconds').sum -
      histogram(before, 'fledge_process_nodejs_gc_duration_seconds').sum;
    const lagMaxS = gauge(after, 'fledge_process_nodejs_eventloop_lag_max_seconds');
    const byKind = new Map<string, number>();
    for (const w of writes) {
      const kind = w.replace(/\/namespaces\/[^/]+/, '').replace(/\/app-\d+[^/]*/, '/*');
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    }
    console.log('writes in the window by request:');
    console.table(
      [...byKind]
        .sort((a, b) => b[1] - a[1])
        .map(([request, count]) => ({ request, count, perTick: round(count / ticks, 2) })),
    );
    console.log(`phases at the end: ${JSON.stringify(end)}`);
    return [
      { metric: 'canaries', value: n, unit: 'count', target: '1000' },
      { metric: 'namespaces', value: namespaces, unit: 'count', target: '' },
      {
        metric: 'operator_heap_limit',
        value: Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1] ?? NaN),
        unit: 'MiB (--max-old-space-size)',
        target: '',
      },
      { metric: 'setup_initialized_after', value: round(initialized, 1), unit: 's', target: '' },
      { metric: 'window', value: round(elapsedS, 1), unit: 's', target: '' },
      {
        metric: 'ticks_in_window',
        value: ticks,
        unit: 'count',
        target: `${round((n * elapsedS) / 10, 0)} (n·window/interval)`,
      },
      // The drift metric is the Ticker's lateness in firing; a fired tick then waits in the work queue. This is
      // the interval each canary was really analysed at.
      { metric: 'effective_tick_interval', value: round((n * elapsedS) / ticks, 1), unit: 's', target: '10' },
      { metric: 'tick_drift_p50', value: round(quantile(drift, 0.5)), unit: 's', target: '' },
      { metric: 'tick_drift_p99', value: round(quantile(drift, 0.99)), unit: 's', target: '< 1' },
      { metric: 'reconcile_p50', value: round(quantile(duration, 0.5) * 1000, 1), unit: 'ms', target: '' },
      { metric: 'reconcile_p99', value: round(quantile(duration, 0.99) * 1000, 1), unit: 'ms', target: '' },
      {
        metric: 'reconcile_mean',
        value: round((duration.sum / duration.count) * 1000, 1),
        unit: 'ms',
        target: '',
      },
      { metric: 'event_loop_stall_max', value: round(lagMaxS, 2), unit: 's', target: '' },
      {
        metric: 'operator_gc_time',
        value: round((gcS / elapsedS) * 100, 1),
        unit: '% of the window',
        target: '',
      },
      { metric: 'operator_rss_max', value: round(Math.max(...rss), 0), unit: 'MiB', target: '<= 300' },
      { metric: 'operator_rss_end', value: round(rss[rss.length - 1] ?? NaN, 0), unit: 'MiB', target: '' },
      {
        metric: 'operator_cpu',
        value: round((childCpuS / elapsedS) * 100, 0),
        unit: '% of a core',
        target: '',
      },
      {
        metric: 'sandbox_and_proxy_cpu',
        value: round((parentCpuS / elapsedS) * 100, 0),
        unit: '% of a core',
        target: '',
      },
      { metric: 'api_writes_per_tick', value: round(writes.length / ticks, 2), unit: 'writes', target: '' },
      {
        metric: 'api_writes_per_second',
        value: round(writes.length / elapsedS, 1),
        unit: 'writes/s',
        target: '',
      },
      {
        metric: 'metric_queries_per_second',
        value: round((prom.queries() - queries0) / elapsedS, 1),
        unit: 'q/s',
        target: '',
      },
      { metric: 'progressing_at_end', value: end['Progressing'] ?? 0, unit: 'count', target: `${n}` },
    ];
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(killer);
    await proxy.close();
    await prom.close();
    await kubelet.stop();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
