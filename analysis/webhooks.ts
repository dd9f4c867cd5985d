// Canary webhooks (SPEC §2.1 analysis.webhooks, §5.2): validating a webhook spec and calling it the way Flagger
// does (payload, success codes, timeout, retries, disableTLS). Every outcome is data; nothing here throws.
import http from 'node:http';
import https from 'node:https';
import { parseGoDuration } from './duration.js';

export const WEBHOOK_TYPES = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'post-rollout',
  'rollback',
  'event',
] as const;
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** Flagger's default when `timeout` is not set. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Upper bound of `retries`: a webhook is never called more than MAX_WEBHOOK_RETRIES + 1 times per check. */
export const MAX_WEBHOOK_RETRIES = 10;
/** Characters of a failing response's body kept in the result. */
export const BODY_EXCERPT_CHARS = 200;

/** A validated webhook: defaults applied, timeout in milliseconds. */
export interface Webhook {
  name: string;
  type: WebhookType;
  /** An absolute http: or https: URL. */
  url: string;
  timeoutMs: number;
  retries: number;
  /** Skip certificate verification for https URLs. */
  disableTLS: boolean;
  muteAlert: boolean;
  metadata: Record<string, string>;
}

export interface FieldError {
  /** Path of the offending field, e.g. `spec.analysis.webhooks[1].timeout`. */
  field: string;
  message: string;
}

export type WebhookValidation = { ok: true; value: Webhook } | { ok: false; errors: FieldError[] };

/** The JSON body Flagger POSTs (CanaryWebhookPayload), in Flagger's field order; metadata is omitted when empty. */
export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: string;
  /** Hash of the canary's lastAppliedSpec and trackedConfigs: identifies the revision being rolled out. */
  checksum: string;
  metadata?: Record<string, string>;
}

/** What the operator knows when it calls a webhook. */
export interface WebhookCall {
  name: string;
  namespace: string;
  /** The canary phase the call is made in (post-rollout: Succeeded or Failed). */
  phase: string;
  checksum: string;
  /**
   * For `event` webhooks: the event, sent as metadata eventMessage, eventType and timestamp (Unix ms, as text)
   * like Flagger does; the webhook's own metadata fills in the other keys but never overrides these.
   */
  event?: { message: string; type: string; timestampMs: number };
}

export type WebhookResult =
  | { outcome: 'passed'; status: number; attempts: number }
  | { outcome: 'failed'; status: number; bodyExcerpt: string; attempts: number }
  | { outcome: 'timed-out'; timeoutMs: number; attempts: number }
  | { outcome: 'unreachable'; message: string; attempts: number };

