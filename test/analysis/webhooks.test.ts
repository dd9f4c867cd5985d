// Webhook calls against a real local HTTP(S) server: Flagger's payload for every type, success codes,
// failures with the body excerpt, timeouts, retries, unreachable targets, abort, disableTLS; and spec validation.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Webhook, WebhookCall } from '../../analysis/webhooks.js';
import { BODY_EXCERPT_CHARS, callWebhook, validateWebhook, WEBHOOK_TYPES } from '../../analysis/webhooks.js';
import { waitFor } from '../helpers/wait-for.js';
import { parseGoDuration } from '../../analysis/duration.js';

interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set when the connection this request came on has closed. */
  connectionClosed: boolean;
}

type Reply = (req: SeenRequest, res: http.ServerResponse, n: number) => void;

/** A local server on 127.0.0.1 that records requests and the closing of their connections. */
class TestServer {
  readonly requests: SeenRequest[] = [];
  reply: Reply = (_req, res) => res.writeHead(200).end('ok');
  private readonly server: http.Server | https.Server;

  constructor(tls?: { key: string; cert: string }) {
    const handler: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen: SeenRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          connectionClosed: req.socket.destroyed,
        };
        req.socket.once('close', () => (seen.connectionClosed = true));
        this.requests.push(seen);
        this.reply(seen, res, this.requests.length);
      });
    };
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `${this.server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}/hook`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function hook(spec: Record<string, unknown>): Webhook {
  const v = validateWebhook({ name: 'test-hook', ...spec });
  if (!v.ok) throw new Error(JSON.stringify(v.errors));
  return v.value;
}

const CALL: WebhookCall = { name: 'podinfo', namespace: 'test', phase: 'Progressing', checksum: 'abc123' };
const FAST = { backoff: { initialMs: 5, maxMs: 20 } };

let srv: TestServer;
let url: string;

beforeAll(async () => {
  srv = new TestServer();
  url = await srv.listen();
});
afterAll(() => srv.close());
afterEach(() => {
  srv.requests.length = 0;
  srv.reply = (_req, res) => res.writeHead(200).end('ok');
});

