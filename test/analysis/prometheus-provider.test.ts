// The Prometheus metric provider against a real Prometheus scraping an in-test prom-client exporter, and against
// tiny local HTTP(S) servers for what a stock Prometheus cannot show: credentials, HTML, 401, stalls, TLS.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../analysis/providers/provider.js';
import type { MetricsProvider, ProviderSettings } from '../../analysis/types.js';
import type { PrometheusHandle } from '../../sandbox/prometheus.js';
import { ensurePrometheusInstalled, startPrometheus } from '../../sandbox/prometheus.js';
import { waitFor } from '../helpers/wait-for.js';

function provider(settings: Omit<ProviderSettings, 'type'>): MetricsProvider {
  const created = createProvider({ type: 'prometheus', ...settings });
  if (!created.ok) throw new Error(created.message);
  return created.value;
}

interface Server {
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server | https.Server, scheme: 'http' | 'https'): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A prom-client exporter: one gauge, and a counter with two series (code 200 and 500). */
async function startExporter(): Promise<Server & { target: string }> {
  const registry = new Registry();
  new Gauge({ name: 'fledge_test_ratio', help: 'A constant.', registers: [registry] }).set(0.97);
  const requests = new Counter({
    name: 'fledge_test_requests_total',
    help: 'Requests by code.',
    labelNames: ['code'],
    registers: [registry],
  });
  requests.inc({ code: '200' }, 40);
  requests.inc({ code: '500' }, 2);
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  const s = await listen(server, 'http');
  return { ...s, target: s.url.replace('http://', '') };
}

const ONE_SAMPLE = JSON.stringify({
  status: 'success',
  data: { resultType: 'vector', result: [{ metric: { app: 'web' }, value: [1700000000.123, '7'] }] },
});

/**
 * Answers like Prometheus' query API with one sample of 7 and records each request's headers. By path prefix:
 * /html answers an HTML page, /unauthorized 401, /stall never answers.
 */
function prometheusLikeHandler(seen: { url: string; headers: IncomingHttpHeaders }[]): http.RequestListener {
  return (req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const url = req.url ?? '';
    if (url.startsWith('/stall/')) return; // answered never; closeAllConnections() ends it
    if (url.startsWith('/html/')) {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><html><body>Sign in</body></html>');
      return;
    }
    if (url.startsWith('/unauthorized/')) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(ONE_SAMPLE);
  };
}

/** A port that was free a moment ago and is closed now: connections to it are refused. */
async function closedPort(): Promise<number> {
  const s = await listen(http.createServer(), 'http');
  await s.close();
  return Number(new URL(s.url).port);
}