export interface CallWebhookOptions {
  /** Aborting ends the call at once: the connection is closed and the result is `unreachable`. */
  signal?: AbortSignal;
  /** Exponential back-off between attempts: initialMs × 2^(attempt-1), at most maxMs. Default 1 s .. 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates one entry of `analysis.webhooks` and applies Flagger's defaults: an empty or missing type is a
 * `rollout` hook (Flagger's CRD allows "" and its scheduler treats it so), timeout 10s, retries 0. Every problem
 * is reported, each naming its field under `path` (e.g. `spec.analysis.webhooks[0]`).
 */
export function validateWebhook(spec: unknown, path = 'webhook'): WebhookValidation {
  const errors: FieldError[] = [];
  const at = (field: string): string => `${path}.${field}`;
  if (!isRecord(spec)) return { ok: false, errors: [{ field: path, message: 'must be an object' }] };

  const name = spec['name'];
  if (typeof name !== 'string' || name.trim() === '')
    errors.push({ field: at('name'), message: 'is required (a non-empty string)' });

  let type: WebhookType = 'rollout';
  const rawType = spec['type'];
  if (rawType !== undefined && rawType !== '') {
    if (typeof rawType === 'string' && (WEBHOOK_TYPES as readonly string[]).includes(rawType)) {
      type = rawType as WebhookType;
    } else {
      errors.push({
        field: at('type'),
        message: `unknown webhook type ${JSON.stringify(rawType)}; expected one of ${WEBHOOK_TYPES.join(', ')}`,
      });
    }
  }

  const rawUrl = spec['url'];
  let url = '';
  if (typeof rawUrl !== 'string' || rawUrl === '') {
    errors.push({ field: at('url'), message: 'is required (an http or https URL)' });
  } else {
    let parsed: URL | undefined;
    try {
      parsed = new URL(rawUrl);
    } catch {
      errors.push({ field: at('url'), message: `"${rawUrl}" is not an absolute URL` });
    }
    if (parsed !== undefined) {
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        errors.push({
          field: at('url'),
          message: `scheme "${parsed.protocol}" is not supported; use http or https`,
        });
      else url = parsed.href;
    }
  }

  let timeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS;
  const rawTimeout = spec['timeout'];
  if (rawTimeout !== undefined && rawTimeout !== '') {
    const parsed = typeof rawTimeout === 'string' ? parseGoDuration(rawTimeout) : undefined;
    if (parsed === undefined)
      errors.push({ field: at('timeout'), message: 'must be a duration string such as 30s' });
    else if (!parsed.ok) errors.push({ field: at('timeout'), message: parsed.message });
    else if (parsed.value < 1) errors.push({ field: at('timeout'), message: 'must be at least 1ms' });
    else timeoutMs = parsed.value;
  }

  let retries = 0;
  const rawRetries = spec['retries'];
  if (rawRetries !== undefined) {
    if (typeof rawRetries !== 'number' || !Number.isInteger(rawRetries) || rawRetries < 0)
      errors.push({ field: at('retries'), message: 'must be a whole number ≥ 0' });
    else if (rawRetries > MAX_WEBHOOK_RETRIES)
      errors.push({ field: at('retries'), message: `must be at most ${MAX_WEBHOOK_RETRIES}` });
    else retries = rawRetries;
  }

  const flag = (key: 'disableTLS' | 'muteAlert'): boolean => {
    const v = spec[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') errors.push({ field: at(key), message: 'must be true or false' });
    return v === true;
  };
  const disableTLS = flag('disableTLS');
  const muteAlert = flag('muteAlert');

  const metadata: Record<string, string> = {};
  const rawMetadata = spec['metadata'];
  if (rawMetadata !== undefined && rawMetadata !== null) {
    if (!isRecord(rawMetadata)) {
      errors.push({ field: at('metadata'), message: 'must be a map of string keys to string values' });
    } else {
      for (const [k, v] of Object.entries(rawMetadata)) {
        if (typeof v === 'string') metadata[k] = v;
        else
          errors.push({
            field: at(`metadata.${k}`),
            message: 'must be a string (quote numbers and booleans)',
          });
      }
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { name: name as string, type, url, timeoutMs, retries, disableTLS, muteAlert, metadata },
  };
}

/** The body sent to `hook` for `call`: Flagger's CanaryWebhookPayload. Pure. */
export function webhookPayload(hook: Webhook, call: WebhookCall): WebhookPayload {
  let metadata: Record<string, string> = { ...hook.metadata };
  if (call.event !== undefined) {
    metadata = {
      ...hook.metadata,
      eventMessage: call.event.message,
      eventType: call.event.type,
      timestamp: String(Math.trunc(call.event.timestampMs)),
    };
  }
  const payload: WebhookPayload = {
    name: call.name,
    namespace: call.namespace,
    phase: call.phase,
    checksum: call.checksum,
  };
  if (Object.keys(metadata).length > 0) payload.metadata = metadata;
  return payload;
}

type Attempt =
  | { kind: 'response'; status: number; bodyExcerpt: string }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string; retryable: boolean }
  | { kind: 'aborted' };

/** Enough of a body for the excerpt, even in multi-byte characters; the rest is read and dropped. */
const BODY_KEEP_BYTES = 4 * BODY_EXCERPT_CHARS + 16;

function excerpt(text: string): string {
  const chars = Array.from(text);
  return chars.length > BODY_EXCERPT_CHARS ? `${chars.slice(0, BODY_EXCERPT_CHARS).join('')}…` : text;
}

function errorAttempt(err: unknown): Attempt {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : '';
  const text = err instanceof Error ? err.message : String(err);
  const message = code !== '' && !text.includes(code) ? `${code}: ${text}` : text;
  // A certificate problem does not go away by asking again (retryablehttp does not retry these either).
  const retryable = !/CERT|TLS|SSL/i.test(code);
  return { kind: 'error', message, retryable };
}

/** One POST; resolves (never rejects) once the whole response is read, the timeout fires, or the caller aborts. */
function postOnce(
  url: URL,
  body: string,
  timeoutMs: number,
  disableTLS: boolean,
  signal: AbortSignal | undefined,
): Promise<Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    const onAbort = (): void => {
      finish({ kind: 'aborted' });
      req.destroy();
    };
    const finish = (a: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(a);
    };
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: 'POST',
      // One connection per attempt: no stale kept-alive socket can fail a check, and a timeout closes it.
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'fledge',
      },
      ...(isHttps && disableTLS ? { rejectUnauthorized: false } : {}),
    };
    const req = (isHttps ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept < BODY_KEEP_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      res.on('end', () =>
        finish({
          kind: 'response',
          status: res.statusCode ?? 0,
          bodyExcerpt: excerpt(Buffer.concat(chunks).subarray(0, BODY_KEEP_BYTES).toString('utf8')),
        }),
      );
      res.on('error', (err) => finish(errorAttempt(err)));
      res.on('close', () => {
        if (!res.complete)
          finish({
            kind: 'error',
            message: 'connection closed before the response was complete',
            retryable: true,
          });
      });
    });
    req.on('error', (err) => finish(errorAttempt(err)));
    const timer = setTimeout(() => {
      finish({ kind: 'timeout' });
      req.destroy();
    }, timeoutMs);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.end(body);
  });
}

