// The Prometheus metric provider: PromQL instant queries over the HTTP API (also Thanos, Mimir, VictoriaMetrics),
// with basic auth or a bearer token from the secret (keys username/password or token, as in Flagger).
import type { MetricResult, MetricsProvider, ProviderSettings, QueryOptions, Result } from '../types.js';
import { HttpClient, asRecord, guard, guardHealth } from './http.js';
import { basicAuth, fail, optionalSecret, parseAddress, parseHeaders, parseTimeoutMs } from './settings.js';

export class PrometheusProvider implements MetricsProvider {
  readonly type = 'prometheus';

  constructor(private readonly http: HttpClient) {}

  /**
   * One instant query (GET /api/v1/query). A vector of one sample or a scalar is a value; an empty vector or NaN
   * is no-data; several series are multiple-series; a string or a range vector, and Prometheus' own query errors,
   * are bad-query. Never rejects.
   */
  query(query: string, opts: QueryOptions = {}): Promise<MetricResult> {
    return guard(this.http.where, async () => {
      const sent = await this.http.sendJson({
        method: 'GET',
        path: '/api/v1/query',
        params: { query },
        signal: opts.signal,
      });
      if (!sent.ok) return sent.failure;
      return this.interpret(sent.json);
    });
  }

  /** Whether the query API answers with these credentials: GET /api/v1/status/buildinfo. */
  health(opts: QueryOptions = {}): Promise<{ ok: true } | { ok: false; message: string }> {
    return guardHealth(this.http.where, async () => {
      const sent = await this.http.sendJson({
        method: 'GET',
        path: '/api/v1/status/buildinfo',
        signal: opts.signal,
      });
      if (!sent.ok) return { ok: false, message: sent.failure.message };
      const body = asRecord(sent.json);
      if (body?.['status'] !== 'success') {
        return {
          ok: false,
          message: this.http.malformed('a build-info document without status "success"').message,
        };
      }
      return { ok: true };
    });
  }

  private interpret(json: unknown): MetricResult {
    const body = asRecord(json);
    if (body === undefined) return this.http.malformed('JSON that is not a Prometheus API response');
    if (body['status'] === 'error') {
      const errorType = typeof body['errorType'] === 'string' ? `${body['errorType']}: ` : '';
      const error = typeof body['error'] === 'string' ? body['error'] : 'no reason given';
      return { kind: 'bad-query', message: `${this.http.where} rejected the query: ${errorType}${error}` };
    }
    const data = asRecord(body['data']);
    if (body['status'] !== 'success' || data === undefined) {
      return this.http.malformed(
        'JSON that is not a Prometheus API response (no status "success" with data)',
      );
    }
    const resultType = data['resultType'];
    const result = data['result'];
    switch (resultType) {
      case 'scalar':
        return this.sampleResult(result, 'a scalar');
      case 'vector': {
        if (!Array.isArray(result)) return this.http.malformed('a vector result that is not a list');
        if (result.length === 0) {
          return {
            kind: 'no-data',
            message:
              'Prometheus returned no series for the query: check the metric name and labels, ' +
              'and that the targets are scraped',
          };
        }
        if (result.length > 1) {
          const shown = result.slice(0, 3).map((el: unknown) => formatSeries(asRecord(el)?.['metric']));
          const more = result.length > 3 ? ', …' : '';
          return {
            kind: 'multiple-series',
            count: result.length,
            message:
              `the query returned ${result.length} series (${shown.join(', ')}${more}), not one: ` +
              'aggregate it to a single series, e.g. with sum(...)',
          };
        }
        return this.sampleResult(asRecord(result[0])?.['value'], 'a sample');
      }
      case 'matrix':
        return {
          kind: 'bad-query',
          message:
            'the query returned a range vector (matrix), not a number: drop the [range] or wrap it in a function ' +
            'such as rate(...)',
        };
      case 'string':
        return { kind: 'bad-query', message: 'the query returned a string, not a number' };
      default:
        return this.http.malformed(`an unknown result type ${JSON.stringify(resultType)}`);
    }
  }

  /** A [timestamp, "value"] pair as Prometheus encodes samples and scalars. */
  private sampleResult(pair: unknown, what: string): MetricResult {
    if (!Array.isArray(pair) || pair.length !== 2)
      return this.http.malformed(`${what} that is not [time, value]`);
    const value = parseSampleValue(pair[1]);
    if (value === undefined)
      return this.http.malformed(`${what} whose value ${JSON.stringify(pair[1])} is no number`);
    if (Number.isNaN(value)) {
      return {
        kind: 'no-data',
        message: 'Prometheus returned NaN for the query (e.g. 0/0: no requests in the interval)',
      };
    }
    return { kind: 'value', value };
  }
}

/**
 * Builds a Prometheus provider. Address required. Secret (optional): `token` (bearer) or `username` and
 * `password` (basic auth), not both.
 */
export function prometheusProvider(settings: ProviderSettings): Result<MetricsProvider> {
  const address = parseAddress(settings);
  if (!address.ok) return address;
  const timeoutMs = parseTimeoutMs(settings);
  if (!timeoutMs.ok) return timeoutMs;
  const headers = parseHeaders(settings);
  if (!headers.ok) return headers;
  const basic = basicAuth(settings);
  if (!basic.ok) return basic;
  const token = optionalSecret(settings, 'token');
  if (token !== undefined && basic.value !== undefined) {
    return fail(
      settings.type,
      'the secret has both "token" and "username"/"password": keep one way to authenticate',
    );
  }
  const authorization = token !== undefined ? `Bearer ${token}` : basic.value;
  const http = new HttpClient({
    service: 'Prometheus',
    baseUrl: address.value,
    timeoutMs: timeoutMs.value,
    insecureSkipVerify: settings.insecureSkipVerify === true,
    customHeaders: headers.value,
    credentialHeaders: authorization !== undefined ? { Authorization: authorization } : {},
    authHint:
      token !== undefined
        ? 'check the secret key "token"'
        : basic.value !== undefined
          ? 'check the secret keys "username" and "password"'
          : 'it needs credentials: give the secret keys "username" and "password", or "token"',
  });
  return { ok: true, value: new PrometheusProvider(http) };
}

function parseSampleValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  // Go's strconv.FormatFloat spellings, as Prometheus writes them.
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  return v.trim() === '' || Number.isNaN(n) ? undefined : n;
}

function formatSeries(metric: unknown): string {
  const labels = asRecord(metric) ?? {};
  const name = typeof labels['__name__'] === 'string' ? labels['__name__'] : '';
  const pairs = Object.entries(labels)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${JSON.stringify(typeof v === 'string' ? v : String(v))}`);
  return `${name}{${pairs.join(', ')}}`;
}
