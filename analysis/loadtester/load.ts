// fledge's built-in load generation (webhook metadata `type: http` or `type: grpc`): the spec read from the
// webhook metadata, and a paced sender that is bounded in count (rps × duration) and time, and stops by itself.
import http from 'node:http';
import https from 'node:https';
import { DemoClient } from '../../sandbox/demo-app/proto.js';
import { parseGoDuration } from '../duration.js';

export interface LoadLimits {
  maxRps: number;
  maxDurationMs: number;
}

interface LoadCommon {
  /** Requests per second; the run sends round(rps × duration) requests in all. */
  rps: number;
  durationMs: number;
  /** Per request, from sending to the last byte (HTTP) or the deadline (gRPC). */
  timeoutMs: number;
  /** Requests in flight at most; a due request waits while the limit is reached. */
  concurrency: number;
}

export interface HttpLoadSpec extends LoadCommon {
  kind: 'http';
  /** An absolute http or https URL. */
  target: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface GrpcLoadSpec extends LoadCommon {
  kind: 'grpc';
  /** host:port of a server of fledge.demo.v1.Demo (the sandbox demo app). */
  target: string;
  method: 'Echo';
  /** The EchoRequest message. */
  message: string;
}

export type LoadSpec = HttpLoadSpec | GrpcLoadSpec;

export type LoadSpecResult = { ok: true; value: LoadSpec } | { ok: false; errors: string[] };

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_CONCURRENCY = 64;
const MAX_CONCURRENCY = 512;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Headers as JSON ({"x-user": "test"}) or as lines of `Name: value`. */
function parseHeaders(text: string): Record<string, string> | string {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      return 'is not valid JSON';
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'must be a JSON object';
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number') return `header ${k} must be a string`;
      out[k.toLowerCase()] = String(v);
    }
    return out;
  }
  const out: Record<string, string> = {};
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return `"${line}" is not "Name: value"`;
    out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

