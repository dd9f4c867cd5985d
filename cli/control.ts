// `fledge status [NAME] [--watch]` and `fledge promote|abort|resume|retry NAME` (SPEC §3.6): read a Canary's
// status, or set the manual-control annotation the operator consumes. Also `kubectl fledge …` (bin/kubectl-fledge).
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeconfig } from './common.js';
import type { CanaryStatus } from '../crds/schema/flagger.js';
import { DaemonSetWorkload } from '../operator/daemonset.js';
import { kubeRequest } from '../operator/k8s/raw.js';
import { parseCanary } from '../operator/validate.js';
import type { Workload } from '../operator/workload.js';
import { DeploymentWorkload, workloadByKind } from '../operator/workload.js';
import type { ManualRequest } from '../operator/scheduler/manual.js';
import { MANUAL_REQUESTS, MANUAL_VALUE, manualAnnotation } from '../operator/scheduler/manual.js';

export const CONTROL_COMMANDS = ['status', ...MANUAL_REQUESTS] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

const COMMON = `  -n, --namespace NS  namespace (default: the kubeconfig context's namespace, else "default")
  --kubeconfig FILE   cluster (default: $KUBECONFIG, else ~/.kube/config)`;

const HELP: Record<ControlCommand, string> = {
  status: `usage: fledge status [NAME] [-n NS] [--watch] [--kubeconfig FILE]

Without NAME: a table of the namespace's canaries. With NAME: its phase, weight, failed checks, iterations,
last transition and the Promoted condition's message. --watch (needs NAME) prints a line per change and exits
0 when the canary reaches Succeeded, 1 when it reaches Failed (for CI pipelines); a Succeeded or Failed of an
earlier revision than the target's current one does not count.

${COMMON}`,
  promote: manualHelp(
    'promote',
    'skip the remaining analysis steps and promote now (Progressing, WaitingPromotion)',
  ),
  abort: manualHelp('abort', 'roll back now (Progressing, WaitingPromotion, Waiting)'),
  resume: manualHelp('resume', 'leave Waiting or WaitingPromotion as if the approval webhook passed'),
  retry: manualHelp('retry', 'run a Failed revision again from weight 0'),
};

function manualHelp(r: ManualRequest, what: string): string {
  return `usage: fledge ${r} NAME [-n NS] [--kubeconfig FILE]

Sets the annotation ${manualAnnotation(r)}="${MANUAL_VALUE}" on Canary NAME: ${what}. The operator acts on it
at its next reconcile and removes it; a request that does not apply to the phase is reported in an event.

${COMMON}`;
}

/** Where output goes, and the watch's pacing; tests pass their own. */
export interface ControlIo {
  out(line: string): void;
  err(line: string): void;
  /** Stops a --watch (exit code 130). */
  signal?: AbortSignal;
  /** --watch poll period (default 1000 ms). */
  pollMs?: number;
  /** Per API request (default 10 s). */
  timeoutMs?: number;
}

const consoleIo: ControlIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

interface StoredCanary {
  metadata?: { name?: string };
  spec?: { analysis?: { threshold?: number } };
  status?: CanaryStatus;
}

type Api = { ok: true; body: unknown } | { ok: false; message: string };

