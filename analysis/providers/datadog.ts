// The Datadog metric provider: the v1 timeseries query API over the metric's interval, authenticated with the
// secret keys datadog_api_key and datadog_application_key (as in Flagger).
import type { MetricResult, MetricsProvider, ProviderSettings, QueryOptions, Result } from '../types.js';
import { HttpClient, asRecord, guard, guardHealth } from './http.js';
import type { ProviderQueryOptions } from './settings.js';
import { intervalOf, parseAddress, parseHeaders, parseTimeoutMs, requiredSecret } from './settings.js';

export const DATADOG_DEFAULT_ADDRESS = 'https://api.datadoghq.com';

export class DatadogProvider implements MetricsProvider {
  readonly type = 'datadog';

  constructor(
    private readonly http: HttpClient,
    /** Clock in ms since the epoch; injectable for tests. */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * GET /api/v1/query?from&to&query over the last opts.intervalMs. The value is the last non-null point of the
   * single series; no series or no points is no-data, several series multiple-series. Never rejects.
   */
  query(query: string, opts: ProviderQueryOptions = {}): Promise<MetricResult> {
    return guard(this.http.where, async () => {
      const interval = intervalOf(opts);
      if (!interval.ok) return { kind: 'bad-query', message: `datadog provider: ${interval.message}` };
      const to = Math.floor(this.now() / 1000);
      const from = to - Math.ceil(interval.value / 1000);
      const sent = await this.http.sendJson({
        method: 'GET',
        path: '/api/v1/query',
        params: { from: String(from), to: String(to), query },
        signal: opts.signal,
      });
      if (!sent.ok) return sent.failure;
      return this.interpret(sent.json, interval.value);
    });
  }

  /** Whether the API key is valid: GET /api/v1/validate. */
  health(opts: QueryOptions = {}): Promise<{ ok: true } | { ok: false; message: string }> {
    return guardHealth(this.http.where, async () => {
      const sent = await this.http.sendJson({ method: 'GET', path: '/api/v1/validate', signal: opts.signal });
      if (!sent.ok) return { ok: false, message: sent.failure.message };
      if (asRecord(sent.json)?.['valid'] !== true) {
        return { ok: false, message: `${this.http.where} does not accept the API key (valid is not true)` };
      }
      return { ok: true };
    });
  }

  private interpret(json: unknown, intervalMs: number): MetricResult {
    const body = asRecord(json);
    if (body === undefined) return this.http.malformed('JSON that is not a Datadog query response');
    if (body['status'] === 'error' || typeof body['error'] === 'string') {
      const error = typeof body['error'] === 'string' ? body['error'] : 'no reason given';
      return { kind: 'bad-query', message: `${this.http.where} rejected the query: ${error}` };
    }
    const series = body['series'];
    if (!Array.isArray(series)) return this.http.malformed('a query response without a series list');
    const window = `${Math.ceil(intervalMs / 1000)} s`;
    if (series.length === 0) {
      return {
        kind: 'no-data',
        message: `Datadog returned no series for the query in the last ${window}: check the metric and its tags`,
      };
    }
    if (series.length > 1) {
      const shown = series.slice(0, 3).map((s: unknown) => {
        const r = asRecord(s);
        const scope = r?.['scope'] ?? r?.['expression'];
        return typeof scope === 'string' ? scope : '?';
      });
      return {
        kind: 'multiple-series',
        count: series.length,
        message:
          `the query returned ${series.length} series (${shown.join(', ')}${series.length > 3 ? ', …' : ''}), ` +
          'not one: aggregate it without "by {…}"',
      };
    }
    const points = asRecord(series[0])?.['pointlist'];
    if (!Array.isArray(points)) return this.http.malformed('a series without a pointlist');
    for (let i = points.length - 1; i >= 0; i--) {
      const point: unknown = points[i];
      if (!Array.isArray(point)) return this.http.malformed('a point that is not [time, value]');
      const value: unknown = point[1];
      if (value === null || value === undefined) continue;
      if (typeof value !== 'number') return this.http.malformed(`a point value ${JSON.stringify(value)}`);
      if (Number.isNaN(value)) continue;
      return { kind: 'value', value };
    }
    return {
      kind: 'no-data',
      message: `Datadog returned a series without points in the last ${window}`,
    };
  }
}

/**
 * Builds a Datadog provider. Address default https://api.datadoghq.com (another site: e.g.
 * https://api.datadoghq.eu). Secret keys datadog_api_key and datadog_application_key are required.
 */
export function datadogProvider(settings: ProviderSettings, now?: () => number): Result<MetricsProvider> {
  const address = parseAddress(settings, DATADOG_DEFAULT_ADDRESS);
  if (!address.ok) return address;
  const timeoutMs = parseTimeoutMs(settings);
  if (!timeoutMs.ok) return timeoutMs;
  const headers = parseHeaders(settings);
  if (!headers.ok) return headers;
  const apiKey = requiredSecret(settings, 'datadog_api_key');
  if (!apiKey.ok) return apiKey;
  const appKey = requiredSecret(settings, 'datadog_application_key');
  if (!appKey.ok) return appKey;
  const http = new HttpClient({
    service: 'Datadog',
    baseUrl: address.value,
    timeoutMs: timeoutMs.value,
    insecureSkipVerify: settings.insecureSkipVerify === true,
    customHeaders: headers.value,
    credentialHeaders: { 'DD-API-KEY': apiKey.value, 'DD-APPLICATION-KEY': appKey.value },
    authHint:
      'check the secret keys "datadog_api_key" and "datadog_application_key" (and that they belong to this site)',
  });
  return { ok: true, value: new DatadogProvider(http, now) };
}