describe('PrometheusProvider against a real Prometheus', () => {
  let prom: PrometheusHandle;
  let exporter: Server & { target: string };
  let p: MetricsProvider;

  beforeAll(async () => {
    // Installs the Debian package on a fresh machine; a no-op when it is there.
    await ensurePrometheusInstalled();
    exporter = await startExporter();
    prom = await startPrometheus({
      scrapeIntervalMs: 200,
      targets: [{ targets: [exporter.target], labels: { app: 'demo' } }],
    });
    p = provider({ address: prom.url, timeoutMs: 5_000 });
    await waitFor(async () => (await prom.query('fledge_test_requests_total')).length === 2, {
      timeoutMs: 20_000,
      what: 'the exporter scraped',
    });
  }, 600_000);

  afterAll(async () => {
    await Promise.all([prom?.stop(), exporter?.close()]);
  });

  it('returns the value of a one-sample vector', async () => {
    expect(await p.query('fledge_test_ratio{app="demo"}')).toEqual({ kind: 'value', value: 0.97 });
    expect(await p.query('sum(fledge_test_requests_total)')).toEqual({ kind: 'value', value: 42 });
  });

  it('returns the value of a scalar result', async () => {
    expect(await p.query('scalar(fledge_test_ratio) * 100')).toEqual({ kind: 'value', value: 97 });
  });

  it('reports no-data for an empty vector and for NaN', async () => {
    const empty = await p.query('fledge_test_ratio{app="no-such-app"}');
    expect(empty.kind).toBe('no-data');
    expect(empty).toHaveProperty('message', expect.stringMatching(/no series/));

    const nan = await p.query('fledge_test_ratio / 0 * 0');
    expect(nan).toEqual({ kind: 'no-data', message: expect.stringMatching(/NaN/) as unknown });
  });

  it('reports multiple-series with the series named', async () => {
    const r = await p.query('fledge_test_requests_total');
    expect(r.kind).toBe('multiple-series');
    if (r.kind !== 'multiple-series') return;
    expect(r.count).toBe(2);
    expect(r.message).toContain('code="200"');
    expect(r.message).toContain('code="500"');
    expect(r.message).toMatch(/sum\(/);
  });

  it('reports a PromQL syntax error as bad-query with Prometheus’ message', async () => {
    const r = await p.query('sum(rate(fledge_test_requests_total[1m])');
    expect(r.kind).toBe('bad-query');
    expect(r).toHaveProperty(
      'message',
      expect.stringMatching(
        new RegExp(`^Prometheus at ${prom.url} rejected the query \\(HTTP 400\\): bad_data: .*parse error`),
      ),
    );
  });

  it('reports range vectors and strings as bad-query', async () => {
    expect(await p.query('fledge_test_ratio[1m]')).toEqual({
      kind: 'bad-query',
      message: expect.stringMatching(/range vector/) as unknown,
    });
    expect(await p.query('"some text"')).toEqual({
      kind: 'bad-query',
      message: expect.stringMatching(/a string, not a number/) as unknown,
    });
  });

  it('is healthy', async () => {
    expect(await p.health()).toEqual({ ok: true });
  });

  it('reports a closed port as unreachable, in query and health', async () => {
    const port = await closedPort();
    const down = provider({ address: `http://127.0.0.1:${port}` });
    const r = await down.query('up');
    expect(r).toEqual({
      kind: 'unreachable',
      message: expect.stringMatching(
        new RegExp(`^Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable: connect ECONNREFUSED`),
      ) as unknown,
    });
    const h = await down.health();
    expect(h.ok).toBe(false);
    expect(h).toHaveProperty('message', expect.stringMatching(/ECONNREFUSED/));
  });
});

describe('PrometheusProvider requests', () => {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let server: Server;

  beforeAll(async () => {
    server = await listen(http.createServer(prometheusLikeHandler(seen)), 'http');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends basic auth from username/password and the custom headers, under the address path', async () => {
    seen.length = 0;
    const p = provider({
      address: `${server.url}/prefix/`,
      secret: { username: 'alice', password: 's3cret:x' },
      headers: { 'X-Scope-OrgID': 'tenant-a', Authorization: 'overridden by the secret' },
    });
    expect(await p.query('sum(rate(http_requests_total{code=~"5.."}[1m]))')).toEqual({
      kind: 'value',
      value: 7,
    });
    expect(seen).toHaveLength(1);
    const req = seen[0];
    const url = new URL(req?.url ?? '', server.url);
    expect(url.pathname).toBe('/prefix/api/v1/query');
    expect(url.searchParams.get('query')).toBe('sum(rate(http_requests_total{code=~"5.."}[1m]))');
    expect(req?.headers['authorization']).toBe(`Basic ${Buffer.from('alice:s3cret:x').toString('base64')}`);
    expect(req?.headers['x-scope-orgid']).toBe('tenant-a');
  });

  it('sends a bearer token from the secret key token', async () => {
    seen.length = 0;
    const p = provider({ address: server.url, secret: { token: 'tok-123' } });
    expect(await p.query('up')).toEqual({ kind: 'value', value: 7 });
    expect(seen[0]?.headers['authorization']).toBe('Bearer tok-123');
  });

  it('sends no Authorization header without a secret', async () => {
    seen.length = 0;
    expect(await provider({ address: server.url }).query('up')).toEqual({ kind: 'value', value: 7 });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers).not.toHaveProperty('authorization');
  });

  it('reports an HTML answer as unreachable, asking about the address', async () => {
    const r = await provider({ address: `${server.url}/html` }).query('up');
    expect(r).toEqual({
      kind: 'unreachable',
      message: `Prometheus at ${server.url}/html answered HTML, not JSON: is the address right?`,
    });
  });

  it('reports 401 as unauthorized, naming the secret keys to check', async () => {
    const r = await provider({ address: `${server.url}/unauthorized`, secret: { token: 't' } }).query('up');
    expect(r).toEqual({
      kind: 'unauthorized',
      message: `Prometheus at ${server.url}/unauthorized refused the credentials (HTTP 401: Unauthorized): check the secret key "token"`,
    });
  });

  it('gives up after timeoutMs, and at once when the caller aborts', async () => {
    const stalled = provider({ address: `${server.url}/stall`, timeoutMs: 150 });
    const started = Date.now();
    const r = await stalled.query('up');
    expect(r).toEqual({
      kind: 'unreachable',
      message: `Prometheus at ${server.url}/stall did not answer within 150 ms`,
    });
    expect(Date.now() - started).toBeLessThan(5_000);

    const slow = provider({ address: `${server.url}/stall`, timeoutMs: 60_000 });
    const ac = new AbortController();
    const pending = slow.query('up', { signal: ac.signal });
    await waitFor(() => seen.some((s) => s.url.startsWith('/stall/')), { what: 'the stalled request' });
    ac.abort();
    expect(await pending).toEqual({
      kind: 'unreachable',
      message: `Prometheus at ${server.url}/stall: the query was cancelled before it was answered`,
    });
  });
});

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 30_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`openssl ${args[0] ?? ''} failed: ${err.message} ${stderr}`)) : resolve(),
    );
  });
}

describe('PrometheusProvider over TLS with a self-signed certificate', () => {
  let dir: string;
  let server: Server;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fledge-tls-'));
    await openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'].concat([
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ]),
      dir,
    );
    const [key, cert] = await Promise.all([
      readFile(path.join(dir, 'key.pem')),
      readFile(path.join(dir, 'cert.pem')),
    ]);
    server = await listen(https.createServer({ key, cert }, prometheusLikeHandler([])), 'https');
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses the untrusted certificate unless insecureSkipVerify is set', async () => {
    const strict = await provider({ address: server.url }).query('up');
    expect(strict.kind).toBe('unreachable');
    expect(strict).toHaveProperty(
      'message',
      expect.stringMatching(/self[- ]signed certificate.*insecureSkipVerify/),
    );

    expect(await provider({ address: server.url, insecureSkipVerify: true }).query('up')).toEqual({
      kind: 'value',
      value: 7,
    });
  });
});
