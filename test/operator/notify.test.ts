// CanaryNotifier against a real local HTTP receiver (SPEC §5.4): per-alert severity filtering, generic and
// Slack payloads naming the canary, a secretRef'd address and token, and a receiver that never answers, which
// neither blocks notify() nor holds up other providers (its delivery times out in the background).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackAttachment } from '../../analysis/notify/slack.js';
import type { AlertProvider, AlertProviderSpec, Canary, CanaryStatus } from '../../crds/schema/flagger.js';
import { CanaryNotifier } from '../../operator/notify.js';
import { parseCanary } from '../../operator/validate.js';
import { testCanary } from '../helpers/canaries.js';
import { waitFor } from '../helpers/wait-for.js';

const NS = 'shop';

interface Received {
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/** A receiver on 127.0.0.1: answers 200 on every path but /slow, which it never answers. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  pending: () => number;
  close: () => Promise<void>;
}> {
  const received: Received[] = [];
  const held = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      if (req.url === '/slow') {
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    pending: () => held.size,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function provider(name: string, spec: AlertProviderSpec): AlertProvider {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'AlertProvider',
    metadata: { name, namespace: NS, resourceVersion: '1' },
    spec,
  };
}

/** A parsed Canary whose analysis.alerts name `alerts` (name = providerRef), in phase `status.phase`. */
function canaryWithAlerts(
  alerts: Array<{ provider: string; severity: 'info' | 'warn' | 'error' }>,
  status: CanaryStatus,
): Canary {
  const parsed = parseCanary(
    testCanary(NS, 'podinfo', {
      analysis: {
        alerts: alerts.map((a) => ({
          name: `to-${a.provider}`,
          severity: a.severity,
          providerRef: { name: a.provider },
        })),
      },
    }),
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return { ...parsed.value, status };
}

describe('CanaryNotifier', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let notifier: CanaryNotifier;
  let logs: Array<Record<string, unknown>>;
  const secrets = new Map<string, Record<string, string>>();
  const providers = new Map<string, AlertProvider>();

  beforeEach(async () => {
    receiver = await startReceiver();
    logs = [];
    secrets.clear();
    providers.clear();
    const log = pino(
      { level: 'debug' },
      { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    );
    notifier = new CanaryNotifier({
      alertProvider: (ns, name) => (ns === NS ? providers.get(name) : undefined),
      secret: (ns, name) => Promise.resolve(ns === NS ? secrets.get(name) : undefined),
      log,
    });
  });

  afterEach(async () => {
    await notifier.close();
    await receiver.close();
  });

  it('a warn alert gets warn and error messages, not info; the generic payload names canary, namespace and phase', async () => {
    providers.set('hooks', provider('hooks', { type: 'generic', address: `${receiver.url}/generic` }));
    const c = canaryWithAlerts([{ provider: 'hooks', severity: 'warn' }], {
      phase: 'Progressing',
      canaryWeight: 20,
    });
    notifier.notify(c, 'info', 'Advance podinfo.shop canary weight 20');
    notifier.notify(c, 'warn', 'Halt podinfo.shop advancement: canary not ready');
    notifier.notify(c, 'error', 'Canary analysis failed, rolling back podinfo.shop');
    // One queue per provider, first in first out: had the info message been sent, it would have come first.
    await waitFor(() => receiver.received.length >= 2, { what: 'two deliveries' });
    expect(receiver.received.map((r) => r.path)).toEqual(['/generic', '/generic']);
    expect(receiver.received.map((r) => r.body)).toMatchObject([
      {
        canary: { name: 'podinfo', namespace: NS },
        phase: 'Progressing',
        severity: 'warn',
        text: 'Halt podinfo.shop advancement: canary not ready',
        fields: { target: 'Deployment/podinfo', weight: 20 },
      },
      { canary: { name: 'podinfo', namespace: NS }, phase: 'Progressing', severity: 'error' },
    ]);
  });

  it('Slack: an attachment authored name.namespace, coloured by severity, with the text and the facts', async () => {
    providers.set(
      'chat',
      provider('chat', { type: 'slack', address: `${receiver.url}/slack`, channel: '#deploys' }),
    );
    const c = canaryWithAlerts([{ provider: 'chat', severity: 'info' }], {
      phase: 'Failed',
      canaryWeight: 0,
    });
    notifier.notify(c, 'error', 'Canary analysis failed, rolling back podinfo.shop');
    await waitFor(() => receiver.received.length >= 1, { what: 'the Slack delivery' });
    const body = receiver.received[0]?.body as { channel?: string; attachments?: SlackAttachment[] };
    expect(body.channel).toBe('#deploys');
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments?.[0]).toMatchObject({
      color: 'danger',
      author_name: `podinfo.${NS}`,
      text: 'Canary analysis failed, rolling back podinfo.shop',
    });
    expect(body.attachments?.[0]?.fields).toContainEqual({
      title: 'Target',
      value: 'Deployment/podinfo',
      short: true,
    });
  });

  it("a secretRef's address overrides spec.address, and its token is sent as a Bearer header", async () => {
    providers.set(
      'secret-hook',
      provider('secret-hook', {
        type: 'generic',
        address: `${receiver.url}/not-this-one`,
        secretRef: { name: 'hook-secret' },
      }),
    );
    secrets.set('hook-secret', { address: `${receiver.url}/from-secret`, token: 's3cret' });
    const c = canaryWithAlerts([{ provider: 'secret-hook', severity: 'info' }], { phase: 'Initialized' });
    notifier.notify(c, 'info', 'Initialization done! podinfo.shop');
    await waitFor(() => receiver.received.length >= 1, { what: 'the delivery to the secret address' });
    expect(receiver.received).toEqual([
      expect.objectContaining({ path: '/from-secret', authorization: 'Bearer s3cret' }),
    ]);
    // The token and the secret address are never logged.
    expect(JSON.stringify(logs)).not.toContain('s3cret');
    expect(JSON.stringify(logs)).not.toContain('/from-secret');
  });

  it('a receiver that never answers neither blocks notify() nor delays other providers; its attempt times out in the background', async () => {
    providers.set('slow', provider('slow', { type: 'generic', address: `${receiver.url}/slow` }));
    providers.set('fast', provider('fast', { type: 'generic', address: `${receiver.url}/fast` }));
    const c = canaryWithAlerts(
      [
        { provider: 'slow', severity: 'info' },
        { provider: 'fast', severity: 'info' },
      ],
      { phase: 'Progressing' },
    );
    notifier.notify(c, 'warn', 'Halt podinfo.shop advancement');
    // notify() returned synchronously, before anything was sent.
    expect(receiver.received).toEqual([]);
    await waitFor(() => receiver.pending() === 1 && receiver.received.some((r) => r.path === '/fast'), {
      what: 'the fast delivery while the slow one hangs',
    });
    notifier.notify(c, 'error', 'Rolling back podinfo.shop');
    await waitFor(() => receiver.received.filter((r) => r.path === '/fast').length === 2, {
      what: 'a second fast delivery while the slow receiver still holds the first',
    });
    expect(receiver.pending()).toBe(1);
    const timedOut = await waitFor(
      () =>
        logs.find((l) => l['msg'] === 'notification attempt failed, retrying' && l['reason'] === 'timeout'),
      { what: 'the slow attempt to time out', timeoutMs: 15_000, intervalMs: 50 },
    );
    expect(timedOut).toMatchObject({ provider: 'generic', canary: 'podinfo', namespace: NS, attempt: 1 });
  }, 30_000);
});
