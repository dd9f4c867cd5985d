// `fledge demo` (npm run demo): the whole product on the local sandbox — API server, kubelet, Prometheus,
// the operator with its embedded mesh, steady gRPC traffic through a real xDS client — releasing a good
// version (promoted) and a bad one (rolled back), with live progress and a summary.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import pino from 'pino';
import type { CanaryStatus } from '../crds/schema/flagger.js';
import { getJson, kubeRequest } from '../operator/k8s/raw.js';
import type { Operator } from '../operator/main.js';
import { startOperator } from '../operator/main.js';
import type { SandboxCluster } from '../sandbox/cluster.js';
import { startSandboxCluster } from '../sandbox/cluster.js';
import type { DemoRelease, TrafficCounts } from '../sandbox/demo.js';
import {
  createObject,
  DEMO_NAME,
  DEMO_NAMESPACE,
  demoCanary,
  DemoTraffic,
  deployDemoApp,
  grpcSuccessRateTemplate,
  releaseDemoVersion,
} from '../sandbox/demo.js';
import { ensurePrometheusInstalled } from '../sandbox/prometheus.js';
import { installCrds } from '../crds/install.js';

const HELP = `usage: fledge demo [--kubeconfig FILE] [--keep] [--interval 10s]

Runs fledge end to end on the local sandbox: a Canary for the demo app, then a good release (v2, promoted)
and a bad one (v3, failing 30% of calls, rolled back), under steady gRPC traffic through a real xDS client.

  --kubeconfig FILE  where to write the sandbox kubeconfig (default: .sandbox/kubeconfig)
  --interval D       the Canary's analysis interval (default 10s, the minimum)
  --keep             stay up after the two releases until Ctrl-C (to look around with kubectl)`;

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const CANARY_PATH = `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries/${DEMO_NAME}`;

interface ReleaseSummary {
  release: DemoRelease;
  outcome: string;
  seconds: number;
  weights: number[];
  traffic: TrafficCounts;
  message: string;
}

function addCounts(into: TrafficCounts, w: TrafficCounts): void {
  for (const [k, v] of Object.entries(w.byVersion)) into.byVersion[k] = (into.byVersion[k] ?? 0) + v;
  for (const [k, v] of Object.entries(w.errors)) into.errors[k] = (into.errors[k] ?? 0) + v;
}

/** "v1 75% · v2 25%" of a window of calls, errors last. */
function describeSplit(w: TrafficCounts): string {
  const total =
    Object.values(w.byVersion).reduce((a, b) => a + b, 0) +
    Object.values(w.errors).reduce((a, b) => a + b, 0);
  if (total === 0) return 'no calls';
  const part = (n: number): string => `${Math.round((100 * n) / total)}%`;
  const versions = Object.entries(w.byVersion)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([v, n]) => `${v} ${part(n)}`);
  const errors = Object.values(w.errors).reduce((a, b) => a + b, 0);
  const failed = errors > 0 ? [`${errors} failed (${((100 * errors) / total).toFixed(1)}%)`] : [];
  return [...versions, ...failed].join(' · ') + ` (${total} calls)`;
}

async function canaryStatus(cluster: SandboxCluster): Promise<CanaryStatus> {
  return (await getJson<{ status?: CanaryStatus }>(cluster.kc, CANARY_PATH, 5000)).status ?? {};
}

/** The newest Warning/Normal event message on the canary (what step() just decided), if any. */
async function lastEvent(cluster: SandboxCluster): Promise<string> {
  const res = await kubeRequest(cluster.kc, {
    method: 'GET',
    path: `/api/v1/namespaces/${DEMO_NAMESPACE}/events?fieldSelector=involvedObject.name%3D${DEMO_NAME}`,
    timeoutMs: 5000,
  });
  const items =
    (
      res.body as {
        items?: Array<{ message?: string; lastTimestamp?: string; involvedObject?: { kind?: string } }>;
      }
    ).items ?? [];
  const mine = items
    .filter((e) => e.involvedObject?.kind === 'Canary')
    .sort((a, b) => ((a.lastTimestamp ?? '') < (b.lastTimestamp ?? '') ? -1 : 1));
  return mine.at(-1)?.message ?? '';
}

