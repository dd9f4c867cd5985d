// The load tester as webhooks use it, all on 127.0.0.1: built-in HTTP load against a local server, gRPC load
// against the sandbox demo app, Flagger's gates and rollback gates, commands, metrics and bad requests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadTester, RunStatus } from '../../analysis/loadtester/index.js';
import { startLoadTester } from '../../analysis/loadtester/index.js';
import { callWebhook, validateWebhook } from '../../analysis/webhooks.js';
import type { DemoApp } from '../../sandbox/demo-app/app.js';
import { startDemoApp } from '../../sandbox/demo-app/app.js';
import { waitFor } from '../helpers/wait-for.js';

let lt: LoadTester;

beforeAll(async () => {
  lt = await startLoadTester({ port: 0, host: '127.0.0.1', commandTimeoutMs: 5000 });
});
afterAll(() => lt.close());

interface Answer {
  status: number;
  text: string;
}

async function post(path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${lt.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const payload = (metadata: Record<string, string>, name = 'podinfo', namespace = 'test') => ({
  name,
  namespace,
  phase: 'Progressing',
  checksum: 'c0ffee',
  metadata,
});

async function runs(): Promise<RunStatus[]> {
  const res = await fetch(`${lt.url}/runs`);
  return ((await res.json()) as { runs: RunStatus[] }).runs;
}

async function finishedRun(id: string): Promise<RunStatus> {
  return waitFor(async () => (await runs()).find((r) => r.id === id && r.state !== 'running'), {
    timeoutMs: 15_000,
    what: `run ${id} to finish`,
  });
}

function startedRunId(a: Answer): string {
  expect(a.status).toBe(202);
  const body = JSON.parse(a.text) as { started: boolean; run: RunStatus };
  expect(body.started).toBe(true);
  return body.run.id;
}

async function metricsText(): Promise<string> {
  return (await fetch(`${lt.url}/metrics`)).text();
}

/** A local target that records when each request arrived, by path. */
class Target {
  readonly arrivals = new Map<string, number[]>();
  private readonly server = http.createServer((req, res) => {
    const list = this.arrivals.get(req.url ?? '') ?? [];
    list.push(Date.now());
    this.arrivals.set(req.url ?? '', list);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  url = '';

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  count(path: string): number {
    return this.arrivals.get(path)?.length ?? 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('built-in HTTP load', () => {
  let target: Target;
  beforeAll(async () => {
    target = new Target();
    await target.listen();
  });
  afterAll(() => target.close());

  it('sends rps × duration requests (±10%) and then stops', async () => {
    // Started through a real webhook call, as the operator would.
    const v = validateWebhook({
      name: 'load',
      type: 'rollout',
      url: `${lt.url}/`,
      metadata: {
        type: 'http',
        target: `${target.url}/first`,
        rps: '200',
        duration: '2s',
        headers: 'x-test: 1',
      },
    });
    if (!v.ok) throw new Error(JSON.stringify(v.errors));
    const call = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'c0ffee' };
    expect(await callWebhook(v.value, call)).toEqual({ outcome: 'passed', status: 202, attempts: 1 });

    const running = (await runs()).find((r) => r.kind === 'http' && r.state === 'running');
    expect(running?.canary).toBe('podinfo.test');
    // The same load for the same canary is not started twice while it runs.
    const again = await post('/', payload(v.value.metadata));
    expect(again.status).toBe(202);
    expect(JSON.parse(again.text)).toMatchObject({ started: false, reason: 'already-running' });

    const run = await finishedRun(running?.id ?? '');
    const finishedAtMs = Date.parse(run.finishedAt ?? '');
    const arrived = target.count('/first');
    expect(arrived).toBeGreaterThanOrEqual(360);
    expect(arrived).toBeLessThanOrEqual(440);
    expect(run).toMatchObject({ state: 'succeeded', sent: arrived, codes: { '200': arrived } });
    expect(Math.max(...(target.arrivals.get('/first') ?? []))).toBeLessThanOrEqual(finishedAtMs);

    // A second, short load takes real time; the first must not have sent anything meanwhile.
    const second = startedRunId(
      await post(
        '/',
        payload({ type: 'http', target: `${target.url}/second`, rps: '50', duration: '300ms' }),
      ),
    );
    expect(await finishedRun(second)).toMatchObject({ state: 'succeeded', sent: 15 });
    expect(target.count('/second')).toBe(15);
    expect(target.count('/first')).toBe(arrived);

    const text = await metricsText();
    expect(text).toContain(
      `fledge_loadtester_requests_total{kind="http",target="${target.url}/first",code="200"} ${arrived}`,
    );
  });

  it('sends the method, headers and body it was given', async () => {
    const seen: { method: string; header: string; body: string }[] = [];
    const echo = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          header: String(req.headers['x-user'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(201).end();
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const port = (echo.address() as AddressInfo).port;
      const id = startedRunId(
        await post(
          '/',
          payload({
            type: 'http',
            target: `http://127.0.0.1:${port}/orders`,
            rps: '20',
            duration: '250ms',
            method: 'post',
            headers: '{"x-user": "canary-tester"}',
            body: '{"id":1}',
          }),
        ),
      );
      expect(await finishedRun(id)).toMatchObject({ state: 'succeeded', sent: 5, codes: { '201': 5 } });
      expect(seen).toHaveLength(5);
      expect(seen[0]).toEqual({ method: 'POST', header: 'canary-tester', body: '{"id":1}' });
    } finally {
      echo.closeAllConnections();
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });

  it('counts refused connections as errors and still ends', async () => {
    const gone = new Target();
    await gone.listen();
    const goneUrl = gone.url;
    await gone.close();
    const id = startedRunId(
      await post('/', payload({ type: 'http', target: `${goneUrl}/`, rps: '10', duration: '300ms' })),
    );
    expect(await finishedRun(id)).toMatchObject({ state: 'succeeded', sent: 3, codes: { error: 3 } });
  });

  it.each([
    [{ type: 'http', target: 'http://127.0.0.1:1/', duration: '1s' }, 'metadata.rps'],
    [{ type: 'http', target: 'http://127.0.0.1:1/', rps: '10', duration: 'forever' }, 'metadata.duration'],
    [
      { type: 'http', target: 'http://127.0.0.1:1/', rps: '5000', duration: '1s' },
      'metadata.rps must be at most',
    ],
    [{ type: 'http', target: 'ftp://127.0.0.1/', rps: '1', duration: '1s' }, 'metadata.target'],
    [{ type: 'grpc', target: 'http://127.0.0.1:1', rps: '1', duration: '1s' }, 'host:port'],
    [{ type: 'grpc', target: '127.0.0.1:1', rps: '1', duration: '1s', method: 'Shout' }, 'metadata.method'],
  ])('rejects a bad load spec %j with 400 naming the field', async (metadata, expected) => {
    const a = await post('/', payload(metadata));
    expect(a.status).toBe(400);
    expect(a.text).toContain(expected);
  });
});

describe('built-in gRPC load', () => {
  let app: DemoApp;
  beforeAll(async () => {
    app = await startDemoApp({ host: '127.0.0.1', httpPort: 0, grpcPort: 0, version: 'v1' });
  });
  afterAll(() => app.close());

  it('calls the demo app’s Echo at the requested rate and stops', async () => {
    const id = startedRunId(
      await post(
        '/',
        payload({ type: 'grpc', target: `127.0.0.1:${app.grpcPort}`, rps: '50', duration: '1s' }),
      ),
    );
    const run = await finishedRun(id);
    expect(run).toMatchObject({ kind: 'grpc', state: 'succeeded', sent: 50, codes: { OK: 50 } });
    // The server counted them too.
    const served = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
    const line = served
      .split('\n')
      .find((l) => l.startsWith('grpc_server_handled_total{') && l.includes('OK'));
    expect(Number(line?.split(' ').pop())).toBe(50);
  });
});

describe('gates', () => {
  it('the confirm gate is closed until opened, per canary', async () => {
    expect(await post('/gate/check', payload({}))).toEqual({ status: 403, text: 'Forbidden' });
    expect((await post('/gate/open', payload({}))).status).toBe(202);
    expect(await post('/gate/check', payload({}))).toEqual({ status: 200, text: 'Approved' });
    // Another canary (same name, other namespace) has its own gate.
    expect((await post('/gate/check', payload({}, 'podinfo', 'prod'))).status).toBe(403);
    // The rollback gate is separate.
    expect((await post('/rollback/check', payload({}))).status).toBe(403);
    expect((await post('/gate/close', payload({}))).status).toBe(202);
    expect((await post('/gate/check', payload({}))).status).toBe(403);
  });

  it('a confirm-promotion webhook pointed at /gate/check waits until the gate opens', async () => {
    const v = validateWebhook({ name: 'gate', type: 'confirm-promotion', url: `${lt.url}/gate/check` });
    if (!v.ok) throw new Error('invalid');
    const call = { name: 'frontend', namespace: 'shop', phase: 'Progressing', checksum: '1' };
    expect(await callWebhook(v.value, call)).toEqual({
      outcome: 'failed',
      status: 403,
      bodyExcerpt: 'Forbidden',
      attempts: 1,
    });
    await post('/gate/open', payload({}, 'frontend', 'shop'));
    expect(await callWebhook(v.value, call)).toEqual({ outcome: 'passed', status: 200, attempts: 1 });
  });

  it('approve always answers 200 and halt always 403', async () => {
    expect(await post('/gate/approve', payload({}))).toEqual({ status: 200, text: 'Approved' });
    expect(await post('/gate/halt', payload({}))).toEqual({ status: 403, text: 'Forbidden' });
  });

  it('the rollback gate is closed until opened, then a rollback check passes', async () => {
    const who = payload({}, 'checkout', 'shop');
    expect((await post('/rollback/check', who)).status).toBe(403);
    expect((await post('/rollback/open', who)).status).toBe(202);
    expect(await post('/rollback/check', who)).toEqual({ status: 200, text: 'Approved' });
    expect((await post('/gate/check', who)).status).toBe(403);
    expect((await post('/rollback/close', who)).status).toBe(202);
    expect((await post('/rollback/check', who)).status).toBe(403);
  });

  it('a gate call without the canary’s name and namespace is a 400', async () => {
    expect((await post('/gate/open', { name: 'podinfo' })).status).toBe(400);
    expect((await post('/gate/check', 'not json')).status).toBe(400);
  });
});

describe('commands', () => {
  it('bash runs while the caller waits: 200 with the output when asked', async () => {
    const a = await post(
      '/',
      payload({ type: 'bash', cmd: 'echo "hello $((6*7))"', returnCmdOutput: 'true' }),
    );
    expect(a).toEqual({ status: 200, text: 'hello 42\n' });
  });

  it('a failing bash command is a 500 with the exit status and its output', async () => {
    const a = await post('/', payload({ type: 'bash', cmd: 'echo "no canary found" >&2; exit 3' }));
    expect(a.status).toBe(500);
    expect(a.text).toContain('exit status 3');
    expect(a.text).toContain('no canary found');
  });

  it('a bash command that outlives the command timeout is killed and reported', async () => {
    const quick = await startLoadTester({ host: '127.0.0.1', commandTimeoutMs: 300 });
    try {
      const res = await fetch(`${quick.url}/`, {
        method: 'POST',
        body: JSON.stringify(payload({ type: 'bash', cmd: 'sleep 30' })),
      });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain('timed out after 300 ms');
      const text = await (await fetch(`${quick.url}/metrics`)).text();
      expect(text).toContain('fledge_loadtester_commands_total{type="bash",result="timeout"} 1');
    } finally {
      await quick.close();
    }
  });

  it('cmd runs in the background (202 at once, like Flagger) and its result is recorded', async () => {
    const ok = startedRunId(await post('/', payload({ cmd: 'echo fine' })));
    expect(await finishedRun(ok)).toMatchObject({ kind: 'cmd', what: 'echo fine', state: 'succeeded' });

    const bad = startedRunId(await post('/', payload({ type: 'cmd', cmd: 'echo broken; exit 7' })));
    const failed = await finishedRun(bad);
    expect(failed).toMatchObject({ kind: 'cmd', state: 'failed', canary: 'podinfo.test' });
    expect(failed.message).toContain('exit status 7');
    expect(failed.message).toContain('broken');
    const text = await metricsText();
    expect(text).toContain('fledge_loadtester_commands_total{type="cmd",result="success"} 1');
    expect(text).toContain('fledge_loadtester_commands_total{type="cmd",result="failure"} 1');
  });

  it('rejects payloads Flagger’s load tester rejects', async () => {
    expect(await post('/', payload({}))).toMatchObject({
      status: 400,
      text: 'metadata not found in payload\n',
    });
    expect(await post('/', payload({ type: 'cmd' }))).toMatchObject({
      status: 400,
      text: 'cmd not found in metadata\n',
    });
    const unknown = await post('/', payload({ type: 'helmv3', cmd: 'test run podinfo' }));
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('unknown task type helmv3');
  });
});

describe('service', () => {
  it('answers /healthz and serves its metrics', async () => {
    const health = await fetch(`${lt.url}/healthz`);
    expect(health.status).toBe(200);
    const text = await metricsText();
    expect(text).toContain('# TYPE fledge_loadtester_requests_total counter');
    expect(text).toContain('# TYPE fledge_loadtester_commands_total counter');
    expect(text).toContain('fledge_loadtester_gate_checks_total{gate="gate",answer="open"}');
  });

  it('close() stops a running load and ends', async () => {
    const own = await startLoadTester({ host: '127.0.0.1' });
    const target = new Target();
    await target.listen();
    try {
      const res = await fetch(`${own.url}/`, {
        method: 'POST',
        body: JSON.stringify(
          payload({ type: 'http', target: `${target.url}/long`, rps: '20', duration: '10m' }),
        ),
      });
      expect(res.status).toBe(202);
      await waitFor(() => target.count('/long') >= 3, { what: 'the long load to start' });
      await own.close();
      const afterClose = target.count('/long');
      // The probe load takes real time: had the closed run kept sending, /long would have grown meanwhile.
      const check = await startLoadTester({ host: '127.0.0.1' });
      try {
        const r = await fetch(`${check.url}/`, {
          method: 'POST',
          body: JSON.stringify(
            payload({ type: 'http', target: `${target.url}/probe`, rps: '20', duration: '250ms' }),
          ),
        });
        expect(r.status).toBe(202);
        await waitFor(() => target.count('/probe') === 5, { what: 'the probe load' });
      } finally {
        await check.close();
      }
      expect(target.count('/long')).toBe(afterClose);
    } finally {
      await target.close();
    }
  });
});
