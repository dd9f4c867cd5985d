// A real Prometheus for the sandbox and the tests: installs the Debian package when missing, runs the binary on a
// free loopback port with file-based service discovery, and answers instant queries as plain data.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** One file_sd entry: every target gets the labels. Label names must match [a-zA-Z_][a-zA-Z0-9_]*. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export interface StartPrometheusOptions {
  /** Global scrape and evaluation interval; default 1000. Use a rate() range of at least 4× this. */
  scrapeIntervalMs?: number;
  /** Initial file_sd targets of the job `sandbox-pods`. */
  targets?: TargetGroup[];
  /** Binary to run; default: ensurePrometheusInstalled(). */
  binary?: string;
  /** Extra command-line flags, appended after ours. */
  extraArgs?: string[];
  /** Limit for the process to listen and report ready; default 30 000. */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

/** One element of an instant vector. `value` may be NaN or ±Infinity, as Prometheus computes them. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
  timestampMs: number;
}

export interface QueryOptions {
  signal?: AbortSignal;
  /** Default 10 000. */
  timeoutMs?: number;
}

export interface PrometheusHandle {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** The temp dir holding config, targets file and TSDB; removed by stop(). */
  dir: string;
  pid: number;
  /**
   * Replaces every target of the job `sandbox-pods`. Resolves once the file is in place; Prometheus notices it
   * within about a second (file watch, refresh_interval 1s). Calls are applied in call order.
   */
  setTargets(groups: TargetGroup[]): Promise<void>;
  /** Instant query at "now". Throws with Prometheus' error text for a bad query or a non-vector result. */
  query(promql: string, opts?: QueryOptions): Promise<Sample[]>;
  /** The last lines Prometheus wrote to stderr (its log). */
  logTail(): string[];
  /** SIGTERM, SIGKILL after 5 s, then removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

const JOB = 'sandbox-pods';
const TARGETS_FILE = 'targets.json';
const LOG_LINES_KEPT = 60;
const KILL_AFTER_MS = 5_000;
const INSTALL_TIMEOUT_MS = 15 * 60_000;

// apt and dpkg are machine-wide and hold a lock, so concurrent callers within one process share one install.
let installInFlight: Promise<string> | undefined;

/**
 * Path of the `prometheus` binary. When it is missing, installs the Debian package (apt-get update, then
 * apt-get install) and throws if that fails. Keep in step with scripts/ensure-deps.mjs.
 */
export function ensurePrometheusInstalled(opts: { signal?: AbortSignal } = {}): Promise<string> {
  installInFlight ??= installPrometheus(opts.signal).finally(() => {
    installInFlight = undefined;
  });
  return installInFlight;
}

async function installPrometheus(signal: AbortSignal | undefined): Promise<string> {
  const found = await findOnPath('prometheus');
  if (found) return found;
  const failures: string[] = [];
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'prometheus']]) {
    const failure = await aptGet(args, signal);
    if (failure) {
      failures.push(failure);
      break;
    }
  }
  // Another process may have installed it while our apt-get waited for, or failed on, the lock.
  const installed = await findOnPath('prometheus');
  if (installed) return installed;
  throw new Error(
    `could not install Prometheus with apt-get: ${failures.join('; ') || 'the binary is still not on PATH'}. ` +
      'Install the Debian package `prometheus` (apt-get install --no-install-recommends prometheus, as root).',
  );
}

/** Runs apt-get non-interactively, waiting for the dpkg lock; resolves with a failure description or ''. */
function aptGet(args: string[], signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      'apt-get',
      ['-o', 'DPkg::Lock::Timeout=300', ...args],
      {
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        timeout: INSTALL_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        signal,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve('');
        const tail = lastLines(`${stdout}\n${stderr}`, 8).join('\n');
        resolve(
          `apt-get ${args[0] ?? ''} failed (${err.message.split('\n')[0] ?? ''})${tail ? `:\n${tail}` : ''}`,
        );
      },
    );
  });
}