/** Runs one control command; resolves with the exit code (2 = usage error). */
export async function runControl(
  cmd: ControlCommand,
  argv: string[],
  io: ControlIo = consoleIo,
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`fledge ${cmd}: ${e instanceof Error ? e.message : String(e)}\n\n${HELP[cmd]}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(HELP[cmd]);
    return 0;
  }
  const name = positionals[0];
  const usage = (why: string): number => {
    io.err(`fledge ${cmd}: ${why}\n\n${HELP[cmd]}`);
    return 2;
  };
  if (positionals.length > 1) return usage(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  if (cmd !== 'status' && name === undefined) return usage('the Canary NAME is required');
  if (values.watch && (cmd !== 'status' || name === undefined)) return usage('--watch needs a Canary NAME');

  const loaded = loadKubeconfig(values.kubeconfig);
  if (!loaded.ok) {
    io.err(`fledge ${cmd}: ${loaded.message}`);
    return 1;
  }
  const kc = loaded.kc;
  const namespace = values.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const base = `/apis/flagger.app/v1beta1/namespaces/${encodeURIComponent(namespace)}/canaries`;
  const api = (method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<Api> =>
    call(kc, method, path, body, io.timeoutMs ?? 10_000);

  if (cmd !== 'status') {
    const r = await api('PATCH', `${base}/${encodeURIComponent(name ?? '')}`, {
      metadata: { annotations: { [manualAnnotation(cmd)]: MANUAL_VALUE } },
    });
    if (!r.ok) {
      io.err(`fledge ${cmd}: Canary ${namespace}/${name ?? ''}: ${r.message}`);
      return 1;
    }
    io.out(`canary ${namespace}/${name ?? ''}: ${manualAnnotation(cmd)}="${MANUAL_VALUE}" set`);
    return 0;
  }
  if (name === undefined) {
    const r = await api('GET', base);
    if (!r.ok) {
      io.err(`fledge status: ${r.message}`);
      return 1;
    }
    const items = (r.body as { items?: StoredCanary[] }).items ?? [];
    if (items.length === 0) io.out(`No canaries in namespace ${namespace}.`);
    else for (const line of table(items)) io.out(line);
    return 0;
  }
  const path = `${base}/${encodeURIComponent(name)}`;
  if (!values.watch) {
    const r = await api('GET', path);
    if (!r.ok) {
      io.err(`fledge status: Canary ${namespace}/${name}: ${r.message}`);
      return 1;
    }
    for (const line of details(namespace, r.body as StoredCanary)) io.out(line);
    return 0;
  }
  const workload = workloadByKind({
    Deployment: new DeploymentWorkload(kc),
    DaemonSet: new DaemonSetWorkload(kc),
  });
  return watch(
    io,
    () => api('GET', path),
    `${namespace}/${name}`,
    (c) => targetRevisionOf(workload, c),
  );
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      watch: { type: 'boolean', short: 'w' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function call(kc: KubeConfig, method: 'GET' | 'PATCH', path: string, body: unknown, timeoutMs: number) {
  const res = await kubeRequest(kc, {
    method,
    path,
    ...(body === undefined ? {} : { body, contentType: 'application/merge-patch+json' }),
    timeoutMs,
  }).catch((err: unknown) => ({ status: 0, body: err instanceof Error ? err.message : String(err) }));
  if (res.status >= 200 && res.status < 300) return { ok: true as const, body: res.body };
  const b = res.body as { message?: string } | string | undefined;
  const text = typeof b === 'string' ? b : (b?.message ?? '');
  return { ok: false as const, message: res.status === 0 ? text : `HTTP ${res.status}: ${text}` };
}

/** The fields `status` shows, as text. */
function summary(c: StoredCanary) {
  const s = c.status ?? {};
  return {
    phase: s.phase === undefined || s.phase === '' ? 'Unknown' : s.phase,
    weight: `${s.canaryWeight ?? 0}%`,
    failedChecks: `${s.failedChecks ?? 0}/${c.spec?.analysis?.threshold ?? '?'}`,
    iterations: String(s.iterations ?? 0),
    lastTransition: s.lastTransitionTime ?? '-',
    message: s.conditions?.find((x) => x.type === 'Promoted')?.message ?? '',
  };
}

function details(namespace: string, c: StoredCanary): string[] {
  const s = summary(c);
  return [
    `Canary:          ${namespace}/${c.metadata?.name ?? ''}`,
    `Phase:           ${s.phase}`,
    `Weight:          ${s.weight}`,
    `Failed checks:   ${s.failedChecks}`,
    `Iterations:      ${s.iterations}`,
    `Last transition: ${s.lastTransition}`,
    `Message:         ${s.message}`,
  ];
}

/** Columns padded like kubectl's (three spaces between columns). */
function table(items: readonly StoredCanary[]): string[] {
  const rows = [
    ['NAME', 'STATUS', 'WEIGHT', 'FAILEDCHECKS', 'ITERATIONS', 'LASTTRANSITIONTIME', 'MESSAGE'],
    ...items.map((c) => {
      const s = summary(c);
      return [
        c.metadata?.name ?? '',
        s.phase,
        s.weight,
        s.failedChecks,
        s.iterations,
        s.lastTransition,
        s.message,
      ];
    }),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd(),
  );
}

/**
 * The revision of the canary's target now (its template and tracked configs, as the operator computes it), or
 * undefined when it cannot be read (no target, no access): then any terminal phase ends a watch.
 */
async function targetRevisionOf(workload: Workload, stored: StoredCanary): Promise<string | undefined> {
  const parsed = parseCanary(stored);
  if (!parsed.ok) return undefined;
  try {
    const observed = await workload.observe(parsed.value);
    return observed.targetRevision === '' ? undefined : observed.targetRevision;
  } catch {
    return undefined;
  }
}

/**
 * Polls until the phase is terminal: a line per change; 0 on Succeeded, 1 on Failed, 130 when stopped. A
 * terminal phase counts only once it is about the target's current revision (`status.lastAppliedSpec`): a
 * pipeline that starts watching right after applying a new version must not exit on the previous run's end.
 */
async function watch(
  io: ControlIo,
  get: () => Promise<Api>,
  what: string,
  revisionNow: (c: StoredCanary) => Promise<string | undefined>,
): Promise<number> {
  let last = '';
  let lastError = '';
  let waitingFor = '';
  for (;;) {
    if (io.signal?.aborted) return 130;
    const r = await get();
    if (!r.ok) {
      // A failed read is reported once and retried: a watch outlives API server hiccups.
      if (r.message !== lastError) io.err(`fledge status: Canary ${what}: ${r.message}`);
      lastError = r.message;
    } else {
      lastError = '';
      const stored = r.body as StoredCanary;
      const s = summary(stored);
      const line = `${s.phase} weight=${s.weight} failedChecks=${s.failedChecks} iterations=${s.iterations} ${s.message}`;
      if (line !== last) io.out(`${new Date().toISOString()} ${line.trimEnd()}`);
      last = line;
      if (s.phase === 'Succeeded' || s.phase === 'Failed') {
        const revision = await revisionNow(stored);
        const ran = stored.status?.lastAppliedSpec;
        if (revision === undefined || revision === ran) return s.phase === 'Succeeded' ? 0 : 1;
        if (waitingFor !== revision)
          io.out(
            `${new Date().toISOString()} waiting for the run of revision ${revision} (this ${s.phase} is about ${ran ?? 'an earlier one'})`,
          );
        waitingFor = revision;
      }
    }
    await pause(io.pollMs ?? 1000, io.signal);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
