// Reads ProviderSettings into validated values for the metric providers: address, secret keys, headers, timeout.
// Every problem is an error naming the provider and the setting or secret key; nothing is silently defaulted.
import type { ProviderSettings, QueryOptions, Result } from '../types.js';

/** Per-request limit when settings.timeoutMs is not given. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Time window of providers whose API takes one (datadog, graphite) when the caller gives no intervalMs. */
export const DEFAULT_INTERVAL_MS = 60_000;

/** The options providers take: QueryOptions, whose intervalMs defaults to DEFAULT_INTERVAL_MS. */
export type ProviderQueryOptions = QueryOptions;

export function fail(type: string, message: string): { ok: false; message: string } {
  return { ok: false, message: `${type} provider: ${message}` };
}

/** A secret key that must be present and non-empty. */
export function requiredSecret(settings: ProviderSettings, key: string): Result<string> {
  const value = settings.secret?.[key];
  if (value === undefined) return fail(settings.type, `secret key "${key}" is missing`);
  if (value.trim() === '') return fail(settings.type, `secret key "${key}" is empty`);
  return { ok: true, value };
}

/** A secret key that may be absent; an empty value counts as absent. */
export function optionalSecret(settings: ProviderSettings, key: string): string | undefined {
  const value = settings.secret?.[key];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * The HTTP(S) address of the backend, `defaultAddress` when settings.address is empty (undefined: required).
 * Credentials embedded in the address are refused, so that they never show in messages.
 */
export function parseAddress(settings: ProviderSettings, defaultAddress?: string): Result<URL> {
  const raw = settings.address?.trim() || defaultAddress;
  if (!raw) return fail(settings.type, 'address is missing (e.g. http://prometheus.monitoring:9090)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(settings.type, `address "${raw}" is not a URL (e.g. http://prometheus.monitoring:9090)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(settings.type, `address "${raw}" must start with http:// or https://`);
  }
  if (url.username || url.password) {
    return fail(settings.type, 'address must not contain credentials: put them in the secret');
  }
  return { ok: true, value: url };
}

export function parseTimeoutMs(settings: ProviderSettings): Result<number> {
  const t = settings.timeoutMs;
  if (t === undefined) return { ok: true, value: DEFAULT_TIMEOUT_MS };
  if (!Number.isFinite(t) || t <= 0) {
    return fail(settings.type, `timeoutMs must be a positive number of milliseconds, got ${t}`);
  }
  return { ok: true, value: t };
}

// RFC 9110 token characters; values must not contain line breaks or NUL (header injection).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_HEADER_VALUE = /[\r\n\0]/;

export function parseHeaders(settings: ProviderSettings): Result<Record<string, string>> {
  const headers = settings.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name))
      return fail(settings.type, `header name "${name}" is not a valid HTTP header`);
    if (BAD_HEADER_VALUE.test(value)) {
      return fail(settings.type, `header "${name}" has a line break or NUL in its value`);
    }
  }
  return { ok: true, value: { ...headers } };
}

/**
 * Basic-auth credentials from the secret keys `username` and `password`: both or neither. Returns undefined
 * when neither is given.
 */
export function basicAuth(settings: ProviderSettings): Result<string | undefined> {
  const username = optionalSecret(settings, 'username');
  const password = optionalSecret(settings, 'password');
  if (username === undefined && password === undefined) return { ok: true, value: undefined };
  if (username === undefined)
    return fail(settings.type, 'secret key "username" is missing (it has "password")');
  if (password === undefined)
    return fail(settings.type, 'secret key "password" is missing (it has "username")');
  return { ok: true, value: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

/** The query's time window: opts.intervalMs when it is a positive number, else an error message. */
export function intervalOf(opts: ProviderQueryOptions): Result<number> {
  const ms = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (!Number.isFinite(ms) || ms <= 0) {
    return { ok: false, message: `intervalMs must be a positive number of milliseconds, got ${ms}` };
  }
  return { ok: true, value: ms };
}