/** Follows one release until the canary settles in Succeeded or Failed, printing a line per second. */
async function follow(
  cluster: SandboxCluster,
  traffic: DemoTraffic,
  release: DemoRelease,
  timeoutMs: number,
): Promise<ReleaseSummary> {
  const started = Date.now();
  const counts: TrafficCounts = { byVersion: {}, errors: {} };
  const weights: number[] = [];
  traffic.window();
  await releaseDemoVersion(cluster.kc, release);
  let seenRun = false;
  let lastLine = '';
  for (;;) {
    await sleep(1000);
    const s = await canaryStatus(cluster);
    const w = traffic.window();
    addCounts(counts, w);
    const phase = s.phase ?? '';
    if (phase === 'Progressing') seenRun = true;
    const weight = s.canaryWeight ?? 0;
    if (phase === 'Progressing' && weights.at(-1) !== weight) weights.push(weight);
    const event = await lastEvent(cluster).catch(() => '');
    const t = `${Math.round((Date.now() - started) / 1000)}s`.padStart(4);
    const line = `  ${t}  ${phase.padEnd(16)} weight ${String(weight).padStart(3)}%  failed checks ${s.failedChecks ?? 0}  │ traffic: ${describeSplit(w)}`;
    console.log(line);
    if (event && event !== lastLine) {
      console.log(`        ↳ ${event}`);
      lastLine = event;
    }
    if (seenRun && (phase === 'Succeeded' || phase === 'Failed')) {
      const promoted = s.conditions?.find((c) => c.type === 'Promoted');
      return {
        release,
        outcome: phase,
        seconds: Math.round((Date.now() - started) / 1000),
        weights,
        traffic: counts,
        message: promoted?.message ?? '',
      };
    }
    if (Date.now() - started > timeoutMs)
      return {
        release,
        outcome: `still ${phase || 'pending'} after ${timeoutMs / 1000}s`,
        seconds: Math.round((Date.now() - started) / 1000),
        weights,
        traffic: counts,
        message: s.conditions?.find((c) => c.type === 'Promoted')?.message ?? '',
      };
  }
}

async function kubectlPresent(): Promise<boolean> {
  try {
    await run('kubectl', ['version', '--client']);
    return true;
  } catch {
    return false;
  }
}

