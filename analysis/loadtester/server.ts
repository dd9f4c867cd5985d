// `fledge loadtester` (SPEC §5.3): an HTTP service that Canary webhooks call, compatible with Flagger's load
// tester payloads: runs commands, generates HTTP/gRPC load itself, and keeps manual gates per canary.
import http from 'node:http';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { runCommand } from './commands.js';
import type { Shell } from './commands.js';
import type { GateKind } from './gates.js';
import { GateStore } from './gates.js';
import { parseLoadSpec, runLoad } from './load.js';
import type { LoadProgress } from './load.js';
import { createLoadTesterMetrics } from './metrics.js';
import type { LoadTesterMetrics } from './metrics.js';
import { canaryKey, parsePayload } from './payload.js';
import type { LoadTesterPayload } from './payload.js';
import { Runs } from './runs.js';
import type { StartResult } from './runs.js';

export interface LoadTesterOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1; in a pod, 0.0.0.0. Anyone who reaches the port can run commands, as with Flagger's. */
  host?: string;
  /** Limit of every command, `cmd` in the background and `bash` while the caller waits. Default 1 h (Flagger's). */
  commandTimeoutMs?: number;
  /** Background runs (commands and loads) at once; more are refused with 503. Default 32. */
  maxActiveRuns?: number;
  /** Highest `rps` a load may ask for. Default 1000. */
  maxRps?: number;
  /** Longest `duration` a load may ask for. Default 1 h. */
  maxLoadDurationMs?: number;
  /** Default: silent. Lines about a canary carry `canary` and `namespace`. */
  logger?: Logger;
}