describe('validateWebhook', () => {
  it('applies Flagger defaults: type rollout, timeout 10s, no retries', () => {
    const v = validateWebhook({ name: 'load', url: 'http://loadtester.test/' });
    expect(v).toEqual({
      ok: true,
      value: {
        name: 'load',
        type: 'rollout',
        url: 'http://loadtester.test/',
        timeoutMs: 10_000,
        retries: 0,
        disableTLS: false,
        muteAlert: false,
        metadata: {},
      },
    });
  });

  it('reads every field', () => {
    const v = validateWebhook({
      name: 'gate',
      type: 'confirm-promotion',
      url: 'https://gate.example/check',
      timeout: '1m30s',
      retries: 3,
      disableTLS: true,
      muteAlert: true,
      metadata: { cmd: 'echo hi' },
    });
    expect(v.ok && v.value).toEqual({
      name: 'gate',
      type: 'confirm-promotion',
      url: 'https://gate.example/check',
      timeoutMs: 90_000,
      retries: 3,
      disableTLS: true,
      muteAlert: true,
      metadata: { cmd: 'echo hi' },
    });
  });

  it('reports every bad field under its path', () => {
    const v = validateWebhook(
      { name: '', type: 'pre-promotion', url: 'not a url', timeout: '10', retries: -1, metadata: { n: 5 } },
      'spec.analysis.webhooks[2]',
    );
    expect(v.ok).toBe(false);
    const fields = v.ok ? [] : v.errors.map((e) => e.field);
    expect(fields).toEqual([
      'spec.analysis.webhooks[2].name',
      'spec.analysis.webhooks[2].type',
      'spec.analysis.webhooks[2].url',
      'spec.analysis.webhooks[2].timeout',
      'spec.analysis.webhooks[2].retries',
      'spec.analysis.webhooks[2].metadata.n',
    ]);
    expect(v.ok ? '' : v.errors[1]?.message).toContain('pre-promotion');
  });

  it.each([
    ['url', { url: 'ftp://files.example/x' }],
    ['url', { url: '/relative' }],
    ['timeout', { url: 'http://x/', timeout: 'abc' }],
    ['timeout', { url: 'http://x/', timeout: '0s' }],
    ['timeout', { url: 'http://x/', timeout: 30 }],
    ['retries', { url: 'http://x/', retries: 11 }],
    ['disableTLS', { url: 'http://x/', disableTLS: 'yes' }],
  ])('rejects a bad %s: %j', (field, spec) => {
    const v = validateWebhook({ name: 'h', ...spec });
    expect(v.ok ? [] : v.errors.map((e) => e.field)).toEqual([`webhook.${field}`]);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['10s', 10_000],
    ['1m', 60_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['0', 0],
    ['250us', 0.25],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each(['', '10', 's', '1d', '-1s', '1 s', '1s2'])('rejects "%s"', (text) => {
    expect(parseGoDuration(text).ok).toBe(false);
  });
});

describe('callWebhook', () => {
  it.each(WEBHOOK_TYPES)('%s: POSTs exactly Flagger’s payload as JSON', async (type) => {
    const r = await callWebhook(hook({ type, url, metadata: { cmd: 'echo hi', type: 'bash' } }), CALL);
    expect(r).toEqual({ outcome: 'passed', status: 200, attempts: 1 });
    expect(srv.requests).toHaveLength(1);
    const seen = srv.requests[0];
    expect(seen?.method).toBe('POST');
    expect(seen?.url).toBe('/hook');
    expect(seen?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(seen?.body ?? '')).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: 'abc123',
      metadata: { cmd: 'echo hi', type: 'bash' },
    });
    // Go marshals struct fields in declaration order; so do we.
    expect(Object.keys(JSON.parse(seen?.body ?? '') as object)).toEqual([
      'name',
      'namespace',
      'phase',
      'checksum',
      'metadata',
    ]);
  });

  it('leaves metadata out when there is none (omitempty)', async () => {
    await callWebhook(hook({ type: 'post-rollout', url }), { ...CALL, phase: 'Succeeded' });
    expect(JSON.parse(srv.requests[0]?.body ?? '')).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Succeeded',
      checksum: 'abc123',
    });
  });

  it('sends an event as eventMessage, eventType and timestamp; the hook’s metadata never overrides them', async () => {
    const r = await callWebhook(hook({ type: 'event', url, metadata: { team: 'a', eventType: 'x' } }), {
      ...CALL,
      event: { message: 'New revision detected', type: 'Normal', timestampMs: 1700000000123 },
    });
    expect(r.outcome).toBe('passed');
    expect(JSON.parse(srv.requests[0]?.body ?? '')).toEqual({
      name: 'podinfo',
      namespace: 'test',
      phase: 'Progressing',
      checksum: 'abc123',
      metadata: {
        team: 'a',
        eventMessage: 'New revision detected',
        eventType: 'Normal',
        timestamp: '1700000000123',
      },
    });
  });

  it.each([200, 201, 202])('HTTP %d passes', async (status) => {
    srv.reply = (_req, res) => res.writeHead(status).end();
    expect(await callWebhook(hook({ url }), CALL)).toEqual({ outcome: 'passed', status, attempts: 1 });
  });

  it.each([203, 204, 302, 403])('HTTP %d fails and is not retried', async (status) => {
    srv.reply = (_req, res) => res.writeHead(status).end();
    const r = await callWebhook(hook({ url, retries: 3 }), CALL, FAST);
    expect(r).toMatchObject({ outcome: 'failed', status, attempts: 1 });
    expect(srv.requests).toHaveLength(1);
  });

  it('HTTP 500 fails with the start of the body', async () => {
    srv.reply = (_req, res) => res.writeHead(500).end('command hey failed: exit status 1');
    expect(await callWebhook(hook({ url }), CALL)).toEqual({
      outcome: 'failed',
      status: 500,
      bodyExcerpt: 'command hey failed: exit status 1',
      attempts: 1,
    });
  });

  it('keeps only the first characters of a long body', async () => {
    srv.reply = (_req, res) => res.writeHead(500).end('é'.repeat(5000));
    const r = await callWebhook(hook({ url }), CALL);
    expect(r.outcome).toBe('failed');
    expect(r.outcome === 'failed' && r.bodyExcerpt).toBe(`${'é'.repeat(BODY_EXCERPT_CHARS)}…`);
  });

  it('a hanging server times out and its connection is closed', async () => {
    srv.reply = () => undefined; // never answers
    const r = await callWebhook(hook({ url, timeout: '300ms' }), CALL);
    expect(r).toEqual({ outcome: 'timed-out', timeoutMs: 300, attempts: 1 });
    expect(srv.requests).toHaveLength(1);
    await waitFor(() => srv.requests[0]?.connectionClosed, {
      what: 'the server to see the connection close',
    });
  });

  it('a server that sends headers and then stalls also times out', async () => {
    srv.reply = (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    };
    const r = await callWebhook(hook({ url, timeout: '300ms' }), CALL);
    expect(r).toEqual({ outcome: 'timed-out', timeoutMs: 300, attempts: 1 });
  });

  it('retries with back-off: fails twice, then succeeds on the third attempt', async () => {
    srv.reply = (_req, res, n) => res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? 'not yet' : 'ok');
    const r = await callWebhook(hook({ url, retries: 3 }), CALL, FAST);
    expect(r).toEqual({ outcome: 'passed', status: 200, attempts: 3 });
    expect(srv.requests).toHaveLength(3);
  });

  it('stops after the last retry and reports the last failure', async () => {
    srv.reply = (_req, res, n) => res.writeHead(503).end(`attempt ${n}`);
    const r = await callWebhook(hook({ url, retries: 2 }), CALL, FAST);
    expect(r).toEqual({ outcome: 'failed', status: 503, bodyExcerpt: 'attempt 3', attempts: 3 });
  });

  it('retries a timed-out attempt', async () => {
    srv.reply = (_req, res, n) => {
      if (n > 1) res.writeHead(202).end();
    };
    const r = await callWebhook(hook({ url, timeout: '200ms', retries: 1 }), CALL, FAST);
    expect(r).toEqual({ outcome: 'passed', status: 202, attempts: 2 });
  });

  it('an unreachable server is reported with its error, after every retry', async () => {
    const gone = new TestServer();
    const goneUrl = await gone.listen();
    await gone.close();
    const once = await callWebhook(hook({ url: goneUrl }), CALL);
    expect(once.outcome).toBe('unreachable');
    expect(once.outcome === 'unreachable' && once.message).toContain('ECONNREFUSED');
    expect(once.attempts).toBe(1);
    const retried = await callWebhook(hook({ url: goneUrl, retries: 2 }), CALL, FAST);
    expect(retried).toMatchObject({ outcome: 'unreachable', attempts: 3 });
  });

  it('honours the caller’s AbortSignal: the call ends and the connection is closed', async () => {
    srv.reply = () => undefined;
    const ctrl = new AbortController();
    const pending = callWebhook(hook({ url, timeout: '1m', retries: 5 }), CALL, { signal: ctrl.signal });
    await waitFor(() => srv.requests.length === 1, { what: 'the request to arrive' });
    expect(srv.requests[0]?.connectionClosed).toBe(false);
    ctrl.abort();
    expect(await pending).toEqual({
      outcome: 'unreachable',
      message: 'call aborted by the caller',
      attempts: 1,
    });
    await waitFor(() => srv.requests[0]?.connectionClosed, {
      what: 'the server to see the connection close',
    });
  });

  it('an already aborted signal sends nothing', async () => {
    const r = await callWebhook(hook({ url }), CALL, { signal: AbortSignal.abort() });
    expect(r.outcome).toBe('unreachable');
    expect(srv.requests).toHaveLength(0);
  });
});

describe('callWebhook over https with a self-signed certificate', () => {
  let dir: string;
  let tlsSrv: TestServer;
  let tlsUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fledge-webhook-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    tlsSrv = new TestServer({ key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') });
    tlsUrl = await tlsSrv.listen();
  });
  afterAll(async () => {
    await tlsSrv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails certificate verification by default, without retrying', async () => {
    const r = await callWebhook(hook({ url: tlsUrl, retries: 3 }), CALL, FAST);
    expect(r.outcome).toBe('unreachable');
    expect(r.outcome === 'unreachable' && r.message).toMatch(/certificate/i);
    expect(r.attempts).toBe(1);
  });

  it('disableTLS skips verification', async () => {
    const r = await callWebhook(hook({ url: tlsUrl, disableTLS: true }), CALL);
    expect(r).toEqual({ outcome: 'passed', status: 200, attempts: 1 });
    expect(JSON.parse(tlsSrv.requests[0]?.body ?? '')).toMatchObject({ name: 'podinfo', namespace: 'test' });
  });
});