/** Reads a load spec from webhook metadata; every problem is reported, naming its metadata key. */
export function parseLoadSpec(metadata: Record<string, string>, limits: LoadLimits): LoadSpecResult {
  const errors: string[] = [];
  const kind = metadata['type'];
  if (kind !== 'http' && kind !== 'grpc')
    return { ok: false, errors: ['metadata.type must be http or grpc'] };

  const target = metadata['target'] ?? '';
  if (target === '') errors.push('metadata.target is required');
  else if (kind === 'http') {
    let url: URL | undefined;
    try {
      url = new URL(target);
    } catch {
      errors.push(`metadata.target "${target}" is not an absolute URL`);
    }
    if (url !== undefined && url.protocol !== 'http:' && url.protocol !== 'https:')
      errors.push(`metadata.target must be an http or https URL, got "${target}"`);
  } else if (!/^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):\d{1,5}$/.test(target)) {
    errors.push(`metadata.target must be host:port for grpc, got "${target}"`);
  }

  const rps = Number(metadata['rps']);
  if (metadata['rps'] === undefined || metadata['rps'].trim() === '' || !Number.isFinite(rps) || rps <= 0)
    errors.push('metadata.rps must be a number of requests per second above 0');
  else if (rps > limits.maxRps) errors.push(`metadata.rps must be at most ${limits.maxRps}`);

  let durationMs = 0;
  const rawDuration = metadata['duration'];
  if (rawDuration === undefined) errors.push('metadata.duration is required (e.g. 30s or 1m)');
  else {
    const d = parseGoDuration(rawDuration);
    if (!d.ok) errors.push(`metadata.duration: ${d.message}`);
    else if (d.value <= 0) errors.push('metadata.duration must be above 0');
    else if (d.value > limits.maxDurationMs)
      errors.push(`metadata.duration must be at most ${limits.maxDurationMs / 1000}s`);
    else durationMs = d.value;
  }

  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (metadata['timeout'] !== undefined) {
    const t = parseGoDuration(metadata['timeout']);
    if (!t.ok) errors.push(`metadata.timeout: ${t.message}`);
    else if (t.value < 1) errors.push('metadata.timeout must be at least 1ms');
    else timeoutMs = t.value;
  }

  let concurrency = DEFAULT_CONCURRENCY;
  if (metadata['concurrency'] !== undefined) {
    const c = Number(metadata['concurrency']);
    if (!Number.isInteger(c) || c < 1 || c > MAX_CONCURRENCY)
      errors.push(`metadata.concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
    else concurrency = c;
  }

  if (kind === 'http') {
    const method = (metadata['method'] ?? 'GET').toUpperCase();
    if (!HTTP_METHODS.has(method))
      errors.push(`metadata.method "${metadata['method']}" is not an HTTP method`);
    const headers = parseHeaders(metadata['headers'] ?? '');
    if (typeof headers === 'string') errors.push(`metadata.headers ${headers}`);
    if (errors.length > 0) return { ok: false, errors };
    const spec: HttpLoadSpec = {
      kind,
      target,
      rps,
      durationMs,
      timeoutMs,
      concurrency,
      method,
      headers: typeof headers === 'string' ? {} : headers,
    };
    if (metadata['body'] !== undefined) spec.body = metadata['body'];
    return { ok: true, value: spec };
  }
  const method = metadata['method'] ?? 'Echo';
  if (method !== 'Echo' && method !== '/fledge.demo.v1.Demo/Echo')
    errors.push(`metadata.method "${method}" is not a method of fledge.demo.v1.Demo (only Echo is)`);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      kind,
      target,
      rps,
      durationMs,
      timeoutMs,
      concurrency,
      method: 'Echo',
      message: metadata['body'] ?? 'fledge-loadtester',
    },
  };
}

/** Sends one request and names its result: an HTTP status, a gRPC code name, `timeout` or `error`. Never rejects. */
type Sender = (signal: AbortSignal) => Promise<string>;

export interface LoadProgress {
  sent: number;
  completed: number;
  /** Results so far, by code. */
  codes: Record<string, number>;
}

export interface LoadSummary extends LoadProgress {
  /** Aborted by the caller, or cut at the hard stop (duration + request timeout) with requests still due. */
  stoppedEarly: boolean;
}

export interface RunLoadOptions {
  signal?: AbortSignal;
  /** Called once per finished request, with its code. */
  onResult?: (code: string) => void;
  /** Live counters; updated in place while the run goes on. */
  progress?: LoadProgress;
}

const TICK_MS = 5;

/**
 * Sends round(rps × duration) requests, the i-th at i/rps seconds after the start (late ones catch up while
 * under `concurrency`), and resolves once every request sent has finished. Nothing is sent after it resolves.
 * A run never outlives duration + timeout (+1 s): at that point requests still due are dropped and those in
 * flight are cancelled.
 */
async function pace(spec: LoadCommon, send: Sender, opts: RunLoadOptions): Promise<LoadSummary> {
  const total = Math.max(1, Math.round((spec.rps * spec.durationMs) / 1000));
  const progress: LoadProgress = opts.progress ?? { sent: 0, completed: 0, codes: {} };
  const cancel = new AbortController();
  const start = performance.now();
  let inFlight = 0;
  let stopping = false;
  if (opts.signal?.aborted) return { ...progress, codes: { ...progress.codes }, stoppedEarly: true };
  return new Promise<LoadSummary>((resolve) => {
    const onAbort = (): void => stop();
    const hardStop = setTimeout(() => stop(), spec.durationMs + spec.timeoutMs + 1000);
    const maybeFinish = (): void => {
      if (inFlight > 0 || (!stopping && progress.sent < total)) return;
      clearInterval(interval);
      clearTimeout(hardStop);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...progress, codes: { ...progress.codes }, stoppedEarly: progress.sent < total });
    };
    function stop(): void {
      if (stopping) return;
      stopping = true;
      clearInterval(interval);
      cancel.abort();
      maybeFinish();
    }
    const tick = (): void => {
      if (stopping) return;
      const elapsedMs = performance.now() - start;
      const due =
        elapsedMs >= spec.durationMs ? total : Math.min(total, Math.floor((elapsedMs * spec.rps) / 1000) + 1);
      while (progress.sent < due && inFlight < spec.concurrency) {
        progress.sent++;
        inFlight++;
        void send(cancel.signal)
          .catch(() => 'error')
          .then((code) => {
            inFlight--;
            progress.completed++;
            progress.codes[code] = (progress.codes[code] ?? 0) + 1;
            opts.onResult?.(code);
            maybeFinish();
          });
      }
    };
    // Everything above runs only from these timers and callbacks, so `interval` is set before it is used.
    const interval = setInterval(tick, TICK_MS);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    tick();
  });
}

function httpSender(spec: HttpLoadSpec, agent: http.Agent): Sender {
  const url = new URL(spec.target);
  const lib = url.protocol === 'https:' ? https : http;
  const headers: http.OutgoingHttpHeaders = { 'user-agent': 'fledge-loadtester', ...spec.headers };
  if (spec.body !== undefined) headers['content-length'] = Buffer.byteLength(spec.body);
  return (signal) =>
    new Promise<string>((resolve) => {
      let settled = false;
      const finish = (code: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(code);
      };
      const req = lib.request(url, { method: spec.method, headers, agent, signal }, (res) => {
        res.resume();
        res.on('end', () => finish(String(res.statusCode ?? 0)));
        res.on('error', () => finish('error'));
        res.on('close', () => finish(res.complete ? String(res.statusCode ?? 0) : 'error'));
      });
      const timer = setTimeout(() => {
        finish('timeout');
        req.destroy();
      }, spec.timeoutMs);
      req.on('error', () => finish(signal.aborted ? 'cancelled' : 'error'));
      req.end(spec.body);
    });
}

/** Runs a load to its end (or until `signal` aborts). Never rejects. */
export async function runLoad(spec: LoadSpec, opts: RunLoadOptions = {}): Promise<LoadSummary> {
  if (spec.kind === 'http') {
    const Agent = new URL(spec.target).protocol === 'https:' ? https.Agent : http.Agent;
    const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
    try {
      return await pace(spec, httpSender(spec, agent), opts);
    } finally {
      agent.destroy();
    }
  }
  const client = new DemoClient(spec.target);
  try {
    return await pace(
      spec,
      async (signal) => {
        const r = await client.echo({ message: spec.message }, { timeoutMs: spec.timeoutMs, signal });
        return r.ok ? 'OK' : r.codeName;
      },
      opts,
    );
  } finally {
    client.close();
  }
}