async function findOnPath(name: string): Promise<string | undefined> {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  // apt installs into /usr/bin even when PATH is minimal.
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function formatDuration(ms: number): string {
  return `${ms}ms`;
}

function configYaml(scrapeIntervalMs: number, targetsPath: string): string {
  // JSON is valid YAML; scrape_timeout may not exceed scrape_interval (its default is 10s).
  const interval = formatDuration(scrapeIntervalMs);
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: [{ job_name: JOB, file_sd_configs: [{ files: [targetsPath], refresh_interval: '1s' }] }],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Starts a Prometheus of its own on 127.0.0.1 (a port it picks), and waits until it reports ready. */
export async function startPrometheus(opts: StartPrometheusOptions = {}): Promise<PrometheusHandle> {
  const scrapeIntervalMs = opts.scrapeIntervalMs ?? 1000;
  if (!Number.isInteger(scrapeIntervalMs) || scrapeIntervalMs <= 0) {
    throw new Error(`scrapeIntervalMs must be a positive integer, got ${scrapeIntervalMs}`);
  }
  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  const binary = opts.binary ?? (await ensurePrometheusInstalled(opts.signal ? { signal: opts.signal } : {}));

  const dir = await mkdtemp(path.join(os.tmpdir(), 'fledge-prometheus-'));
  const targetsPath = path.join(dir, TARGETS_FILE);
  const configPath = path.join(dir, 'prometheus.yml');
  let tmpCounter = 0;
  const writeTargets = async (groups: TargetGroup[]): Promise<void> => {
    // file_sd must never see a half-written file: write beside it, then rename over it.
    const tmp = path.join(dir, `.${TARGETS_FILE}.${++tmpCounter}.tmp`);
    await writeFile(tmp, `${JSON.stringify(groups, null, 2)}\n`);
    await rename(tmp, targetsPath);
  };

  let child: ChildProcess;
  try {
    await mkdir(path.join(dir, 'data'));
    await writeTargets(opts.targets ?? []);
    await writeFile(configPath, configYaml(scrapeIntervalMs, targetsPath));
    child = spawn(
      binary,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        // Port 0: the kernel picks a free port, with no window for another process to take it;
        // Prometheus logs the address it got.
        '--web.listen-address=127.0.0.1:0',
        '--storage.tsdb.retention.time=1h',
        '--web.enable-lifecycle',
        // Hidden flag (Prometheus 2.x): how often the scrapers take new targets (default 5 s). Discovery itself
        // still batches changes every 5 s, so a target change shows in up to ~6 s instead of ~11 s.
        '--scrape.discovery-reload-interval=500ms',
        ...(opts.extraArgs ?? []),
      ],
      { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const log: string[] = [];
  let partial = '';
  let listenAddress: string | undefined;
  const onLine = (line: string): void => {
    log.push(line);
    if (log.length > LOG_LINES_KEPT) log.shift();
    listenAddress ??= /msg="Listening on".*?\baddress=(\S+)/.exec(line)?.[1];
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });

  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    // 'close' rather than 'exit': it comes after stderr is drained, so a start failure reports its last lines.
    child.once('close', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code ?? '?'}`;
      resolve();
    });
    child.once('error', (err) => {
      exitInfo = err.message;
      resolve();
    });
  });
  // Never leave an orphaned Prometheus behind when this process ends without calling stop().
  const killOnExit = (): void => {
    if (exitInfo === undefined) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const startFailure = (why: string): Error =>
    new Error(`Prometheus did not start: ${why}. Last log lines:\n${[...log, partial].join('\n').trim()}`);

  let url: string;
  try {
    url = await waitUntilReady(
      () => listenAddress,
      () => exitInfo,
      startTimeoutMs,
      opts.signal,
    );
  } catch (e) {
    await stop();
    throw startFailure(e instanceof Error ? e.message : String(e));
  }

  let targetWrites = Promise.resolve();
  return {
    url,
    dir,
    pid: child.pid ?? -1,
    setTargets(groups) {
      const write = targetWrites.then(() => writeTargets(groups));
      targetWrites = write.catch(() => undefined);
      return write;
    },
    query: (promql, queryOpts = {}) => instantQuery(url, promql, queryOpts),
    logTail: () => [...log],
    stop,
  };
}

/** Polls until Prometheus has logged its address and /-/ready answers 200; resolves with the base URL. */
async function waitUntilReady(
  address: () => string | undefined,
  exitInfo: () => string | undefined,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no listen address in its log yet';
  for (;;) {
    const exit = exitInfo();
    if (exit !== undefined) throw new Error(`it exited (${exit})`);
    if (signal?.aborted) throw new Error('aborted');
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms (${lastProblem})`);
    const addr = address();
    if (addr) {
      const url = `http://${addr}`;
      try {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
        await res.arrayBuffer();
        if (res.ok) return url;
        lastProblem = `/-/ready answered ${res.status}`;
      } catch (e) {
        lastProblem = `/-/ready: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface ApiResponse {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

function parseSampleValue(v: unknown): number {
  // Prometheus encodes sample values as strings, including "NaN", "+Inf" and "-Inf".
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

function toSample(raw: unknown, metric: Record<string, string>): Sample {
  if (!Array.isArray(raw) || raw.length !== 2) throw new Error(`unexpected sample ${JSON.stringify(raw)}`);
  const [ts, value] = raw as [unknown, unknown];
  return { metric, value: parseSampleValue(value), timestampMs: Math.round(Number(ts) * 1000) };
}

async function instantQuery(baseUrl: string, promql: string, opts: QueryOptions): Promise<Sample[]> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const res = await fetch(`${baseUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: promql }).toString(),
    signal,
  });
  const text = await res.text();
  let body: ApiResponse;
  try {
    body = JSON.parse(text) as ApiResponse;
  } catch {
    throw new Error(`Prometheus answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  if (body.status !== 'success') {
    throw new Error(
      `query ${JSON.stringify(promql)} failed: ${body.errorType ?? res.status}: ${body.error ?? text}`,
    );
  }
  const { resultType, result } = body.data ?? {};
  if (resultType === 'scalar') return [toSample(result, {})];
  if (resultType !== 'vector' || !Array.isArray(result)) {
    throw new Error(
      `query ${JSON.stringify(promql)} gave a ${resultType ?? 'missing'} result, not an instant vector`,
    );
  }
  return result.map((el: unknown) => {
    const { metric, value } = (el ?? {}) as { metric?: Record<string, string>; value?: unknown };
    return toSample(value, { ...metric });
  });
}

function lastLines(text: string, n: number): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n);
}

/** The subset of a V1Pod that podTargets reads; a client-node V1Pod fits it. */
export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { containers?: { image?: string; ports?: { name?: string; containerPort: number }[] }[] };
  status?: { phase?: string; podIP?: string };
}

/** The tag of an image reference (`web:v2` → v2), or undefined for `registry:5000/web` and digest-only refs. */
function imageTag(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0] ?? '';
  const colon = withoutDigest.lastIndexOf(':');
  if (colon < 0) return undefined;
  const tag = withoutDigest.slice(colon + 1);
  return tag && !tag.includes('/') ? tag : undefined;
}

function parsePort(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined;
  const port = Number(s);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Scrape targets for pods, one group per pod, sorted by namespace and name. A pod is a target when it is Running,
 * has a podIP and a port: the annotation `prometheus.io/port` when present, else the container port named `http`
 * (a pod whose annotation is not a valid port is skipped rather than guessed at). Labels: namespace, pod, app,
 * version (label `version`, else the image tag of the container serving the port), pod_template_hash; a label
 * with no value is left out.
 */
export function podTargets(pods: readonly PodLike[]): TargetGroup[] {
  const groups: { key: string; group: TargetGroup }[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (pod.status?.phase !== 'Running' || !ip) continue;
    const meta = pod.metadata ?? {};
    const containers = pod.spec?.containers ?? [];
    const annotated = meta.annotations?.['prometheus.io/port'];
    let port: number | undefined;
    let container = containers[0];
    if (annotated !== undefined) {
      port = parsePort(annotated.trim());
      container = containers.find((c) => c.ports?.some((p) => p.containerPort === port)) ?? container;
    } else {
      for (const c of containers) {
        const http = c.ports?.find((p) => p.name === 'http');
        if (http) {
          port = http.containerPort;
          container = c;
          break;
        }
      }
    }
    if (port === undefined) continue;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const candidates: Record<string, string | undefined> = {
      namespace: meta.namespace ?? 'default',
      pod: meta.name,
      app: meta.labels?.['app'],
      version: meta.labels?.['version'] ?? imageTag(container?.image),
      pod_template_hash: meta.labels?.['pod-template-hash'],
    };
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(candidates)) if (v) labels[k] = v;
    groups.push({
      key: `${labels['namespace']}/${meta.name ?? ''}`,
      group: { targets: [`${host}:${port}`], labels },
    });
  }
  return groups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((g) => g.group);
}
