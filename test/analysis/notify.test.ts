// Notifications: the exact payload of every AlertProvider type (golden files, captured with nock), the
// background queue (non-blocking notify, timeouts, retries, bounds, shutdown), severity filtering, secrets.
// Regenerate the golden files with UPDATE_GOLDEN=1 and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import pino from 'pino';
import * as prettier from 'prettier';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discordUrl } from '../../analysis/notify/discord.js';
import type {
  AlertProviderSettings,
  Notification,
  Notifier,
  NotifierOptions,
  Severity,
} from '../../analysis/notify/notifier.js';
import { alertWants, createNotifier, notifyAlerts } from '../../analysis/notify/notifier.js';
import type { DeliveryReport } from '../../analysis/notify/queue.js';
import { waitFor } from '../helpers/wait-for.js';

const newRevision: Notification = {
  canary: { name: 'podinfo', namespace: 'test' },
  phase: 'Progressing',
  severity: 'info',
  text: 'New revision detected, progressing canary analysis.',
  fields: { target: 'Deployment/podinfo.test', revision: '6f7d9c <b>', weight: 10 },
};

const rollback: Notification = {
  canary: { name: 'podinfo', namespace: 'test' },
  phase: 'Failed',
  severity: 'error',
  text: 'Canary analysis failed: failed checks 5 >= threshold 5, rolling back & scaling down <podinfo>.',
  fields: {
    target: 'Deployment/podinfo.test',
    weight: 30,
    failedChecks: 5,
    revision: '6f7d9c',
    cluster: 'eu-1',
  },
  verdicts: [
    {
      metric: 'request-success-rate',
      value: 91.2,
      threshold: { min: 99 },
      outcome: 'fail',
      reason: 'request-success-rate 91.2 < 99 (min)',
    },
    {
      metric: 'request-duration',
      value: 120,
      threshold: { max: 500 },
      outcome: 'pass',
      reason: 'request-duration 120 <= 500 (max)',
    },
  ],
};

const msg = (text: string, severity: Severity = 'info'): Notification => ({
  canary: { name: 'podinfo', namespace: 'test' },
  phase: 'Progressing',
  severity,
  text,
  fields: {},
});

/** Notifiers created by a test, closed after it so no timers or sockets outlive it. */
const open: Notifier[] = [];

function make(provider: AlertProviderSettings, opts: NotifierOptions = {}): Notifier {
  const r = createNotifier(provider, { backoffMs: 1, ...opts });
  if (!r.ok) throw new Error(r.message);
  open.push(r.value);
  return r.value;
}

/** A report collector for onReport. */
function reports(): { list: DeliveryReport[]; onReport: (r: DeliveryReport) => void } {
  const list: DeliveryReport[] = [];
  return { list, onReport: (r) => list.push(r) };
}

/** A pino logger writing JSON lines into an array. */
function captureLogs(): { lines: string[]; logger: pino.Logger } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  return { lines, logger };
}

