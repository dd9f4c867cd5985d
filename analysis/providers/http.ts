// Shared HTTP plumbing of the metric providers, on axios: a per-request timeout combined with the caller's signal,
// TLS verification switch, custom headers, a response size limit, and every failure mapped to a MetricResult.
import https from 'node:https';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import type { MetricResult } from '../types.js';

/** Larger answers are refused: a metric query should come back as one series of a few points. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The MetricResult kinds a transport or protocol problem becomes. */
export type Failure = Extract<MetricResult, { kind: 'unreachable' | 'unauthorized' | 'bad-query' }>;

export interface HttpClientOptions {
  /** Backend name for messages, e.g. 'Prometheus'. */
  service: string;
  /** Base URL; request paths are appended to its path. Its query string is ignored. */
  baseUrl: URL;
  timeoutMs: number;
  insecureSkipVerify: boolean;
  /** settings.headers: sent with every request, below protocol and credential headers. */
  customHeaders: Record<string, string>;
  /** Credential headers from the secret; they win over custom headers of the same name. */
  credentialHeaders: Record<string, string>;
  /** What to check when the backend refuses the credentials, e.g. 'check the secret key "token"'. */
  authHint: string;
  maxResponseBytes?: number;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Appended to the base URL's path, e.g. '/api/v1/query'. */
  path: string;
  params?: Record<string, string>;
  /** Protocol headers (Accept, Content-Type): above custom headers, below credentials. */
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

export type HttpOutcome = { ok: true; answer: HttpAnswer } | { ok: false; failure: Failure };
export type JsonOutcome = { ok: true; json: unknown } | { ok: false; failure: Failure };

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * One backend's HTTP client. `send` and `sendJson` never reject: every transport problem, non-2xx status and
 * unreadable body comes back as a Failure whose message names the backend and its address.
 */
export class HttpClient {
  /** "Prometheus at http://prometheus:9090": the subject of every message. */
  readonly where: string;
  private readonly base: string;
  private readonly axios: AxiosInstance;

  constructor(private readonly opts: HttpClientOptions) {
    const path = opts.baseUrl.pathname.replace(/\/+$/, '');
    this.base = `${opts.baseUrl.origin}${path}`;
    this.where = `${opts.service} at ${this.base}`;
    this.axios = axios.create({
      ...(opts.insecureSkipVerify ? { httpsAgent: new https.Agent({ rejectUnauthorized: false }) } : {}),
      maxContentLength: opts.maxResponseBytes ?? MAX_RESPONSE_BYTES,
      maxRedirects: 5,
      // Statuses and bodies are judged here, not by axios.
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
    });
  }

  /** Sends one request; a 2xx answer is ok, anything else a Failure. */
  async send(req: HttpRequest): Promise<HttpOutcome> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const query = req.params ? new URLSearchParams(req.params).toString() : '';
    const url = `${this.base}${req.path}${query ? `?${query}` : ''}`;
    const headers = mergeHeaders(
      { 'User-Agent': 'fledge' },
      this.opts.customHeaders,
      req.headers ?? {},
      this.opts.credentialHeaders,
    );
    let answer: HttpAnswer;
    try {
      const res = await this.axios.request<unknown>({
        method: req.method,
        url,
        headers,
        ...(req.body !== undefined ? { data: req.body } : {}),
        signal,
      });
      const contentType = res.headers['content-type'];
      answer = {
        status: res.status,
        contentType: typeof contentType === 'string' ? contentType : '',
        text:
          typeof res.data === 'string'
            ? res.data
            : Buffer.isBuffer(res.data)
              ? res.data.toString('utf8')
              : '',
      };
    } catch (e) {
      return { ok: false, failure: this.transportFailure(e, req.signal, timeout) };
    }
    if (answer.status >= 200 && answer.status < 300) return { ok: true, answer };
    return { ok: false, failure: this.statusFailure(answer, req.path) };
  }

  /** Sends one request and parses a 2xx answer as JSON; HTML and malformed JSON are Failures. */
  async sendJson(req: HttpRequest): Promise<JsonOutcome> {
    const sent = await this.send({ ...req, headers: { Accept: 'application/json', ...req.headers } });
    if (!sent.ok) return sent;
    return this.parseJson(sent.answer);
  }

  parseJson(answer: HttpAnswer): JsonOutcome {
    if (isHtml(answer)) {
      return {
        ok: false,
        failure: unreachable(`${this.where} answered HTML, not JSON: is the address right?`),
      };
    }
    try {
      return { ok: true, json: JSON.parse(answer.text) as unknown };
    } catch {
      return {
        ok: false,
        failure: unreachable(`${this.where} answered something that is not JSON: ${snippet(answer.text)}`),
      };
    }
  }

  /** A Failure for an answer fledge cannot read although its status was fine. */
  malformed(what: string): Failure {
    return unreachable(`${this.where} answered ${what}`);
  }