/** Resolves after `ms`, or with false at once when `signal` aborts. */
function backoffDelay(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const ABORTED = 'call aborted by the caller';

/**
 * POSTs Flagger's payload to `hook.url`. Success is HTTP 200–202 (Flagger: any status above 202 fails).
 * `hook.timeoutMs` bounds each attempt, from connecting to the last byte of the response (as Flagger's HTTP
 * client timeout does). Up to `hook.retries` more attempts follow, with exponential back-off, when an attempt
 * timed out, could not connect, or got 429 or a 5xx other than 501 (retryablehttp's policy); any other answer
 * is final. The result describes the last attempt and counts all of them. Never throws; an aborted call
 * returns `unreachable` with the message "call aborted by the caller".
 */
export async function callWebhook(
  hook: Webhook,
  call: WebhookCall,
  opts: CallWebhookOptions = {},
): Promise<WebhookResult> {
  const { signal } = opts;
  const initialMs = opts.backoff?.initialMs ?? 1000;
  const maxMs = opts.backoff?.maxMs ?? 30_000;
  const maxAttempts = 1 + Math.min(Math.max(0, Math.trunc(hook.retries)), MAX_WEBHOOK_RETRIES);
  let attempts = 0;
  try {
    const url = new URL(hook.url);
    const body = JSON.stringify(webhookPayload(hook, call));
    for (;;) {
      attempts++;
      const a = await postOnce(url, body, hook.timeoutMs, hook.disableTLS, signal);
      let result: WebhookResult;
      let retryable: boolean;
      switch (a.kind) {
        case 'aborted':
          return { outcome: 'unreachable', message: ABORTED, attempts };
        case 'response':
          if (a.status >= 200 && a.status <= 202) return { outcome: 'passed', status: a.status, attempts };
          result = { outcome: 'failed', status: a.status, bodyExcerpt: a.bodyExcerpt, attempts };
          retryable = a.status === 429 || (a.status >= 500 && a.status !== 501);
          break;
        case 'timeout':
          result = { outcome: 'timed-out', timeoutMs: hook.timeoutMs, attempts };
          retryable = true;
          break;
        case 'error':
          result = { outcome: 'unreachable', message: a.message, attempts };
          retryable = a.retryable;
          break;
      }
      if (!retryable || attempts >= maxAttempts) return result;
      const waitMs = Math.min(maxMs, initialMs * 2 ** (attempts - 1));
      if (!(await backoffDelay(waitMs, signal)))
        return { outcome: 'unreachable', message: ABORTED, attempts };
    }
  } catch (err) {
    return { outcome: 'unreachable', message: err instanceof Error ? err.message : String(err), attempts };
  }
}