beforeAll(() => nock.disableNetConnect());
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close({ drainMs: 0 })));
  nock.abortPendingRequests();
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('payloads (golden files)', () => {
  const cases: Array<{ type: string; provider: AlertProviderSettings; origin: string }> = [
    {
      type: 'slack',
      origin: 'https://hooks.slack.com',
      provider: {
        type: 'slack',
        address: 'https://hooks.slack.com/services/T000/B000/XXXX',
        channel: 'deploys',
        username: 'fledge',
      },
    },
    {
      type: 'msteams',
      origin: 'https://example.webhook.office.com',
      provider: {
        type: 'msteams',
        address: 'https://example.webhook.office.com/webhookb2/abc/IncomingWebhook/def',
      },
    },
    {
      type: 'discord',
      origin: 'https://discord.com',
      provider: { type: 'discord', address: 'https://discord.com/api/webhooks/123/tok', username: 'fledge' },
    },
    {
      type: 'gchat',
      origin: 'https://chat.googleapis.com',
      provider: {
        type: 'gchat',
        address: 'https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t',
      },
    },
    {
      type: 'rocket',
      origin: 'https://rocket.example.com',
      provider: { type: 'rocket', address: 'https://rocket.example.com/hooks/xyz', channel: '#deploys' },
    },
    {
      type: 'generic',
      origin: 'https://events.example.com',
      provider: { type: 'generic', address: 'https://events.example.com/fledge' },
    },
  ];

  it.each(cases)('$type', async ({ type, provider, origin }) => {
    const captured: Array<{ path: string; contentType: string; body: unknown }> = [];
    nock(origin)
      .post(() => true)
      .times(2)
      .reply(function (path, body) {
        captured.push({ path, contentType: String(this.req.headers['content-type']), body });
        return [200, 'ok'];
      });
    const { list, onReport } = reports();
    const notifier = make(provider, { onReport });
    notifier.notify(newRevision);
    notifier.notify(rollback);
    await waitFor(() => list.length === 2, { what: `${type}: two reports` });
    expect(list.map((r) => r.kind)).toEqual(['sent', 'sent']);
    expect(captured.map((c) => c.contentType)).toEqual(['application/json', 'application/json']);

    const actual = await prettier.format(
      JSON.stringify({ requests: captured.map(({ path, body }) => ({ path, body })) }),
      { parser: 'json', ...(await prettier.resolveConfig(fileURLToPath(import.meta.url))) },
    );
    const file = new URL(`./testdata/notify/${type}.golden.json`, import.meta.url);
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, actual);
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });

  it('discord posts to the Slack-compatible endpoint: the webhook URL with /slack appended once', () => {
    expect(discordUrl('https://discord.com/api/webhooks/1/t')).toBe(
      'https://discord.com/api/webhooks/1/t/slack',
    );
    expect(discordUrl('https://discord.com/api/webhooks/1/t/')).toBe(
      'https://discord.com/api/webhooks/1/t/slack',
    );
    expect(discordUrl('https://discord.com/api/webhooks/1/t/slack')).toBe(
      'https://discord.com/api/webhooks/1/t/slack',
    );
    expect(discordUrl('https://discord.com/api/webhooks/1/t?wait=true')).toBe(
      'https://discord.com/api/webhooks/1/t/slack?wait=true',
    );
  });

  it('slack colours by severity and omits channel and username when unset', async () => {
    const bodies: unknown[] = [];
    nock('https://hooks.slack.com')
      .post('/services/T/B/X', (b: unknown) => {
        bodies.push(b);
        return true;
      })
      .times(3)
      .reply(200, 'ok');
    const { list, onReport } = reports();
    const n = make({ type: 'slack', address: 'https://hooks.slack.com/services/T/B/X' }, { onReport });
    for (const s of ['info', 'warn', 'error'] as const) n.notify(msg(s, s));
    await waitFor(() => list.length === 3);
    expect(bodies).toMatchObject([
      { attachments: [{ color: 'good' }] },
      { attachments: [{ color: 'warning' }] },
      { attachments: [{ color: 'danger' }] },
    ]);
    for (const b of bodies) expect(Object.keys(b as object)).toEqual(['attachments']);
  });
});

