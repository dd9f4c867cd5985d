// Notifications to chat services (SPEC §2.2 AlertProvider, §5.4): the message model, the Notifier interface,
// Flagger's per-alert severity rule, and createNotifier, which binds a payload shape to a background queue.
import type { Logger } from 'pino';
import type { Result, Verdict } from '../types.js';
import { discordPayload, discordUrl } from './discord.js';
import { gchatPayload } from './gchat.js';
import { genericPayload } from './generic.js';
import { msteamsPayload } from './msteams.js';
import type { DeliveryReport, QueueStats } from './queue.js';
import { NotificationQueue } from './queue.js';
import { endpointLabel, makeScrubber } from './redact.js';
import { rocketPayload } from './rocket.js';
import { slackPayload } from './slack.js';
import { createHttpSender, parseProxy } from './transport.js';

export type Severity = 'info' | 'warn' | 'error';

export const ALERT_PROVIDER_TYPES = ['slack', 'msteams', 'discord', 'gchat', 'rocket', 'generic'] as const;
export type AlertProviderType = (typeof ALERT_PROVIDER_TYPES)[number];

/** Facts shown beside the text; known keys get human titles, any other key is shown under its own name. */
export interface NotificationFields {
  target?: string;
  /** Canary traffic weight in percent. */
  weight?: number;
  failedChecks?: number;
  revision?: string;
  [key: string]: string | number | boolean | undefined;
}

/** One notification about one canary, independent of the service it goes to. */
export interface Notification {
  canary: { name: string; namespace: string };
  /** The canary phase when the message was produced, e.g. 'Progressing', 'Failed'. */
  phase: string;
  severity: Severity;
  /** One human sentence, e.g. 'Canary analysis failed, rolling back podinfo.test'. */
  text: string;
  fields: NotificationFields;
  verdicts?: Verdict[];
}

/** A delivery channel for one AlertProvider. */
export interface Notifier {
  readonly type: AlertProviderType;
  /**
   * Snapshots the message, enqueues it and returns synchronously. Never throws and never waits for the
   * network: the outcome is reported through the onReport callback and the logger only.
   */
  notify(msg: Notification): void;
  stats(): QueueStats;
  /** Stops accepting messages, sends what is queued for at most drainMs, then abandons the rest. */
  close(opts?: { drainMs?: number }): Promise<QueueStats>;
}

/** An AlertProvider spec with the data of its secretRef Secret already read and decoded. */
export interface AlertProviderSettings {
  /** The AlertProvider's name, used in errors and log lines. */
  name?: string;
  type: string;
  channel?: string;
  username?: string;
  address?: string;
  /** Secret data: key `address` overrides address; key `token` is sent as `Authorization: Bearer`. */
  secret?: Record<string, string>;
  /** HTTP(S) proxy URL. The only proxy used: proxy environment variables are ignored. */
  proxy?: string;
}

export interface NotifierOptions {
  /** Per attempt [5000]. */
  timeoutMs?: number;
  /** Further attempts after the first, for timeouts, network errors, HTTP 408, 429 and 5xx [2]. */
  retries?: number;
  /** Wait before the first retry, doubled on each next one [500]. */
  backoffMs?: number;
  /** Upper bound of the wait between retries [10000]. */
  maxBackoffMs?: number;
  /** Messages waiting beyond the one in flight; when full the oldest is dropped and counted [100]. */
  maxQueueLength?: number;
  /** Delivery failures are logged at warn, successes and retries at debug; secrets are redacted. */
  logger?: Logger;
  /** Called for every final outcome (sent, failed, dropped); exceptions it throws are ignored. */
  onReport?: (report: DeliveryReport) => void;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warn: 1, error: 2 };

/**
 * Flagger's rule: an alert of severity `info` receives every message, `warn` receives warn and error
 * messages, `error` receives error messages only. An alert without a severity is `info`.
 */