export interface LoadTester {
  /** http://host:port, with the bound port. */
  url: string;
  port: number;
  metrics: LoadTesterMetrics;
  /** Stops listening, stops every background run (killing commands), and resolves when all is done. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const OUTPUT_EXCERPT_CHARS = 500;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }).end(body);
}

const sendJson = (res: http.ServerResponse, status: number, body: object): void =>
  send(res, status, `${JSON.stringify(body)}\n`, 'application/json');

const tail = (text: string): string =>
  text.length > OUTPUT_EXCERPT_CHARS ? `…${text.slice(-OUTPUT_EXCERPT_CHARS)}` : text;

export async function startLoadTester(options: LoadTesterOptions = {}): Promise<LoadTester> {
  const host = options.host ?? '127.0.0.1';
  const commandTimeoutMs = options.commandTimeoutMs ?? 3_600_000;
  const limits = { maxRps: options.maxRps ?? 1000, maxDurationMs: options.maxLoadDurationMs ?? 3_600_000 };
  const log = options.logger ?? pino({ enabled: false });
  const metrics = createLoadTesterMetrics();
  const gates = new GateStore();
  const runs = new Runs({
    maxActive: options.maxActiveRuns ?? 32,
    maxHistory: 100,
    onStart: (run) => metrics.runsActive.inc({ kind: run.kind }),
    onEnd: (run) => metrics.runsActive.dec({ kind: run.kind }),
  });

  const canaryLog = (p: LoadTesterPayload): Logger => log.child({ canary: p.name, namespace: p.namespace });

  const readPayload = async (req: http.IncomingMessage): Promise<LoadTesterPayload> => {
    const parsed = parsePayload(await readBody(req));
    if (!parsed.ok) throw new HttpError(400, parsed.message);
    return parsed.value;
  };

  const runShell = async (shell: Shell, command: string, p: LoadTesterPayload, signal: AbortSignal) => {
    const l = canaryLog(p);
    l.info({ cmd: command }, `${shell} command starting`);
    const r = await runCommand(shell, command, { timeoutMs: commandTimeoutMs, signal });
    const type = shell === 'sh' ? 'cmd' : 'bash';
    metrics.commands.inc({ type, result: r.ok ? 'success' : r.timedOut ? 'timeout' : 'failure' });
    if (r.ok) {
      if (p.metadata['logCmdOutput'] === 'true') l.info({ cmd: command, output: r.output }, 'command output');
      l.info({ cmd: command }, 'command finished');
    } else {
      l.error({ cmd: command, output: r.output, reason: r.message }, 'command failed');
    }
    return r;
  };

  const answerStart = (res: http.ServerResponse, s: StartResult): void => {
    if (s.started) sendJson(res, 202, { started: true, run: s.run });
    else if (s.reason === 'already-running')
      sendJson(res, 202, { started: false, reason: s.reason, run: s.run });
    else
      send(res, 503, `too many background runs (${s.active} running); try again when some have finished\n`);
  };

  /** POST /: Flagger's task endpoint; metadata.type selects cmd (default), bash, http or grpc. */
  const handleTask = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const p = await readPayload(req);
    if (Object.keys(p.metadata).length === 0) throw new HttpError(400, 'metadata not found in payload');
    const canary = canaryKey(p);
    const type = p.metadata['type'] ?? 'cmd';
    switch (type) {
      case 'cmd': {
        // Flagger runs `cmd` tasks in the background (they are typically load generators like hey) and answers
        // 202 at once; the same command for the same canary is not started again while it runs.
        const command = p.metadata['cmd'];
        if (command === undefined || command === '') throw new HttpError(400, 'cmd not found in metadata');
        const s = runs.start(
          `cmd\n${canary}\n${command}`,
          { canary, kind: 'cmd', what: command },
          async (signal) => {
            const r = await runShell('sh', command, p, signal);
            return r.ok
              ? { state: 'succeeded' }
              : { state: 'failed', message: `${r.message}${r.output === '' ? '' : `: ${tail(r.output)}`}` };
          },
        );
        answerStart(res, s);
        return;
      }
      case 'bash': {
        // Blocking, like Flagger's bash task: 200 when the command exits 0, 500 with the reason otherwise.
        const command = p.metadata['cmd'];
        if (command === undefined || command === '') throw new HttpError(400, 'cmd not found in metadata');
        const gone = new AbortController();
        // The caller gave up (its webhook timeout): stop the command too.
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        const r = await runShell('bash', command, p, gone.signal);
        if (!r.ok) {
          send(
            res,
            500,
            `command ${command} failed: ${r.message}${r.output === '' ? '' : `: ${tail(r.output)}`}\n`,
          );
          return;
        }
        send(res, 200, p.metadata['returnCmdOutput'] === 'true' ? r.output : '');
        return;
      }
      case 'http':
      case 'grpc': {
        const parsed = parseLoadSpec(p.metadata, limits);
        if (!parsed.ok) throw new HttpError(400, parsed.errors.join('; '));
        const spec = parsed.value;
        const s = runs.start(
          `load\n${canary}\n${JSON.stringify(spec)}`,
          { canary, kind: spec.kind, what: spec.target },
          async (signal, status) => {
            const l = canaryLog(p);
            l.info(
              { target: spec.target, rps: spec.rps, durationMs: spec.durationMs },
              `${spec.kind} load starting`,
            );
            const progress: LoadProgress = { sent: 0, completed: 0, codes: {} };
            status.sent = 0;
            status.codes = progress.codes;
            const summary = await runLoad(spec, {
              signal,
              progress,
              onResult: (code) => {
                status.sent = progress.sent;
                metrics.requests.inc({ kind: spec.kind, target: spec.target, code });
              },
            });
            status.sent = summary.sent;
            status.codes = summary.codes;
            l.info(
              { target: spec.target, sent: summary.sent, codes: summary.codes },
              `${spec.kind} load finished`,
            );
            if (signal.aborted) return { state: 'failed', message: 'stopped: the load tester is closing' };
            return {
              state: 'succeeded',
              message: summary.stoppedEarly
                ? `stopped at its time limit after ${summary.sent} requests`
                : `sent ${summary.sent} requests`,
            };
          },
        );
        answerStart(res, s);
        return;
      }
      default:
        throw new HttpError(400, `unknown task type ${type} (fledge runs cmd, bash, http and grpc)`);
    }
  };

  const handleGate = async (
    kind: GateKind,
    action: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> => {
    const p = await readPayload(req);
    const canary = canaryKey(p);
    const l = canaryLog(p);
    switch (action) {
      case 'check': {
        const open = gates.isOpen(kind, canary);
        metrics.gateChecks.inc({ gate: kind, answer: open ? 'open' : 'closed' });
        l.info({ gate: kind, open }, `${kind} check`);
        if (open) send(res, 200, 'Approved');
        else send(res, 403, 'Forbidden');
        return;
      }
      case 'open':
        gates.open(kind, canary);
        l.info({ gate: kind }, `${kind} opened`);
        send(res, 202, '');
        return;
      case 'close':
        gates.close(kind, canary);
        l.info({ gate: kind }, `${kind} closed`);
        send(res, 202, '');
        return;
      default:
        throw new HttpError(404, `no route for /${kind}/${action}`);
    }
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const method = req.method ?? 'GET';
    if (path === '/healthz') {
      send(res, 200, 'OK');
      return;
    }
    if (path === '/metrics') {
      send(res, 200, await metrics.registry.metrics(), metrics.registry.contentType);
      return;
    }
    if (path === '/runs') {
      sendJson(res, 200, { runs: runs.list() });
      return;
    }
    // Flagger's gate endpoints answer any method; approve and halt ignore the body.
    if (path === '/gate/approve') {
      send(res, 200, 'Approved');
      return;
    }
    if (path === '/gate/halt') {
      send(res, 403, 'Forbidden');
      return;
    }
    const gate = /^\/(gate|rollback)\/(check|open|close)$/.exec(path);
    if (gate !== null) {
      await handleGate(gate[1] as GateKind, gate[2] ?? '', req, res);
      return;
    }
    if (path === '/') {
      if (method !== 'POST') throw new HttpError(405, 'POST a webhook payload to /');
      await handleTask(req, res);
      return;
    }
    throw new HttpError(404, `no route for ${path}`);
  };

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) send(res, err.status, `${err.message}\n`);
      else {
        log.error({ err }, 'load tester request failed');
        send(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    });
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(addr !== null && typeof addr === 'object' ? addr.port : (options.port ?? 0));
    });
  });
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await runs.close();
    server.closeAllConnections();
    await closed;
  };

  return {
    url: `http://${urlHost}:${port}`,
    port,
    metrics,
    close: () => (closing ??= shutdown()),
  };
}