export async function runDemo(argv: string[]): Promise<number> {
  let values: { kubeconfig?: string; keep?: boolean; interval?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        keep: { type: 'boolean' },
        interval: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`fledge demo: ${e instanceof Error ? e.message : String(e)}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const interval = values.interval ?? '10s';
  await ensurePrometheusInstalled();
  const kubeconfigPath = path.resolve(values.kubeconfig ?? path.join('.sandbox', 'kubeconfig'));
  console.log('Starting the sandbox cluster (API server, kubelet, Prometheus) ...');
  const cluster = await startSandboxCluster({ kubeconfigPath, prometheus: true, scrapeIntervalMs: 1000 });
  let operator: Operator | undefined;
  let traffic: DemoTraffic | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    console.log(`  API server ${cluster.server.url}, Prometheus ${cluster.prometheus?.url ?? ''}`);
    console.log(`  kubeconfig ${kubeconfigPath}`);
    await installCrds(cluster.kc);
    const logFile = path.resolve('.sandbox', 'operator.log');
    operator = await startOperator({
      kc: cluster.kc,
      log: pino({ level: 'info' }, pino.destination({ dest: logFile, mkdir: true, sync: false })),
      metricsServer: cluster.prometheus?.url ?? '',
    });
    console.log(
      `Operator running (xDS on 127.0.0.1:${operator.mesh?.xdsPort ?? 0}, metrics and /debug on http://127.0.0.1:${operator.http.port}; log ${path.relative(process.cwd(), logFile)})`,
    );
    if (await kubectlPresent()) {
      console.log('Watch it from another terminal:');
      console.log(`  kubectl --kubeconfig ${kubeconfigPath} get canary -w`);
      console.log(`  kubectl --kubeconfig ${kubeconfigPath} get deploy,pods,virtualservices`);
    }
    console.log('');
    console.log(
      `Deploying ${DEMO_NAME} v1 (2 replicas) and its Canary (interval ${interval}, step 20% up to 60%) ...`,
    );
    await deployDemoApp(cluster.kc, { version: 'v1' });
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/metrictemplates`,
      grpcSuccessRateTemplate(cluster.prometheus?.url ?? ''),
    );
    await createObject(
      cluster.kc,
      `/apis/flagger.app/v1beta1/namespaces/${DEMO_NAMESPACE}/canaries`,
      demoCanary({ interval, stepWeight: 20, maxWeight: 60, threshold: 2, metricInterval: '10s' }),
    );
    const initDeadline = Date.now() + 90_000;
    while ((await canaryStatus(cluster)).phase !== 'Initialized') {
      if (Date.now() > initDeadline || interrupted)
        throw new Error('the canary did not initialize within 90 s');
      await sleep(500);
    }
    console.log('  Initialized: podinfo-primary serves v1, the target is scaled to zero, routes 100/0.');
    traffic = new DemoTraffic(operator.mesh?.xdsPort ?? 0, 'demo-client');
    const probeDeadline = Date.now() + 30_000;
    while (!(await traffic.probe())) {
      if (Date.now() > probeDeadline) throw new Error('no gRPC call went through the mesh within 30 s');
      await sleep(250);
    }
    traffic.start();
    console.log(
      `  Steady gRPC traffic to xds:///${DEMO_NAME}.${DEMO_NAMESPACE}.svc.cluster.local:9999 started.`,
    );

    const summaries: ReleaseSummary[] = [];
    for (const release of [{ version: 'v2' }, { version: 'v3', errorRate: 0.3 }] satisfies DemoRelease[]) {
      if (interrupted) break;
      const what = release.errorRate
        ? `${release.version}, failing ${release.errorRate * 100}% of calls`
        : release.version;
      console.log('');
      console.log(`Releasing ${what}:`);
      summaries.push(await follow(cluster, traffic, release, 180_000));
    }
    await traffic.stop();
    const total = traffic.total;
    console.log('');
    console.log('Summary');
    for (const s of summaries) {
      const calls = describeSplit(s.traffic);
      console.log(
        `  ${s.release.version}${s.release.errorRate ? ` (${s.release.errorRate * 100}% errors)` : ''}: ${s.outcome} in ${s.seconds}s, canary weights ${s.weights.join(' → ') || '-'}; traffic ${calls}`,
      );
      if (s.message) console.log(`      ${s.message}`);
    }
    const failed = Object.values(total.errors).reduce((a, b) => a + b, 0);
    const answered = Object.values(total.byVersion).reduce((a, b) => a + b, 0);
    console.log(
      `  All traffic: ${answered} calls answered, ${failed} failed${failed > 0 ? ' (only while the bad version had traffic; the mesh retries most of its failures)' : ''}.`,
    );
    const ok =
      summaries.length === 2 && summaries[0]?.outcome === 'Succeeded' && summaries[1]?.outcome === 'Failed';
    console.log(
      ok
        ? '\nThe good version was promoted and the bad one rolled back.'
        : '\nThe demo did not end as expected.',
    );
    if (values.keep && !interrupted) {
      console.log('\nStaying up; press Ctrl-C to stop.');
      while (!interrupted) await sleep(250);
    }
    return ok ? 0 : 1;
  } catch (err) {
    console.error(`fledge demo: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await traffic?.stop().catch(() => undefined);
    await operator?.stop().catch(() => undefined);
    await cluster.stop();
  }
}
