// Tests of the sandbox demo app: settings parsing, the in-process app over real HTTP and gRPC clients, and
// main.ts as the process the sandbox kubelet starts (signals and exit codes).
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoApp, DemoAppConfig } from '../../sandbox/demo-app/app.js';
import { parseConfig, startDemoApp } from '../../sandbox/demo-app/app.js';
import { pickLatencyMs, SETTINGS } from '../../sandbox/demo-app/config.js';
import { DEMO_SERVICE_NAME, DemoClient } from '../../sandbox/demo-app/proto.js';
import { waitFor } from '../helpers/wait-for.js';

const MAIN = fileURLToPath(new URL('../../sandbox/demo-app/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

// ---------------------------------------------------------------------------------------------------------
// helpers

/** Sum of the samples of `name` whose labels include `labels` (0 when none match). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = new Map<string, string>();
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) got.set(l[1] ?? '', l[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

async function metricsText(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Runs `count` calls of `fn`, at most `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

function healthCheck(target: string, serviceName: string): Promise<{ status: string } | { code: number }> {
  const check = healthService['Check'];
  if (check === undefined) throw new Error('grpc-health-check has no Check method');
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      check.path,
      (req: { service: string }) => check.requestSerialize(req),
      (buf: Buffer) => check.responseDeserialize(buf),
      { service: serviceName },
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (err, value) => {
        client.close();
        if (err) resolve({ code: err.code });
        else resolve({ status: String((value as { status?: unknown } | undefined)?.status) });
      },
    );
  });
}

const apps: DemoApp[] = [];
async function startApp(config: Partial<DemoAppConfig>, shutdownGraceMs?: number): Promise<DemoApp> {
  const app = await startDemoApp(
    { host: '127.0.0.1', httpPort: 0, grpcPort: 0, podName: 'demo-abc', namespace: 'test', ...config },
    shutdownGraceMs === undefined ? {} : { shutdownGraceMs },
  );
  apps.push(app);
  return app;
}
const httpBase = (app: DemoApp): string => `http://${app.host}:${app.httpPort}`;
const grpcTarget = (app: DemoApp): string => `${app.host}:${app.grpcPort}`;

const children = new Set<ChildProcess>();

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(apps.map((a) => a.close()));
});

// ---------------------------------------------------------------------------------------------------------
// parseConfig

describe('parseConfig', () => {
  it('gives the defaults when nothing is set', () => {
    expect(parseConfig({}, [])).toEqual({
      ok: true,
      value: {
        host: '127.0.0.1',
        podName: hostname(),
        namespace: 'default',
        httpPort: 8080,
        grpcPort: 9090,
        version: 'dev',
        errorRate: 0,
        latency: { minMs: 0, maxMs: 0 },
        ready: true,
        exitAfterMs: undefined,
        failStart: false,
        drainMs: 0,
      },
    });
  });

  it('reads every environment variable of the kubelet contract', () => {
    const r = parseConfig(
      {
        FLEDGE_POD_IP: '127.3.4.5',
        FLEDGE_POD_NAME: 'web-7d9f-abc',
        FLEDGE_POD_NAMESPACE: 'shop',
        FLEDGE_PORT_HTTP: '18080',
        FLEDGE_PORT_GRPC: '0',
        VERSION: '1.2.3',
        ERROR_RATE: '0.25',
        LATENCY_MS: '50-150',
        READY: 'false',
        EXIT_AFTER_MS: '3000',
        FAIL_START: 'true',
        DRAIN_MS: '2000',
      },
      [],
    );
    expect(r).toEqual({
      ok: true,
      value: {
        host: '127.3.4.5',
        podName: 'web-7d9f-abc',
        namespace: 'shop',
        httpPort: 18080,
        grpcPort: 0,
        version: '1.2.3',
        errorRate: 0.25,
        latency: { minMs: 50, maxMs: 150 },
        ready: false,
        exitAfterMs: 3000,
        failStart: true,
        drainMs: 2000,
      },
    });
  });

  const valid: [string, Record<string, string>, string[], Partial<DemoAppConfig>][] = [
    [
      'args win over env',
      { ERROR_RATE: '0.5', VERSION: 'v1' },
      ['--error-rate=0.2', '--version=v2'],
      { errorRate: 0.2, version: 'v2' },
    ],
    ['flag value as the next argument', {}, ['--latency-ms', '40-60'], { latency: { minMs: 40, maxMs: 60 } }],
    ['fixed latency', { LATENCY_MS: '50' }, [], { latency: { minMs: 50, maxMs: 50 } }],
    ['fractional latency range', { LATENCY_MS: '0.5-2.5' }, [], { latency: { minMs: 0.5, maxMs: 2.5 } }],
    ['bare boolean flag', {}, ['--fail-start'], { failStart: true }],
    ['--ready=false', { READY: 'true' }, ['--ready=false'], { ready: false }],
    ['READY=FALSE (any case)', { READY: 'FALSE' }, [], { ready: false }],
    ['READY=0', { READY: '0' }, [], { ready: false }],
    ['empty env value means unset', { ERROR_RATE: '', VERSION: '' }, [], { errorRate: 0, version: 'dev' }],
    ['ERROR_RATE=1', { ERROR_RATE: '1' }, [], { errorRate: 1 }],
    ['ERROR_RATE=.5', { ERROR_RATE: '.5' }, [], { errorRate: 0.5 }],
    ['IPv6 pod IP', { FLEDGE_POD_IP: '::1' }, [], { host: '::1' }],
    ['port 65535', { FLEDGE_PORT_HTTP: '65535' }, [], { httpPort: 65535 }],
    ['EXIT_AFTER_MS=0', { EXIT_AFTER_MS: '0' }, [], { exitAfterMs: 0 }],
    [
      'every flag',
      {},
      ['--pod-ip=127.9.9.9', '--pod-name=p', '--pod-namespace=n', '--port-http=1', '--port-grpc=2'],
      { host: '127.9.9.9', podName: 'p', namespace: 'n', httpPort: 1, grpcPort: 2 },
    ],
  ];
  it.each(valid)('accepts %s', (_name, env, argv, expected) => {
    const r = parseConfig(env, argv);
    expect(r.ok ? r.value : r.message).toMatchObject(expected);
  });

  const invalid: [Record<string, string>, string[], string][] = [
    [{ ERROR_RATE: 'abc' }, [], 'ERROR_RATE must be a number between 0 and 1, got "abc"'],
    [{ ERROR_RATE: '1.5' }, [], 'ERROR_RATE must be a number between 0 and 1, got "1.5"'],
    [{ ERROR_RATE: '-0.1' }, [], 'ERROR_RATE must be a number between 0 and 1, got "-0.1"'],
    [{ ERROR_RATE: '1e-1' }, [], 'ERROR_RATE must be a number between 0 and 1, got "1e-1"'],
    [{}, ['--error-rate=abc'], '--error-rate must be a number between 0 and 1, got "abc"'],
    [{ LATENCY_MS: '150-50' }, [], 'LATENCY_MS must be a number of milliseconds or a range like "50-150"'],
    [{ LATENCY_MS: '-5' }, [], 'LATENCY_MS must be'],
    [{ LATENCY_MS: '1-2-3' }, [], 'LATENCY_MS must be'],
    [{ LATENCY_MS: 'slow' }, [], 'LATENCY_MS must be'],
    [{ LATENCY_MS: '700000' }, [], 'LATENCY_MS must be'],
    [
      { FLEDGE_PORT_HTTP: '65536' },
      [],
      'FLEDGE_PORT_HTTP must be a port number between 0 and 65535, got "65536"',
    ],
    [{ FLEDGE_PORT_GRPC: '90a' }, [], 'FLEDGE_PORT_GRPC must be a port number'],
    [{ FLEDGE_POD_IP: 'localhost' }, [], 'FLEDGE_POD_IP must be an IPv4 or IPv6 address, got "localhost"'],
    [{ FLEDGE_POD_IP: '127.0.0.256' }, [], 'FLEDGE_POD_IP must be an IPv4 or IPv6 address'],
    [{ READY: 'maybe' }, [], 'READY must be "true" or "false", got "maybe"'],
    [{ FAIL_START: 'yes please' }, [], 'FAIL_START must be "true" or "false"'],
    [{ EXIT_AFTER_MS: '1.5' }, [], 'EXIT_AFTER_MS must be a whole number of milliseconds'],
    [{}, ['--version='], '--version must be a non-empty string, got ""'],
    [{}, ['--version'], '--version needs a value'],
    [{}, ['--nope=1'], 'unknown argument "--nope=1"'],
    [{}, ['v2'], 'unexpected argument "v2"'],
  ];
  it.each(invalid)('rejects %j %j', (env, argv, message) => {
    const r = parseConfig(env, argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('reports every invalid value, one per line', () => {
    const r = parseConfig({ ERROR_RATE: 'abc', READY: 'x' }, ['--port-http=-1']);
    expect(r.ok ? [] : r.message.split('\n')).toEqual([
      '--port-http must be a port number between 0 and 65535, got "-1"',
      'ERROR_RATE must be a number between 0 and 1, got "abc"',
      'READY must be "true" or "false", got "x"',
    ]);
  });

  it('has one distinct environment variable and flag per setting', () => {
    const settings = Object.values(SETTINGS);
    expect(new Set(settings.map((s) => s.env)).size).toBe(settings.length);
    expect(new Set(settings.map((s) => s.flag)).size).toBe(settings.length);
  });

  it('draws latency uniformly from the range', () => {
    const range = { minMs: 50, maxMs: 150 };
    expect([0, 0.5, 0.999].map((r) => pickLatencyMs(range, () => r))).toEqual([50, 100, 149.9]);
    expect(pickLatencyMs({ minMs: 20, maxMs: 20 }, () => 0.7)).toBe(20);
  });
});

// ---------------------------------------------------------------------------------------------------------
// the app in-process

describe('startDemoApp over HTTP', () => {
  it('reports bound ports and answers /, /healthz, /readyz, 404', async () => {
    const app = await startApp({ version: 'v2' });
    expect(app.httpPort).toBeGreaterThan(0);
    expect(app.grpcPort).toBeGreaterThan(0);
    expect(app.grpcPort).not.toBe(app.httpPort);
    const base = httpBase(app);

    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('application/json');
    expect(await root.json()).toEqual({
      version: 'v2',
      pod: 'demo-abc',
      namespace: 'test',
      hostname: hostname(),
    });

    const healthz = await fetch(`${base}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, 'ok']);
    const readyz = await fetch(`${base}/readyz`);
    expect([readyz.status, await readyz.text()]).toEqual([200, 'ok']);
    expect((await fetch(`${base}/nope?x=1`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);

    const text = await metricsText(base);
    expect(
      sample(text, 'http_requests_total', { method: 'GET', path: '/', code: '200', version: 'v2' }),
    ).toBe(1);
    expect(sample(text, 'http_requests_total', { method: 'GET', path: 'other', code: '404' })).toBe(1);
    expect(sample(text, 'http_requests_total', { method: 'POST', path: '/', code: '404' })).toBe(1);
    // Every series carries the version label.
    const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(series.length).toBeGreaterThan(10);
    expect(series.filter((l) => !l.includes('version="v2"'))).toEqual([]);
  });

  it('answers about ERROR_RATE of / with 500, and counts them exactly', async () => {
    const app = await startApp({ version: 'v3', errorRate: 0.2 });
    const base = httpBase(app);
    const n = 500;
    const codes = await pool(n, 25, async () => {
      const res = await fetch(`${base}/`);
      const body = (await res.json()) as { version?: string };
      expect(body.version).toBe('v3');
      return res.status;
    });
    const failed = codes.filter((c) => c === 500).length;
    expect(codes.filter((c) => c !== 500 && c !== 200)).toEqual([]);
    // Binomial(500, 0.2): mean 100, standard deviation 8.9; ±40 is 4.5 standard deviations.
    expect(failed).toBeGreaterThanOrEqual(60);
    expect(failed).toBeLessThanOrEqual(140);

    const text = await metricsText(base);
    const labels = { method: 'GET', path: '/', version: 'v3' };
    expect(sample(text, 'http_requests_total', { ...labels, code: '500' })).toBe(failed);
    expect(sample(text, 'http_requests_total', { ...labels, code: '200' })).toBe(n - failed);
    expect(sample(text, 'http_request_duration_seconds_count', labels)).toBe(n);
    // No added latency: nearly all of them are fast (a contrast to the LATENCY_MS test).
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...labels, le: '0.05' })).toBeGreaterThan(
      0.9 * n,
    );
  });

  it('adds LATENCY_MS to / only, visible in the histogram', async () => {
    const app = await startApp({ latency: { minMs: 100, maxMs: 120 } });
    const base = httpBase(app);
    await pool(10, 5, async () => expect((await fetch(`${base}/`)).status).toBe(200));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const text = await metricsText(base);
    const root = { path: '/', code: '200' };
    expect(sample(text, 'http_request_duration_seconds_count', root)).toBe(10);
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...root, le: '0.05' })).toBe(0);
    expect(sample(text, 'http_request_duration_seconds_sum', root)).toBeGreaterThanOrEqual(10 * 0.099);
    const healthz = { path: '/healthz', code: '200' };
    expect(sample(text, 'http_request_duration_seconds_bucket', { ...healthz, le: '0.05' })).toBe(1);
  });

  it('answers /readyz 503 with READY=false, and follows setReady', async () => {
    const app = await startApp({ ready: false });
    const base = httpBase(app);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    app.setReady(true);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('finishes an in-flight request on close() while refusing new connections', async () => {
    const app = await startApp({ version: 'v4', latency: { minMs: 300, maxMs: 300 } });
    const base = httpBase(app);
    const slow = fetch(`${base}/`);
    await waitFor(
      async () => sample(await metricsText(base), 'http_requests_in_flight', { path: '/' }) === 1,
      {
        what: 'the slow request to arrive',
      },
    );
    const closed = app.close();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const res = await slow;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ version: 'v4' });
    await closed;
  });

  it('cuts requests still running when the grace period ends', async () => {
    const app = await startApp({ latency: { minMs: 20_000, maxMs: 20_000 } }, 200);
    const base = httpBase(app);
    const slow = fetch(`${base}/`).then(
      (r) => r.status,
      () => 'cut',
    );
    await waitFor(
      async () => sample(await metricsText(base), 'http_requests_in_flight', { path: '/' }) === 1,
      {
        what: 'the slow request to arrive',
      },
    );
    const startedAt = Date.now();
    await app.close();
    expect(Date.now() - startedAt).toBeLessThan(5000);
    expect(await slow).toBe('cut');
  });
});

describe('startDemoApp over gRPC', () => {
  it('echoes with version and pod', async () => {
    const app = await startApp({ version: 'v2' });
    const client = new DemoClient(grpcTarget(app));
    try {
      expect(await client.echo({ message: 'hello' })).toEqual({
        ok: true,
        value: { message: 'hello', version: 'v2', pod: 'demo-abc' },
      });
      expect(await client.echo({ message: '' })).toMatchObject({ ok: true, value: { message: '' } });
    } finally {
      client.close();
    }
    const text = await metricsText(httpBase(app));
    const labels = { grpc_service: DEMO_SERVICE_NAME, grpc_method: 'Echo', version: 'v2' };
    expect(sample(text, 'grpc_server_handled_total', { ...labels, grpc_code: 'OK' })).toBe(2);
    expect(sample(text, 'grpc_server_handling_seconds_count', labels)).toBe(2);
  });

  it('fails about ERROR_RATE of calls with UNAVAILABLE, and counts them exactly', async () => {
    const app = await startApp({ version: 'v5', errorRate: 0.2 });
    const client = new DemoClient(grpcTarget(app));
    const n = 400;
    const results = await pool(n, 25, (i) => client.echo({ message: `m${i}` })).finally(() => client.close());
    const failures = results.filter((r) => !r.ok);
    expect(failures.filter((r) => r.code !== grpc.status.UNAVAILABLE)).toEqual([]);
    expect(failures[0]).toMatchObject({
      codeName: 'UNAVAILABLE',
      details: 'injected failure (ERROR_RATE=0.2)',
    });
    // Binomial(400, 0.2): mean 80, standard deviation 8; ±36 is 4.5 standard deviations.
    expect(failures.length).toBeGreaterThanOrEqual(44);
    expect(failures.length).toBeLessThanOrEqual(116);
    expect(results.filter((r) => r.ok && r.value.version !== 'v5')).toEqual([]);

    const text = await metricsText(httpBase(app));
    const labels = { grpc_service: DEMO_SERVICE_NAME, grpc_method: 'Echo', version: 'v5' };
    expect(sample(text, 'grpc_server_handled_total', { ...labels, grpc_code: 'UNAVAILABLE' })).toBe(
      failures.length,
    );
    expect(sample(text, 'grpc_server_handled_total', { ...labels, grpc_code: 'OK' })).toBe(
      n - failures.length,
    );
  });

  it('adds LATENCY_MS to Echo, visible in the histogram', async () => {
    const app = await startApp({ latency: { minMs: 100, maxMs: 100 } });
    const client = new DemoClient(grpcTarget(app));
    try {
      const results = await Promise.all([1, 2, 3].map(() => client.echo({ message: 'x' })));
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    } finally {
      client.close();
    }
    const text = await metricsText(httpBase(app));
    expect(sample(text, 'grpc_server_handling_seconds_count', { grpc_method: 'Echo' })).toBe(3);
    expect(sample(text, 'grpc_server_handling_seconds_bucket', { grpc_method: 'Echo', le: '0.05' })).toBe(0);
  });

  it('reports health SERVING, or NOT_SERVING with READY=false, for "" and the Demo service', async () => {
    const ready = await startApp({});
    const notReady = await startApp({ ready: false });
    for (const service of ['', DEMO_SERVICE_NAME]) {
      expect(await healthCheck(grpcTarget(ready), service)).toEqual({ status: 'SERVING' });
      expect(await healthCheck(grpcTarget(notReady), service)).toEqual({ status: 'NOT_SERVING' });
    }
    expect(await healthCheck(grpcTarget(ready), 'no.such.Service')).toEqual({ code: grpc.status.NOT_FOUND });
    notReady.setReady(true);
    expect(await healthCheck(grpcTarget(notReady), DEMO_SERVICE_NAME)).toEqual({ status: 'SERVING' });
  });
});

// ---------------------------------------------------------------------------------------------------------
// main.ts as a process

interface Spawned {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
}

/** Starts main.ts with only the given settings (the test runner's own VERSION etc. are left out). */
function spawnMain(settings: Record<string, string>, args: string[] = []): Spawned {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete env[s.env];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: REPO,
    env: { ...env, ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const stdout: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines);
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, stdout, stderr: () => stderr };
}

/** The child's exit code (or the signal that killed it); SIGKILLs it and throws when it outlives `timeoutMs`. */
async function exitCode(child: ChildProcess, timeoutMs = 10_000): Promise<number | NodeJS.Signals> {
  // Wrapped in an object: waitFor waits for a truthy value, and exit code 0 is not one.
  const exited = await waitFor(
    () => {
      const code = child.exitCode ?? child.signalCode;
      return code === null ? undefined : { code };
    },
    { timeoutMs, what: 'the demo app to exit' },
  ).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return exited.code;
}

function logLine(p: Spawned, msg: string): Record<string, unknown> | undefined {
  for (const line of p.stdout) {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed['msg'] === msg) return parsed;
  }
  return undefined;
}