  private transportFailure(e: unknown, caller: AbortSignal | undefined, timeout: AbortSignal): Failure {
    if (caller?.aborted) return unreachable(`${this.where}: the query was cancelled before it was answered`);
    if (timeout.aborted) return unreachable(`${this.where} did not answer within ${this.opts.timeoutMs} ms`);
    const message = errorMessage(e);
    if (/maxContentLength/.test(message)) {
      const limit = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
      return {
        kind: 'bad-query',
        message: `${this.where} answered more than ${limit} bytes: narrow the query to one series`,
      };
    }
    const code = errorCode(e);
    if (code !== undefined && TLS_TRUST_CODES.has(code)) {
      return unreachable(
        `${this.where} is unreachable: ${message}: its TLS certificate is not trusted ` +
          '(insecureSkipVerify: true skips the check, if you accept an unverified server)',
      );
    }
    return unreachable(`${this.where} is unreachable: ${message}`);
  }

  private statusFailure(answer: HttpAnswer, path: string): Failure {
    const { status } = answer;
    const reason = serverMessage(answer);
    const because = reason === undefined ? '' : `: ${reason}`;
    if (status === 401 || status === 403) {
      return {
        kind: 'unauthorized',
        message: `${this.where} refused the credentials (HTTP ${status}${because}): ${this.opts.authHint}`,
      };
    }
    if (status === 400 || status === 422) {
      return {
        kind: 'bad-query',
        message: `${this.where} rejected the query (HTTP ${status})${because || ': no reason given'}`,
      };
    }
    if (status === 404) {
      return unreachable(
        `${this.where} answered 404 Not Found for ${path || 'its address'}: is the address right?`,
      );
    }
    if (status >= 500) return unreachable(`${this.where} failed with HTTP ${status}${because}`);
    return unreachable(`${this.where} answered HTTP ${status}${because}`);
  }
}

export function unreachable(message: string): Failure {
  return { kind: 'unreachable', message };
}

/**
 * Runs a provider's query so that it never rejects: a bug surfaces as an 'unreachable' result naming it
 * rather than as an exception in the analysis loop.
 */
export async function guard(where: string, run: () => Promise<MetricResult>): Promise<MetricResult> {
  try {
    return await run();
  } catch (e) {
    return unreachable(`${where}: internal error in fledge's provider: ${errorMessage(e)}`);
  }
}

export async function guardHealth(
  where: string,
  run: () => Promise<{ ok: true } | { ok: false; message: string }>,
): Promise<{ ok: true } | { ok: false; message: string }> {
  try {
    return await run();
  } catch (e) {
    return { ok: false, message: `${where}: internal error in fledge's provider: ${errorMessage(e)}` };
  }
}

/** Later header sets override earlier ones, names compared case-insensitively. */
function mergeHeaders(...sets: Record<string, string>[]): Record<string, string> {
  const merged = new Map<string, [string, string]>();
  for (const set of sets) {
    for (const [name, value] of Object.entries(set)) merged.set(name.toLowerCase(), [name, value]);
  }
  return Object.fromEntries(merged.values());
}

/** Whether an answer is a web page (a login proxy, a UI) rather than API data. */
export function isHtml(answer: HttpAnswer): boolean {
  return /\bhtml\b/i.test(answer.contentType) || /^\s*<(!doctype|html|head|body)\b/i.test(answer.text);
}

/**
 * The backend's own explanation of an error answer: Prometheus {errorType, error}, InfluxDB {code, message},
 * Datadog {errors: [text]}, GraphQL {errors: [{message}]}, else the body's text; undefined for an empty body.
 */
function serverMessage(answer: HttpAnswer): string | undefined {
  if (isHtml(answer)) return 'an HTML page';
  const text = answer.text.trim();
  if (text === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return snippet(text);
  }
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    if (typeof o['error'] === 'string') {
      return snippet(typeof o['errorType'] === 'string' ? `${o['errorType']}: ${o['error']}` : o['error']);
    }
    if (typeof o['message'] === 'string') return snippet(o['message']);
    const errors = o['errors'];
    if (Array.isArray(errors)) {
      const texts = errors
        .map((e: unknown) => (typeof e === 'string' ? e : messageField(e)))
        .filter((t): t is string => t !== undefined);
      if (texts.length > 0) return snippet(texts.join('; '));
    }
  }
  return snippet(text);
}

/** A JSON object as a record; undefined for arrays, null and scalars. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

export function messageField(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const message = (e as Record<string, unknown>)['message'];
  return typeof message === 'string' ? message : undefined;
}

/** A body excerpt for a message: one line, at most 300 characters. */
export function snippet(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return '(an empty body)';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    if (e.message) return e.message;
    const inner = (e as Error & { errors?: unknown }).errors;
    if (Array.isArray(inner)) {
      const messages = inner.map((x) => (x instanceof Error ? x.message : String(x))).filter(Boolean);
      if (messages.length > 0) return messages.join('; ');
    }
    return errorCode(e) ?? e.name;
  }
  return String(e);
}

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e ? errorCode(cause) : undefined;
}