describe('provider settings', () => {
  it('the Secret key address overrides the address and the key token is sent as a Bearer header', async () => {
    const scope = nock('https://hooks.slack.com')
      .matchHeader('authorization', 'Bearer xoxb-123')
      .post('/services/FROM/SECRET/1')
      .reply(200, 'ok');
    const { list, onReport } = reports();
    const n = make(
      {
        type: 'slack',
        address: 'https://hooks.slack.com/services/FROM/SPEC/1',
        secret: { address: 'https://hooks.slack.com/services/FROM/SECRET/1', token: 'xoxb-123' },
      },
      { onReport },
    );
    n.notify(msg('hello'));
    await waitFor(() => list.length === 1);
    expect(list[0]).toMatchObject({ kind: 'sent', attempts: 1 });
    expect(scope.isDone()).toBe(true);
  });

  it('a missing address is an error naming the provider and the field', () => {
    const r = createNotifier({ name: 'on-call', type: 'slack', secret: { token: 't' } });
    expect(r).toEqual({
      ok: false,
      message:
        'alert provider "on-call" (slack): missing address (set spec.address or the key "address" of its secretRef)',
    });
  });

  it('an unknown type is an error naming it, never a fallback', () => {
    const r = createNotifier({ name: 'x', type: 'pagerduty', address: 'https://example.com/hook' });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.message).toMatch(/unknown type "pagerduty" \(expected one of slack, msteams, discord/);
  });

  it('an invalid address or proxy is an error that does not echo the address', () => {
    const bad = createNotifier({ type: 'msteams', address: 'not a url/with-secret-path' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).not.toContain('with-secret-path');
    const ftp = createNotifier({ type: 'generic', address: 'ftp://example.com/x' });
    expect(ftp.ok).toBe(false);
    const proxy = createNotifier({
      type: 'slack',
      address: 'https://hooks.slack.com/x',
      proxy: 'socks5://p:1',
    });
    expect(proxy).toMatchObject({
      ok: false,
      message: 'alert provider (slack): proxy must be an http or https URL',
    });
  });
});

describe('severity filtering per alert (Flagger: info gets all, warn gets warn and error, error gets error)', () => {
  const table: Array<[Severity | undefined, Severity, boolean]> = [
    [undefined, 'info', true],
    ['info', 'info', true],
    ['info', 'warn', true],
    ['info', 'error', true],
    ['warn', 'info', false],
    ['warn', 'warn', true],
    ['warn', 'error', true],
    ['error', 'info', false],
    ['error', 'warn', false],
    ['error', 'error', true],
  ];
  it.each(table)('alert %s, message %s → %s', (alert, message, wanted) => {
    expect(alertWants(alert, message)).toBe(wanted);
  });

  it('notifyAlerts enqueues only on the alerts that want the message', () => {
    const got: Record<string, string[]> = { all: [], warn: [], err: [] };
    const fake = (key: string): Notifier => ({
      type: 'generic',
      notify: (m) => void got[key]?.push(m.severity),
      stats: () => ({ enqueued: 0, sent: 0, failed: 0, dropped: 0, retries: 0, timeouts: 0, queued: 0 }),
      close: () => Promise.reject(new Error('unused')),
    });
    const alerts = [
      { notifier: fake('all') },
      { severity: 'warn' as const, notifier: fake('warn') },
      { severity: 'error' as const, notifier: fake('err') },
    ];
    expect(notifyAlerts(alerts, msg('a', 'info'))).toBe(1);
    expect(notifyAlerts(alerts, msg('b', 'warn'))).toBe(2);
    expect(notifyAlerts(alerts, msg('c', 'error'))).toBe(3);
    expect(got).toEqual({ all: ['info', 'warn', 'error'], warn: ['warn', 'error'], err: ['error'] });
  });
});

describe('background queue', () => {
  it('a hung endpoint does not delay the caller; the send times out in the background', async () => {
    const events: string[] = [];
    nock('https://hooks.slack.com')
      .post('/services/T/B/HUNG')
      .delay(60_000)
      .reply(() => {
        events.push('request received');
        return [200, 'ok'];
      });
    const n = make(
      { type: 'slack', address: 'https://hooks.slack.com/services/T/B/HUNG' },
      {
        timeoutMs: 150,
        retries: 0,
        onReport: (r) => events.push(r.kind === 'failed' ? `failed: ${r.reason}` : r.kind),
      },
    );
    n.notify(msg('first'));
    events.push('notify returned');
    // Nothing about the request has happened when notify() is back: it only enqueued.
    expect(events).toEqual(['notify returned']);
    expect(n.stats()).toMatchObject({ enqueued: 1, queued: 1, sent: 0 });

    await waitFor(() => events.includes('failed: timeout'), { what: 'timeout report' });
    expect(events.indexOf('notify returned')).toBe(0);
    expect(events.at(-1)).toBe('failed: timeout');
    expect(n.stats()).toMatchObject({ failed: 1, timeouts: 1, retries: 0, queued: 0 });
  });

  it('retries retryable failures with back-off and counts them', async () => {
    const hits: number[] = [];
    nock('https://hooks.slack.com')
      .post('/services/T/B/FLAKY')
      .times(2)
      .reply(() => {
        hits.push(503);
        return [503, 'busy'];
      })
      .post('/services/T/B/FLAKY')
      .reply(() => {
        hits.push(200);
        return [200, 'ok'];
      });
    const { list, onReport } = reports();
    const n = make(
      { type: 'slack', address: 'https://hooks.slack.com/services/T/B/FLAKY' },
      { retries: 3, onReport },
    );
    n.notify(msg('flaky'));
    await waitFor(() => list.length === 1);
    expect(hits).toEqual([503, 503, 200]);
    expect(list[0]).toMatchObject({ kind: 'sent', attempts: 3, status: 200 });
    expect(n.stats()).toMatchObject({ sent: 1, retries: 2, failed: 0 });
  });

  it('gives up after the retry budget; a 4xx answer is not retried', async () => {
    nock('https://hooks.slack.com').post('/services/T/B/DOWN').times(3).reply(500, 'oops');
    nock('https://hooks.slack.com').post('/services/T/B/GONE').reply(404, 'no_service');
    const down = reports();
    const gone = reports();
    const a = make(
      { type: 'slack', address: 'https://hooks.slack.com/services/T/B/DOWN' },
      { retries: 2, ...down },
    );
    const b = make(
      { type: 'slack', address: 'https://hooks.slack.com/services/T/B/GONE' },
      { retries: 2, ...gone },
    );
    a.notify(msg('down'));
    b.notify(msg('gone'));
    await waitFor(() => down.list.length === 1 && gone.list.length === 1);
    expect(down.list[0]).toMatchObject({ kind: 'failed', reason: 'http', status: 500, attempts: 3 });
    expect(a.stats()).toMatchObject({ failed: 1, retries: 2 });
    expect(gone.list[0]).toMatchObject({ kind: 'failed', reason: 'http', status: 404, attempts: 1 });
    expect(gone.list[0]).toMatchObject({ message: 'HTTP 404: no_service' });
    expect(b.stats()).toMatchObject({ failed: 1, retries: 0 });
  });

  it('is bounded: when full the oldest waiting message is dropped and counted', async () => {
    const texts: string[] = [];
    nock('https://events.example.com')
      .post('/hook', (b: { text: string }) => {
        texts.push(b.text);
        return true;
      })
      .times(5)
      .reply(200);
    const { list, onReport } = reports();
    const n = make(
      { type: 'generic', address: 'https://events.example.com/hook' },
      { maxQueueLength: 2, onReport },
    );
    for (const t of ['m1', 'm2', 'm3', 'm4', 'm5']) n.notify(msg(t));
    expect(n.stats()).toMatchObject({ enqueued: 5, dropped: 3, queued: 2 });
    await waitFor(() => list.length === 5);
    expect(list.filter((r) => r.kind === 'dropped')).toHaveLength(3);
    expect(list.every((r) => r.kind !== 'dropped' || r.reason === 'queue-full')).toBe(true);
    expect(texts).toEqual(['m4', 'm5']);
  });

  it('close() drains for at most drainMs, then cancels the send in flight and drops the rest', async () => {
    nock('https://hooks.slack.com').post('/services/T/B/SLOW').delay(60_000).reply(200, 'ok');
    const { list, onReport } = reports();
    const r = createNotifier(
      { type: 'slack', address: 'https://hooks.slack.com/services/T/B/SLOW' },
      { timeoutMs: 30_000, onReport },
    );
    if (!r.ok) throw new Error(r.message);
    const n = r.value;
    n.notify(msg('in flight'));
    n.notify(msg('waiting'));
    const stats = await n.close({ drainMs: 50 });
    expect(list.map((x) => (x.kind === 'sent' ? x.kind : `${x.kind}: ${x.reason}`))).toEqual([
      'failed: shutdown',
      'dropped: shutdown',
    ]);
    n.notify(msg('too late'));
    expect(list.at(-1)).toMatchObject({ kind: 'dropped', reason: 'closed' });
    expect(stats).toMatchObject({ enqueued: 2, failed: 1, dropped: 1, queued: 0 });
  });

  it('close() waits for queued messages when they finish within drainMs', async () => {
    nock('https://events.example.com').post('/hook').times(2).reply(200);
    const r = createNotifier({ type: 'generic', address: 'https://events.example.com/hook' });
    if (!r.ok) throw new Error(r.message);
    r.value.notify(msg('a'));
    r.value.notify(msg('b'));
    expect(await r.value.close({ drainMs: 10_000 })).toMatchObject({ sent: 2, dropped: 0, failed: 0 });
  });
});

describe('secrets are never logged', () => {
  const address = 'https://hooks.slack.com/services/T0SECRET/B0SECRET/XSECRETX';
  const token = 'xoxb-very-secret-token';
  const secretParts = ['T0SECRET', 'B0SECRET', 'XSECRETX', token];

  it('neither the address path nor the token appear in log lines or reports, whatever fails', async () => {
    nock('https://hooks.slack.com')
      .post('/services/T0SECRET/B0SECRET/XSECRETX')
      // A server that echoes the request in its error body.
      .reply(500, `bad request to ${address} with Bearer ${token}`)
      .post('/services/T0SECRET/B0SECRET/XSECRETX')
      .replyWithError(`socket hang up while talking to ${address}`)
      .post('/services/T0SECRET/B0SECRET/XSECRETX')
      .reply(200, 'ok');
    // No interceptor left for the last attempts: nock's error names the full URL and headers.
    const { lines, logger } = captureLogs();
    const { list, onReport } = reports();
    const n = make({ type: 'slack', secret: { address, token } }, { retries: 1, logger, onReport });
    n.notify(msg('one')); // 500, then network error: failed
    n.notify(msg('two')); // 200: sent
    n.notify(msg('three')); // no interceptor: failed twice
    await waitFor(() => list.length === 3);
    expect(list.map((r) => r.kind)).toEqual(['failed', 'sent', 'failed']);

    const text = lines.join('') + JSON.stringify(list);
    // The failures were logged, with what went wrong and where (host only).
    expect(text).toContain('HTTP 500');
    expect(text).toContain('socket hang up');
    expect(text).toContain('https://hooks.slack.com/[redacted]');
    expect(lines.some((l) => l.includes('"canary":"podinfo"') && l.includes('"namespace":"test"'))).toBe(
      true,
    );
    for (const secret of secretParts) expect(text).not.toContain(secret);
  });
});