describe('main.ts', () => {
  it('listens on FLEDGE_POD_IP, serves HTTP and gRPC, and exits 0 on SIGTERM after finishing requests', async () => {
    const p = spawnMain(
      {
        FLEDGE_POD_IP: '127.20.0.1',
        FLEDGE_PORT_HTTP: '0',
        FLEDGE_PORT_GRPC: '0',
        FLEDGE_POD_NAME: 'web-1',
        FLEDGE_POD_NAMESPACE: 'demo',
        VERSION: 'v1',
        LATENCY_MS: '300',
      },
      ['--version=v3'],
    );
    let client: DemoClient | undefined;
    try {
      const listening = await waitFor(() => logLine(p, 'listening'), { what: `"listening" (${p.stderr()})` });
      expect(listening).toMatchObject({ host: '127.20.0.1', version: 'v3', pod: 'web-1', namespace: 'demo' });
      const base = `http://127.20.0.1:${Number(listening['http'])}`;
      expect(await (await fetch(`${base}/`)).json()).toMatchObject({
        version: 'v3',
        pod: 'web-1',
        namespace: 'demo',
      });
      client = new DemoClient(`127.20.0.1:${Number(listening['grpc'])}`);
      expect(await client.echo({ message: 'hi' })).toEqual({
        ok: true,
        value: { message: 'hi', version: 'v3', pod: 'web-1' },
      });
      expect(await healthCheck(`127.20.0.1:${Number(listening['grpc'])}`, '')).toEqual({ status: 'SERVING' });

      const slow = fetch(`${base}/`);
      await waitFor(
        async () => sample(await metricsText(base), 'http_requests_in_flight', { path: '/' }) === 1,
        {
          what: 'the slow request to arrive',
        },
      );
      p.child.kill('SIGTERM');
      expect((await slow).status).toBe(200);
      expect(await exitCode(p.child, 3000)).toBe(0);
      expect(logLine(p, 'stopped')).toMatchObject({ signal: 'SIGTERM', version: 'v3' });
    } finally {
      client?.close();
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  it('with DRAIN_MS, keeps answering after SIGTERM while reporting not ready, then exits 0', async () => {
    const p = spawnMain({
      FLEDGE_POD_IP: '127.20.0.2',
      FLEDGE_PORT_HTTP: '0',
      FLEDGE_PORT_GRPC: '0',
      VERSION: 'v1',
      DRAIN_MS: '1500',
    });
    let client: DemoClient | undefined;
    try {
      const listening = await waitFor(() => logLine(p, 'listening'), { what: `"listening" (${p.stderr()})` });
      const base = `http://127.20.0.2:${Number(listening['http'])}`;
      client = new DemoClient(`127.20.0.2:${Number(listening['grpc'])}`);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      p.child.kill('SIGTERM');
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, { what: 'readyz 503' });
      // Not ready, still serving: new HTTP requests and gRPC calls are answered during the drain.
      expect((await fetch(`${base}/`)).status).toBe(200);
      expect(await client.echo({ message: 'during drain' })).toMatchObject({ ok: true });
      expect(p.child.exitCode).toBeNull();
      expect(await exitCode(p.child, 5000)).toBe(0);
    } finally {
      client?.close();
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  it('exits 2 with a clear message on invalid settings', async () => {
    const p = spawnMain({ ERROR_RATE: 'abc' }, ['--latency-ms=slow']);
    expect(await exitCode(p.child)).toBe(2);
    expect(p.stderr()).toContain('ERROR_RATE must be a number between 0 and 1, got "abc"');
    expect(p.stderr()).toContain('--latency-ms must be');
    expect(p.stdout.join('')).toBe('');
  });

  it('exits 1 at once with FAIL_START=true', async () => {
    const p = spawnMain({ FAIL_START: 'true', FLEDGE_PORT_HTTP: '0', FLEDGE_PORT_GRPC: '0' });
    expect(await exitCode(p.child)).toBe(1);
    expect(logLine(p, 'listening')).toBeUndefined();
    expect(p.stderr()).toContain('FAIL_START');
  });

  it('exits 1 after EXIT_AFTER_MS', async () => {
    const p = spawnMain({
      EXIT_AFTER_MS: '100',
      FLEDGE_POD_IP: '127.20.0.2',
      FLEDGE_PORT_HTTP: '0',
      FLEDGE_PORT_GRPC: '0',
    });
    expect(await exitCode(p.child)).toBe(1);
    expect(logLine(p, 'listening')).toBeDefined();
    expect(logLine(p, 'exiting')).toMatchObject({ reason: 'EXIT_AFTER_MS', exitAfterMs: 100 });
  });
});