export function alertWants(alertSeverity: Severity | undefined, messageSeverity: Severity): boolean {
  return SEVERITY_RANK[messageSeverity] >= SEVERITY_RANK[alertSeverity ?? 'info'];
}

/** Enqueues msg on every alert's notifier that wants its severity; returns how many were chosen. */
export function notifyAlerts(
  alerts: ReadonlyArray<{ severity?: Severity; notifier: Notifier }>,
  msg: Notification,
): number {
  let chosen = 0;
  for (const alert of alerts) {
    if (!alertWants(alert.severity, msg.severity)) continue;
    alert.notifier.notify(msg);
    chosen++;
  }
  return chosen;
}

function isProviderType(type: string): type is AlertProviderType {
  return (ALERT_PROVIDER_TYPES as readonly string[]).includes(type);
}

const nonEmpty = (s: string | undefined): string | undefined => (s?.trim() ? s.trim() : undefined);

/**
 * Builds the notifier of one AlertProvider. Expected failures (unknown type, no address, an address or
 * proxy that is not an http(s) URL) are returned as errors naming the provider and the field; error
 * messages never contain the address or the token.
 */
export function createNotifier(
  provider: AlertProviderSettings,
  opts: NotifierOptions = {},
): Result<Notifier> {
  const who = provider.name ? `alert provider "${provider.name}"` : 'alert provider';
  const type = provider.type;
  if (!isProviderType(type)) {
    return {
      ok: false,
      message: `${who}: unknown type "${type}" (expected one of ${ALERT_PROVIDER_TYPES.join(', ')})`,
    };
  }
  const address = nonEmpty(provider.secret?.['address']) ?? nonEmpty(provider.address);
  if (!address) {
    return {
      ok: false,
      message: `${who} (${type}): missing address (set spec.address or the key "address" of its secretRef)`,
    };
  }
  let url: URL;
  try {
    url = new URL(type === 'discord' ? discordUrl(address) : address);
  } catch {
    return { ok: false, message: `${who} (${type}): address is not a valid URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `${who} (${type}): address must be an http or https URL` };
  }
  const proxy = parseProxy(nonEmpty(provider.proxy));
  if (!proxy.ok) return { ok: false, message: `${who} (${type}): ${proxy.message}` };

  const token = nonEmpty(provider.secret?.['token']);
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const scrub = makeScrubber([
    address,
    url.href,
    url.pathname,
    url.search,
    token,
    proxy.value?.auth?.password,
  ]);
  const chat = { channel: nonEmpty(provider.channel), username: nonEmpty(provider.username) };
  const format = (msg: Notification): unknown => {
    switch (type) {
      case 'slack':
        return slackPayload(msg, chat);
      case 'discord':
        return discordPayload(msg, chat);
      case 'rocket':
        return rocketPayload(msg, chat);
      case 'msteams':
        return msteamsPayload(msg);
      case 'gchat':
        return gchatPayload(msg);
      case 'generic':
        return genericPayload(msg);
    }
  };

  const queue = new NotificationQueue({
    send: createHttpSender({ url: url.href, headers, proxy: proxy.value, scrub }),
    provider: { type, name: provider.name, endpoint: endpointLabel(url) },
    timeoutMs: opts.timeoutMs,
    retries: opts.retries,
    backoffMs: opts.backoffMs,
    maxBackoffMs: opts.maxBackoffMs,
    maxLength: opts.maxQueueLength,
    logger: opts.logger,
    onReport: opts.onReport,
  });

  return {
    ok: true,
    value: {
      type,
      notify(msg) {
        let body: string;
        try {
          body = JSON.stringify(format(msg));
        } catch (e) {
          // A message that cannot be serialized is a caller bug; it is reported, not thrown at the analysis.
          queue.reject(msg.canary, e instanceof Error ? e.message : String(e));
          return;
        }
        queue.enqueue({ canary: { ...msg.canary }, body });
      },
      stats: () => queue.stats(),
      close: (closeOpts) => queue.close(closeOpts),
    },
  };
}
